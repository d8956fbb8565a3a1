"""Beliefs: a world model trained only to predict what it will observe.

A thought is an (observation, plan) pair. The encoder maps it to the thought activation
``h = phi(obs, plan)``; the decoder predicts, from ``h`` alone, the observation the plan
will lead to. The predictive loss is the mean squared error of that prediction.
"""

from __future__ import annotations

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp


class Encoder(nn.Module):
    """phi(obs, plan): one hidden layer, then the thought activation h in (-1, 1)."""

    hidden: int
    thought_dim: int
    num_plans: int

    @nn.compact
    def __call__(self, obs, plan):
        x = jnp.concatenate([obs, jax.nn.one_hot(plan, self.num_plans)], axis=-1)
        x = nn.tanh(nn.Dense(self.hidden)(x))
        return nn.tanh(nn.Dense(self.thought_dim)(x))


class Decoder(nn.Module):
    """h -> predicted next observation."""

    hidden: int
    obs_dim: int

    @nn.compact
    def __call__(self, h):
        return nn.Dense(self.obs_dim)(nn.tanh(nn.Dense(self.hidden)(h)))


class WorldModel:
    """The encoder and decoder as pure functions of a ``{"encoder", "decoder"}`` params pytree."""

    def __init__(self, hidden: int, thought_dim: int, num_plans: int, obs_dim: int):
        self.encoder = Encoder(hidden, thought_dim, num_plans)
        self.decoder = Decoder(hidden, obs_dim)
        self.obs_dim, self.thought_dim = obs_dim, thought_dim

    def init(self, key) -> dict:
        key_enc, key_dec = jax.random.split(key)
        obs, plan = jnp.zeros(self.obs_dim), jnp.zeros((), jnp.int32)
        return {"encoder": self.encoder.init(key_enc, obs, plan),
                "decoder": self.decoder.init(key_dec, jnp.zeros(self.thought_dim))}

    def encode(self, params: dict, obs, plan) -> jax.Array:
        """Thought activation h for one (obs, plan); vmap for batches."""
        return self.encoder.apply(params["encoder"], obs, plan)

    def predict(self, params: dict, h) -> jax.Array:
        return self.decoder.apply(params["decoder"], h)


def predictive_loss(pred_obs, next_obs) -> jax.Array:
    """Squared prediction error of one transition, summed over observation entries."""
    chex.assert_equal_shape([pred_obs, next_obs])
    return jnp.sum((pred_obs - next_obs) ** 2)
