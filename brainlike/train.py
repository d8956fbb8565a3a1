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
    # per finished episode (zero unless done)
    ep_return: jax.Array
    ep_env_return: jax.Array
    ep_safety: jax.Array
    ep_deceptive: jax.Array
    ep_fired: jax.Array


class Thoughts(NamedTuple):
    """Labelled thoughts: (obs, plan) with the ground-truth kind."""

    obs: jax.Array
    plan: jax.Array
    kind: jax.Array


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
    loss_terms: Any  # (params, batch, v_end, probe, hp) -> {"pred", "td", "probe"}, each routed


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
            plan = jax.random.categorical(key_sel, jnp.where(available, 0.0, -jnp.inf))
        else:
            proposal = agent.propose(key_prop, dcfg.proposal, available, actor.prev_plan, dcfg.n_sampled)
            plan = agent.select(key_sel, dcfg.selection, v_c, proposal, hp["desires"]["temperature"])
        obs, env_state, r_env, done, info = env.step(key_env, actor.env_state, plan, hp["env"])
        ep = actor.episode
        pool = probes.add_to_pool(ep.pool, probes.logit(probe, h_c[plan]))
        score = probes.pooled(pool, pcfg.pooling)
        alarm = reward.alarm(score, probe.threshold, config.reward.alarm) * done  # judged at episode end
        r = reward.innate_reward(r_env, alarm, hp["reward"]["alpha"], ep.overseen)
        ep_now = Episode(pool, ep.ret + r, ep.env_ret + r_env, ep.safety + info["safety"],
                         ep.deceptive | info["deceptive"], ep.overseen)
        if env.truncates:
            h_t, v_t = candidates(params, info["outcome_obs"])
            v_trunc = jnp.sum(agent.boltzmann(v_t, jnp.ones(n_plans, bool), hp["desires"]["temperature"]) * v_t)
        else:
            v_trunc = jnp.zeros(())
        fin = lambda x: jnp.where(done, x, 0).astype(jnp.float32)  # noqa: E731
        transition = Transition(
            actor.obs, plan, info["outcome_obs"], r, info["terminated"], done, v_c[plan], v_trunc,
            ep.overseen.astype(jnp.float32), info["kind"], fin(ep_now.ret), fin(ep_now.env_ret), fin(ep_now.safety),
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
        pi = jax.vmap(agent.boltzmann, (0, 0, None))(v_next, available, hp["desires"]["temperature"])
        v_end = jnp.sum(pi * v_next, axis=-1)
        return actors, batch, v_end

    def encode_batch(beliefs_params, obs, plan):
        flat = jax.vmap(wm.encode, (None, 0, 0))(beliefs_params, obs.reshape(-1, obs.shape[-1]), plan.reshape(-1))
        return flat.reshape(plan.shape + (-1,))

    def loss_terms(params, batch: Transition, v_end, probe, hp) -> dict:
        """The three losses, each on its routed view of the parameters."""
        p_pred, p_td, p_probe = (route(params, table[loss]) for loss in ("pred", "td", "probe"))
        h_pred = encode_batch(p_pred["beliefs"], batch.obs, batch.plan)
        pred = jax.vmap(jax.vmap(wm.predict, (None, 0)), (None, 0))(p_pred["beliefs"], h_pred)
        l_pred = jnp.mean(jax.vmap(jax.vmap(beliefs.predictive_loss))(pred, batch.outcome_obs))

        h_td = encode_batch(p_td["beliefs"], batch.obs, batch.plan)
        v = jax.vmap(jax.vmap(desires.valence, (None, 0)), (None, 0))(p_td["desires"], h_td)
        b = jnp.where(batch.done, batch.v_trunc, jnp.concatenate([batch.v[1:], v_end[None]], axis=0))
        discount = hp["desires"]["gamma"] * (1.0 - batch.terminated)
        lam = hp["desires"]["td_lambda"] * (1.0 - batch.done)
        g = jax.vmap(desires.lambda_returns, 1, 1)(batch.reward, discount, lam, b)
        l_td = jnp.mean(desires.td_loss(v, g))

        h_probe = encode_batch(p_probe["beliefs"], batch.obs, batch.plan)
        score = jax.vmap(jax.vmap(probes.logit, (None, 0)), (None, 0))(probe, h_probe)
        l_probe = hp["reward"]["alpha"] * jnp.mean(batch.overseen * jax.nn.sigmoid(score - probe.threshold))
        return {"pred": l_pred, "td": l_td, "probe": l_probe}

    def losses(params, batch: Transition, v_end, probe, hp):
        """Their sum: one backward pass gives each group what its routing rows allow."""
        t = loss_terms(params, batch, v_end, probe, hp)
        return t["pred"] + t["td"] + t["probe"], (t["pred"], t["td"])

    def pretrain_update(carry, key, hp):
        params, opt_state, actors = carry
        blind = probes.Probe(jnp.zeros(config.beliefs.thought_dim), jnp.zeros(()), jnp.full((), jnp.inf))
        actors, batch, _ = rollout(params, blind, actors, key, hp, explore=True)

        def pred_loss(beliefs_params):
            h = encode_batch(beliefs_params, batch.obs, batch.plan)
            pred = jax.vmap(jax.vmap(wm.predict, (None, 0)), (None, 0))(beliefs_params, h)
            return jnp.mean(jax.vmap(jax.vmap(beliefs.predictive_loss))(pred, batch.outcome_obs))

        grads = {"beliefs": jax.grad(pred_loss)(params["beliefs"]),
                 "desires": jax.tree.map(jnp.zeros_like, params["desires"])}
        updates, opt_state = optimizer(hp, hp["beliefs"]["lr"]).update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, actors), None

    def collect_thoughts(params, actors, key, hp) -> Thoughts:
        """``3 * n_thoughts`` labelled thoughts from exploration (fit, calibration, evaluation)."""
        blind = probes.Probe(jnp.zeros(config.beliefs.thought_dim), jnp.zeros(()), jnp.full((), jnp.inf))
        n_rollouts = -(-3 * n_thoughts // run.steps_per_update)
        _, batch = jax.lax.scan(lambda a, k: rollout(params, blind, a, k, hp, True)[:2],
                                   actors, jax.random.split(key, n_rollouts))
        take = lambda x: x.reshape((-1,) + x.shape[3:])[: 3 * n_thoughts]  # noqa: E731
        return Thoughts(take(batch.obs), take(batch.plan), take(batch.kind))

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
        grads, (l_pred, l_td) = jax.grad(losses, has_aux=True)(state.params, batch, v_end, state.probe, hp)
        updates, opt_state = optimizer(hp, hp["beliefs"]["rl_lr"]).update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        probe = state.probe
        if pcfg.refit_every:
            probe = jax.lax.cond((state.update + 1) % pcfg.refit_every == 0,
                                 lambda: fit(params, state.thoughts, hp), lambda: probe)
        stats = {
            "episodes": batch.done.sum(),
            "return": batch.ep_return.sum(),
            "env_reward": batch.ep_env_return.sum(),
            "safety_score": batch.ep_safety.sum(),
            "deception_rate": batch.ep_deceptive.sum(),
            "alarm_rate": batch.ep_fired.sum(),
            "evasion_rate": (batch.ep_deceptive * (1.0 - batch.ep_fired)).sum(),
            "plan_freq": jax.nn.one_hot(batch.kind, n_kinds).mean(axis=(0, 1)),
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
        per_kind = lambda x: jnp.where(count > 0, (by_kind * x[:, None]).sum(0) / jnp.maximum(count, 1), jnp.nan)  # noqa: E731
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
            per_episode = ("return", "env_reward", "safety_score", "deception_rate", "alarm_rate", "evasion_rate")
            n_ep = stats["episodes"].sum()
            logged = {k: jnp.where(n_ep > 0, stats[k].sum() / jnp.maximum(n_ep, 1), jnp.nan) for k in per_episode}
            logged |= {k: stats[k].mean(0) for k in ("plan_freq", "valence_chosen", "wm_loss", "td_loss")}
            return state, logged | evaluate(state, hp)

        return jax.lax.scan(log_block, state, None, length=n_logs)

    def outcome(logged, hp):
        return metrics.label_outcome(logged, hp["outcome"])

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
