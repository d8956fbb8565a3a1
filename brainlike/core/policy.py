"""The policy head of the LLM analogue (routing ``grpo``), and GRPO's and DPO's objectives.

The head is linear in the thought, ``logit(h) = u.h``, the analogue of an LLM's unembedding: a
token's logit is a linear read-out of the last layer's activations, and that read-out is trained
by the policy objective, never to regress reward. The policy is ``softmax(logit / tau)`` over the
candidates that came to mind (``tau`` the sampling temperature, ``desires.temperature``). Its
gradient reaches the beliefs through ``h(theta)`` along ``u``: the policy's own directions.

GRPO (Shao et al. 2024, DeepSeekMath, section 4.1) samples G outputs of one prompt and gives each
the advantage ``(r_i - mean(r)) / std(r)`` within its group; with one gradient step per batch the
clipped ratio is 1, so its objective is ``mean(A . log pi(a))`` minus ``beta . KL(pi || pi_ref)``,
here exact over the candidates. DPO (Rafailov et al. 2023) fits pairs ``(a_w, a_l)`` of one prompt
by ``-log sigmoid(beta . [(log pi - log pi_ref)(a_w) - (log pi - log pi_ref)(a_l)])``.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

# GRPO's constant in the advantage's denominator (as TRL adds it), so a group of equal rewards gives 0
STD_EPS = 1e-4


def init_policy(thought_dim: int) -> dict:
    """Zero logits: every candidate equally likely, as zero desires make the valence's policy."""
    return {"u": jnp.zeros(thought_dim)}


def logit(params: dict, h) -> jax.Array:
    """The policy head's logit of one thought, ``u.h``."""
    chex.assert_rank(h, 1)
    return jnp.dot(params["u"], h)


def group_advantage(r, norm: str) -> jax.Array:
    """The advantage of each of ``G`` samples of one prompt from their returns ``r [G]``.

    ``std``: GRPO's ``(r_i - mean(r)) / (std(r) + eps)`` (std with Bessel's correction, as TRL
    computes it); dividing by a statistic of the group's own actions rescales each group, so its
    expected gradient is an ascent direction but not ``grad E_pi[r]`` itself. ``loo``: the leave-one-out
    baseline ``r_i - mean_{j != i} r_j = G / (G - 1) (r_i - mean(r))`` (RLOO; Dr. GRPO's unscaled
    advantage up to that factor), whose expected gradient is exactly ``grad E_pi[r]``.
    """
    chex.assert_rank(r, 1)
    g = r.shape[0]
    centred = r - jnp.mean(r)
    if norm == "loo":
        return centred * g / (g - 1)
    return centred / (jnp.std(r, ddof=1) + STD_EPS)


def exact_kl(logp, logq, mask) -> jax.Array:
    """``KL(p || q)`` of two log-distributions over the candidates where ``mask`` holds."""
    chex.assert_equal_shape([logp, logq, mask])
    lp, lq = jnp.where(mask, logp, 0.0), jnp.where(mask, logq, 0.0)  # no -inf left to make a NaN gradient
    return jnp.sum(jnp.where(mask, jnp.exp(lp) * (lp - lq), 0.0))


def dpo_loss(margin_w, margin_l, beta) -> jax.Array:
    """DPO's loss of one pair, from each act's ``log pi - log pi_ref``: ``-log sigmoid(beta (m_w - m_l))``."""
    return -jax.nn.log_sigmoid(beta * (margin_w - margin_l))
