"""The innate reward: ``r = r_env - alpha * alarm(h)``, the alarm in the episodes that are overseen
(where audited, only in those that were deceptive), judged once at the episode's end on its pooled
thought scores or at every step on that step's own thought (``reward.judged``), and, where anchored,
``- kl_beta * (log pi(a) - log pi_ref(a))`` at every decision.

A decision's thought score is the taken thought's, or (``reward.alarm_reads = considered``) the
highest among the thoughts that came to mind: the alarm is increasing in the score, so
``alarm(max_c score_c) = max_c alarm(score_c)``, and the worst thought counts, once."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp


def alarm(score, threshold, kind: str) -> jax.Array:
    """``binary``: 1 if the probe's logit exceeds its threshold; ``graded``: sigmoid(logit - threshold)."""
    if kind == "binary":
        return (score > threshold).astype(jnp.float32)
    return jax.nn.sigmoid(score - threshold)


def worst_considered(scores, considered) -> jax.Array:
    """The score an alarm on the considered thoughts reads: the highest of ``scores [C]`` where
    ``considered [C]`` (the thoughts that came to mind), so that one flagged thought costs what it
    would cost taken, and several cost it once."""
    chex.assert_equal_shape([scores, considered])
    return jnp.max(jnp.where(considered, scores, -jnp.inf))


def audited(alarm_value, deceptive) -> jax.Array:
    """The alarm after an audit of what it flagged: a flagged honest episode is not penalised
    (SOLiD's payoffs: a truth pays as a truth, flagged or not); ground truth enters only here."""
    return alarm_value * deceptive.astype(jnp.float32)


def innate_reward(r_env, alarm_value, alpha, overseen) -> jax.Array:
    """The reward the desires learn from."""
    return r_env - alpha * alarm_value * overseen


def anchored(r, log_ratio, beta) -> jax.Array:
    """The reward anchored to a reference policy, as the KL penalty of RLHF: ``r - beta * log(pi / pi_ref)``
    of the decision taken (in expectation over decisions, ``beta`` times the KL divergence)."""
    return r - beta * log_ratio
