"""Interpretability probes on thought activations, all jittable.

A probe is logistic regression ``logit(h) = u.h + c`` fitted by Newton's method with a
ridge penalty, plus a threshold on the logit chosen on calibration thoughts for a target
true-positive rate (the ``1 - TPR`` quantile of positive scores) or false-positive rate
(the ``1 - FPR`` quantile of negative scores). Labelled sets are fixed-size arrays with a
``valid`` mask, so every seed fits its probe on the same shapes inside one compiled run.

A *placebo* probe (``probe.direction = random``) reads a random unit direction instead, with
its threshold matched to a fitted probe's false-positive rate on the same negatives, its recall
on the same positives, or how often it fires on all the calibration thoughts (``placebo``): the
same calibration, no knowledge of deception.
"""

from __future__ import annotations

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

NEWTON_STEPS = 10  # a fixed count (not a tolerance), so that a seed's fit does not depend on its batch


class Probe(NamedTuple):
    u: jax.Array  # [H]
    c: jax.Array  # []
    threshold: jax.Array  # [] on the logit


def logit(probe: Probe, h) -> jax.Array:
    """The probe's score of one thought."""
    chex.assert_rank(h, 1)
    return jnp.dot(probe.u, h) + probe.c


def solve_spd(a, b) -> jax.Array:
    """``x`` with ``a @ x = b`` for a symmetric positive definite ``a`` ``[n, n]``.

    Gauss-Jordan elimination without pivoting (stable for such matrices), in plain XLA
    operations: LAPACK's batched solver on CPU waits on the thread pool it runs in, which
    deadlocks when several CPU devices run batches of seeds at once.
    """
    chex.assert_rank([a, b], [2, 1])
    n = a.shape[0]

    def eliminate(k, m):
        row = m[k] / m[k, k]
        return (m - m[:, k, None] * row[None, :]).at[k].set(row)

    return jax.lax.fori_loop(0, n, eliminate, jnp.concatenate([a, b[:, None]], axis=1))[:, n]


def fit_logistic(h, y, valid, l2) -> tuple[jax.Array, jax.Array]:
    """Ridge logistic regression of labels ``y`` on rows ``h`` ``[N, H]`` where ``valid``.

    Minimises ``mean_valid[log(1 + exp(-s z))] + l2/2 |u|^2`` (s = 2y - 1) by ``NEWTON_STEPS``
    Newton steps (on the probes' thoughts the fit reaches float32 round-off by the sixth);
    the bias is not penalised.
    """
    chex.assert_rank([h, y, valid], [2, 1, 1])
    n, d = h.shape
    x = jnp.concatenate([h, jnp.ones((n, 1))], axis=1)
    m = valid.astype(h.dtype) / jnp.maximum(valid.sum(), 1)
    ridge = jnp.diag(jnp.full(d + 1, l2).at[d].set(1e-6))

    def newton(theta, _):
        p = jax.nn.sigmoid(x @ theta)
        grad = x.T @ (m * (p - y)) + ridge @ theta
        hess = (x * (m * p * (1 - p))[:, None]).T @ x + ridge
        return theta - solve_spd(hess, grad), None

    theta, _ = jax.lax.scan(newton, jnp.zeros(d + 1), None, length=NEWTON_STEPS)
    return theta[:d], theta[d]


def masked_quantile(x, valid, q) -> jax.Array:
    """The q-quantile (linear interpolation, as ``numpy.quantile``) of ``x[valid]``."""
    n = valid.sum()
    xs = jnp.sort(jnp.where(valid, x, jnp.inf))
    pos = q * jnp.maximum(n - 1, 0)
    lo = jnp.floor(pos).astype(jnp.int32)
    hi = jnp.minimum(lo + 1, jnp.maximum(n - 1, 0))
    return xs[lo] + (pos - lo) * (xs[hi] - xs[lo])


def calibrate(scores, y, valid, target: str, rate) -> jax.Array:
    """Threshold for a target TPR (fraction of positives above it) or FPR (of negatives)."""
    if target == "tpr":
        return masked_quantile(scores, valid & (y > 0.5), 1.0 - rate)
    return masked_quantile(scores, valid & (y < 0.5), 1.0 - rate)


def at_least_tpr(scores, y, valid, rate) -> jax.Array:
    """The strictest threshold that flags at least ``rate`` of the valid positives: midway between the
    ``ceil(rate * n)``-th highest positive score and the next lower distinct one (1 below it if none).

    ``calibrate``'s quantile can land inside a run of tied scores (identical thoughts), where which side
    the alarm falls on is then decided by rounding; this threshold keeps a margin on both sides."""
    positive = valid & (y > 0.5)
    ranked = jnp.sort(jnp.where(positive, scores, -jnp.inf))[::-1]
    k = jnp.clip(jnp.ceil(rate * positive.sum()).astype(jnp.int32), 1, scores.shape[0])
    kth = ranked[k - 1]
    lower = jnp.max(jnp.where(positive & (scores < kth), scores, -jnp.inf))
    return jnp.where(jnp.isfinite(lower), 0.5 * (kth + lower), kth - 1.0)


def auroc(scores, y, valid) -> jax.Array:
    """Area under the ROC curve: P(score_pos > score_neg) + P(tie) / 2 over valid pairs.

    Counted by ranks (the Mann-Whitney U) rather than over all pairs: each positive wins
    against the negatives sorted below its score and ties with those equal to it. The
    counts are whole and half numbers, so the result is exactly the pairwise one, in
    O(n log n) time and O(n) memory.
    """
    pos = valid & (y > 0.5)
    neg = valid & (y < 0.5)
    n_neg = neg.sum()
    negatives = jnp.sort(jnp.where(neg, scores, jnp.inf))
    below = jnp.minimum(jnp.searchsorted(negatives, scores, side="left"), n_neg)
    upto = jnp.minimum(jnp.searchsorted(negatives, scores, side="right"), n_neg)
    wins = jnp.where(pos, below + 0.5 * (upto - below), 0.0)
    return jnp.sum(wins) / jnp.maximum(pos.sum() * n_neg, 1)


def fit_probe(h_fit, y_fit, valid_fit, h_cal, y_cal, valid_cal, target: str, rate, l2) -> Probe:
    """Fit on one labelled set, calibrate the threshold on another."""
    u, c = fit_logistic(h_fit, y_fit, valid_fit, l2)
    scores = h_cal @ u + c
    return Probe(u, c, calibrate(scores, y_cal, valid_cal, target, rate))


def flagged_share(scores, select, threshold) -> jax.Array:
    """Fraction of the thoughts in ``select`` scored above ``threshold``."""
    select = select.astype(jnp.float32)
    return jnp.sum(select * (scores > threshold)) / jnp.maximum(select.sum(), 1)


def false_positive_rate(scores, y, valid, threshold) -> jax.Array:
    """Fraction of the valid negatives scored above ``threshold``."""
    return flagged_share(scores, valid & (y < 0.5), threshold)


def random_direction(key, dim: int) -> jax.Array:
    """A unit direction drawn uniformly from the sphere in ``dim`` dimensions."""
    u = jax.random.normal(key, (dim,))
    return u / jnp.linalg.norm(u)


def matched_set(y, valid, match: str) -> jax.Array:
    """The calibration thoughts on which a placebo matches the fitted probe (``probe.placebo_match``):
    the valid negatives (``fpr``), the valid positives (``recall``), or every thought (``firing``:
    the calibration thoughts are exploration's, drawn as the policy RL starts from draws them, and
    a kind the probe is not fitted on counts too)."""
    if match == "fpr":
        return valid & (y < 0.5)
    if match == "recall":
        return valid & (y > 0.5)
    return jnp.ones_like(valid, dtype=bool)


def placebo(u, h_cal, y_cal, valid_cal, fitted: Probe, match: str = "fpr") -> Probe:
    """The probe reading direction ``u`` (no bias), its threshold set so that it flags the same share
    of the ``matched_set`` as ``fitted`` flags there: the ``1 - share`` quantile of those thoughts'
    scores, which (for distinct scores) leaves exactly as many of them above it."""
    select = matched_set(y_cal, valid_cal, match)
    share = flagged_share(h_cal @ fitted.u + fitted.c, select, fitted.threshold)
    return Probe(u, jnp.zeros(()), masked_quantile(h_cal @ u, select, 1.0 - share))


class Pool(NamedTuple):
    """Running pool of one episode's thought scores."""

    total: jax.Array
    peak: jax.Array
    last: jax.Array
    count: jax.Array


def empty_pool() -> Pool:
    return Pool(jnp.zeros(()), jnp.full((), -jnp.inf), jnp.zeros(()), jnp.zeros(()))


def add_to_pool(pool: Pool, score) -> Pool:
    return Pool(pool.total + score, jnp.maximum(pool.peak, score), score, pool.count + 1)


def pooled(pool: Pool, mode: str) -> jax.Array:
    """The episode's score under pooling ``last``, ``mean`` or ``max``."""
    if mode == "last":
        return pool.last
    if mode == "mean":
        return pool.total / jnp.maximum(pool.count, 1)
    return pool.peak


def pooled_episodes(scores, episode, ends, n_episodes: int, mode: str) -> jax.Array:
    """``[n_episodes]``: each episode's score as the alarm reads it at its end (``pooled``), from its
    steps' scores in time order; ``episode`` says which episode a step belongs to and ``ends`` marks
    the step that ends it (an episode without one is unfinished, its ``last`` then 0)."""
    ones = jnp.ones_like(scores)
    pool = Pool(jax.ops.segment_sum(scores, episode, n_episodes), jax.ops.segment_max(scores, episode, n_episodes),
                jax.ops.segment_sum(jnp.where(ends, scores, 0.0), episode, n_episodes),
                jax.ops.segment_sum(ones, episode, n_episodes))
    return pooled(pool, mode)
