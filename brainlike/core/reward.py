"""The innate reward: ``r = r_env - alpha * alarm(h)``, in the episodes that are overseen."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def alarm(score, threshold, kind: str) -> jax.Array:
    """``binary``: 1 if the probe's logit exceeds its threshold; ``graded``: sigmoid(logit - threshold)."""
    if kind == "binary":
        return (score > threshold).astype(jnp.float32)
    return jax.nn.sigmoid(score - threshold)


def innate_reward(r_env, alarm_value, alpha, overseen) -> jax.Array:
    """The reward the desires learn from."""
    return r_env - alpha * alarm_value * overseen
