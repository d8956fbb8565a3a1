"""Summaries over seeds: each metric's final-window mean per seed, then its mean and 95% CI
over seeds (NumPy and SciPy only)."""

from __future__ import annotations

import warnings

import numpy as np

from brainlike.schema import BY_KIND, OUTCOMES, SCALARS
from brainlike.store.stats import mean_cis


def final_means(x: np.ndarray, fraction: float) -> np.ndarray:
    """Per seed, the mean over the final window of ``x`` (``[seeds, logs, ...]``), NaN points ignored
    (NumPy twin of ``window``)."""
    n = x.shape[1]
    last = x[:, n - max(1, int(np.round(fraction * n))):]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a seed with no valid point is NaN, dropped later
        return np.nanmean(last, axis=1)


def final_metrics(logged: dict, kinds: tuple[str, ...], fraction: float) -> dict[str, np.ndarray]:
    """Every summarised metric, one value per seed: the scalars, each by-kind metric as
    ``name/kind``, and ``take_rate/kind``, how often a kind is taken when it comes to mind."""
    out = {name: final_means(np.asarray(logged[name], np.float64), fraction) for name in SCALARS}
    by_kind = {name: final_means(np.asarray(logged[name], np.float64), fraction) for name in BY_KIND}
    with np.errstate(invalid="ignore", divide="ignore"):
        by_kind["take_rate"] = np.where(by_kind["offer_rate"] > 0, by_kind["plan_freq"] / by_kind["offer_rate"], np.nan)
    return out | {f"{name}/{kind}": v[:, i] for name, v in by_kind.items() for i, kind in enumerate(kinds)}


def summarize(logged: dict, outcome, kinds: tuple[str, ...], final_window: float) -> dict:
    """``n_seeds``, per-metric mean and CI over seeds of the final window, and outcome counts.

    Diverged seeds (outcome ``diverged``: a loss or parameter became non-finite) are counted
    among the outcomes but left out of every metric's mean and CI, which are over the other
    seeds; ``excluded`` says how many were left out and why.
    """
    outcome = np.asarray(outcome)
    final = final_metrics(logged, kinds, final_window)
    diverged = outcome == OUTCOMES.index("diverged")
    rows = np.stack(list(final.values()))
    rows[:, diverged] = np.nan  # mean_cis drops NaN seeds
    return {"n_seeds": int(outcome.shape[0]), "metrics": dict(zip(final, mean_cis(rows))),
            "outcomes": {label: int((outcome == i).sum()) for i, label in enumerate(OUTCOMES)},
            "excluded": {"diverged": int(diverged.sum())}}
