"""Masks over a shared network's encoder: which of its parameters the reward's losses may update.

In a shared network (``beliefs.architecture = shared``) pretraining regresses the value of
exploration's thoughts through the encoder as well as predicting what follows them, so the
encoder's units serve both and nothing but a mask says which of them are the desires. A mask is
chosen by units, each owning its incoming weights and bias: the ``hidden`` units of the encoder's
hidden layer and the ``thought_dim`` units of the thought layer (the one the probe reads); the
decoder is never in it. In RL, a routing row that names the desires but not the beliefs
(``td=desires``) reaches the value head and the masked parameters (``routing.route``).

The masks (``beliefs.mask``), each ``mask_share`` of every layer's units except ``none``:

- ``imposed``: gradient routing (Cloud et al. 2024, "Gradient routing: masking gradients to localize
  computation in neural networks"), written as parameter masks: while pretraining, the value loss's
  gradient reaches only the designated units (the first ``mask_share`` of each layer), the value
  head's weights included (it reads only the designated thought units), and the predictive
  loss's only the others, so valuation is localised before RL begins. The decoder reads every
  thought unit: prediction may use what the value units compute, as in one network.
- ``found``: pretraining without masks, then each unit scored by attribution: the mean over
  exploratory thoughts of ``|a_j dV/da_j|`` (gradient x activation, the first-order estimate of
  what zero-ablating the unit changes, as in attribution patching: Nanda 2023; Syed, Rager & Conmy
  2023) as a share of its layer's total, minus the same share for the predictive loss: the units
  the value relies on more than prediction does come first.
- ``random``: units drawn at random (the placebo of the same share).
- ``none``: every encoder parameter, as an LLM has no mask.
- ``imposed_random``: the control for ``imposed``: pretraining gradient-routed as ``imposed``, then
  a random mask as ``random``, so the reward reaches as many units, but not the value's.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from brainlike.core import beliefs, desires

def layer_sizes(s) -> tuple[int, int]:
    """Units of the encoder's two layers: hidden, thought."""
    return s.config.beliefs.hidden, s.config.beliefs.thought_dim


def top_share(scores, share) -> jax.Array:
    """Boolean ``[n]``: the ``round(share * n)`` highest ``scores``, ties to the lower index."""
    rank = jnp.argsort(jnp.argsort(-scores, stable=True), stable=True)
    return rank < jnp.round(share * scores.shape[0])


def routed_pretraining(s) -> bool:
    """Is pretraining gradient-routed (``imposed`` and its control)?"""
    return s.config.beliefs.mask in ("imposed", "imposed_random")


def designated(s) -> tuple[jax.Array, jax.Array]:
    """The units gradient routing reserves for the value: the first ``mask_share`` of each layer."""
    return tuple(top_share(-jnp.arange(n, dtype=jnp.float32), s.config.beliefs.mask_share) for n in layer_sizes(s))


def param_mask(beliefs_params: dict, units) -> dict:
    """Boolean pytree shaped like ``beliefs_params``: the parameters the ``units`` (hidden, thought)
    own, each unit its incoming kernel column and its bias; nothing of the decoder."""
    layer = lambda u, p: {"kernel": jnp.broadcast_to(u, p["kernel"].shape), "bias": u}  # noqa: E731
    enc = beliefs_params["encoder"]["params"]
    return {"encoder": {"params": {"Dense_0": layer(units[0], enc["Dense_0"]), "Dense_1": layer(units[1], enc["Dense_1"])}},
            "decoder": jax.tree.map(lambda p: jnp.zeros(p.shape, bool), beliefs_params["decoder"])}


def stop_where(tree: dict, mask: dict) -> dict:
    """``tree`` with the gradient stopped where ``mask`` is true."""
    return jax.tree.map(lambda p, m: jnp.where(m, jax.lax.stop_gradient(p), p), tree, mask)


def pass_where(tree: dict, mask: dict) -> dict:
    """``tree`` with the gradient stopped where ``mask`` is false."""
    return jax.tree.map(lambda p, m: jnp.where(m, p, jax.lax.stop_gradient(p)), tree, mask)


def attribution(s, params: dict, obs, plan, outcome_obs) -> tuple[jax.Array, jax.Array]:
    """Per unit of each layer: its share of the value's attribution (mean ``|a_j dV/da_j|`` over the
    thoughts) minus its share of the predictive loss's; ``[hidden]``, ``[thought_dim]``."""
    ones = tuple(jnp.ones(n) for n in layer_sizes(s))
    encode = lambda g, o, p: s.wm.encode(params["beliefs"], o, p, gates=g)  # noqa: E731
    value = lambda g, o, p: desires.valence(params["desires"], encode(g, o, p))  # noqa: E731
    error = lambda g, o, p, y: beliefs.predictive_loss(s.wm.predict(params["beliefs"], encode(g, o, p)), y)  # noqa: E731
    g_value = jax.vmap(jax.grad(value), (None, 0, 0))(ones, obs, plan)
    g_pred = jax.vmap(jax.grad(error), (None, 0, 0, 0))(ones, obs, plan, outcome_obs)
    share = lambda g: jnp.mean(jnp.abs(g), 0) / jnp.maximum(jnp.sum(jnp.mean(jnp.abs(g), 0)), 1e-12)  # noqa: E731
    return tuple(share(v) - share(p) for v, p in zip(g_value, g_pred))


def rl_units(s, params: dict, thoughts, key) -> tuple[jax.Array, jax.Array]:
    """The units (hidden, thought) whose parameters the reward's losses may update in RL, chosen after
    pretraining as ``beliefs.mask`` says; ``thoughts``: exploratory (obs, plan, outcome_obs)."""
    kind, share = s.config.beliefs.mask, s.config.beliefs.mask_share
    if kind == "none":
        return tuple(jnp.ones(n, bool) for n in layer_sizes(s))
    if kind == "imposed":
        return designated(s)
    if kind == "found":
        scores = attribution(s, params, thoughts.obs, thoughts.plan, thoughts.outcome_obs)
    else:  # random, imposed_random
        scores = tuple(jax.random.uniform(k, (n,)) for k, n in zip(jax.random.split(key), layer_sizes(s)))
    return tuple(top_share(x, share) for x in scores)
