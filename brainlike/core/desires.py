"""Desires: a linear valence on thought activations, learned by TD(lambda).

``V(h) = w.h + b`` scores a thought (Valence series section 2.4.1: desires as a learned
linear functional on beliefs). Because a thought is an (observation, plan) pair, V is an
action value, and the learner is SARSA(lambda) with a linear head (Sutton & Barto 2018,
sections 12.1 and 12.7): the forward-view lambda-return

    G_t = r_t + gamma_t * [(1 - lambda_t) * b_t + lambda_t * G_{t+1}]

where ``gamma_t = gamma * (1 - terminated_t)``, ``lambda_t = lambda * (1 - done_t)``, and
``b_t`` is the value of the next thought (or, after a truncation, the value of the state the
episode was cut at), regressed by the semi-gradient loss ``1/2 (G_t - V(h_t))^2``.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp


def init_valence(thought_dim: int) -> dict:
    """Zero valence: every thought starts neutral."""
    return {"w": jnp.zeros(thought_dim), "b": jnp.zeros(())}


def valence(params: dict, h) -> jax.Array:
    """V(h) = w.h + b for one thought."""
    chex.assert_rank(h, 1)
    return jnp.dot(params["w"], h) + params["b"]


def lambda_returns(r_t, discount_t, lambda_t, b_t) -> jax.Array:
    """Lambda-returns of one trajectory of length T (rlax-style, one example).

    Args:
      r_t: rewards ``[T]``.
      discount_t: ``gamma * (1 - terminated_t)`` ``[T]``.
      lambda_t: ``lambda * (1 - done_t)`` ``[T]``: no trace crosses an episode boundary.
      b_t: bootstrap value after step t ``[T]``: the next thought's value; after the last
        step it also stands in for the return beyond the trajectory.
    """
    chex.assert_rank([r_t, discount_t, lambda_t, b_t], 1)

    def backward(g_next, x):
        r, discount, lam, b = x
        g = r + discount * ((1.0 - lam) * b + lam * g_next)
        return g, g

    _, g = jax.lax.scan(backward, b_t[-1], (r_t, discount_t, lambda_t, b_t), reverse=True)
    return g


def lambda_targets(r_t, v_t, v_trunc_t, v_end, terminated_t, done_t, gamma, lam) -> jax.Array:
    """Lambda-returns of one environment's rollout of ``T`` steps, from what the learner logged.

    Builds the inputs of ``lambda_returns``: the bootstrap ``b_t`` is the valence of the
    thought chosen at step t+1 (``v_t[t + 1]``; after the last step ``v_end``, the valence
    expected where the rollout stops), except where step t ended its episode: there the next
    thought belongs to a new episode, so ``b_t`` is ``v_trunc_t``, the valence expected at
    the state where the episode was cut off (it matters only after a truncation, because a
    real end zeroes the discount).

    Args:
      r_t, v_t, v_trunc_t, terminated_t, done_t: ``[T]``; ``v_end``, ``gamma``, ``lam``: scalars.
    """
    chex.assert_rank([r_t, v_t, v_trunc_t, terminated_t, done_t, v_end], [1, 1, 1, 1, 1, 0])
    terminated_t, done_t = terminated_t.astype(r_t.dtype), done_t.astype(r_t.dtype)
    b_t = jnp.where(done_t > 0, v_trunc_t, jnp.concatenate([v_t[1:], v_end[None]]))
    return lambda_returns(r_t, gamma * (1.0 - terminated_t), lam * (1.0 - done_t), b_t)


def td_loss(v_t, g_t) -> jax.Array:
    """Semi-gradient TD(lambda) loss of one step: the target is held fixed."""
    return 0.5 * (jax.lax.stop_gradient(g_t) - v_t) ** 2
