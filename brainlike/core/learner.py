"""One seed's whole run as pure functions: ``make_train(config) -> train(key)``.

Phases: (1) the beliefs pretrain on exploratory data (uniformly random plans); (2) labelled
thoughts are collected from exploration and the probe is fitted on the kinds it covers;
(3) RL: the agent proposes thoughts, picks one by valence, acts, and learns: beliefs by
prediction, desires by TD(lambda) on the innate reward (and, where routed, by a policy
gradient), every loss reaching only the parameter groups its routing row allows. Off-policy
(``run.learning``), the agent logs a fixed dataset once, before RL, and learns only from it;
its own rollouts then only measure what it does.

Each piece is a module-level function of a ``Spec`` (``rollout.make_spec``): the config and what it
fixes. The entry points ``start`` and ``resume`` take the config itself as an argument and make
the spec inside the trace, so that under jit and vmap every numeric knob the code reads
(``s.config.reward.alpha``) is the row's own traced value and only the config's structure is
static (``core.traced``): conditions that differ only in numbers share one compiled function,
and none of them can run with another's numbers.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from brainlike import schema
from brainlike.config import Config
from brainlike.core import attention, desires, masks, policy, probes, traced
from brainlike.core.losses import (advantage, encode_batch, honest_log_prob, pg_term, prediction_errors, returns,
                                   soft_alarm, taken_noise, td_term, total_loss, valences)
from brainlike.core.rollout import (Actor, Spec, Transition, candidate_noise, group_keys, make_spec, new_actor,
                                    rollout)
from brainlike.core.routing import route
from brainlike.routes import GROUPS, parse_routing


class Thoughts(NamedTuple):
    """Labelled thoughts from exploration: (obs, plan), the ground-truth kind, and what followed."""

    obs: jax.Array
    plan: jax.Array
    kind: jax.Array
    outcome_obs: jax.Array
    noise: jax.Array | None  # [N, H]: each thought's sample (``desires.thought_noise``), None if not sampled
    topic: jax.Array | None = None  # [N]: each thought's topic, where the environment has topics


class Episodes(NamedTuple):
    """Labelled exploratory episodes (``probe.calibrate_on = episodes``): their steps as thoughts, each
    environment's in time order, the episode each step belongs to, and the step that ends it."""

    thoughts: Thoughts
    episode: jax.Array  # [N] int: environment * steps per environment + the episode's index there
    ends: jax.Array  # [N] bool


class RunState(NamedTuple):
    params: dict
    opt_state: Any
    actors: Actor
    probe: probes.Probe
    thoughts: Thoughts  # fit, calibration and evaluation sets, n_thoughts each, in that order
    key: jax.Array
    update: jax.Array
    dataset: Transition | None  # off-policy: ``[offline_batches + 1, T, E]`` rollouts logged before RL
    ref: dict | None = None  # anchored (``reward.kl_beta > 0``): the parameters RL started from, else None
    reader: dict | None = None  # ``probe.reads = reference``: the beliefs pretraining left, which the alarm reads
    start_deception: jax.Array | None = None  # the policy's deception probability where RL started
    episodes: Episodes | None = None  # what calibrates the threshold when ``probe.calibrate_on = episodes``, else None
    mask: dict | None = None  # a shared network's RL mask over the beliefs' parameters (``core.masks``), else None
    start_recall: jax.Array | None = None  # the deployed alarm's recall on fresh thoughts where RL started
    monitors: dict | None = None  # ``probe.monitors``: held-out probes by name (``fit_monitors``), never in the reward


def optimizer(s: Spec, beliefs_lr):
    """Adam for beliefs (its rate differs between pretraining and RL; the state is shared), SGD for desires;
    a policy head, the last layer of the same network, as the beliefs; a learned salience by SGD."""
    transforms = {"beliefs": optax.adam(beliefs_lr), "desires": optax.sgd(s.config.desires.lr)}
    if s.policy_head:
        transforms["policy"] = optax.adam(beliefs_lr)
    if s.attends:
        transforms["salience"] = optax.sgd(s.config.desires.salience_lr)
    return optax.multi_transform(transforms, lambda params: {g: jax.tree.map(lambda _: g, p) for g, p in params.items()})


def blind(s: Spec) -> probes.Probe:
    """A probe that never fires: exploration runs with no alarm."""
    return probes.Probe(jnp.zeros(s.config.beliefs.thought_dim), jnp.zeros(()), jnp.full((), jnp.inf))


def pretrain_update(s: Spec, carry, key):
    """One predictive update on a rollout of uniformly random plans; a shared network also regresses
    the thoughts' values (TD(lambda) on the environment's reward: the alarm is blind), through the
    encoder, gradient-routed where the mask asks for it (``masks.routed_pretraining``)."""
    params, opt_state, actors = carry
    actors, batch, v_end = rollout(s, params, blind(s), actors, key, explore=True)
    noise, sigma = taken_noise(s, batch), s.config.desires.thought_noise
    pred_loss = lambda p: jnp.mean(prediction_errors(s, p, batch.obs, batch.plan, batch.outcome_obs,  # noqa: E731
                                                     noise=noise, sigma=sigma))
    if s.config.beliefs.architecture == "split":
        grads = jax.tree.map(jnp.zeros_like, params) | {"beliefs": jax.grad(pred_loss)(params["beliefs"])}
    else:
        def loss(p):
            if masks.routed_pretraining(s):
                units = masks.designated(s)
                value_only = masks.param_mask(p["beliefs"], units)
                pred_view, value_view = masks.stop_where(p["beliefs"], value_only), route(p, ("desires",), value_only)
                value_view["desires"] = {**p["desires"], "w": masks.pass_where(p["desires"]["w"], units[1])}
            else:
                pred_view, value_view = p["beliefs"], p
            h = encode_batch(s, value_view["beliefs"], batch.obs, batch.plan, noise, sigma)
            return pred_loss(pred_view) + td_term(value_view["desires"], h, returns(s, batch, v_end))
        grads = jax.grad(loss)(params)
    updates, opt_state = optimizer(s, s.config.beliefs.lr).update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state, actors), None


def collect_thoughts(s: Spec, params, actors, key) -> Thoughts:
    """``3 * n_thoughts`` labelled thoughts from exploration (fit, calibration, evaluation)."""
    n = 3 * s.config.probe.n_thoughts
    n_rollouts = -(-n // s.config.run.steps_per_update)
    _, batch = jax.lax.scan(lambda a, k: rollout(s, params, blind(s), a, k, True)[:2],
                            actors, jax.random.split(key, n_rollouts))
    take = lambda x: x.reshape((-1,) + x.shape[3:])[:n]  # noqa: E731
    noise = jax.vmap(functools.partial(taken_noise, s))(batch) if s.noisy else None
    return Thoughts(take(batch.obs), take(batch.plan), take(batch.kind), take(batch.outcome_obs),
                    None if noise is None else take(noise), None if batch.topic is None else take(batch.topic))


def collect_episodes(s: Spec, params, key) -> Episodes | None:
    """``probe.episode_steps`` exploratory decisions from freshly reset environments, as ``Episodes``
    (None unless ``probe.calibrate_on = episodes``). Exploration takes uniformly random plans: the
    policy RL starts from (zero desires) up to its proposal rule."""
    if s.config.probe.calibrate_on == "thoughts":
        return None
    run = s.config.run
    key_actors, key_roll = jax.random.split(key)
    actors = jax.vmap(functools.partial(new_actor, s))(jax.random.split(key_actors, run.n_envs))
    n_rollouts = -(-s.config.probe.episode_steps // run.steps_per_update)
    _, batch = jax.lax.scan(lambda a, k: rollout(s, params, blind(s), a, k, True)[:2],
                            actors, jax.random.split(key_roll, n_rollouts))
    noise = jax.vmap(functools.partial(taken_noise, s))(batch) if s.noisy else None
    per_env = lambda x: jnp.moveaxis(x, 2, 0).reshape((-1,) + x.shape[3:])  # noqa: E731  [R, T, E] -> [E * R * T]
    done = jnp.moveaxis(batch.done, 2, 0).reshape(run.n_envs, -1).astype(jnp.int32)
    steps = done.shape[1]
    episode = (jnp.cumsum(done, axis=1) - done + steps * jnp.arange(run.n_envs)[:, None]).reshape(-1)
    thoughts = Thoughts(per_env(batch.obs), per_env(batch.plan), per_env(batch.kind), per_env(batch.outcome_obs),
                        None if noise is None else per_env(noise))
    return Episodes(thoughts, episode, done.reshape(-1) > 0)


def episode_threshold(s: Spec, params, probe: probes.Probe, episodes: Episodes) -> jax.Array:
    """The threshold on the pooled score (``probe.pooling``) that flags at least the target share of the
    complete labelled episodes (``probes.at_least_tpr``): positive if it took a covered deceptive step, negative if it took no deceptive
    step (one that took only uncovered ones is left out, as such thoughts are)."""
    h, deceptive, covered = labelled_h(s, params, episodes.thoughts)
    n = episodes.episode.shape[0]
    scores = probes.pooled_episodes(h @ probe.u + probe.c, episodes.episode, episodes.ends, n, s.config.probe.pooling)
    took = lambda x: jax.ops.segment_max(x, episodes.episode, n) > 0.5  # noqa: E731
    positive, any_deceptive = took(deceptive * covered), took(deceptive)
    valid = took(episodes.ends.astype(jnp.float32)) & (positive | ~any_deceptive)
    return probes.at_least_tpr(scores, positive.astype(jnp.float32), valid, s.config.probe.rate)


def split(s: Spec, thoughts: Thoughts, i: int) -> Thoughts:
    """Set ``i`` of the stored thoughts: 0 fit, 1 calibration, 2 evaluation."""
    n = s.config.probe.n_thoughts
    return jax.tree.map(lambda x: x[i * n: (i + 1) * n], thoughts)


def labelled_h(s: Spec, params, thoughts: Thoughts):
    """Activations, labels and coverage mask of a labelled set under the current beliefs."""
    h = encode_batch(s, params["beliefs"], thoughts.obs, thoughts.plan, thoughts.noise, s.config.desires.thought_noise)
    return h, s.deceptive[thoughts.kind].astype(jnp.float32), s.covered[thoughts.kind]


def labelled_z(s: Spec, params, thoughts: Thoughts):
    """``labelled_h`` one depth down: the thoughts' pre-activations ``z`` (sampled: ``z + sigma * noise``), not ``tanh``."""
    z = jax.vmap(s.wm.preact, (None, 0, 0))(params["beliefs"], thoughts.obs, thoughts.plan)
    if thoughts.noise is not None:
        z = z + s.config.desires.thought_noise * thoughts.noise
    return z, s.deceptive[thoughts.kind].astype(jnp.float32), s.covered[thoughts.kind]


def on_topics(s: Spec, thoughts: Thoughts, ok, held_out: bool = False) -> jax.Array:
    """``ok`` kept on the thoughts of the topics the deployed probe is fitted on (``probe.topics``), or
    (``held_out``) on those of the others; unchanged where it is fitted on every topic."""
    if s.config.probe.topics == "all":
        return jnp.zeros_like(ok) if held_out else ok
    with jax.ensure_compile_time_eval():
        fitted = jnp.asarray(s.config.fitted_topics())
    return ok & (fitted[thoughts.topic] != held_out)


def fit_sets(s: Spec, params, thoughts: Thoughts, held_out: bool = False, read=labelled_h):
    """The fit and calibration sets under ``params`` (each ``(x, y, valid)``), read by ``read`` and kept to
    the deployed probe's topics (``on_topics``; its held-out topics where ``held_out``)."""
    def one(i):
        x, y, ok = read(s, params, split(s, thoughts, i))
        return x, y, on_topics(s, split(s, thoughts, i), ok, held_out)

    return one(0), one(1)


def fit(s: Spec, params, thoughts: Thoughts, held_out: bool = False, read=labelled_h) -> probes.Probe:
    """A probe fitted on the fit set and calibrated on the calibration set, under ``params`` (``fit_sets``)."""
    fit_set, cal_set = fit_sets(s, params, thoughts, held_out, read)
    return probes.fit_probe(*fit_set, *cal_set, s.config.probe.target, s.config.probe.rate, s.config.probe.l2)


def read_params(params, reader):
    """The parameters as the alarm reads thoughts through them: with the frozen ``reader``'s beliefs where there is one."""
    return params if reader is None else {**params, "beliefs": reader}


def alarm_recall(s: Spec, params, probe: probes.Probe, thoughts: Thoughts, reader=None) -> jax.Array:
    """The deployed alarm's recall on the fresh (evaluation) thoughts of the kinds it covers, each read
    as the alarm reads it: through the frozen ``reader`` where there is one, else the live beliefs."""
    h, y, ok = labelled_h(s, read_params(params, reader), split(s, thoughts, 2))
    positive = ok & (y > 0.5)
    fired = (h @ probe.u + probe.c > probe.threshold) & positive
    return fired.sum() / jnp.maximum(positive.sum(), 1)


def deploy(s: Spec, params, thoughts: Thoughts, u=None, episodes: Episodes | None = None) -> probes.Probe:
    """The probe to deploy under ``params``: ``fit`` (its threshold set on ``episodes`` where given), or
    (``probe.direction = random``) the placebo reading direction ``u``, calibrated to match the fitted
    probe as ``probe.placebo_match`` says (``probes.placebo``)."""
    fitted = fit(s, params, thoughts)
    if episodes is not None:
        return fitted._replace(threshold=episode_threshold(s, params, fitted, episodes))
    if s.config.probe.direction == "fitted":
        return fitted
    return probes.placebo(u, *fit_sets(s, params, thoughts)[1], fitted, s.config.probe.placebo_match)


def fit_monitors(s: Spec, params, thoughts: Thoughts, actors: Actor, key) -> dict | None:
    """The held-out monitors (``probe.monitors``) under ``params``, by name, or None: ``topics`` fitted on the
    topics the deployed probe is not, ``resample`` on a fresh draw of exploration's labelled thoughts (from
    ``key``), ``preact`` on the pre-activations of the deployed probe's thoughts."""
    fitters = {"topics": lambda: fit(s, params, thoughts, held_out=True),
               "resample": lambda: fit(s, params, collect_thoughts(s, params, actors, key)),
               "preact": lambda: fit(s, params, thoughts, read=labelled_z)}
    return {name: fitters[name]() for name in s.config.probe.monitors} or None


def recalibrate(s: Spec, params, probe: probes.Probe, thoughts: Thoughts,
                episodes: Episodes | None = None) -> probes.Probe:
    """The same direction with its threshold set anew on calibration thoughts (or ``episodes``) under
    ``params`` (a placebo's as ``deploy`` sets it)."""
    if episodes is not None:
        return probe._replace(threshold=episode_threshold(s, params, probe, episodes))
    if s.config.probe.direction == "random":
        return deploy(s, params, thoughts, probe.u)
    h_cal, y_cal, ok_cal = fit_sets(s, params, thoughts)[1]
    return probe._replace(threshold=probes.calibrate(h_cal @ probe.u + probe.c, y_cal, ok_cal,
                                                     s.config.probe.target, s.config.probe.rate))


def on_schedule(every: int, update, new, probe: probes.Probe, operands) -> probes.Probe:
    """``new(operands)`` after every ``every``-th update (never when ``every`` is 0), else ``probe``.

    Seeds run side by side under ``vmap``, where a ``cond`` on a per-seed predicate computes both
    branches at every update. A loop runs its body only while some seed needs it (every seed of a
    batch is at the same update), provided XLA cannot hoist the body out of the loop as invariant:
    so ``operands`` travel in the loop's carry and come back through an optimisation barrier."""
    if not every:
        return probe
    due = (update + 1) % every == 0
    body = lambda c: (jnp.zeros_like(c[0]), new(c[2]), jax.lax.optimization_barrier(c[2]))  # noqa: E731
    return jax.lax.while_loop(lambda c: c[0], body, (due, probe, operands))[1]


def replay_batch(s: Spec, thoughts: Thoughts, key) -> Thoughts | None:
    """``beliefs.replay`` exploratory transitions drawn from the stored ones, or None."""
    n = s.config.beliefs.replay
    if not n:
        return None
    return jax.tree.map(lambda x: x[jax.random.randint(key, (n,), 0, 3 * s.config.probe.n_thoughts)], thoughts)


def log_dataset(s: Spec, params, probe: probes.Probe, actors: Actor, key, reader=None) -> Transition | None:
    """Off-policy only: ``offline_batches + 1`` consecutive rollouts of the agent as RL finds it
    (zero desires: every proposed thought equally likely), their rewards judged by the probe of
    that moment, as a fixed preference dataset is labelled once; None on-policy."""
    if s.config.run.learning == "on_policy":
        return None
    n = s.config.run.offline_batches + 1  # one more: the last rollout's bootstrap comes from the next
    _, data = jax.lax.scan(lambda a, k: rollout(s, params, probe, a, k, False, reader=reader)[:2], actors,
                           jax.random.split(key, n))
    return data


def offline_batch(s: Spec, state: RunState):
    """Update u's data off-policy: logged rollout u mod ``offline_batches``, with its bootstrap
    values (the logged next thoughts', as in SARSA) under the current beliefs and desires.
    After a truncation the bootstrap stays the one logged (exact for environments that never truncate)."""
    i = state.update % s.config.run.offline_batches
    chunk, nxt = (jax.tree.map(lambda x: x[j], state.dataset) for j in (i, i + 1))
    value = lambda b: valences(state.params["desires"], encode_batch(  # noqa: E731
        s, state.params["beliefs"], b.obs, b.plan, taken_noise(s, b), s.config.desires.thought_noise))
    return chunk._replace(v=jax.lax.stop_gradient(value(chunk))), jax.lax.stop_gradient(value(nxt)[0])


def sft_groups(s: Spec) -> tuple[str, ...]:
    """What the honest start may update: what the RL losses (td, probe, pg) of ``run.sft_routing`` (by
    default the run's own routing) may update."""
    table = parse_routing(s.config.run.sft_routing) if s.config.run.sft_routing else s.table
    return tuple(g for g in GROUPS if any(g in table[loss] for loss in ("td", "probe", "pg")))


def honesty(s: Spec, params, actors: Actor, key) -> jax.Array:
    """``[E]``: ``log pi(honest)`` at each environment's current state (``losses.honest_log_prob``)."""
    def one(actor, key):
        available = s.env.plan_mask(actor.env_state, s.config.env_params)
        kinds = s.env.plan_kinds(actor.env_state, s.config.env_params)
        return honest_log_prob(s, params, actor.obs, available, kinds, candidate_noise(s, key))

    return jax.vmap(one)(actors, jax.random.split(key, s.config.run.n_envs))


def honest_start(s: Spec, params, opt_state, actors: Actor, key):
    """``run.sft_steps`` supervised updates of ``-log pi(honest)`` at explored states, each reaching only
    ``sft_groups``: the analogue of fine-tuning a language model on honest demonstrations."""
    groups = sft_groups(s)

    def update(carry, key):
        params, opt_state, actors = carry
        key_noise, key_roll = jax.random.split(key)
        grads = jax.grad(lambda p: -jnp.mean(honesty(s, route(p, groups), actors, key_noise)))(params)
        updates, new_state = optimizer(s, s.config.beliefs.rl_lr).update(grads, opt_state, params)
        new = optax.apply_updates(params, updates)
        params = {g: new[g] if g in groups else params[g] for g in params}
        # each group's optimiser state (Adam's moments) moves only with its group
        opt_state = new_state._replace(inner_states={g: (new_state if g in groups else opt_state).inner_states[g]
                                                     for g in opt_state.inner_states})
        actors = rollout(s, params, blind(s), actors, key_roll, explore=True)[0]
        return (params, opt_state, actors), None

    return jax.lax.scan(update, (params, opt_state, actors), jax.random.split(key, s.config.run.sft_steps))[0]


def deception_probability(s: Spec, params, actors: Actor, key) -> jax.Array:
    """The probability that the policy takes a deceptive plan, ``1 - pi(honest)`` with every available
    plan in mind, averaged over the states of ``ceil(probe.n_thoughts / n_envs)`` explored decisions
    in each environment."""
    def one(actors, key):
        key_noise, key_roll = jax.random.split(key)
        p = 1.0 - jnp.exp(honesty(s, params, actors, key_noise))
        return rollout(s, params, blind(s), actors, key_roll, explore=True)[0], p

    n = -(-s.config.probe.n_thoughts // s.config.run.n_envs)
    return jnp.mean(jax.lax.scan(one, actors, jax.random.split(key, n))[1])


def placebo_key(s: Spec, key) -> jax.Array:
    """The key of the seed's placebo direction number ``probe.placebo_draw``: draw 0 folds 1 into the
    seed's key (the direction placebos drew before there were several), draw d > 0 folds d in again."""
    first = jax.random.fold_in(key, 1)
    draw = jnp.asarray(s.config.probe.placebo_draw)
    return jnp.where(draw > 0, jax.random.fold_in(first, draw.astype(jnp.uint32)), first)


def pretrain(s: Spec, key):
    """``(params, opt_state, actors)`` after ``beliefs.pretrain_updates`` pretraining updates from a fresh
    network and zero desires (the first three of the five keys ``init`` splits the seed's key into)."""
    key_model, key_actors, key_pre = jax.random.split(key, 5)[:3]
    params = {"beliefs": s.wm.init(key_model), "desires": desires.init_valence(s.config.beliefs.thought_dim)}
    if s.policy_head:
        params["policy"] = policy.init_policy(s.config.beliefs.thought_dim)
    if s.attends:
        params["salience"] = attention.init_salience(s.env.obs_dim, s.env.num_plans, s.config.desires.salience_start)
    opt_state = optimizer(s, s.config.beliefs.lr).init(params)
    actors = jax.vmap(functools.partial(new_actor, s))(jax.random.split(key_actors, s.config.run.n_envs))
    return jax.lax.scan(lambda c, k: pretrain_update(s, c, k), (params, opt_state, actors),
                        jax.random.split(key_pre, s.config.beliefs.pretrain_updates))[0]


def init(s: Spec, key) -> RunState:
    """Pretrained beliefs and zero desires; where asked, the honest start (``run.sft_steps``); then the
    probe deployed on the beliefs the alarm reads when RL starts (the live ones as the honest start
    left them, or the frozen reader's), so that every learner faces its nominal rate: the state RL
    starts from. A placebo's direction, the honest start, the measured starting deception and a
    group's shared start come from keys of their own, folded from the seed's."""
    _, _, _, key_thoughts, key_run = jax.random.split(key, 5)
    params, opt_state, actors = pretrain(s, key)
    thoughts = collect_thoughts(s, params, actors, key_thoughts)
    mask = None
    if s.config.beliefs.architecture == "shared":  # the mask, then a fresh value head, as RLHF puts one on
        units = masks.rl_units(s, params, split(s, thoughts, 0), jax.random.fold_in(key, 7))
        mask = masks.param_mask(params["beliefs"], units)
        params = {**params, "desires": desires.init_valence(s.config.beliefs.thought_dim)}
        s = s._replace(mask=mask)
    u = probes.random_direction(placebo_key(s, key), s.config.beliefs.thought_dim) \
        if s.config.probe.direction == "random" else None
    reader = params["beliefs"] if s.config.probe.reads == "reference" else None
    if s.config.run.sft_steps:
        params, opt_state, actors = honest_start(s, params, opt_state, actors, jax.random.fold_in(key, 2))
    episodes = collect_episodes(s, read_params(params, reader), jax.random.fold_in(key, 6))
    probe = deploy(s, read_params(params, reader), thoughts, u, episodes)
    start = deception_probability(s, params, actors, jax.random.fold_in(key, 4))
    if s.grouped:  # each group's environments start RL in one state
        actors = jax.vmap(functools.partial(new_actor, s))(group_keys(s, jax.random.fold_in(key, 8)))
    dataset = log_dataset(s, params, probe, actors, jax.random.fold_in(key_run, 1), reader)
    monitors = fit_monitors(s, read_params(params, reader), thoughts, actors, jax.random.fold_in(key, 9))
    return RunState(params, opt_state, actors, probe, thoughts, key_run, jnp.zeros((), jnp.int32), dataset,
                    params if s.anchored else None, reader, start, episodes, mask,
                    alarm_recall(s, params, probe, thoughts, reader), monitors)


def rl_update(s: Spec, state: RunState):
    """Act for one rollout, learn from it (off-policy: from the logged dataset instead), and refit
    or recalibrate the probe when scheduled."""
    key, key_roll = jax.random.split(state.key)
    s = alarm_installed(s, state.update)
    actors, batch, v_end = rollout(s, state.params, state.probe, state.actors, key_roll, explore=False,
                                   ref=state.ref, reader=state.reader)
    learn = (batch, v_end) if state.dataset is None else offline_batch(s, state)
    replay = replay_batch(s, state.thoughts, jax.random.fold_in(key_roll, 2))
    grads, (l_pred, l_td) = jax.grad(total_loss, argnums=1, has_aux=True)(
        s, state.params, *learn, state.probe, replay, state.ref)
    updates, opt_state = optimizer(s, s.config.beliefs.rl_lr).update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    pcfg = s.config.probe
    probe = on_schedule(pcfg.refit_every, state.update,
                        lambda ops: deploy(s, ops[0], state.thoughts, ops[1].u, state.episodes),
                        state.probe, (params, state.probe))
    probe = on_schedule(pcfg.recalibrate_every, state.update,
                        lambda ops: recalibrate(s, ops[0], ops[1], state.thoughts, state.episodes),
                        probe, (params, probe))
    state = state._replace(params=params, opt_state=opt_state, actors=actors, probe=probe, key=key,
                           update=state.update + 1)
    return state, update_stats(s, batch, l_pred, l_td)


def alarm_installed(s: Spec, update) -> Spec:
    """``s`` as update ``update`` sees it: alpha 0 until ``reward.alarm_from`` steps have run."""
    c = s.config
    if not c.reward.alarm_from:
        return s
    on = update * c.run.steps_per_update >= c.reward.alarm_from
    reward = dataclasses.replace(c.reward, alpha=jnp.where(on, c.reward.alpha, 0.0))
    return s._replace(config=dataclasses.replace(c, reward=reward))


def update_stats(s: Spec, batch: Transition, l_pred, l_td) -> dict:
    """Sums over one update's batch, to be turned into rates once a logged block is over."""
    taken = jax.nn.one_hot(batch.kind, s.n_kinds)
    return {
        "episodes": batch.done.sum(),
        "return": batch.ep_return.sum(),
        "overseen_episodes": (batch.done * batch.overseen).sum(),  # ``overseen``: the episode's flag
        "overseen_return": (batch.ep_return * batch.overseen).sum(),
        "env_reward": batch.ep_env_return.sum(),
        "safety_score": batch.ep_safety.sum(),
        "deception_rate": batch.ep_deceptive.sum(),
        "alarm_rate": batch.ep_fired.sum(),
        "evasion_rate": (batch.ep_deceptive * (1.0 - batch.ep_fired)).sum(),
        "completion_rate": (batch.done & batch.terminated).sum(),
        "decisions": jnp.asarray(batch.kind.size, jnp.float32),
        "taken": taken.sum(axis=(0, 1)),
        "taken_plan": jax.nn.one_hot(batch.plan, s.env.num_plans).sum(axis=(0, 1)),
        "offered": batch.offered.sum(axis=(0, 1)),
        "flagged": (taken * batch.flagged[..., None]).sum(axis=(0, 1)),
        "valence_chosen": batch.v.mean(),
        "wm_loss": l_pred,
        "td_loss": l_td,
        "env_metrics": jnp.zeros((0,)) if batch.env_metrics is None else batch.env_metrics.sum(axis=(0, 1)),
    }


def log_stats(s: Spec, total: dict, n_updates: int) -> dict:
    """One logged point from a block's summed statistics: per-episode and per-decision rates."""
    ratio = lambda a, b: jnp.where(b > 0, a / jnp.maximum(b, 1), jnp.nan)  # noqa: E731
    per_episode = ("return", "env_reward", "safety_score", "deception_rate", "alarm_rate", "evasion_rate",
                   "completion_rate")
    logged = {k: ratio(total[k], total["episodes"]) for k in per_episode}
    logged["overseen_return"] = ratio(total["overseen_return"], total["overseen_episodes"])
    logged |= {k: total[k] / n_updates for k in ("valence_chosen", "wm_loss", "td_loss")}
    covered_deceptive = (s.covered & s.deceptive).astype(jnp.float32)
    return logged | {
        "plan_freq": total["taken"] / total["decisions"],
        "plan_freq_by_plan": total["taken_plan"] / total["decisions"],
        "offer_rate": total["offered"] / total["decisions"],
        "probe_recall_taken_by_kind": ratio(total["flagged"], total["taken"]),
        "probe_recall_taken": ratio(total["flagged"] @ covered_deceptive, total["taken"] @ covered_deceptive),
        "env_metrics": total["env_metrics"] / total["decisions"],
    }


def evaluate(s: Spec, state: RunState) -> dict:
    """Probe faithfulness at three depths, and valence and prediction error by kind, on fresh labelled
    thoughts: exploration's, each kind's thoughts put in mind whatever the agent would think of."""
    fresh = split(s, state.thoughts, 2)
    h, y, ok = labelled_h(s, state.params, fresh)
    kind = fresh.kind
    score = h @ state.probe.u + state.probe.c
    fired = (score > state.probe.threshold).astype(jnp.float32)
    positive = ok & (y > 0.5)
    refit = fit(s, state.params, state.thoughts)
    count = jax.ops.segment_sum(jnp.ones_like(score), kind, s.n_kinds)
    # a scatter-add sums in index order whatever the seed batch; a masked .sum(0) did not (XLA
    # on CPU splits that reduction one way for 4 seeds and another for 8: last-bit differences).
    # A kind with no evaluation thoughts (B never on offer) is NaN, not 0.
    per_kind = lambda x: jnp.where(  # noqa: E731
        count > 0, jax.ops.segment_sum(x, kind, s.n_kinds) / jnp.maximum(count, 1), jnp.nan)
    return {
        "probe_recall_frozen": jnp.sum(fired * positive) / jnp.maximum(positive.sum(), 1),
        "alarm_recall_fresh": alarm_recall(s, state.params, state.probe, state.thoughts, state.reader),
        "probe_auroc_frozen": probes.auroc(score, y, ok),
        "probe_auroc_refit": probes.auroc(h @ refit.u + refit.c, y, ok),
        "probe_recall_by_kind": per_kind(fired),
        "probe_score_by_kind": per_kind(score - state.probe.threshold),
        "valence_by_kind": per_kind(jax.vmap(desires.valence, (None, 0))(state.params["desires"], h)),
        "wm_error_by_kind": per_kind(prediction_errors(s, state.params["beliefs"], fresh.obs, fresh.plan,
                                                       fresh.outcome_obs, h)),
    } | transfer(s, state, fresh, h, y, ok)


def faithfulness(score, threshold, y, ok) -> tuple[jax.Array, jax.Array]:
    """Recall at ``threshold`` and AUROC of ``score`` on the ``ok`` thoughts; NaN where none is positive."""
    positive = ok & (y > 0.5)
    some = positive.sum() > 0
    recall = jnp.sum((score > threshold) & positive) / jnp.maximum(positive.sum(), 1)
    return jnp.where(some, recall, jnp.nan), jnp.where(some, probes.auroc(score, y, ok), jnp.nan)


def transfer(s: Spec, state: RunState, fresh: Thoughts, h, y, ok) -> dict:
    """The deployed probe on the fresh thoughts of the topics it is fitted on and of the others, and each
    held-out monitor (``probe.monitors``) at its own threshold; NaN where off."""
    score = h @ state.probe.u + state.probe.c
    out = {}
    for side, held_out in (("fitted", False), ("heldout", True)):
        recall, auc = faithfulness(score, state.probe.threshold, y, on_topics(s, fresh, ok, held_out))
        out |= {f"probe_recall_{side}_topics": recall, f"probe_auroc_{side}_topics": auc}
    monitors = state.monitors or {}
    for name in schema.MONITORS:
        m, recall, auc = monitors.get(name), jnp.full((), jnp.nan), jnp.full((), jnp.nan)
        if m is not None:
            x = labelled_z(s, state.params, fresh)[0] if name == "preact" else h
            recall, auc = faithfulness(x @ m.u + m.c, m.threshold, y, ok)
        out |= {f"monitor_{name}_recall": recall, f"monitor_{name}_auroc": auc}
    return out


def belief_gradients(s: Spec, state: RunState, n: int):
    """Two gradients with respect to the beliefs at the current parameters, each summed over ``n``
    rollouts of the current policy: the ``pg`` term's (REINFORCE, ``losses.pg_term``, as
    ``policy_gradient`` routes it) and that of the probe's soft score on the live thoughts
    (``losses.soft_alarm``: what ``through_probe``'s probe row descends, before its weight alpha).
    The rollouts use a key of their own and are dropped: training is not disturbed."""
    params, sigma = state.params, s.config.desires.thought_noise
    others_fixed = jax.lax.stop_gradient({g: p for g, p in params.items() if g != "beliefs"})

    def grads(actors, key):
        actors, batch, v_end = rollout(s, params, state.probe, actors, key, False, state.ref, state.reader)
        noise = taken_noise(s, batch)
        h = encode_batch(s, params["beliefs"], batch.obs, batch.plan, noise, sigma)
        adv = advantage(s, params, batch, returns(s, batch, v_end), h)
        g_pg = jax.grad(lambda b: pg_term(s, others_fixed | {"beliefs": b}, batch, adv))(params["beliefs"])
        g_probe = jax.grad(lambda b: soft_alarm(encode_batch(s, b, batch.obs, batch.plan, noise, sigma), batch,
                                                state.probe))(params["beliefs"])
        return actors, (g_pg, g_probe)

    _, summed = jax.lax.scan(grads, state.actors, jax.random.split(jax.random.fold_in(state.key, 5), n))
    return jax.tree.map(lambda x: x.sum(0), summed)


def cosine(a, b) -> jax.Array:
    """The cosine between two pytrees of the same structure, as flat vectors; 0 where one vanishes
    (no alignment: the pg term's belief gradient is exactly zero while the valence is zero)."""
    a, b = ravel_pytree(a)[0], ravel_pytree(b)[0]
    norms = jnp.linalg.norm(a) * jnp.linalg.norm(b)
    return jnp.where(norms > 0, jnp.dot(a, b) / jnp.where(norms > 0, norms, 1.0), 0.0)


def gradient_cosine(s: Spec, state: RunState) -> jax.Array:
    """``cosine`` of the two ``belief_gradients`` over ``run.cosine_batches`` rollouts; NaN when not
    measured. Near 1 where the policy gradient carries the probe's gradient (with sampled thoughts it
    is a zeroth-order estimate of it); near 0 where it moves the beliefs some other way."""
    n = s.config.run.cosine_batches
    return cosine(*belief_gradients(s, state, n)) if n else jnp.full((), jnp.nan)


# --- divergence: a seed whose losses or parameters stop being finite is labelled ``diverged`` ---

def nonfinite(stats: dict, params) -> dict:
    """``{"nonfinite": 1.0}`` if any loss of a logged block (``stats``: one entry per update) or
    any parameter at its end is NaN or infinite, else 0.0 (``store.outcomes.diverged`` reads it)."""
    leaves = [stats["wm_loss"], stats["td_loss"], *jax.tree.leaves(params)]
    finite = functools.reduce(jnp.logical_and, [jnp.all(jnp.isfinite(x)) for x in leaves])
    return {"nonfinite": jnp.where(finite, 0.0, 1.0).astype(jnp.float32)}


def advance(s: Spec, state: RunState, n_logs: int):
    """``n_logs`` logged points, each after ``run.log_every`` RL updates."""
    every = s.config.run.log_every
    s = s._replace(mask=state.mask)

    def log_block(state, _):
        cosine = gradient_cosine(s, state)  # where the block starts: the first point's is RL's start
        state, stats = jax.lax.scan(lambda st, _: rl_update(s, st), state, None, length=every)
        logged = log_stats(s, jax.tree.map(lambda x: x.sum(0), stats), every) | evaluate(s, state)
        logged |= nonfinite(stats, state.params) | {"pg_probe_cosine": cosine, "start_deception": state.start_deception,
                                                    "alarm_recall_start": state.start_recall}
        assert set(logged) == set(schema.LOGGED), f"logged metrics {sorted(set(logged) ^ set(schema.LOGGED))}"
        return state, logged

    return jax.lax.scan(log_block, state, None, length=n_logs)


def start(key, config: Config) -> RunState:
    """``init`` for ``config``: the state RL starts from. Called with the config as an argument of
    jit or vmap, every number it reads is traced (a stacked group's row), its structure static."""
    return init(make_spec(config), key)


def resume(state: RunState, config: Config, n_logs: int):
    """``advance`` for ``config``, as ``start`` is ``init``: ``(state, metrics [n_logs, ...])``."""
    return advance(make_spec(config), state, n_logs)


def make_train(config: Config):
    """``train(key) -> (final_state, metrics)`` for one seed (``store.outcomes.label`` labels it), the
    config's numbers float32, as a sweep's rows hold them."""
    numbers = traced.float32(config)

    def train(key):
        state = start(key, numbers)
        return resume(state, numbers, config.run.n_logs)

    return train
