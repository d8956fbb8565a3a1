"""``brainlike plot``: a sweep's final-window metric against one of its axes, from result files only.

A sweep's folder holds one folder per condition with ``config.json`` and ``summary.json``
(``brainlike sweep`` writes them; so does an experiment). The plot reads those alone: each
condition's mean and 95% CI over seeds of a metric's final window, as ``summary.json`` has
them, drawn against the values of ``x``, one line per value of ``by`` (points alone where ``x``
is a category, such as the routing: nothing lies between two categories); for the metric
``outcomes``, the share of seeds with each outcome as stacked bars, one panel per value of
``by``.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from brainlike.report.export import flat_config  # noqa: E402
from brainlike.report.plots import errorbar, outcome_bars, save  # noqa: E402
from brainlike.schema import ORDERED  # noqa: E402
from brainlike.store.outcomes import recorded  # noqa: E402
from brainlike.store.results import ResultsError, read_json  # noqa: E402

OUTCOMES_METRIC = "outcomes"


def read_sweep(folder) -> dict[str, tuple[dict, dict]]:
    """``{condition: (flat config, summary)}`` of every finished condition under ``folder``, in the
    sweep's order (``sweep.json``) where there is one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such results folder")
    spec = folder / "sweep.json"
    names = list(read_json(spec).get("conditions", {})) if spec.is_file() else \
        sorted(p.parent.name for p in folder.glob("*/config.json"))
    if not names:
        raise ResultsError(f"{folder}: no conditions in it (a sweep's folder: one folder per condition with "
                           "config.json and summary.json)")
    out = {}
    for name in names:
        if not (folder / name / "summary.json").is_file():
            raise ResultsError(f"{folder / name}: unfinished condition (no summary.json); finish the sweep with "
                               "the same command and --resume")
        summary = read_json(folder / name / "summary.json")
        if not isinstance(summary.get("metrics"), dict) or not isinstance(summary.get("outcomes"), dict):
            raise ResultsError(f"{folder / name / 'summary.json'}: not a run's summary (no metrics or outcomes)")
        out[name] = (flat_config(read_json(folder / name / "config.json")), summary)
    return out


def varying(conditions: dict[str, tuple[dict, dict]]) -> list[str]:
    """The config fields whose values differ between conditions (the sweep's axes)."""
    fields = list(dict.fromkeys(k for flat, _ in conditions.values() for k in flat))
    return [k for k in fields if len({flat.get(k) for flat, _ in conditions.values()}) > 1]


def _check_choices(conditions, x: str, metric: str, by: str | None) -> None:
    axes = varying(conditions)
    for flag, name in (("x", x), ("by", by)):
        if name is not None and name not in axes:
            near = difflib.get_close_matches(name, axes, n=1)
            hint = f"did you mean {near[0]}? " if near else ""
            raise ResultsError(f"{flag}: {name!r} does not vary in this sweep; {hint}allowed: "
                               f"{', '.join(axes) or 'none'}")
    if by == x:
        raise ResultsError(f"by: {by!r} is the x axis too; give another field that varies: "
                           f"{', '.join(a for a in axes if a != x) or 'none'}")
    metrics = [m for m in next(iter(conditions.values()))[1]["metrics"]
               if all(m in s["metrics"] for _, s in conditions.values())]
    if metric != OUTCOMES_METRIC and metric not in metrics:
        near = difflib.get_close_matches(metric, metrics + [OUTCOMES_METRIC], n=1)
        scalars = [m for m in metrics if "/" not in m]
        hint = f"did you mean {near[0]}? " if near else ""
        raise ResultsError(f"metric: {metric!r} is not a metric of this sweep; {hint}allowed: {OUTCOMES_METRIC}, "
                           f"{', '.join(scalars)}, or NAME/KIND (e.g. {next(m for m in metrics if '/' in m)})")
    cells: dict[tuple, list[str]] = {}
    for name, (flat, _) in conditions.items():
        cells.setdefault((flat[x], flat[by] if by else None), []).append(name)
    clash = next((names for names in cells.values() if len(names) > 1), None)
    if clash:
        others = [a for a in axes if a not in (x, by) and len({conditions[n][0][a] for n in clash}) > 1]
        fix = f"give {others[0]} as --by" if not by else "a plot shows two fields at most (--x and --by)"
        raise ResultsError(f"plot: conditions {clash[0]} and {clash[1]} share {x}{' and ' + by if by else ''} but "
                           f"differ in {', '.join(others)}; {fix}")


def _positions(values: list[str]) -> tuple[list[float], bool]:
    """Numeric values at their numbers; text values at 0, 1, ... in the order given."""
    try:
        return [float(v) for v in values], True
    except ValueError:
        return [float(i) for i in range(len(values))], False


def plot_sweep(folder, x: str, metric: str, by: str | None = None, out=None) -> Path:
    """Draw ``metric`` of every condition under ``folder`` against the field ``x`` (one line, or
    panel for ``outcomes``, per value of ``by``); returns the PNG's path."""
    conditions = read_sweep(folder)
    _check_choices(conditions, x, metric, by)
    xs = list(dict.fromkeys(flat[x] for flat, _ in conditions.values()))
    pos, numeric = _positions(xs)
    if numeric:
        xs = [v for _, v in sorted(zip(pos, xs))]
        pos = sorted(pos)
    groups = list(dict.fromkeys(flat[by] for flat, _ in conditions.values())) if by else [None]
    cell = {(flat[x], flat[by] if by else None): summary for flat, summary in conditions.values()}
    seeds = sorted({s["n_seeds"] for _, s in conditions.values()})
    window = sorted({recorded(summary).final_window for _, summary in conditions.values()})
    seeds_text = f"{seeds[0]} seeds" if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]} seeds"
    if metric == OUTCOMES_METRIC:
        fig, axes = plt.subplots(1, len(groups), figsize=(0.6 * len(xs) + 2.4, 3.4) if len(groups) == 1 else
                                 (len(groups) * (0.5 * len(xs) + 1.6), 3.4), squeeze=False, sharey=True)
        for ax, g in zip(axes[0], groups):
            present = [v for v in xs if (v, g) in cell]
            outcome_bars(ax, {v: cell[(v, g)] for v in present}, present)
            ax.set_xlabel(x, fontsize=8)
            if by:
                ax.set_title(f"{by}={g}", fontsize=8)
        legend = {lab: h for ax in axes[0] for h, lab in zip(*ax.get_legend_handles_labels())}
        shown = [o for o in ORDERED if o in legend]
        fig.legend([legend[o] for o in shown], shown, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 0.95))
        fig.suptitle(f"outcomes of each condition ({seeds_text})", fontsize=9)
    else:
        fig, ax = plt.subplots(figsize=(5.2, 3.6))
        offset = 0.0 if numeric else 0.08
        for i, g in enumerate(groups):
            present = [(p, v) for p, v in zip(pos, xs) if (v, g) in cell]
            shift = offset * (i - (len(groups) - 1) / 2)
            errorbar(ax, [p + shift for p, _ in present], [cell[(v, g)]["metrics"][metric] for _, v in present],
                     label=f"{by}={g}" if by else None, style="o-" if numeric else "o")  # categories: no lines
        if not numeric:
            ax.set_xticks(pos, xs, rotation=30 if max(map(len, xs)) > 6 else 0, ha="right", fontsize=7)
        ax.set_xlabel(x, fontsize=8)
        ax.set_ylabel(metric, fontsize=8)
        ax.tick_params(labelsize=7)
        if by:
            ax.legend(fontsize=7)
        ax.set_title(f"{metric}: final {_percent(window)} of training, mean and 95% CI over {seeds_text}",
                     fontsize=8)
    fig.tight_layout()
    path = Path(out) if out else Path(folder) / _default_name(x, metric, by)
    save(fig, path)
    return path


def _percent(window: list[str]) -> str:
    try:
        return "/".join(f"{float(w):.0%}" for w in window) if window and window != [""] else "window"
    except ValueError:
        return "window"


def _default_name(x: str, metric: str, by: str | None) -> str:
    parts = [metric, "vs", x] + (["by", by] if by else [])
    return "plot-" + "-".join(p.replace("/", "_") for p in parts) + ".png"
