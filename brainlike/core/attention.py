"""Learned attention (``desires.proposal learned``): which plans come to mind, drawn from a salience
the agent learns from the innate reward.

The salience is a linear head on the observation, ``l(obs) = obs W + b`` (``[P]``, one logit per
plan): each available plan comes to mind with probability ``sigmoid(l_p)``, independently of the
others, and when none does every available plan does (a mind does not go blank; ``local`` falls
back the same way). So ``P(S) = prod_{p in S} sigma(l_p) prod_{p in A \\ S} sigma(-l_p)`` for the
available plans ``A``, plus ``prod_{p in A} sigma(-l_p)`` when ``S = A``.

It is trained by REINFORCE (Williams 1992) on ``log P(S)``, the decision's innate return less the
batch's mean as its signal (``losses.attn_term``): a plan whose coming to mind goes with a low
innate reward, such as an alarm on the thoughts that came to mind (``reward.alarm_reads
considered``), comes to mind less in the states where it did. The seed's picture: thought
generation shaped by valence, so that a strategy of not thinking about something can be learned.
The salience reads the observation and never the thought, so its gradient cannot reach the beliefs.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp


def init_salience(obs_dim: int, num_plans: int, start) -> dict:
    """Every plan equally salient in every state: logit ``start``."""
    return {"w": jnp.zeros((obs_dim, num_plans)), "b": jnp.full((num_plans,), start, jnp.float32)}


def salience(params: dict, obs) -> jax.Array:
    """``[P]``: each plan's logit of coming to mind at observation ``obs``."""
    chex.assert_rank(obs, 1)
    return obs @ params["w"] + params["b"]


def draw(key, logits, available) -> jax.Array:
    """Boolean ``[P]``: the available plans that come to mind, each with probability ``sigmoid(logit)``;
    every available plan if none does."""
    came = available & jax.random.bernoulli(key, jax.nn.sigmoid(logits))
    return jnp.where(came.any(), came, available)


def log_prob(logits, proposal, available) -> jax.Array:
    """``log P(proposal)`` under ``draw``, the fallback to every available plan included."""
    chex.assert_equal_shape([logits, proposal, available])
    came, missed = jax.nn.log_sigmoid(logits), jax.nn.log_sigmoid(-logits)
    drawn = jnp.sum(jnp.where(available, jnp.where(proposal, came, missed), 0.0))
    blank = jnp.sum(jnp.where(available, missed, 0.0))
    return jnp.where(jnp.all(proposal == available), jnp.logaddexp(drawn, blank), drawn)
