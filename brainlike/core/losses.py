"""The three routed losses of an RL update: prediction, TD(lambda), and the probe's score.

Each loss is computed on its own routed view of the parameters (``routing.route``), so one
backward pass of their sum gives each parameter group exactly what its routing rows allow.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from brainlike.core import beliefs, desires, probes
from brainlike.core.rollout import Spec, Transition
from brainlike.core.routing import route


def encode_batch(s: Spec, beliefs_params, obs, plan) -> jax.Array:
    """Thought activations of a batch of (obs, plan) of any leading shape: ``plan.shape + [H]``."""
    flat = jax.vmap(s.wm.encode, (None, 0, 0))(beliefs_params, obs.reshape(-1, obs.shape[-1]), plan.reshape(-1))
    return flat.reshape(plan.shape + (-1,))


def prediction_errors(s: Spec, beliefs_params, obs, plan, outcome_obs, h=None) -> jax.Array:
    """Squared prediction error of each transition, flattened; ``h``: the thoughts, if encoded already."""
    h = encode_batch(s, beliefs_params, obs, plan) if h is None else h
    pred = jax.vmap(s.wm.predict, (None, 0))(beliefs_params, h.reshape(-1, h.shape[-1]))
    return jax.vmap(beliefs.predictive_loss)(pred, outcome_obs.reshape(pred.shape))


def td_term(s: Spec, desires_params, h, batch: Transition, v_end, hp) -> jax.Array:
    """Semi-gradient TD(lambda) loss of a ``[T, E]`` batch of thoughts ``h`` against its lambda-returns."""
    v = jax.vmap(jax.vmap(desires.valence, (None, 0)), (None, 0))(desires_params, h)
    g = jax.vmap(desires.lambda_targets, (1, 1, 1, 0, 1, 1, None, None), 1)(
        batch.reward, batch.v, batch.v_trunc, v_end, batch.terminated, batch.done,
        hp["desires"]["gamma"], hp["desires"]["td_lambda"])
    return jnp.mean(desires.td_loss(v, g))


def probe_term(h, batch: Transition, probe: probes.Probe, hp) -> jax.Array:
    """The probe's soft score of each overseen thought, weighted by alpha: a loss only where routed."""
    score = jax.vmap(jax.vmap(probes.logit, (None, 0)), (None, 0))(probe, h)
    return hp["reward"]["alpha"] * jnp.mean(batch.overseen * jax.nn.sigmoid(score - probe.threshold))


def loss_terms(s: Spec, params, batch: Transition, v_end, probe: probes.Probe, hp, replay=None) -> dict:
    """``{"pred", "td", "probe"}``, each reaching only the groups its routing row allows;
    ``replay`` transitions (``Thoughts``) join the predictive loss's data.

    The batch's thoughts are encoded once; each loss reads them with the gradient stopped
    where its row excludes the beliefs (the same gradients as encoding once per loss, for a
    third of the work), and the rest of each loss sees its routed view of the parameters.
    """
    h = encode_batch(s, params["beliefs"], batch.obs, batch.plan)
    seen = {loss: h if "beliefs" in s.table[loss] else jax.lax.stop_gradient(h) for loss in ("pred", "td", "probe")}
    p_pred, p_td = route(params, s.table["pred"]), route(params, s.table["td"])
    errors = prediction_errors(s, p_pred["beliefs"], batch.obs, batch.plan, batch.outcome_obs, seen["pred"])
    if replay is not None:
        errors = jnp.concatenate([errors, prediction_errors(s, p_pred["beliefs"], replay.obs, replay.plan,
                                                            replay.outcome_obs)])
    return {"pred": jnp.mean(errors), "td": td_term(s, p_td["desires"], seen["td"], batch, v_end, hp),
            "probe": probe_term(seen["probe"], batch, probe, hp)}


def total_loss(s: Spec, params, batch: Transition, v_end, probe: probes.Probe, hp, replay=None):
    """Their sum, with the prediction and TD losses as auxiliary outputs."""
    t = loss_terms(s, params, batch, v_end, probe, hp, replay)
    return t["pred"] + t["td"] + t["probe"], (t["pred"], t["td"])
