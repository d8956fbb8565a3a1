"""Experiments as small declarations: conditions, hypotheses as questions, and a plot.

The library runs a declaration (``run_experiment``): it trains every condition with
``sweep.run_conditions``, writes each condition's result folder and one experiment summary
(``results/<name>/summary.json``: a block per condition with final-window statistics,
outcome counts and learning curves, plus each hypothesis with its statistic, CI and a
verdict computed from the data), then draws the figure from that summary alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from brainlike import results as res
from brainlike.config import Config, to_dict
from brainlike.metrics import OUTCOMES, SCALARS, mean_ci, window, wilson

EVADES = tuple(o for o in OUTCOMES if o.startswith("evades"))


class Result(NamedTuple):
    """One condition's per-seed arrays."""

    config: Config
    logged: dict
    outcome: np.ndarray

    def final(self, metric: str) -> np.ndarray:
        """Per-seed mean over the final window."""
        return np.asarray(window(np.asarray(self.logged[metric]).swapaxes(0, 1), self.config.outcome.final_window))

    def share(self, labels) -> tuple[int, int]:
        """How many seeds ended with one of ``labels``, out of how many."""
        return int(np.isin(self.outcome, [OUTCOMES.index(x) for x in labels]).sum()), len(self.outcome)


@dataclass(frozen=True)
class Hypothesis:
    """A prediction as a question, tested by a statistic with a 95% CI against a threshold.

    ``statistic(results) -> {"mean", "ci95": [lo, hi]}``. The verdict is ``supported`` when the
    whole interval lies on the predicted side of ``threshold`` (``predicted`` is ``"above"``
    or ``"below"``), ``contradicted`` when it lies wholly on the other side, else
    ``inconclusive``.
    """

    question: str
    measure: str
    statistic: Callable[[dict[str, Result]], dict]
    predicted: str
    threshold: float

    def evaluate(self, results: dict[str, Result]) -> dict:
        stat = self.statistic(results)
        lo, hi = stat["ci95"]
        if lo is None:
            verdict = "inconclusive"
        elif self.predicted == "above":
            verdict = "supported" if lo > self.threshold else "contradicted" if hi < self.threshold else "inconclusive"
        else:
            verdict = "supported" if hi < self.threshold else "contradicted" if lo > self.threshold else "inconclusive"
        return {"question": self.question, "statistic": self.measure, "predicted": f"{self.predicted} {self.threshold}",
                "mean": stat["mean"], "ci95": [lo, hi], "verdict": verdict}


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    conditions: Callable[[bool], dict[str, Config]]  # quick -> {name: config}
    hypotheses: tuple[Hypothesis, ...]
    plot: Callable[[dict, Path], None]  # (experiment summary, png path)
    seeds: int = 256
    quick_seeds: int = 24


# statistics that hypotheses are built from
def share_of(condition: str, labels) -> Callable:
    """Fraction of a condition's seeds ending with one of ``labels`` (Wilson CI)."""
    return lambda results: wilson(*results[condition].share(labels))


def mean_of(condition: str, metric: str) -> Callable:
    """Mean over seeds of a final-window metric (t CI)."""
    return lambda results: mean_ci(results[condition].final(metric))


def paired_difference(a: str, b: str, metric: str) -> Callable:
    """Mean over seeds of ``metric[a] - metric[b]``; seed i of every condition shares its key."""
    return lambda results: mean_ci(results[a].final(metric) - results[b].final(metric))


def curves(result: Result, metrics=SCALARS) -> dict:
    """Mean and 95% CI over seeds at every logged point."""
    out = {"step": res.logged_steps(result.config).tolist()}
    for name in metrics:
        x = np.asarray(result.logged[name], dtype=np.float64)  # [seeds, logs]
        n = np.maximum((~np.isnan(x)).sum(0), 1)
        mean = np.nanmean(x, axis=0)
        half = 1.96 * np.nanstd(x, axis=0, ddof=1) / np.sqrt(n) if x.shape[0] > 1 else np.zeros_like(mean)
        out[name] = {"mean": _clean(mean), "lo": _clean(mean - half), "hi": _clean(mean + half)}
    return out


def _clean(x) -> list:
    return [None if not np.isfinite(v) else round(float(v), 5) for v in x]


def evaluate(experiment: Experiment, results: dict[str, Result]) -> list[dict]:
    """Every hypothesis's statistic, CI and verdict on these results."""
    return [h.evaluate(results) for h in experiment.hypotheses]


def run_experiment(experiment: Experiment, quick: bool, results_root: Path, figures_root: Path,
                   seeds: int | None = None, adjust: Callable[[Config], Config] | None = None) -> dict:
    """Train, write ``results/<name>/`` and ``figures/<name>.png``; returns the summary.

    ``adjust`` rewrites every condition's config (tests use it to shrink runs)."""
    from brainlike.sweep import run_conditions

    conditions = {name: (adjust or (lambda c: c))(c) for name, c in experiment.conditions(quick).items()}
    n_seeds = seeds or (experiment.quick_seeds if quick else experiment.seeds)
    out = res.ensure_writable(Path(results_root) / experiment.name)
    res.ensure_writable(figures_root)
    start = time.perf_counter()
    raw = run_conditions(conditions, n_seeds)
    wall = time.perf_counter() - start
    results = {name: Result(conditions[name], *raw[name]) for name in conditions}
    blocks = {}
    for name, r in results.items():
        block = res.write_run(res.ensure_writable(out / name), r.config, r.logged, r.outcome)
        blocks[name] = block | {"config": to_dict(r.config), "curves": curves(r)}
    summary = {"name": experiment.name, "description": experiment.description, "quick": quick,
               "n_seeds": n_seeds, "wall_s": round(wall, 1), "conditions": blocks,
               "hypotheses": evaluate(experiment, results)}
    res.write_json(out / "summary.json", summary)
    draw(experiment, summary, Path(figures_root))
    return summary


def draw(experiment: Experiment, summary: dict, figures_root: Path) -> Path:
    """Draw the figure from a summary (no training)."""
    path = Path(figures_root) / f"{experiment.name}.png"
    experiment.plot(summary, path)
    return path
