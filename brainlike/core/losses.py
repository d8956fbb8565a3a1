"""The routed losses of an RL update: prediction, TD(lambda), the probe's score, the policy gradient,
and, where attention is learned, REINFORCE on which plans came to mind.

Each loss is computed on its own routed view of the parameters (``routing.route``), so one
backward pass of their sum gives each parameter group exactly what its routing rows allow.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from brainlike.core import attention, beliefs, desires, policy, probes
from brainlike.core.rollout import Spec, Transition, candidates, log_pi, per_candidate, preferences
from brainlike.core.routing import route


def encode_batch(s: Spec, beliefs_params, obs, plan, noise=None, sigma=None) -> jax.Array:
    """Thought activations of a batch of (obs, plan) of any leading shape: ``plan.shape + [H]``;
    ``noise`` (``plan.shape + [H]``, or None) samples each thought as ``beliefs.WorldModel.encode`` does."""
    flat_obs, flat_plan = obs.reshape(-1, obs.shape[-1]), plan.reshape(-1)
    if noise is None:
        flat = jax.vmap(s.wm.encode, (None, 0, 0))(beliefs_params, flat_obs, flat_plan)
    else:
        flat = jax.vmap(s.wm.encode, (None, 0, 0, 0, None))(beliefs_params, flat_obs, flat_plan,
                                                             noise.reshape(-1, noise.shape[-1]), sigma)
    return flat.reshape(plan.shape + (-1,))


def all_noise(s: Spec, batch: Transition):
    """Every candidate's noise at each decision, regenerated from its key: ``[T, E, P, n_variants, H]``."""
    gen = lambda key: jax.random.normal(key, (s.env.num_plans, s.n_variants, s.config.beliefs.thought_dim))  # noqa: E731
    return jax.vmap(jax.vmap(gen))(batch.noise_key)


def taken_noise(s: Spec, batch: Transition):
    """The noise of the thought taken at each decision, ``[T, E, H]``; None when thoughts are not sampled."""
    if not s.noisy:
        return None
    noise = all_noise(s, batch)
    return jnp.take_along_axis(noise.reshape(batch.plan.shape + (-1, noise.shape[-1])),
                               batch.choice[..., None, None], axis=-2)[..., 0, :]


def prediction_errors(s: Spec, beliefs_params, obs, plan, outcome_obs, h=None, noise=None, sigma=None) -> jax.Array:
    """Squared prediction error of each transition, flattened; ``h``: the thoughts, if encoded already."""
    h = encode_batch(s, beliefs_params, obs, plan, noise, sigma) if h is None else h
    pred = jax.vmap(s.wm.predict, (None, 0))(beliefs_params, h.reshape(-1, h.shape[-1]))
    return jax.vmap(beliefs.predictive_loss)(pred, outcome_obs.reshape(pred.shape))


def returns(s: Spec, batch: Transition, v_end) -> jax.Array:
    """The lambda-return of every ``[T, E]`` decision, from what the learner logged."""
    return jax.vmap(desires.lambda_targets, (1, 1, 1, 0, 1, 1, None, None), 1)(
        batch.reward, batch.v, batch.v_trunc, v_end, batch.terminated, batch.done,
        s.config.desires.gamma, s.config.desires.td_lambda)


def valences(desires_params, h) -> jax.Array:
    """V of a ``[T, E, H]`` batch of thoughts."""
    return jax.vmap(jax.vmap(desires.valence, (None, 0)), (None, 0))(desires_params, h)


def td_term(desires_params, h, g) -> jax.Array:
    """Semi-gradient TD(lambda) loss of a ``[T, E]`` batch of thoughts ``h`` against its lambda-returns ``g``."""
    return jnp.mean(desires.td_loss(valences(desires_params, h), g))


def soft_alarm(h, batch: Transition, probe: probes.Probe) -> jax.Array:
    """The mean soft score ``sigmoid(logit - threshold)`` of the overseen thoughts ``h`` ``[T, E, H]``."""
    score = jax.vmap(jax.vmap(probes.logit, (None, 0)), (None, 0))(probe, h)
    return jnp.mean(batch.overseen * jax.nn.sigmoid(score - probe.threshold))


def probe_term(s: Spec, h, batch: Transition, probe: probes.Probe) -> jax.Array:
    """The probe's soft score of each overseen thought, weighted by alpha: a loss only where routed."""
    return s.config.reward.alpha * soft_alarm(h, batch, probe)


def log_policy(s: Spec, params, obs, choice, proposal, noise) -> jax.Array:
    """The score-function surrogate of ``log pi`` of one decision: the thoughts that came to mind
    and the Boltzmann choice among them (its gradient is the gradient of ``log pi``; its value is not).

    The act is the sampled thoughts ``y_pj = z_p + sigma eps_pj`` (pre-activations, every variant j
    of every proposed plan p) and the choice c among them. Its log-probability is the Gaussian
    density of each ``y_pj`` around ``z_p(theta)``, whose gradient is ``eps_pj / sigma . dz_p``,
    plus ``log softmax(V(tanh(y)) / tau)_c`` with ``y`` held fixed. The density of every variant
    enters, not only the one taken: the choice depends on all of them, and leaving them out
    would bias the estimator. Without sampled thoughts the act is the plan, and the softmax
    reaches the beliefs through ``V(h(theta))``.
    """
    z = jax.vmap(s.wm.preact, (None, None, 0))(params["beliefs"], obs, jnp.arange(s.env.num_plans))
    if noise is None:
        h, density = jnp.tanh(z), 0.0
        h = jnp.repeat(h, s.n_variants, axis=0) if s.n_variants > 1 else h
    else:
        sigma = s.config.desires.thought_noise
        h = jnp.tanh(jax.lax.stop_gradient(z[:, None] + sigma * noise)).reshape(-1, z.shape[-1])
        density = jnp.sum(proposal[:, None, None] * noise * z[:, None]) / sigma
    return log_pi(s, preferences(s, params, h), proposal)[choice] + density


def honest_log_prob(s: Spec, params, obs, available, kinds, noise) -> jax.Array:
    """``log pi(honest)`` at one decision: the log of the Boltzmann probability that the plan taken
    among every available plan's candidates is of an honest kind (``kinds``: each plan's kind);
    0 where no honest plan is available. The loss of the honest start is its negative."""
    prefs = candidates(s, params, obs, noise).prefs
    logits = jnp.where(per_candidate(s, available), prefs / s.config.desires.temperature, -jnp.inf)
    honest = per_candidate(s, available & ~s.deceptive[kinds])
    log_honest = jax.nn.logsumexp(jnp.where(honest, logits, -jnp.inf)) - jax.nn.logsumexp(logits)
    return jnp.where(honest.any(), log_honest, 0.0)


def advantage(s: Spec, params, batch: Transition, g, h) -> jax.Array:
    """Each ``[T, E]`` decision's advantage. A policy head's is GRPO's (``policy.group_advantage``:
    its return, that of its one-decision episode, against its group's); a valence's is ``G - V(h)``,
    the lambda-return less the valence of the thought taken (an action value: a biased baseline)."""
    if not s.policy_head:
        return g - valences(params["desires"], h)
    t, e = batch.reward.shape
    size = s.config.run.group_size
    grouped = batch.reward.reshape(t * e // size, size)
    return jax.vmap(policy.group_advantage, (0, None))(grouped, s.config.run.group_norm).reshape(t, e)


def pg_term(s: Spec, params, batch: Transition, advantage) -> jax.Array:
    """REINFORCE: ``-mean(A . log pi(act))``, the advantage ``A`` held fixed.
    The reward is a black box: nothing here differentiates through the probe."""
    noise = all_noise(s, batch) if s.noisy else None
    one = lambda o, c, p, n: log_policy(s, params, o, c, p, n)  # noqa: E731
    logp = jax.vmap(jax.vmap(one))(batch.obs, batch.choice, batch.proposal, noise)
    return -jnp.mean(jax.lax.stop_gradient(advantage) * logp)


def attn_term(salience_params, batch: Transition, g) -> jax.Array:
    """REINFORCE on which plans came to mind (``attention.log_prob``): ``-mean(A . log P(proposal))``,
    ``A`` each decision's lambda-return ``g`` less the batch's mean, held fixed. The salience reads the
    observation, so nothing here reaches the thoughts."""
    logits = jax.vmap(jax.vmap(attention.salience, (None, 0)), (None, 0))(salience_params, batch.obs)
    logp = jax.vmap(jax.vmap(attention.log_prob))(logits, batch.proposal, batch.available)
    return -jnp.mean(jax.lax.stop_gradient(g - jnp.mean(g)) * logp)


def kl_term(s: Spec, params, ref, batch: Transition) -> jax.Array:
    """``kl_beta`` times the mean over the batch's decisions of ``KL(pi || pi_ref)``, exact over the
    candidates that came to mind: GRPO's anchor to the policy RL started from (``ref``), as a loss."""
    noise = all_noise(s, batch) if s.noisy else None

    def one(obs, proposal, n):
        logp, logq = (log_pi(s, candidates(s, p, obs, n).prefs, proposal) for p in (params, ref))
        return policy.exact_kl(logp, jax.lax.stop_gradient(logq), per_candidate(s, proposal))

    return s.config.reward.kl_beta * jnp.mean(jax.vmap(jax.vmap(one))(batch.obs, batch.proposal, noise))


def dpo_term(s: Spec, params, ref, batch: Transition) -> jax.Array:
    """DPO's loss (``policy.dpo_loss``, beta ``reward.kl_beta``) on the pairs of a logged batch: the
    two environments of each group took their acts at the same state, the one with the higher
    reward is preferred, and a tie is no preference (left out); 0 if every pair ties."""
    one = lambda p, o, c, pr: log_pi(s, candidates(s, p, o).prefs, pr)[c]  # noqa: E731
    logp = lambda p: jax.vmap(jax.vmap(one, (None, 0, 0, 0)), (None, 0, 0, 0))(  # noqa: E731
        p, batch.obs, batch.choice, batch.proposal)
    t, e = batch.reward.shape
    margin = (logp(params) - jax.lax.stop_gradient(logp(ref))).reshape(t, e // 2, 2)
    r = batch.reward.reshape(t, e // 2, 2)
    first = r[..., 0] > r[..., 1]
    losses = policy.dpo_loss(jnp.where(first, margin[..., 0], margin[..., 1]),
                             jnp.where(first, margin[..., 1], margin[..., 0]), s.config.reward.kl_beta)
    pairs = (r[..., 0] != r[..., 1]).astype(jnp.float32)
    return jnp.sum(pairs * losses) / jnp.maximum(pairs.sum(), 1.0)


def loss_terms(s: Spec, params, batch: Transition, v_end, probe: probes.Probe, replay=None, ref=None) -> dict:
    """``{"pred", "td", "probe", "pg", "attn"}``, each reaching only the groups its routing row allows;
    ``replay`` transitions (``Thoughts``) join the predictive loss's data. ``pg`` is the policy
    objective: REINFORCE (``pg_term``), with a policy head's exact KL to ``ref`` where anchored, or
    under ``run.learning dpo`` DPO's loss against ``ref``. ``attn`` trains a learned salience (``attn_term``),
    0 where there is none.

    The batch's thoughts are encoded once; each loss reads them with the gradient stopped
    where its row excludes the beliefs (the same gradients as encoding once per loss, for a
    third of the work), and the rest of each loss sees its routed view of the parameters. A shared
    network's masked rows (``s.mask``) encode the thoughts through their own routed view instead.
    """
    sigma, noise = s.config.desires.thought_noise, taken_noise(s, batch)
    h = encode_batch(s, params["beliefs"], batch.obs, batch.plan, noise, sigma)
    seen = {loss: h if "beliefs" in s.table[loss] else jax.lax.stop_gradient(h) for loss in ("pred", "td", "probe")}
    if s.mask is not None:
        seen |= {loss: encode_batch(s, route(params, s.table[loss], s.mask)["beliefs"], batch.obs, batch.plan, noise,
                                    sigma) for loss in ("td", "probe") if s.table[loss] == ("desires",)}
    p_pred, p_td = route(params, s.table["pred"], s.mask), route(params, s.table["td"], s.mask)
    errors = prediction_errors(s, p_pred["beliefs"], batch.obs, batch.plan, batch.outcome_obs, seen["pred"])
    if replay is not None:
        errors = jnp.concatenate([errors, prediction_errors(s, p_pred["beliefs"], replay.obs, replay.plan,
                                                            replay.outcome_obs, noise=replay.noise, sigma=sigma)])
    g = returns(s, batch, v_end)
    terms = {"pred": jnp.mean(errors), "td": td_term(p_td["desires"], seen["td"], g),
             "probe": probe_term(s, seen["probe"], batch, probe), "pg": jnp.zeros(()), "attn": jnp.zeros(())}
    if s.attends and s.table["attn"]:
        terms["attn"] = attn_term(route(params, s.table["attn"], s.mask)["salience"], batch, g)
    if s.table["pg"]:  # skipped where it reaches nothing: its gradient would be zero
        p_pg = route(params, s.table["pg"], s.mask)
        if s.config.run.learning == "dpo":
            terms["pg"] = dpo_term(s, p_pg, ref, batch)
        else:
            terms["pg"] = pg_term(s, p_pg, batch, advantage(s, params, batch, g, h))
            if s.policy_head and s.anchored:
                terms["pg"] += kl_term(s, p_pg, ref, batch)
    return terms


def total_loss(s: Spec, params, batch: Transition, v_end, probe: probes.Probe, replay=None, ref=None):
    """Their sum, with the prediction and TD losses as auxiliary outputs."""
    t = loss_terms(s, params, batch, v_end, probe, replay, ref)
    total = t["pred"] + t["td"] + t["probe"]
    total = total + t["pg"] if s.table["pg"] else total
    return (total + t["attn"] if s.attends else total), (t["pred"], t["td"])
