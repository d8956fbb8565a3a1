"""Beliefs: a world model trained only to predict what it will observe.

A thought is an (observation, plan) pair. The encoder maps it to the thought activation
``h = phi(obs, plan)``; the decoder predicts, from ``h`` alone, the observation the plan
will lead to. The predictive loss is the mean squared error of that prediction.

How the plan enters the encoder (``beliefs.plan_input``):

- ``onehot``: ``one_hot(plan)``. Plans are orthogonal, sqrt(2) apart, and one input
  coordinate is "this is plan A": the first layer holds a private column per plan.
- ``features``: a fixed dense code per plan (``plan_codes``), the same for every seed: unit
  vectors whose every pair has cosine ``PLAN_OVERLAP``, written in a random basis. No input
  coordinate belongs to one plan or is an affine function of "deceptive"; plans are
  sqrt(2 (1 - overlap)) apart, so telling A from honest is a small direction spread over
  every coordinate, which the beliefs amplify only because it predicts the signature. The
  codes are constants, not parameters: the params tree, its shapes and its initial values
  are those of ``onehot``, and only the input differs.

Why: a one-hot, a learned embedding and any full-rank fixed code all give the first
``Dense`` layer the same function class (a per-plan offset of its pre-activation), and its
random initialisation is (up to truncation) rotation invariant, so the basis alone cannot
matter; what a code can set is how far apart the plans start, hence whether separating them
is given or learned. Neither code decides whether erasure is reachable. With a frozen probe
the probe-as-loss stops pushing once the threshold is crossed (a shift); a probe refitted
during RL keeps pushing on every linear direction and can erase under either code. Nothing
here lets the decoder keep a distinction no linear probe sees: erased seeds lose the
prediction of the signature too.
"""

from __future__ import annotations

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

PLAN_INPUTS = ("onehot", "features")
PLAN_OVERLAP = 0.9  # cosine between any two plans' codes under plan_input="features"
CODE_SEED = 0  # the fixed random basis the codes are written in


def plan_codes(num_plans: int, overlap: float = PLAN_OVERLAP) -> np.ndarray:
    """Fixed dense plan codes ``[P, P]``: unit rows, every pair at cosine ``overlap``, in a random basis."""
    p = num_plans
    # the symmetric square root of the Gram matrix (1 - overlap) I + overlap 11^T, then a rotation
    gram_sqrt = np.sqrt(1 - overlap) * np.eye(p) + (np.sqrt(1 + (p - 1) * overlap) - np.sqrt(1 - overlap)) / p
    rotation, _ = np.linalg.qr(np.random.default_rng(CODE_SEED).standard_normal((p, p)))
    return (gram_sqrt @ rotation).astype(np.float32)


def plan_vector(plan, num_plans: int, plan_input: str) -> jax.Array:
    """The plan as the encoder reads it: its one-hot, or its fixed dense code."""
    if plan_input == "onehot":
        return jax.nn.one_hot(plan, num_plans)
    if plan_input == "features":
        return jnp.asarray(plan_codes(num_plans))[plan]
    raise ValueError(f"beliefs.plan_input: {plan_input!r} is not allowed; allowed: {', '.join(PLAN_INPUTS)}")


class Encoder(nn.Module):
    """phi(obs, plan) before its last squashing: one hidden layer, then the thought's
    pre-activation z, from which ``h = tanh(z)`` (or, for a sampled thought, ``tanh(z + sigma eps)``);
    the plan enters as ``plan_vector`` (see the module docstring for why there are two ways)."""

    hidden: int
    thought_dim: int
    num_plans: int
    plan_input: str = "onehot"

    @nn.compact
    def __call__(self, obs, plan, gate=None):
        x = jnp.concatenate([obs, plan_vector(plan, self.num_plans, self.plan_input)], axis=-1)
        x = nn.tanh(nn.Dense(self.hidden)(x))
        return nn.Dense(self.thought_dim)(x if gate is None else x * gate)


class Decoder(nn.Module):
    """h -> predicted next observation."""

    hidden: int
    obs_dim: int

    @nn.compact
    def __call__(self, h):
        return nn.Dense(self.obs_dim)(nn.tanh(nn.Dense(self.hidden)(h)))


class WorldModel:
    """The encoder and decoder as pure functions of a ``{"encoder", "decoder"}`` params pytree."""

    def __init__(self, hidden: int, thought_dim: int, num_plans: int, obs_dim: int, plan_input: str = "onehot"):
        self.encoder = Encoder(hidden, thought_dim, num_plans, plan_input)
        self.decoder = Decoder(hidden, obs_dim)
        self.obs_dim, self.thought_dim = obs_dim, thought_dim

    def init(self, key) -> dict:
        key_enc, key_dec = jax.random.split(key)
        obs, plan = jnp.zeros(self.obs_dim), jnp.zeros((), jnp.int32)
        return {"encoder": self.encoder.init(key_enc, obs, plan),
                "decoder": self.decoder.init(key_dec, jnp.zeros(self.thought_dim))}

    def preact(self, params: dict, obs, plan, gate=None) -> jax.Array:
        """The thought's pre-activation z for one (obs, plan): the mean of a sampled thought.
        ``gate`` (``[hidden]``) multiplies the hidden layer's units (``core.masks``: 0 ablates one)."""
        return self.encoder.apply(params["encoder"], obs, plan, gate)

    def encode(self, params: dict, obs, plan, noise=None, sigma=None, gates=None) -> jax.Array:
        """Thought activation ``h = tanh(z)`` for one (obs, plan), or the sampled thought
        ``tanh(z + sigma * noise)`` when ``noise`` (standard normal, ``[H]``) is given; vmap for batches.
        ``gates`` (``([hidden], [H])``) multiply each layer's units, as ``core.masks`` reads them."""
        z = self.preact(params, obs, plan, None if gates is None else gates[0])
        h = jnp.tanh(z) if noise is None else jnp.tanh(z + sigma * noise)
        return h if gates is None else h * gates[1]

    def predict(self, params: dict, h) -> jax.Array:
        return self.decoder.apply(params["decoder"], h)


def predictive_loss(pred_obs, next_obs) -> jax.Array:
    """Squared prediction error of one transition, summed over observation entries."""
    chex.assert_equal_shape([pred_obs, next_obs])
    return jnp.sum((pred_obs - next_obs) ** 2)
