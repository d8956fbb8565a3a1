"""Statistics over seeds, with 95% intervals taken from ``scipy.stats`` (NumPy and SciPy only).

Seeds are the unit of replication: a seed's key is shared by every condition of a sweep, so
values of one seed in several conditions ("cells") are not independent, and every pooled or
paired statistic here reduces to one number per seed before an interval is taken over seeds.
Every interval lies inside the range its statistic can take, and contains the estimate.

- ``mean_ci`` / ``mean_cis``: the mean over seeds with a BCa bootstrap interval
  (``scipy.stats.bootstrap``, seeds resampled, fixed ``rng``). A bootstrap distribution of
  means lies inside ``[min, max]`` of the data, so a rate's interval stays inside ``[0, 1]``,
  which a t-interval does not. NaN seeds are dropped; no seed: ``None``; one seed, or all
  seeds equal: the zero-width interval ``[m, m]`` (there is no spread to resample).
  With few seeds (under about 10) a bootstrap interval is too narrow: read it as a guide.
- ``wilson``: a count ``k`` of ``n`` independent seeds, with the Wilson score interval of
  ``scipy.stats.binomtest``.
- ``paired_mean_ci``: the mean difference ``a - b`` where seed ``i`` of ``a`` and of ``b``
  share a key; with several cells (``[cells, seeds]``), each seed's differences are first
  averaged over its cells, so a pooled difference is a mean over seeds, never over cells.
- ``pooled_share``: the fraction of (cell, seed) pairs with a property over cells that share
  seeds: each seed's share of its cells, then its mean over seeds. When every seed's share
  is 0 or 1 (one cell, or cells that agree), that is a count of seeds and gets ``wilson``;
  otherwise ``mean_ci`` (a bootstrap over seeds).
- ``extreme_mean_ci``: the smallest (or largest) of several cells' means over the seeds they
  share ("at every TPR below 0.75 ..."), with a percentile bootstrap that resamples seeds
  once for all cells (the extreme of means is not smooth enough for BCa).
- ``band``: a cheap pointwise band for learning curves (see its docstring).
- ``confidence``: every interval taken inside the block at another level than 95%; with it a
  statistic's interval can be inverted into a p-value, which ``holm`` adjusts for a figure's
  several hypotheses.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
from scipy import stats as sps

CONFIDENCE = 0.95
N_RESAMPLES = 1999  # bootstrap resamples (Efron & Tibshirani: 1000-2000 suffice for BCa)
RNG_SEED = 0  # every bootstrap draws from a fresh generator with this seed: reruns agree
_BATCH_ELEMENTS = 4_000_000  # resample indices held at once, bounding memory


def empty() -> dict:
    """The statistic of no data."""
    return {"mean": None, "ci95": [None, None]}


def _block(mean: float, lo: float, hi: float, floor: float = -np.inf, ceil: float = np.inf) -> dict:
    """``{"mean", "ci95"}`` with the interval kept inside ``[floor, ceil]`` and around the mean."""
    lo, hi = max(floor, min(lo, mean)), min(ceil, max(hi, mean))
    return {"mean": float(mean), "ci95": [float(lo), float(hi)]}


def mean_ci(x) -> dict:
    """Mean over seeds of ``x`` (``[seeds]``) with a 95% BCa bootstrap interval; NaN seeds dropped."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"mean_ci: expected one value per seed, got shape {x.shape}")
    return mean_cis(x[None])[0]


def mean_cis(rows) -> list[dict]:
    """``mean_ci`` of every row of ``rows`` (``[statistics, seeds]``), resampling seeds once for all.

    Rows with the same NaN seeds share one bootstrap (the same resampled seeds, as if the
    statistics were computed in one resample), so a summary of many metrics costs about one.
    """
    x = np.asarray(rows, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"mean_cis: expected [statistics, seeds], got shape {x.shape}")
    out: list[dict] = [empty()] * x.shape[0]
    valid = ~np.isnan(x)
    groups: dict[bytes, list[int]] = {}
    for i in range(x.shape[0]):
        groups.setdefault(np.packbits(valid[i]).tobytes(), []).append(i)
    for members in groups.values():
        keep = valid[members[0]]
        if not keep.any():
            continue
        data = x[np.ix_(members, keep)]  # [group, seeds kept]
        low, high = data.min(axis=1), data.max(axis=1)
        mean = np.clip(data.mean(axis=1), low, high)  # all seeds equal: exactly their value
        spread = high > low
        lo, hi = mean.copy(), mean.copy()  # all seeds equal (or one seed): nothing to resample
        if spread.any():
            lo[spread], hi[spread] = _bootstrap_means(data[spread])
        for j, i in enumerate(members):
            out[i] = _block(mean[j], lo[j], hi[j], low[j], high[j])
    return out


def _bootstrap_means(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% BCa intervals of the means of the rows of ``data`` (``[rows, seeds]``, no NaN).

    ``scipy.stats.bootstrap`` resamples seed indices; each resample's row means come from its
    seed counts in one matrix product, so the cost hardly grows with the number of rows.
    """
    n = data.shape[1]

    def means(idx, axis=-1):
        idx = np.asarray(idx)
        if data.shape[0] <= 2:  # one or two rows: gathering the values is cheaper than counting seeds
            return data[:, idx].mean(axis=-1)
        flat = idx.reshape(-1, idx.shape[-1])  # [resamples, drawn]
        offsets = (np.arange(flat.shape[0]) * n)[:, None]
        counts = np.bincount((flat + offsets).ravel(), minlength=flat.shape[0] * n).reshape(flat.shape[0], n)
        m = data @ counts.T.astype(np.float64) / flat.shape[1]  # [rows, resamples]
        return m.reshape(data.shape[:1] + idx.shape[:-1])

    kwargs = dict(n_resamples=N_RESAMPLES, vectorized=True, confidence_level=CONFIDENCE,
                  batch=max(1, _BATCH_ELEMENTS // n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a degenerate BCa row is redone below
        res = sps.bootstrap((np.arange(n),), means, method="BCa", rng=np.random.default_rng(RNG_SEED), **kwargs)
        lo, hi = np.atleast_1d(res.confidence_interval.low).copy(), np.atleast_1d(res.confidence_interval.high).copy()
        bad = ~(np.isfinite(lo) & np.isfinite(hi))
        if bad.any():  # BCa undefined (extreme bias correction): the percentile interval of the same resamples
            pct = sps.bootstrap((np.arange(n),), means, method="percentile", bootstrap_result=res,
                                **(kwargs | {"n_resamples": 0}))
            lo[bad] = np.atleast_1d(pct.confidence_interval.low)[bad]
            hi[bad] = np.atleast_1d(pct.confidence_interval.high)[bad]
    return lo, hi


@contextlib.contextmanager
def confidence(level: float):
    """Every interval this module takes inside the block has ``level`` instead of 95%."""
    global CONFIDENCE
    saved, CONFIDENCE = CONFIDENCE, level
    try:
        yield
    finally:
        CONFIDENCE = saved


def holm(p_values, alpha: float = 1 - CONFIDENCE) -> list[bool]:
    """Holm's step-down procedure (Holm 1979; SciPy has none): which of the hypotheses with these
    p-values are rejected at family-wise error ``alpha``. The i-th smallest p is compared with
    alpha / (m - i); the first that fails stops every larger one."""
    order = np.argsort(np.asarray(p_values, dtype=np.float64), kind="stable")
    rejected = [False] * len(order)
    for i, j in enumerate(order):
        if p_values[j] > alpha / (len(order) - i):
            break
        rejected[j] = True
    return rejected


def extreme_mean_ci(cells, which: str) -> dict:
    """``min`` or ``max`` over cells of each cell's mean over seeds (``cells``: ``[cells, seeds]``,
    seed ``i`` the same key in every cell; seeds with a NaN cell dropped), with a 95% percentile
    bootstrap interval over seeds."""
    x = np.asarray(cells, dtype=np.float64)
    x = x[:, ~np.isnan(x).any(axis=0)]
    if x.shape[1] == 0:
        return empty()
    pick = {"min": np.min, "max": np.max}[which]
    estimate = float(pick(x.mean(axis=1)))
    if x.shape[1] == 1 or np.all(x == x[:, :1]):
        return _block(estimate, estimate, estimate)
    stat = lambda idx, axis=-1: pick(x[:, np.asarray(idx)].mean(axis=-1), axis=0)  # noqa: E731
    res = sps.bootstrap((np.arange(x.shape[1]),), stat, method="percentile", n_resamples=N_RESAMPLES,
                        vectorized=True, confidence_level=CONFIDENCE, rng=np.random.default_rng(RNG_SEED))
    return _block(estimate, res.confidence_interval.low, res.confidence_interval.high, x.min(), x.max())


def wilson(k: int, n: int) -> dict:
    """A fraction ``k / n`` of independent seeds with its 95% Wilson score interval."""
    k, n = int(k), int(n)
    if n == 0:
        return empty()
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return _block(k / n, ci.low, ci.high, 0.0, 1.0)


def per_seed_mean(cells) -> np.ndarray:
    """Each seed's mean over its cells (``[cells, seeds]`` or ``[seeds]``), NaN cells skipped."""
    cells = np.atleast_2d(np.asarray(cells, dtype=np.float64))
    valid = ~np.isnan(cells)
    total = np.where(valid, cells, 0.0).sum(axis=0)
    count = valid.sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def paired_mean_ci(a, b) -> dict:
    """Mean over seeds of ``a - b``, seed ``i`` of ``a`` paired with seed ``i`` of ``b``.

    ``a`` and ``b`` are ``[seeds]``, or ``[cells, seeds]`` for a difference pooled over cells
    whose seed ``i`` shares one key: each seed's differences are averaged over its cells, then
    the interval is taken over seeds. The estimate equals the mean over all cell differences
    (without NaN); the interval does not pretend the cells of one seed are independent.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired_mean_ci: shapes {a.shape} and {b.shape} differ")
    return mean_ci(per_seed_mean(a - b))


def mcnemar_exact(a, b) -> dict:
    """The exact McNemar test of paired binary outcomes (seed ``i`` of ``a`` with seed ``i`` of ``b``):
    ``a_only`` seeds where only ``a`` holds, ``b_only`` where only ``b`` does, and the two-sided
    p-value of the binomial test of ``a_only`` out of the discordant pairs at 1/2 (``scipy.stats.binomtest``);
    p is 1 where no pair is discordant."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.shape != b.shape:
        raise ValueError(f"mcnemar_exact: shapes {a.shape} and {b.shape} differ")
    a_only, b_only = int((a & ~b).sum()), int((b & ~a).sum())
    p = sps.binomtest(a_only, a_only + b_only, 0.5).pvalue if a_only + b_only else 1.0
    return {"a_only": a_only, "b_only": b_only, "p": float(p)}


def pooled_share(indicators) -> dict:
    """Fraction of (cell, seed) pairs where ``indicators`` (``[cells, seeds]``, bool) holds.

    Seed ``i`` shares its key across cells, so the unit is the seed: its share of cells, then
    the mean over seeds. If every seed's share is 0 or 1 (one cell, or cells that agree seed by
    seed), the data are a count of seeds: ``wilson(seeds, n_seeds)``. Otherwise a bootstrap over
    seeds (``mean_ci``). Copies of one cell therefore give exactly that cell's interval.
    """
    share = per_seed_mean(np.asarray(indicators, dtype=np.float64))
    share = share[~np.isnan(share)]
    if share.size and np.all((share == 0) | (share == 1)):
        return wilson(int(share.sum()), share.size)
    return mean_ci(share)


def band(x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pointwise mean and 95% band over seeds of ``x`` (``[seeds, points]``), NaN seeds skipped.

    For learning curves (hundreds of points per metric and condition) a bootstrap per point
    would cost seconds per condition, so the band is the t-interval of ``scipy.stats.t`` with
    the point's own number of seeds, cut to the range of the seeds' values at that point: a
    mean cannot leave that range, so the cut keeps rates inside ``[0, 1]`` (no spread: zero
    width). It is a visual guide; the final-window statistics use ``mean_ci``.
    """
    x = np.asarray(x, dtype=np.float64)
    n = (~np.isnan(x)).sum(axis=0)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # points where no seed has a value: NaN
        mean = np.nanmean(x, axis=0)
        low, high = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
        se = np.nanstd(x, axis=0, ddof=1) / np.sqrt(n)
        ok = (n > 1) & (se > 0)
        lo, hi = sps.t.interval(CONFIDENCE, np.where(ok, n - 1, 1), loc=np.where(ok, mean, 0.0),
                                scale=np.where(ok, se, 1.0))
    lo, hi = np.where(ok, np.maximum(lo, low), mean), np.where(ok, np.minimum(hi, high), mean)
    return mean, np.minimum(lo, mean), np.maximum(hi, mean)
