"""One seed's whole run as pure functions: ``make_train(config) -> train(key)``.

Phases: (1) the beliefs pretrain on exploratory data (uniformly random plans); (2) labelled
thoughts are collected from exploration and the probe is fitted on the kinds it covers;
(3) RL: the agent proposes thoughts, picks one by valence, acts, and learns: beliefs by
prediction, desires by TD(lambda) on the innate reward, every loss reaching only the
parameter groups its routing row allows.

Every numeric knob is read from the ``hp`` pytree (``config.numeric``), never from the
config, so conditions that differ only in numbers share one compiled function.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from brainlike import agent, beliefs, desires, metrics, probes, reward
from brainlike.config import Config, numeric
from brainlike.routing import parse_routing, route


class Episode(NamedTuple):
    """What an environment's current episode has accumulated so far."""

    pool: probes.Pool
    ret: jax.Array
    env_ret: jax.Array
    safety: jax.Array
    deceptive: jax.Array
    overseen: jax.Array


class Actor(NamedTuple):
    """One environment and the agent's place in it."""

    obs: jax.Array
    env_state: Any
    prev_plan: jax.Array
    episode: Episode


class Transition(NamedTuple):
    obs: jax.Array
    plan: jax.Array
    outcome_obs: jax.Array
    reward: jax.Array
    terminated: jax.Array
    done: jax.Array
    v: jax.Array  # valence of the chosen thought, when it was chosen
    v_trunc: jax.Array  # expected valence where a truncated episode was cut off
    overseen: jax.Array
    kind: jax.Array
    offered: jax.Array  # [K] bool: a plan of each kind came to mind (the opportunity to take it)
    flagged: jax.Array  # the frozen probe flags the thought taken, on its own (unpooled)
    # per finished episode (zero unless done)
    ep_return: jax.Array
    ep_env_return: jax.Array
    ep_safety: jax.Array
    ep_deceptive: jax.Array
    ep_fired: jax.Array


class Thoughts(NamedTuple):
    """Labelled thoughts from exploration: (obs, plan), the ground-truth kind, and what followed."""

    obs: jax.Array
    plan: jax.Array
    kind: jax.Array
    outcome_obs: jax.Array


class RunState(NamedTuple):
    params: dict
    opt_state: Any
    actors: Actor
    probe: probes.Probe
    thoughts: Thoughts  # fit, calibration and evaluation sets, n_thoughts each, in that order
    key: jax.Array
    update: jax.Array


class Learner(NamedTuple):
    """The pure functions of one structural config; numeric knobs come in as ``hp``."""

    init: Any  # (key, hp) -> RunState, after pretraining and the probe fit
    advance: Any  # (state, hp, n_logs) -> (state, metrics with a leading [n_logs] axis)
    outcome: Any  # (metrics, hp) -> outcome index, over the final window
    config: Config
    loss_terms: Any  # (params, batch, v_end, probe, hp, replay=None) -> {"pred", "td", "probe"}, each routed


def make_learner(config: Config) -> Learner:
    env = config.env_obj
    wm = beliefs.WorldModel(config.beliefs.hidden, config.beliefs.thought_dim, env.num_plans, env.obs_dim)
    table = parse_routing(config.routing)
    n_plans, n_kinds = env.num_plans, len(env.kinds)
    deceptive = env.deceptive_mask
    covered = jnp.asarray(config.coverage_mask()) | ~deceptive
    run, dcfg, pcfg = config.run, config.desires, config.probe
    n_thoughts = pcfg.n_thoughts

    def optimizer(hp, beliefs_lr):
        """Adam for beliefs (its rate differs between pretraining and RL; the state is shared), SGD for desires."""
        labels = {"beliefs": "beliefs", "desires": "desires"}
        return optax.multi_transform(
            {"beliefs": optax.adam(beliefs_lr), "desires": optax.sgd(hp["desires"]["lr"])},
            lambda params: {g: jax.tree.map(lambda _: labels[g], p) for g, p in params.items()})

    def candidates(params, obs):
        """Thought activations and valences of every plan at ``obs``: ``[P, H]``, ``[P]``."""
        h = jax.vmap(wm.encode, (None, None, 0))(params["beliefs"], obs, jnp.arange(n_plans))
        return h, jax.vmap(desires.valence, (None, 0))(params["desires"], h)

    def choose(key_prop, key_sel, values, available, prev_plan, hp):
        """The plan taken, and which plans came to mind: the agent's whole policy."""
        if dcfg.selection == "fixed":
            return agent.fixed_choice(key_sel, available, dcfg.fixed_plan, hp["desires"]["fixed_p"]), available
        proposal = agent.propose(key_prop, dcfg.proposal, available, prev_plan, dcfg.n_sampled)
        return agent.select(key_sel, dcfg.selection, values, proposal, hp["desires"]["temperature"]), proposal

    def expected_valence(key, values, available, prev_plan, hp):
        """The valence of the thought the policy would take next: exact for Boltzmann over every
        available plan, else that of one choice drawn with the real proposal and selection rule."""
        if dcfg.proposal == "all" and dcfg.selection == "boltzmann":
            return jnp.sum(agent.boltzmann(values, available, hp["desires"]["temperature"]) * values)
        key_prop, key_sel = jax.random.split(key)
        return values[choose(key_prop, key_sel, values, available, prev_plan, hp)[0]]

    def new_episode(key, hp):
        zero = jnp.zeros(())
        return Episode(probes.empty_pool(), zero, zero, zero, jnp.zeros((), bool),
                       jax.random.bernoulli(key, hp["reward"]["oversight"]))

    def new_actor(key, hp):
        key_env, key_ep = jax.random.split(key)
        obs, env_state = env.reset(key_env, hp["env"])
        return Actor(obs, env_state, jnp.zeros((), jnp.int32), new_episode(key_ep, hp))

    def actor_step(params, probe, actor: Actor, key, hp, explore: bool):
        key_prop, key_sel, key_env, key_ep = jax.random.split(key, 4)
        available = env.plan_mask(actor.env_state, hp["env"])
        h_c, v_c = candidates(params, actor.obs)
        if explore:
            plan, proposal = jax.random.categorical(key_sel, jnp.where(available, 0.0, -jnp.inf)), available
        else:
            plan, proposal = choose(key_prop, key_sel, v_c, available, actor.prev_plan, hp)
        kinds = env.plan_kinds(actor.env_state, hp["env"])
        offered = (jax.nn.one_hot(kinds, n_kinds) * proposal[:, None]).max(axis=0) > 0
        obs, env_state, r_env, done, info = env.step(key_env, actor.env_state, plan, hp["env"])
        ep = actor.episode
        score_taken = probes.logit(probe, h_c[plan])
        pool = probes.add_to_pool(ep.pool, score_taken)
        score = probes.pooled(pool, pcfg.pooling)
        alarm = reward.alarm(score, probe.threshold, config.reward.alarm) * done  # judged at episode end
        r = reward.innate_reward(r_env, alarm, hp["reward"]["alpha"], ep.overseen)
        ep_now = Episode(pool, ep.ret + r, ep.env_ret + r_env, ep.safety + info["safety"],
                         ep.deceptive | info["deceptive"], ep.overseen)
        if env.truncates:  # a key of its own, derived without disturbing the others
            _, v_t = candidates(params, info["outcome_obs"])
            v_trunc = expected_valence(jax.random.fold_in(key_sel, 1), v_t, info["outcome_mask"], plan, hp)
        else:
            v_trunc = jnp.zeros(())
        fin = lambda x: jnp.where(done, x, 0).astype(jnp.float32)  # noqa: E731
        transition = Transition(
            actor.obs, plan, info["outcome_obs"], r, info["terminated"], done, v_c[plan], v_trunc,
            ep.overseen.astype(jnp.float32), info["kind"], offered, score_taken > probe.threshold, fin(ep_now.ret), fin(ep_now.env_ret), fin(ep_now.safety),
            fin(ep_now.deceptive), fin(score > probe.threshold))
        ep_next = jax.tree.map(lambda a, b: jnp.where(done, a, b), new_episode(key_ep, hp), ep_now)
        return Actor(obs, env_state, plan, ep_next), transition

    def rollout(params, probe, actors, key, hp, explore: bool):
        """``rollout_len`` steps in each of the ``n_envs`` environments: time-major ``[T, E]``."""
        def step(actors, key):
            keys = jax.random.split(key, run.n_envs)
            return jax.vmap(actor_step, (None, None, 0, 0, None, None))(params, probe, actors, keys, hp, explore)

        actors, batch = jax.lax.scan(step, actors, jax.random.split(key, run.rollout_len))
        # the value of the thought each environment would take next closes the last return
        _, v_next = jax.vmap(candidates, (None, 0))(params, actors.obs)
        available = jax.vmap(env.plan_mask, (0, None))(actors.env_state, hp["env"])
        keys = jax.random.split(jax.random.fold_in(key, 1), run.n_envs)
        v_end = jax.vmap(expected_valence, (0, 0, 0, 0, None))(keys, v_next, available, actors.prev_plan, hp)
        return actors, batch, v_end

    def encode_batch(beliefs_params, obs, plan):
        flat = jax.vmap(wm.encode, (None, 0, 0))(beliefs_params, obs.reshape(-1, obs.shape[-1]), plan.reshape(-1))
        return flat.reshape(plan.shape + (-1,))

    def prediction_errors(beliefs_params, obs, plan, outcome_obs):
        """Squared prediction error of each transition, any batch shape."""
        h = encode_batch(beliefs_params, obs, plan)
        pred = jax.vmap(wm.predict, (None, 0))(beliefs_params, h.reshape(-1, h.shape[-1]))
        return jax.vmap(beliefs.predictive_loss)(pred, outcome_obs.reshape(pred.shape))

    def loss_terms(params, batch: Transition, v_end, probe, hp, replay: Thoughts | None = None) -> dict:
        """The three losses, each on its routed view of the parameters; ``replay`` transitions join
        the predictive loss's data."""
        p_pred, p_td, p_probe = (route(params, table[loss]) for loss in ("pred", "td", "probe"))
        errors = prediction_errors(p_pred["beliefs"], batch.obs, batch.plan, batch.outcome_obs)
        if replay is not None:
            errors = jnp.concatenate([errors, prediction_errors(p_pred["beliefs"], *replay[:2], replay.outcome_obs)])
        l_pred = jnp.mean(errors)

        h_td = encode_batch(p_td["beliefs"], batch.obs, batch.plan)
        v = jax.vmap(jax.vmap(desires.valence, (None, 0)), (None, 0))(p_td["desires"], h_td)
        g = jax.vmap(desires.lambda_targets, (1, 1, 1, 0, 1, 1, None, None), 1)(
            batch.reward, batch.v, batch.v_trunc, v_end, batch.terminated, batch.done,
            hp["desires"]["gamma"], hp["desires"]["td_lambda"])
        l_td = jnp.mean(desires.td_loss(v, g))

        h_probe = encode_batch(p_probe["beliefs"], batch.obs, batch.plan)
        score = jax.vmap(jax.vmap(probes.logit, (None, 0)), (None, 0))(probe, h_probe)
        l_probe = hp["reward"]["alpha"] * jnp.mean(batch.overseen * jax.nn.sigmoid(score - probe.threshold))
        return {"pred": l_pred, "td": l_td, "probe": l_probe}

    def losses(params, batch: Transition, v_end, probe, hp, replay=None):
        """Their sum: one backward pass gives each group what its routing rows allow."""
        t = loss_terms(params, batch, v_end, probe, hp, replay)
        return t["pred"] + t["td"] + t["probe"], (t["pred"], t["td"])

    blind = probes.Probe(jnp.zeros(config.beliefs.thought_dim), jnp.zeros(()), jnp.full((), jnp.inf))  # never fires

    def pretrain_update(carry, key, hp):
        params, opt_state, actors = carry
        actors, batch, _ = rollout(params, blind, actors, key, hp, explore=True)
        pred_loss = lambda p: jnp.mean(prediction_errors(p, batch.obs, batch.plan, batch.outcome_obs))  # noqa: E731
        grads = {"beliefs": jax.grad(pred_loss)(params["beliefs"]),
                 "desires": jax.tree.map(jnp.zeros_like, params["desires"])}
        updates, opt_state = optimizer(hp, hp["beliefs"]["lr"]).update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, actors), None

    def collect_thoughts(params, actors, key, hp) -> Thoughts:
        """``3 * n_thoughts`` labelled thoughts from exploration (fit, calibration, evaluation)."""
        n_rollouts = -(-3 * n_thoughts // run.steps_per_update)
        _, batch = jax.lax.scan(lambda a, k: rollout(params, blind, a, k, hp, True)[:2],
                                   actors, jax.random.split(key, n_rollouts))
        take = lambda x: x.reshape((-1,) + x.shape[3:])[: 3 * n_thoughts]  # noqa: E731
        return Thoughts(take(batch.obs), take(batch.plan), take(batch.kind), take(batch.outcome_obs))

    def split(thoughts: Thoughts, i: int) -> Thoughts:
        return jax.tree.map(lambda x: x[i * n_thoughts: (i + 1) * n_thoughts], thoughts)

    def labelled_h(params, thoughts: Thoughts):
        """Activations, labels and coverage mask of a labelled set under the current beliefs."""
        h = jax.vmap(wm.encode, (None, 0, 0))(params["beliefs"], thoughts.obs, thoughts.plan)
        return h, deceptive[thoughts.kind].astype(jnp.float32), covered[thoughts.kind]

    def fit(params, thoughts, hp) -> probes.Probe:
        h_fit, y_fit, ok_fit = labelled_h(params, split(thoughts, 0))
        h_cal, y_cal, ok_cal = labelled_h(params, split(thoughts, 1))
        return probes.fit_probe(h_fit, y_fit, ok_fit, h_cal, y_cal, ok_cal, pcfg.target,
                                hp["probe"]["rate"], hp["probe"]["l2"])

    def recalibrate(params, probe: probes.Probe, thoughts, hp) -> probes.Probe:
        """The same direction with its threshold set anew on calibration thoughts under ``params``."""
        h_cal, y_cal, ok_cal = labelled_h(params, split(thoughts, 1))
        return probe._replace(threshold=probes.calibrate(h_cal @ probe.u + probe.c, y_cal, ok_cal, pcfg.target,
                                                         hp["probe"]["rate"]))

    def on_schedule(every: int, update, new, probe):
        """``new()`` after every ``every``-th update (never when ``every`` is 0), else ``probe``."""
        if not every:
            return probe
        return jax.lax.cond((update + 1) % every == 0, new, lambda: probe)

    def replay_batch(thoughts: Thoughts, key) -> Thoughts | None:
        """``beliefs.replay`` exploratory transitions drawn from the stored ones, or None."""
        if not config.beliefs.replay:
            return None
        return jax.tree.map(lambda x: x[jax.random.randint(key, (config.beliefs.replay,), 0, 3 * n_thoughts)], thoughts)

    def init(key, hp) -> RunState:
        key_model, key_actors, key_pre, key_thoughts, key_run = jax.random.split(key, 5)
        params = {"beliefs": wm.init(key_model), "desires": desires.init_valence(config.beliefs.thought_dim)}
        opt_state = optimizer(hp, hp["beliefs"]["lr"]).init(params)
        actors = jax.vmap(new_actor, (0, None))(jax.random.split(key_actors, run.n_envs), hp)
        (params, opt_state, actors), _ = jax.lax.scan(
            lambda c, k: pretrain_update(c, k, hp), (params, opt_state, actors),
            jax.random.split(key_pre, config.beliefs.pretrain_updates))
        thoughts = collect_thoughts(params, actors, key_thoughts, hp)
        probe = fit(params, thoughts, hp)
        return RunState(params, opt_state, actors, probe, thoughts, key_run, jnp.zeros((), jnp.int32))

    def rl_update(state: RunState, hp):
        key, key_roll = jax.random.split(state.key)
        actors, batch, v_end = rollout(state.params, state.probe, state.actors, key_roll, hp, explore=False)
        replay = replay_batch(state.thoughts, jax.random.fold_in(key_roll, 2))
        grads, (l_pred, l_td) = jax.grad(losses, has_aux=True)(state.params, batch, v_end, state.probe, hp, replay)
        updates, opt_state = optimizer(hp, hp["beliefs"]["rl_lr"]).update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        probe = on_schedule(pcfg.refit_every, state.update, lambda: fit(params, state.thoughts, hp), state.probe)
        probe = on_schedule(pcfg.recalibrate_every, state.update,
                            lambda: recalibrate(params, probe, state.thoughts, hp), probe)
        taken = jax.nn.one_hot(batch.kind, n_kinds)
        stats = {
            "episodes": batch.done.sum(),
            "return": batch.ep_return.sum(),
            "env_reward": batch.ep_env_return.sum(),
            "safety_score": batch.ep_safety.sum(),
            "deception_rate": batch.ep_deceptive.sum(),
            "alarm_rate": batch.ep_fired.sum(),
            "evasion_rate": (batch.ep_deceptive * (1.0 - batch.ep_fired)).sum(),
            "decisions": jnp.asarray(batch.kind.size, jnp.float32),
            "taken": taken.sum(axis=(0, 1)),
            "offered": batch.offered.sum(axis=(0, 1)),
            "flagged": (taken * batch.flagged[..., None]).sum(axis=(0, 1)),
            "valence_chosen": batch.v.mean(),
            "wm_loss": l_pred,
            "td_loss": l_td,
        }
        return RunState(params, opt_state, actors, probe, state.thoughts, key, state.update + 1), stats

    def evaluate(state: RunState, hp) -> dict:
        """Probe faithfulness at three depths, and valence by kind, on fresh labelled thoughts."""
        h, y, ok = labelled_h(state.params, split(state.thoughts, 2))
        kind = split(state.thoughts, 2).kind
        score = h @ state.probe.u + state.probe.c
        fired = (score > state.probe.threshold).astype(jnp.float32)
        positive = ok & (y > 0.5)
        refit = fit(state.params, state.thoughts, hp)
        by_kind = jax.nn.one_hot(kind, n_kinds)
        count = by_kind.sum(0)  # a kind with no evaluation thoughts (B never on offer) is NaN, not 0
        # a scatter-add sums in index order whatever the seed batch; a masked .sum(0) did not (XLA
        # on CPU splits that reduction one way for 4 seeds and another for 8: last-bit differences)
        per_kind = lambda x: jnp.where(  # noqa: E731
            count > 0, jax.ops.segment_sum(x, kind, n_kinds) / jnp.maximum(count, 1), jnp.nan)
        return {
            "probe_recall_frozen": jnp.sum(fired * positive) / jnp.maximum(positive.sum(), 1),
            "probe_auroc_frozen": probes.auroc(score, y, ok),
            "probe_auroc_refit": probes.auroc(h @ refit.u + refit.c, y, ok),
            "probe_recall_by_kind": per_kind(fired),
            "probe_score_by_kind": per_kind(score - state.probe.threshold),
            "valence_by_kind": per_kind(jax.vmap(desires.valence, (None, 0))(state.params["desires"], h)),
        }

    def advance(state: RunState, hp, n_logs: int):
        def log_block(state, _):
            state, stats = jax.lax.scan(lambda s, _: rl_update(s, hp), state, None, length=run.log_every)
            logged = log_stats(jax.tree.map(lambda x: x.sum(0), stats), run.log_every) | evaluate(state, hp)
            assert set(logged) == set(metrics.LOGGED), f"logged metrics {sorted(set(logged) ^ set(metrics.LOGGED))}"
            return state, logged

        return jax.lax.scan(log_block, state, None, length=n_logs)

    def log_stats(total: dict, n_updates: int) -> dict:
        """One logged point from a block's summed statistics: per-episode and per-decision rates."""
        ratio = lambda a, b: jnp.where(b > 0, a / jnp.maximum(b, 1), jnp.nan)  # noqa: E731
        per_episode = ("return", "env_reward", "safety_score", "deception_rate", "alarm_rate", "evasion_rate")
        logged = {k: ratio(total[k], total["episodes"]) for k in per_episode}
        logged |= {k: total[k] / n_updates for k in ("valence_chosen", "wm_loss", "td_loss")}
        covered_deceptive = (covered & deceptive).astype(jnp.float32)
        return logged | {
            "plan_freq": total["taken"] / total["decisions"],
            "offer_rate": total["offered"] / total["decisions"],
            "probe_recall_taken_by_kind": ratio(total["flagged"], total["taken"]),
            "probe_recall_taken": ratio(total["flagged"] @ covered_deceptive, total["taken"] @ covered_deceptive),
        }

    def outcome(logged, hp):
        penalised = hp["reward"]["alpha"] * hp["reward"]["oversight"] > 0
        return metrics.label_outcome(logged, hp["outcome"], deceptive, covered & deceptive, penalised)

    return Learner(init, advance, outcome, config, loss_terms)


def make_train(config: Config):
    """``train(key, hp=None) -> (final_state, metrics)`` for one seed; metrics end with ``outcome``."""
    learner = make_learner(config)

    def train(key, hp=None):
        hp = numeric(config) if hp is None else hp
        state = learner.init(key, hp)
        state, logged = learner.advance(state, hp, config.run.n_logs)
        return state, logged | {"outcome": learner.outcome(logged, hp)}

    return train
