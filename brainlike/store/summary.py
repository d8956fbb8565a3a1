"""Summaries over seeds: each metric's final-window mean per seed, then its mean and 95% CI
over seeds (NumPy and SciPy only)."""

from __future__ import annotations

import warnings

import numpy as np

from brainlike.schema import BY_ENV, BY_KIND, BY_PLAN, OUTCOMES, SCALARS
from brainlike.store.stats import mean_cis


def final_means(x: np.ndarray, fraction: float) -> np.ndarray:
    """Per seed, the mean over the final window of ``x`` (``[seeds, logs, ...]``), NaN points ignored
    (NumPy twin of ``window``)."""
    n = x.shape[1]
    last = x[:, n - max(1, int(np.round(fraction * n))):]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a seed with no valid point is NaN, dropped later
        return np.nanmean(last, axis=1)


def final_metrics(logged: dict, kinds: tuple[str, ...], fraction: float,
                  env_metrics: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Every summarised metric, one value per seed: the scalars, ``caught_share`` (the share of
    deceptive episodes the alarm fired on: the pooled probe's recall on the trajectories taken),
    each by-kind metric as ``name/kind``, each by-plan one as ``name/plan``, each of the environment's
    own as ``env_metrics/<name>`` (``env_metrics``: their declared names; by index where not given),
    and ``take_rate/kind``, how often a kind is taken when
    it comes to mind. A metric that a run logged before it existed is left out."""
    out = {name: final_means(np.asarray(logged[name], np.float64), fraction) for name in SCALARS if name in logged}
    out["caught_share"] = caught_share(out["deception_rate"], out["evasion_rate"])
    by_kind = {name: final_means(np.asarray(logged[name], np.float64), fraction) for name in BY_KIND if name in logged}
    with np.errstate(invalid="ignore", divide="ignore"):
        by_kind["take_rate"] = np.where(by_kind["offer_rate"] > 0, by_kind["plan_freq"] / by_kind["offer_rate"], np.nan)
    out |= {f"{name}/{kind}": v[:, i] for name, v in by_kind.items() for i, kind in enumerate(kinds)}
    for name in (n for n in BY_PLAN if n in logged):  # per plan (phrasings: several per kind), where logged
        v = final_means(np.asarray(logged[name], np.float64), fraction)
        out |= {f"{name}/{i}": v[:, i] for i in range(v.shape[1])}
    for name in (n for n in BY_ENV if n in logged):
        v = final_means(np.asarray(logged[name], np.float64), fraction)
        out |= {f"{name}/{env_metrics[i] if env_metrics else i}": v[:, i] for i in range(v.shape[1])}
    return out


def caught_share(deceived, evaded) -> np.ndarray:
    """Per seed, the share of deceptive episodes the pooled alarm fired on; NaN for a seed without any."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(deceived > 0, (deceived - evaded) / deceived, np.nan)


def summarize(logged: dict, outcome, kinds: tuple[str, ...], final_window: float,
              env_metrics: tuple[str, ...] = ()) -> dict:
    """``n_seeds``, per-metric mean and CI over seeds of the final window, and outcome counts.

    Diverged seeds (outcome ``diverged``: a loss or parameter became non-finite) are counted
    among the outcomes but left out of every metric's mean and CI, which are over the other
    seeds; ``excluded`` says how many were left out and why. Two statistics read each seed's
    whole curve: ``first_majority`` (per kind, each seed's first logged point at which it took
    that kind in most decisions) and, where ``STOP_BY`` was logged, ``early_stop``.
    """
    outcome = np.asarray(outcome)
    final = final_metrics(logged, kinds, final_window, env_metrics)
    diverged = outcome == OUTCOMES.index("diverged")
    rows = np.stack(list(final.values()))
    rows[:, diverged] = np.nan  # mean_cis drops NaN seeds
    summary = {"n_seeds": int(outcome.shape[0]), "metrics": dict(zip(final, mean_cis(rows))),
               "outcomes": {label: int((outcome == i).sum()) for i, label in enumerate(OUTCOMES)},
               "excluded": {"diverged": int(diverged.sum())},
               "first_majority": dict(zip(kinds, first_majority(logged["plan_freq"]).T.tolist()))}
    if STOP_BY in logged:
        summary["early_stop"] = early_stop(logged, diverged)
    return summary


# --- statistics of each seed's whole learning curve, not only of its final window ---

MAJORITY = 0.5  # a kind "reached" at a logged point where it was taken in at least this share of decisions
STOP_BY = "overseen_return"  # what early stopping watches: the return where the alarm was applied
STOPPED = ("return", STOP_BY, "env_reward", "safety_score", "deception_rate", "alarm_rate", "evasion_rate",
           "completion_rate")


def first_majority(plan_freq) -> np.ndarray:
    """``[seeds, kinds]``: the first logged point at which each kind was taken in at least
    ``MAJORITY`` of the decisions (``plan_freq``: ``[seeds, logs, kinds]``); -1 where it never was."""
    major = np.asarray(plan_freq) >= MAJORITY
    return np.where(major.any(axis=1), major.argmax(axis=1), -1)


def best_point(curve) -> np.ndarray:
    """``[seeds]``: each seed's logged point with the highest value of ``curve`` (``[seeds, logs]``),
    the first of ties, NaN points skipped; -1 for a seed without any value."""
    x = np.asarray(curve, np.float64)
    best = np.argmax(np.where(np.isnan(x), -np.inf, x), axis=1)
    return np.where(np.isnan(x).all(axis=1), -1, best)


def at_points(x, points) -> np.ndarray:
    """``[seeds]``: each seed's value of ``x`` (``[seeds, logs]``) at its logged point (NaN at -1)."""
    points = np.asarray(points)
    picked = np.take_along_axis(np.asarray(x, np.float64), np.maximum(points, 0)[:, None], axis=1)[:, 0]
    return np.where(points >= 0, picked, np.nan)


def early_stop(logged: dict, left_out) -> dict:
    """Training stopped early, each seed at its own logged point with the best ``STOP_BY`` (what an
    overseer can see), judged by everything else there: ``point`` per seed (-1: never overseen)
    and the mean and CI over seeds of ``STOPPED`` at those points (``left_out`` seeds excluded)."""
    points = best_point(logged[STOP_BY])
    rows = np.stack([at_points(logged[name], points) for name in STOPPED])
    rows[:, np.asarray(left_out)] = np.nan
    return {"by": STOP_BY, "point": points.tolist(), "metrics": dict(zip(STOPPED, mean_cis(rows)))}
