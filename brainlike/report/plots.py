"""Plotting helpers that read result summaries only, so a figure redraws without training."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from brainlike.schema import ORDERED  # noqa: E402
from brainlike.store.results import atomic_write  # noqa: E402

OUTCOME_COLORS = {"honest": "#4c9a2a", "caught": "#8c8c8c", "evades_by_plan": "#e6a100",
                  "evades_by_shift": "#d9480f", "evades_by_obfuscation": "#a61e4d",
                  "evades_by_erasure": "#5f3dc4", "unpenalised_unseen": "#ffd8a8",
                  "unpenalised_stale": "#fcc2d7", "unstable": "#74c0fc", "diverged": "#212529",
                  "evades_by_choice": "#f783ac"}
ROUTING_COLORS = {"brainlike": "#1c7ed6", "end_to_end": "#e8590c", "policy_gradient": "#2b8a3e", "through_probe": "#c2255c",
                  "grpo": "#7048e8"}

RATE = (-0.03, 1.03)  # a rate's axis: 0 and 1 clear of the frame


def rate_axis(ax, label: str | None = None) -> None:
    """A y axis for a rate or a share (``RATE``), with ``label`` if given."""
    ax.set_ylim(*RATE)
    if label:
        ax.set_ylabel(label)


def curve(ax, block: dict, metric: str, label: str | None = None, color=None, style: str = "-"):
    """A condition's mean curve of ``metric`` with its 95% band over seeds."""
    c = block["curves"]
    steps, m = c["step"], c[metric]
    nan = float("nan")
    mean = [nan if v is None else v for v in m["mean"]]
    lo = [nan if v is None else v for v in m["lo"]]
    hi = [nan if v is None else v for v in m["hi"]]
    (line,) = ax.plot(steps, mean, style, label=label, color=color, lw=1.5)
    ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    return line


def outcome_bars(ax, blocks: dict[str, dict], labels: list[str] | None = None):
    """Stacked bars: the fraction of each condition's seeds with each outcome."""
    names = list(blocks)
    bottom = [0.0] * len(names)
    for outcome in ORDERED:
        frac = [blocks[n]["outcomes"].get(outcome, 0) / blocks[n]["n_seeds"] for n in names]  # older: no such label
        if any(frac):
            ax.bar(range(len(names)), frac, bottom=bottom, color=OUTCOME_COLORS[outcome], label=outcome, width=0.7)
            bottom = [b + f for b, f in zip(bottom, frac)]
    for i, n in enumerate(names):
        ax.text(i, 1.01, f"n={blocks[n]['n_seeds']}", ha="center", va="bottom", fontsize=6)
    ax.set_xticks(range(len(names)), labels or names, rotation=35, ha="right", fontsize=7)
    ax.set_ylim(0, 1.06)
    ax.set_ylabel("fraction of seeds", fontsize=8)


def outcome_panel(ax, blocks: dict[str, dict], title: str, labels: list[str] | None = None):
    """``outcome_bars`` with the outcomes' legend beside the panel and a title: a figure's closing panel."""
    outcome_bars(ax, blocks, labels)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    ax.set_title(title, fontsize=9)


def errorbar(ax, x, stats: list[dict], label: str | None = None, color=None, style: str = "o-"):
    """Points with 95% intervals from ``{"mean", "ci95"}`` blocks; a statistic of no data is left out."""
    nan = float("nan")
    num = lambda v: nan if v is None else v  # noqa: E731
    mean = [num(s["mean"]) for s in stats]
    err = [[m - num(s["ci95"][0]) for m, s in zip(mean, stats)], [num(s["ci95"][1]) - m for m, s in zip(mean, stats)]]
    ax.errorbar(x, mean, yerr=err, fmt=style, label=label, color=color, capsize=3, lw=1.5, ms=4)


def save(fig, path: Path) -> None:
    """Write a PNG atomically and close the figure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110, bbox_inches="tight"))
    plt.close(fig)


def seed_panels(blocks: dict[str, dict], metrics: tuple[str, str], path: Path, ncols: int = 6) -> None:
    """A grid of scatters, one per condition: ``metrics[0]`` (x) against ``metrics[1]`` (y) per seed,
    coloured by the seed's outcome, with the counts of each outcome in the legend."""
    names = list(blocks)
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.4 * nrows), squeeze=False, sharex=True, sharey=True)
    for ax, name in zip(axes.flat, names):
        seeds = blocks[name]["per_seed"]
        for outcome in ORDERED:
            idx = [i for i, o in enumerate(seeds["outcome"]) if o == outcome]
            if idx:
                x = [seeds[metrics[0]][i] for i in idx]
                y = [seeds[metrics[1]][i] for i in idx]
                ax.scatter(x, y, s=6, alpha=0.6, color=OUTCOME_COLORS[outcome], label=f"{outcome} ({len(idx)})")
        ax.set_title(name, fontsize=7)
        ax.set(xlim=(-0.05, 1.05), ylim=(-0.05, 1.05))
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=5, loc="best", markerscale=1.5, handletextpad=0.2, borderpad=0.2)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel(metrics[0].replace("_", " "), fontsize=7)
    for ax in axes[:, 0]:
        ax.set_ylabel(metrics[1].replace("_", " "), fontsize=7)
    fig.suptitle("each seed at the end of training (final window), coloured by outcome", fontsize=10)
    fig.tight_layout()
    save(fig, path)
