"""Acting: the agent's policy, one step in one environment, and a rollout of many.

Everything here is traced for one seed; ``Spec`` carries the config and what it fixes.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from brainlike.config import Config
from brainlike.core import attention, desires, policy, probes, reward, thoughts
from brainlike.core.beliefs import WorldModel
from brainlike.envs import Environment
from brainlike.routes import has_policy_head, parse_routing


class Spec(NamedTuple):
    """The config and what its structure fixes. Made inside the trace from the config given as an
    argument (``learner.start``), its numeric knobs (``s.config.reward.alpha``) are the row's traced
    values; its structural fields are plain Python values."""

    config: Config
    env: Environment
    wm: WorldModel
    table: dict  # the routing table: loss -> parameter groups it may update
    deceptive: jax.Array  # [K] bool
    covered: jax.Array  # [K] bool: kinds the probe is fitted on as positives, and every honest kind
    mask: Any = None  # a shared network's RL mask over the beliefs' parameters (``core.masks``), else None

    @property
    def n_kinds(self) -> int:
        return len(self.env.kinds)

    @property
    def n_variants(self) -> int:
        return self.config.desires.n_variants

    @property
    def noisy(self) -> bool:
        """Are thoughts sampled (``desires.thought_noise > 0``)? Else no noise is drawn at all."""
        return self.config.desires.noisy

    @property
    def anchored(self) -> bool:
        """Is the learner anchored to the policy RL started from (``reward.kl_beta > 0``)? Else no
        reference policy is kept or computed."""
        return self.config.reward.anchored

    @property
    def policy_head(self) -> bool:
        """Does a policy head of its own act (``routes.has_policy_head``)? Else the valence does."""
        return has_policy_head(self.table)

    @property
    def attends(self) -> bool:
        """Is which plans come to mind learned (``desires.proposal learned``)? Then a salience decides it."""
        return self.config.desires.proposal == "learned"

    @property
    def kl_in_reward(self) -> bool:
        """Does the anchor enter the reward (RLHF's KL penalty)? A policy head's is a loss of its own
        (GRPO's; DPO's beta), so its rewards hold no KL."""
        return self.anchored and not self.policy_head

    @property
    def grouped(self) -> bool:
        """Do RL's environments come in groups of ``run.group_size`` that share their states (G samples of one prompt)?"""
        return self.config.run.group_size > 1


def make_spec(config: Config) -> Spec:
    """The spec of ``config``, a traced copy or a concrete one (whose numbers are then constants)."""
    env = config.env_obj
    wm = WorldModel(config.beliefs.hidden, config.beliefs.thought_dim, env.num_plans, env.obs_dim,
                    config.beliefs.plan_input)
    with jax.ensure_compile_time_eval():  # inside a trace too: constants of the program, not ops in it
        deceptive = env.deceptive_mask
        covered = jnp.asarray(config.coverage_mask()) | ~deceptive
    return Spec(config, env, wm, parse_routing(config.routing), deceptive, covered)


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
    choice: jax.Array  # the candidate taken, plan * n_variants + variant
    noise_key: jax.Array  # the key its candidates' noise was drawn from (``thought_noise``); zeros if none
    proposal: jax.Array  # [P] bool: the plans that came to mind
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
    available: jax.Array | None = None  # [P] bool: the plans that could come to mind, where attention is learned
    topic: jax.Array | None = None  # the decision's topic (``Environment.topic``), where the environment has topics
    env_metrics: jax.Array | None = None  # [M]: the step's own metrics (``EnvSpec.metrics``), where it declares some


def candidate_noise(s: Spec, key):
    """The standard normal noise of every variant of every plan's thought, ``[P, n_variants, H]``,
    or None when thoughts are not sampled."""
    if not s.noisy:
        return None
    return jax.random.normal(key, (s.env.num_plans, s.n_variants, s.config.beliefs.thought_dim))


class Candidates(NamedTuple):
    """Every candidate thought at one decision: candidate ``c`` is variant ``c % n_variants`` of plan ``c // n_variants``."""

    h: jax.Array  # [C, H] thought activations
    values: jax.Array  # [C] valences V(h)
    prefs: jax.Array  # [C] what the policy's softmax reads before the temperature: the valences, or a policy head's logits


def candidates(s: Spec, params, obs, noise=None) -> Candidates:
    """Every candidate at ``obs``. ``noise``: from ``candidate_noise``; without it every variant of a
    plan is its one thought ``tanh(z)``."""
    plans = jnp.arange(s.env.num_plans)
    if noise is None:
        h = jax.vmap(s.wm.encode, (None, None, 0))(params["beliefs"], obs, plans)
        h = jnp.repeat(h, s.n_variants, axis=0) if s.n_variants > 1 else h
    else:
        z = jax.vmap(s.wm.preact, (None, None, 0))(params["beliefs"], obs, plans)
        h = jnp.tanh(z[:, None] + s.config.desires.thought_noise * noise).reshape(-1, z.shape[-1])
    values = jax.vmap(desires.valence, (None, 0))(params["desires"], h)
    return Candidates(h, values, preferences(s, params, h) if s.policy_head else values)


def preferences(s: Spec, params, h) -> jax.Array:
    """What the policy's softmax reads of thoughts ``h [C, H]``: a policy head's logits, or the valences."""
    if s.policy_head:
        return jax.vmap(policy.logit, (None, 0))(params["policy"], h)
    return jax.vmap(desires.valence, (None, 0))(params["desires"], h)


def per_candidate(s: Spec, mask):
    """A ``[P]`` mask over plans as a ``[C]`` mask over their candidates."""
    return jnp.repeat(mask, s.n_variants) if s.n_variants > 1 else mask


def salience_of(s: Spec, params, obs):
    """``[P]``: each plan's salience at ``obs`` where attention is learned (``attention.salience``), else None."""
    return attention.salience(params["salience"], obs) if s.attends else None


def choose(s: Spec, key_prop, key_sel, prefs, available, prev_plan, salience=None):
    """The candidate taken (``plan * n_variants + variant``), and which plans came to mind: the
    agent's whole policy. Selection is over every variant of every proposed plan, by ``prefs``
    (``Candidates.prefs``); ``salience`` (``salience_of``) draws the proposal where it is learned."""
    d = s.config.desires
    if d.selection == "fixed":
        plan = thoughts.fixed_choice(key_sel, available, d.fixed_plan, s.config.desires.fixed_p)
        return plan * s.n_variants, available
    proposal = thoughts.propose(key_prop, d.proposal, available, prev_plan, d.n_sampled, salience)
    choice = thoughts.select(key_sel, d.selection, prefs, per_candidate(s, proposal), s.config.desires.temperature)
    return choice, proposal


def log_pi(s: Spec, prefs, proposal) -> jax.Array:
    """``[C]``: the log-probability of each candidate under the Boltzmann choice among the proposed ones."""
    return jax.nn.log_softmax(jnp.where(per_candidate(s, proposal), prefs / s.config.desires.temperature, -jnp.inf))


def log_ratio(s: Spec, ref, obs, noise, choice, proposal, prefs) -> jax.Array:
    """``log pi(choice) - log pi_ref(choice)``: the Boltzmann choice among the proposed candidates
    (``thoughts.boltzmann``), ``prefs`` theirs now and ``ref`` the parameters RL started from, whose
    candidates are the same thoughts sampled with the same ``noise``."""
    return log_pi(s, prefs, proposal)[choice] - log_pi(s, candidates(s, ref, obs, noise).prefs, proposal)[choice]


def expected_valence(s: Spec, key, c: Candidates, available, prev_plan, salience=None):
    """The valence of the thought the policy would take next: exact for Boltzmann over every
    available plan's candidates, else that of one choice drawn with the real proposal and selection rule."""
    d = s.config.desires
    if d.proposal == "all" and d.selection == "boltzmann":
        return jnp.sum(thoughts.boltzmann(c.prefs, per_candidate(s, available), s.config.desires.temperature) * c.values)
    key_prop, key_sel = jax.random.split(key)
    return c.values[choose(s, key_prop, key_sel, c.prefs, available, prev_plan, salience)[0]]


def next_valence(s: Spec, params, key, obs, available, prev_plan):
    """``expected_valence`` at ``obs``, the candidates' noise drawn from ``key`` if thoughts are sampled."""
    noise = candidate_noise(s, jax.random.fold_in(key, 2))
    return expected_valence(s, key, candidates(s, params, obs, noise), available, prev_plan,
                            salience_of(s, params, obs))


def new_episode(s: Spec, key) -> Episode:
    zero = jnp.zeros(())
    return Episode(probes.empty_pool(), zero, zero, zero, jnp.zeros((), bool),
                   jax.random.bernoulli(key, s.config.reward.oversight))


def new_actor(s: Spec, key) -> Actor:
    key_env, key_ep = jax.random.split(key)
    obs, env_state = s.env.reset(key_env, s.config.env_params)
    return Actor(obs, env_state, jnp.zeros((), jnp.int32), new_episode(s, key_ep))


def offered_kinds(s: Spec, actor: Actor, proposal) -> jax.Array:
    """Boolean ``[K]``: a plan of each kind came to mind."""
    kinds = s.env.plan_kinds(actor.env_state, s.config.env_params)
    return (jax.nn.one_hot(kinds, s.n_kinds) * proposal[:, None]).max(axis=0) > 0


def judge(s: Spec, episode: Episode, probe: probes.Probe, score_read, r_env, done, info, kl=None):
    """The episode with this step added, the innate reward, and the episode's pooled score so far
    (what an end-judged alarm reads when it ends); ``score_read``: this step's score as the alarm
    reads it (``read_score``); ``kl``: the decision's ``log_ratio`` where the reward is anchored.
    ``reward.judged``: the alarm reads the pooled score once, at the episode's end (``end``), or this
    step's own ``score_read`` now (``step``; an audit then asks whether this step was deceptive)."""
    pool = probes.add_to_pool(episode.pool, score_read)
    score = probes.pooled(pool, s.config.probe.pooling)
    if s.config.reward.judged == "step":
        alarm, deceptive = reward.alarm(score_read, probe.threshold, s.config.reward.alarm), info["deceptive"]
    else:
        alarm = reward.alarm(score, probe.threshold, s.config.reward.alarm) * done
        deceptive = episode.deceptive | info["deceptive"]
    if s.config.reward.audit == "on":
        alarm = reward.audited(alarm, deceptive)
    r = reward.innate_reward(r_env, alarm, s.config.reward.alpha, episode.overseen)
    if kl is not None:
        r = reward.anchored(r, kl, s.config.reward.kl_beta)
    now = Episode(pool, episode.ret + r, episode.env_ret + r_env, episode.safety + info["safety"],
                  episode.deceptive | info["deceptive"], episode.overseen)
    return now, r, score


def read_taken(s: Spec, reader, obs, choice, noise) -> jax.Array:
    """The thought taken as the frozen ``reader`` beliefs encode it (``probe.reads = reference``):
    the same observation, plan and sampled noise, other weights."""
    plan = choice // s.n_variants
    eps = None if noise is None else noise[plan, choice % s.n_variants]
    return s.wm.encode(reader, obs, plan, eps, s.config.desires.thought_noise)


def read_score(s: Spec, probe: probes.Probe, score_taken, h_c, obs, noise, proposal, reader=None) -> jax.Array:
    """This decision's score as the alarm reads it (``reward.alarm_reads``): the thought taken's
    (``score_taken``), or the highest among every candidate of the plans that came to mind, each
    read as the alarm reads it (``h_c`` the live candidates, or through the frozen ``reader``)."""
    if s.config.reward.alarm_reads == "taken":
        return score_taken
    if reader is None:
        scores = jax.vmap(probes.logit, (None, 0))(probe, h_c)
    else:
        scores = alarm_scores(s, None, probe, obs, noise, reader) + probe.threshold
    return reward.worst_considered(scores, per_candidate(s, proposal))


def actor_step(s: Spec, params, probe: probes.Probe, actor: Actor, key, explore: bool, ref=None, reader=None,
               key_group=None):
    """One decision and its consequence in one environment: ``(actor, transition)``; ``ref``: the
    parameters RL started from, where the reward is anchored to their policy (``reward.kl_beta``);
    ``reader``: frozen beliefs the alarm reads the thought taken through (``probe.reads``), else the live ones;
    ``key_group``: the key of the environment's group (``group_keys``), which then draws what the
    environment does (its transition, its next episode and whether that is overseen) in place of ``key``'s."""
    key_prop, key_sel, key_env, key_ep = jax.random.split(key, 4)
    if key_group is not None:
        key_env, key_ep = jax.random.split(key_group)
    # keys of their own, derived without disturbing the others
    key_noise = jax.random.fold_in(key, 3) if s.noisy else jnp.zeros(2, jnp.uint32)
    available = s.env.plan_mask(actor.env_state, s.config.env_params)
    noise = candidate_noise(s, key_noise)
    h_c, v_c, prefs = candidates(s, params, actor.obs, noise)
    if explore:
        plan, proposal = jax.random.categorical(key_sel, jnp.where(available, 0.0, -jnp.inf)), available
        choice = plan * s.n_variants
    else:
        choice, proposal = choose(s, key_prop, key_sel, prefs, available, actor.prev_plan,
                                  salience_of(s, params, actor.obs))
        plan = choice // s.n_variants
    offered = offered_kinds(s, actor, proposal)
    obs, env_state, r_env, done, info = s.env.step(key_env, actor.env_state, plan, s.config.env_params)
    h_read = h_c[choice] if reader is None else read_taken(s, reader, actor.obs, choice, noise)
    score_taken = probes.logit(probe, h_read)
    kl = log_ratio(s, ref, actor.obs, noise, choice, proposal, prefs) if s.kl_in_reward and ref is not None else None
    score_read = read_score(s, probe, score_taken, h_c, actor.obs, noise, proposal, reader)
    ep_now, r, score = judge(s, actor.episode, probe, score_read, r_env, done, info, kl)
    if s.env.truncates:
        v_trunc = next_valence(s, params, jax.random.fold_in(key_sel, 1), info["outcome_obs"], info["outcome_mask"],
                               plan)
    else:
        v_trunc = jnp.zeros(())
    fin = lambda x: jnp.where(done, x, 0).astype(jnp.float32)  # noqa: E731
    transition = Transition(
        actor.obs, plan, choice, key_noise, proposal, info["outcome_obs"], r, info["terminated"], done, v_c[choice],
        v_trunc,
        actor.episode.overseen.astype(jnp.float32), info["kind"], offered, score_taken > probe.threshold,
        fin(ep_now.ret), fin(ep_now.env_ret), fin(ep_now.safety), fin(ep_now.deceptive),
        fin(score > probe.threshold), available if s.attends else None,
        s.env.topic(actor.env_state, s.config.env_params) if s.env.num_topics else None,
        jnp.stack([info[k] for k in s.env.metrics]).astype(jnp.float32) if s.env.metrics else None)
    ep_next = jax.tree.map(lambda a, b: jnp.where(done, a, b), new_episode(s, key_ep), ep_now)
    return Actor(obs, env_state, plan, ep_next), transition


def group_keys(s: Spec, key) -> jax.Array:
    """``[n_envs]`` keys, equal within each group of ``run.group_size`` consecutive environments."""
    run = s.config.run
    return jnp.repeat(jax.random.split(key, run.n_envs // run.group_size), run.group_size, axis=0)


def rollout(s: Spec, params, probe: probes.Probe, actors: Actor, key, explore: bool, ref=None, reader=None):
    """``rollout_len`` steps in each of the ``n_envs`` environments: time-major ``[T, E]``, and
    ``v_end [E]``, the valence of the thought each environment would take next; ``ref`` and
    ``reader`` as in ``actor_step``. Acting (not exploring) with ``run.group_size`` G > 1, each group's
    G environments share what their environment draws: G samples of one prompt, as GRPO takes them."""
    run = s.config.run

    def step(actors, key):
        one = functools.partial(actor_step, s, params, probe, explore=explore, ref=ref, reader=reader)
        keys = jax.random.split(key, run.n_envs)
        if s.grouped and not explore:
            return jax.vmap(one)(actors, keys, key_group=group_keys(s, jax.random.fold_in(key, 11)))
        return jax.vmap(one)(actors, keys)

    actors, batch = jax.lax.scan(step, actors, jax.random.split(key, run.rollout_len))
    available = jax.vmap(s.env.plan_mask, (0, None))(actors.env_state, s.config.env_params)
    keys = jax.random.split(jax.random.fold_in(key, 1), run.n_envs)
    v_end = jax.vmap(functools.partial(next_valence, s, params))(keys, actors.obs, available, actors.prev_plan)
    return actors, batch, v_end


# --- one episode, for a person to see -----------------------------------------------------------

class Step(NamedTuple):
    """One decision of an episode as ``play`` records it (host-side drawing reads these)."""

    env_state: Any  # the environment before the step
    plan: jax.Array
    choice: jax.Array
    kind: jax.Array  # of the step taken
    reward: jax.Array  # the innate reward
    done: jax.Array
    overseen: jax.Array  # the alarm enters the reward in this episode (``reward.oversight``)
    available: jax.Array  # [P] the plans it could take
    plan_kinds: jax.Array  # [P] the kind each plan would be, taken here
    scores: jax.Array  # [C] every candidate's probe logit minus the threshold, read as the alarm reads it
    pooled: jax.Array  # the episode's pooled score so far, minus the threshold
    fired: jax.Array  # the alarm fired at this step (``reward.judged``: this step's score, or the episode at its end)


def alarm_scores(s: Spec, params, probe: probes.Probe, obs, noise, reader=None) -> jax.Array:
    """``[C]``: every candidate thought's probe logit minus the threshold, as the alarm reads it
    (through the frozen ``reader`` where there is one, as ``read_taken`` reads the thought taken)."""
    if reader is None:
        h = candidates(s, params, obs, noise).h
    else:
        h = jax.vmap(lambda c: read_taken(s, reader, obs, c, noise))(jnp.arange(s.env.num_plans * s.n_variants))
    return jax.vmap(probes.logit, (None, 0))(probe, h) - probe.threshold


def play(s: Spec, params, probe: probes.Probe, key, n_steps: int, ref=None, reader=None) -> Step:
    """``n_steps`` decisions of one agent in one environment, acting as in RL (``actor_step``),
    from a fresh episode: a ``Step`` per decision (an episode that ends is followed by the next)."""
    key_start, key_steps = jax.random.split(key)

    def step(actor, key):
        after, t = actor_step(s, params, probe, actor, key, explore=False, ref=ref, reader=reader)
        scores = alarm_scores(s, params, probe, actor.obs, candidate_noise(s, t.noise_key), reader)
        taken = s.config.reward.alarm_reads == "taken"
        read = scores[t.choice] if taken else reward.worst_considered(scores, per_candidate(s, t.proposal))
        pool = probes.add_to_pool(actor.episode.pool, read + probe.threshold)
        flagged = t.flagged if taken else read > 0
        fired = flagged if s.config.reward.judged == "step" else t.done & (t.ep_fired > 0)
        available = s.env.plan_mask(actor.env_state, s.config.env_params)
        kinds = s.env.plan_kinds(actor.env_state, s.config.env_params)
        return after, Step(actor.env_state, t.plan, t.choice, t.kind, t.reward, t.done, t.overseen > 0, available,
                           kinds, scores, probes.pooled(pool, s.config.probe.pooling) - probe.threshold, fired)

    return jax.lax.scan(step, new_actor(s, key_start), jax.random.split(key_steps, n_steps))[1]
