"""Experiments as small declarations: conditions, hypotheses as questions, and a plot.

The library runs a declaration (``run_experiment``): it trains every condition with
``sweep.run_conditions``, writes each condition's result folder and one experiment summary
(``results/<name>/summary.json``: a block per condition with final-window statistics,
outcome counts and learning curves, plus each hypothesis with its statistic, CI and a
verdict computed from the data), then draws the figure from that summary alone.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from brainlike.store import results as res
from brainlike.store import stats
from brainlike.config import Config, from_dict, replace, to_dict
from brainlike.schema import OUTCOMES, SCALARS
from brainlike.store.lock import writing
from brainlike.store.outcomes import Thresholds
from brainlike.store.summary import final_means
from brainlike.store.stats import mean_ci, wilson




class Result(NamedTuple):
    """One condition's per-seed arrays, and the thresholds that labelled them."""

    config: Config
    logged: dict
    outcome: np.ndarray
    thresholds: Thresholds = Thresholds()

    @property
    def healthy(self) -> np.ndarray:
        """Which seeds did not diverge (a diverged seed counts in the outcomes, in no mean or curve)."""
        return self.outcome != OUTCOMES.index("diverged")

    def final(self, metric: str) -> np.ndarray:
        """Per-seed mean over the final window; NaN (left out of statistics) for a diverged seed."""
        x = final_means(np.asarray(self.logged[metric], np.float64), self.thresholds.final_window)
        return np.where(self.healthy.reshape((-1,) + (1,) * (x.ndim - 1)), x, np.nan)

    def moved(self, metric: str = "deception_rate") -> float:
        """How much the mean over seeds of ``metric`` changed between the window before the final one
        and the final window (``windows``, from the per-seed arrays); NaN if the run holds no such window."""
        m = np.nanmean(np.asarray(self.logged[metric], np.float64)[self.healthy], axis=0)
        before, final = last_two(m, max(1, int(np.round(self.thresholds.final_window * len(m)))))
        return final - before

    @property
    def settled(self) -> bool:
        """Whether its mean deception moved by at most ``MOVED`` between the last two windows."""
        return abs(self.moved()) <= MOVED

    def share(self, labels) -> tuple[int, int]:
        """How many seeds ended with one of ``labels``, out of how many."""
        return int(np.isin(self.outcome, [OUTCOMES.index(x) for x in labels]).sum()), len(self.outcome)


class MissingCondition(KeyError):
    """A statistic read a condition that the grid it runs on does not hold."""


class Conditions(dict):
    """Per-condition results, a missing name raising ``MissingCondition``."""

    def __missing__(self, key):
        raise MissingCondition(key)


def select(conditions: dict, **knobs) -> dict:
    """The conditions whose config has each knob (a dotted field, ``env.KNOB`` for an environment's) at
    the given value, or passing it where the value is a function: ``select(blocks, routing="brainlike",
    **{"reward.alpha": 3.0})``. ``conditions`` maps names to summary blocks (their ``config``),
    ``Result``s or ``Config``s; the matches keep their order. An unknown knob raises ``KeyError``."""
    def matches(stored: dict) -> bool:
        return all(v(knob(stored, k)) if callable(v) else knob(stored, k) == (list(v) if isinstance(v, tuple) else v)
                   for k, v in knobs.items())
    return {name: c for name, c in conditions.items() if matches(_stored(c))}


def _stored(condition) -> dict:
    """A condition's config as ``config.to_dict`` writes it."""
    if isinstance(condition, Config):
        return to_dict(condition)
    return to_dict(condition.config) if isinstance(condition, Result) else condition["config"]


def knob(stored: dict, name: str):
    """A knob's value in a stored config (a tuple as a list)."""
    head, _, tail = name.partition(".")
    try:
        value = stored["env_params" if head == "env" and tail else head][tail] if tail else stored[head]
    except KeyError:
        raise KeyError(f"{name}: no such knob in the stored config") from None
    return list(value) if isinstance(value, tuple) else value


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

    def verdict(self, lo, hi) -> str:
        if lo is None:
            return "inconclusive"
        if self.predicted == "above":
            return "supported" if lo > self.threshold else "contradicted" if hi < self.threshold else "inconclusive"
        return "supported" if hi < self.threshold else "contradicted" if lo > self.threshold else "inconclusive"

    def p_value(self, results: dict[str, Result]) -> float:
        """The smallest 1 - level at which the statistic's interval leaves out the threshold (an
        interval inverted into a two-sided p-value), by bisection over the level; 1 where even a
        50% interval holds it, ``P_FLOOR`` where a 1 - P_FLOOR interval leaves it out."""
        def decided(level):
            with stats.confidence(level):
                return self.verdict(*self.statistic(results)["ci95"]) != "inconclusive"
        if not decided(0.5):
            return 1.0
        if decided(1 - P_FLOOR):
            return P_FLOOR
        lo, hi = 0.5, 1 - P_FLOOR  # decided at lo, not at hi
        for _ in range(12):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if decided(mid) else (lo, mid)
        return 1 - lo

    def evaluate(self, results: dict[str, Result]) -> dict:
        results = Conditions(results)
        try:
            stat = self.statistic(results)
        except MissingCondition:  # a quick grid may leave out a condition the full grid's hypothesis reads
            return {"question": self.question, "statistic": self.measure, "predicted": f"{self.predicted} "
                    f"{self.threshold}", "mean": None, "ci95": [None, None], "verdict": "inconclusive", "p": 1.0}
        lo, hi = stat["ci95"]
        return {"question": self.question, "statistic": self.measure, "predicted": f"{self.predicted} {self.threshold}",
                "mean": stat["mean"], "ci95": [lo, hi], "verdict": self.verdict(lo, hi),
                "p": round(self.p_value(results), 6)}


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    conditions: Callable[[bool], dict[str, Config]]  # quick -> {name: config}
    hypotheses: tuple[Hypothesis, ...]
    plot: Callable[[dict, Path], None]  # (experiment summary, png path)
    # (full-scale summary) -> the reading on its gallery page, numbers filled in; it may name conditions only the
    # full grid has
    reading: Callable[[dict], str] | None = None
    seeds: int = 256
    quick_seeds: int = 24
    # (per-seed results) -> further statistics the reading quotes (``summary["statistics"]``), beside the hypotheses'
    statistics: Callable[[dict[str, Result]], dict] | None = None
    # (full-scale summary) -> the answer in one sentence, for the gallery's index in the README
    headline: Callable[[dict], str] | None = None
    # what labels a seed: analysis, so a change relabels the stored runs and never trains them again
    thresholds: Thresholds = Thresholds()


# statistics that hypotheses are built from
def share_of(condition: str, labels) -> Callable:
    """Fraction of a condition's seeds ending with one of ``labels`` (Wilson CI)."""
    return lambda results: wilson(*results[condition].share(labels))


def mean_of(condition: str, metric: str) -> Callable:
    """Mean over seeds of a final-window metric (BCa bootstrap CI over seeds)."""
    return lambda results: mean_ci(results[condition].final(metric))


def paired_difference(a: str, b: str, metric: str) -> Callable:
    """Mean over seeds of ``metric[a] - metric[b]``, seed i of ``a`` paired with seed i of ``b``
    (they share a key): one difference per seed, a bootstrap CI over seeds (``stats.paired_mean_ci``)."""
    return lambda results: stats.paired_mean_ci(results[a].final(metric), results[b].final(metric))


def pooled_difference(metric: str, a: dict, b: dict, **common) -> Callable:
    """Mean over seeds of ``metric`` in the conditions with knobs ``a`` minus in those with knobs ``b``,
    pooled over every condition ``select`` finds with ``a`` and ``common``: each paired with the one
    that differs from it only in ``b``'s knobs, seed i with seed i, each seed's differences averaged
    over the pairs (``stats.paired_mean_ci``)."""
    def stat(results):
        cells = select(results, **a, **common)
        if not cells:
            raise MissingCondition(a | common)
        by_config = {r.config: name for name, r in results.items()}
        pairs = [results[by_config.get(replace(r.config, **b), f"{n} with {b}")] for n, r in cells.items()]
        return stats.paired_mean_ci(np.stack([r.final(metric) for r in cells.values()]),
                                    np.stack([r.final(metric) for r in pairs]))
    return stat


def first_block(result: Result, metric: str) -> np.ndarray:
    """Per seed, ``metric`` at the first logged point; NaN for a diverged seed (as ``Result.final``)."""
    return np.where(result.healthy, np.asarray(result.logged[metric], np.float64)[:, 0], np.nan)


def curves(result: Result, metrics=SCALARS) -> dict:
    """Mean and 95% band over seeds at every logged point (``stats.band``: a t-interval cut to the
    range of the seeds' values at that point, so a rate's band stays inside [0, 1])."""
    out = {"step": res.logged_steps(result.config).tolist()}
    for name in metrics:
        mean, lo, hi = stats.band(np.asarray(result.logged[name])[result.healthy])  # [seeds, logs] -> [logs] each
        out[name] = {"mean": _clean(mean), "lo": _clean(lo), "hi": _clean(hi)}
    return out


def _clean(x) -> list:
    return [None if not np.isfinite(v) else round(float(v), 5) for v in x]


P_FLOOR = 1e-3  # the smallest p-value the interval inversion resolves (a bootstrap of 1999 resamples)


def evaluate(experiment: Experiment, results: dict[str, Result]) -> list[dict]:
    """Every hypothesis's statistic, CI and verdict on these results, and its verdict after Holm's
    correction over the figure's hypotheses (``holm``: the verdict where its p-value is rejected,
    else inconclusive)."""
    out = [h.evaluate(results) for h in experiment.hypotheses]
    for h, kept in zip(out, stats.holm([h["p"] for h in out])):
        h["holm"] = h["verdict"] if kept else "inconclusive"
    return out


def run_experiment(experiment: Experiment, quick: bool, results_root: Path, figures_root: Path,
                   seeds: int | None = None, adjust: Callable[[Config], Config] | None = None,
                   progress=True, watch=None) -> dict:
    """Train, write ``results/<name>/`` and ``figures/<name>.png``; returns the summary.

    Runs as a resumable sweep in ``results/<name>/``: killed at any point and run again, it
    picks up from its last checkpoint, and finished conditions are not trained again.
    ``adjust`` rewrites every condition's config (tests use it to shrink runs); ``progress`` is
    and ``watch`` (TensorBoard, W&B: ``report.watch``) are passed to ``sweep.run_conditions``.
    Another process writing into ``results/<name>/`` is refused."""
    conditions = {name: (adjust or (lambda c: c))(c) for name, c in experiment.conditions(quick).items()}
    check_distinct(conditions)
    n_seeds = seeds or (experiment.quick_seeds if quick else experiment.seeds)
    out = res.ensure_writable(Path(results_root) / experiment.name)
    res.ensure_writable(figures_root)
    with writing(out):  # from clearing what is stale to the summary: one writer
        return _run_locked(experiment, quick, conditions, n_seeds, out, Path(figures_root), progress, watch)


def _run_locked(experiment, quick, conditions, n_seeds, out, figures_root, progress, watch) -> dict:
    from brainlike.run.runner import run_conditions

    forget_stale(out, conditions, n_seeds)
    th = experiment.thresholds
    raw = run_conditions(conditions, n_seeds, progress=progress, out=out, resume=True, watch=watch, thresholds=th)
    results = {name: Result(conditions[name], *raw[name], th) for name in conditions}
    blocks = {}
    for name, r in results.items():  # summaries are derived data: written anew from the metrics every time
        written = res.read_json(out / name / "summary.json")
        block = written | res.run_summary(r.config, r.logged, r.outcome, th)
        res.write_json(out / name / "summary.json", block)
        # the config, and under ``outcome`` the thresholds that labelled it, where summaries have always kept them
        config = to_dict(r.config) | {"outcome": dataclasses.asdict(th)}
        blocks[name] = block | {"config": config, "curves": curves(r), "per_seed": per_seed(r)}
    summary = {"name": experiment.name, "description": experiment.description, "quick": quick,
               "n_seeds": n_seeds, "train_s": round(training_time(out, conditions), 1),
               "conditions": blocks,
               "hypotheses": evaluate(experiment, results)}
    if experiment.statistics:
        summary["statistics"] = experiment.statistics(results)
    res.write_json(out / "summary.json", summary)
    draw(experiment, summary, figures_root)
    return summary


def training_time(out: Path, conditions) -> float:
    """Seconds spent training every group of conditions, from their manifests (a resumed group
    counts the time since it resumed)."""
    from brainlike.run.runner import MANIFEST

    groups = {}
    for name in conditions:
        m = res.read_json(out / name / MANIFEST)
        groups[tuple(m["ran_with"])] = m["wall_s"]
    return sum(groups.values())


def forget_stale(out: Path, conditions: dict[str, Config], n_seeds: int) -> None:
    """Clear what an earlier declaration of this experiment left in ``out`` (its sweep, checkpoints
    and the folders of conditions that changed), so that a changed experiment runs afresh instead
    of refusing to resume. Configs are compared as configs: a field added since, at its default,
    changes nothing, nor do the labelling thresholds a stored config holds (``config.from_dict``)."""
    from brainlike.run.runner import MANIFEST, SWEEP_FILE

    spec_path = out / SWEEP_FILE
    if not spec_path.exists():
        return
    spec = res.read_json(spec_path)
    now = json.loads(json.dumps({name: to_dict(c) for name, c in conditions.items()}))
    same = {name for name, d in spec.get("conditions", {}).items()
            if name in conditions and _as_config(d) == conditions[name] and spec.get("n_seeds") == n_seeds}
    if same == set(conditions) and len(spec.get("conditions", {})) == len(conditions):
        if spec["conditions"] != now:  # the same sweep, written before a field was added
            res.write_json(spec_path, spec | {"conditions": now})
        return
    spec_path.unlink()
    for path in out.glob("checkpoint-*.npz"):
        path.unlink()
    for name in spec.get("conditions", {}):
        if name not in same and (out / name / MANIFEST).exists():
            shutil.rmtree(out / name)


def _as_config(d: dict) -> Config | None:
    """A stored config, or None if it no longer makes one (a field since removed)."""
    try:
        return from_dict(d)
    except (TypeError, ValueError):
        return None


def check_distinct(conditions: dict[str, Config]) -> None:
    """Identical conditions are one run: refuse a declaration that lists one twice under two names."""
    seen: dict[Config, str] = {}
    for name, config in conditions.items():
        if config in seen:
            raise ValueError(f"conditions: {name!r} and {seen[config]!r} are the same config; run it once")
        seen[config] = name


def fill(template: Path, **slots) -> str:
    """A reading: the text of ``template`` (``string.Template``: ``$name`` a slot, ``$$`` a dollar) with
    every slot filled, its final newline dropped; a slot not given, or given and not in the text,
    raises ``ValueError``."""
    text = string.Template(Path(template).read_text())
    named = {m["named"] or m["braced"] for m in text.pattern.finditer(text.template)} - {None}
    if named != set(slots):
        raise ValueError(f"{Path(template).name}: slots not given {sorted(named - set(slots))}, "
                         f"not in the text {sorted(set(slots) - named)}")
    return text.substitute(slots).removesuffix("\n")


class StaleReading(ValueError):
    """A reading's prose was written for verdicts its summary no longer gives."""


def written_for(summary: dict, template: Path, verdicts: dict[int, str]) -> None:
    """Check that hypothesis ``i`` (0-based) of ``summary`` still has verdict ``verdicts[i]``: the
    claims a reading's prose builds on them (its verdict words are slots, its argument is text) hold
    only while they do. A rerun that changes one raises ``StaleReading`` naming the template to rewrite."""
    hs = summary["hypotheses"]
    for i, expected in verdicts.items():
        if hs[i]["verdict"] != expected:
            raise StaleReading(f"{Path(template).name}: its text argues from hypothesis {i + 1} ({hs[i]['question']!r}) "
                               f"being {expected}, and the summary says {hs[i]['verdict']}; rewrite the reading")


SEED_METRICS = ("probe_recall_frozen", "deception_rate")


def per_seed(result: Result) -> dict:
    """Each seed's final-window values of ``SEED_METRICS`` and its outcome label (for the scatter)."""
    out = {m: [None if not np.isfinite(v) else round(float(v), 4) for v in result.final(m)] for m in SEED_METRICS}
    return out | {"outcome": [OUTCOMES[int(i)] for i in result.outcome]}


def draw(experiment: Experiment, summary: dict, figures_root: Path) -> Path:
    """Draw the figure, the per-seed scatter and the per-condition table from a summary (no training)."""
    path = Path(figures_root) / f"{experiment.name}.png"
    experiment.plot(summary, path)
    blocks = summary["conditions"]
    if all("per_seed" in b for b in blocks.values()):
        seed_scatter(blocks, Path(figures_root) / f"{experiment.name}_seeds.png")
    res.atomic_write(Path(figures_root) / f"{experiment.name}.md", lambda f: f.write(condition_table(blocks).encode()))
    return path


def condition_table(blocks: dict) -> str:
    """A Markdown table: per condition, seeds, final-window means and outcome counts."""
    rows = ["| condition | seeds | deception | evasion | frozen recall | frozen AUROC | refit AUROC | outcomes |",
            "|---|---:|---:|---:|---:|---:|---:|---|"]
    fmt = lambda m: "n/a" if m["mean"] is None else f"{m['mean']:.3f}"  # noqa: E731
    for name, b in blocks.items():
        m = b["metrics"]
        counts = ", ".join(f"{k} {v}" for k, v in b["outcomes"].items() if v)
        rows.append(f"| {name} | {b['n_seeds']} | " + " | ".join(fmt(m[k]) for k in (
            "deception_rate", "evasion_rate", "probe_recall_frozen", "probe_auroc_frozen", "probe_auroc_refit"))
            + f" | {counts} |")
    return "\n".join(rows) + "\n"


def seed_scatter(blocks: dict, path: Path) -> None:
    """One small panel per condition: each seed's final frozen recall against its deception rate,
    coloured by outcome."""
    from brainlike.report.plots import seed_panels

    seed_panels(blocks, SEED_METRICS, path)


# numbers as a reading quotes them, straight from a summary
def window_size(block: dict) -> int:
    """How many logged points the final window holds (``store.summary.final_means``)."""
    return max(1, int(np.round(block["thresholds"]["final_window"] * len(block["curves"]["step"]))))


def windows(block: dict, metric: str) -> tuple[float, float, float]:
    """The first logged point's mean, and the means over the window before the final one (NaN if the
    run is too short to hold one) and over the final window, from a condition's curve (the mean over
    seeds at each point)."""
    m = np.array([np.nan if v is None else v for v in block["curves"][metric]["mean"]], np.float64)
    return (float(m[0]), *last_two(m, window_size(block)))


def last_two(m: np.ndarray, k: int) -> tuple[float, float]:
    """The means of a curve over its window of ``k`` points before the final one (NaN if too short)
    and over its final ``k`` points, its missing points skipped."""
    before = m[-2 * k:-k] if len(m) >= 2 * k else m[:0]
    mean = lambda x: float(np.mean(x[np.isfinite(x)])) if np.isfinite(x).any() else float("nan")  # noqa: E731
    return mean(before), mean(m[-k:])


# a condition whose mean deception changed by more than this between the last two windows had not settled
MOVED = 0.05


def unsettled(blocks: dict, names, metric: str = "deception_rate", moved: float = MOVED) -> str:
    """The conditions among ``names`` whose mean ``metric`` changed by more than ``moved`` between the
    window before the final one and the final window (``windows``), with that change; "none" if none."""
    out = []
    for n in names:
        _, before, final = windows(blocks[n], metric)
        if abs(final - before) > moved:
            out.append(f"`{n}` ({final - before:+.2f})")
    return ", ".join(out) or "none"


def value(block: dict, metric: str, digits: int = 2) -> str:
    """A final-window mean over seeds, e.g. ``0.61``."""
    return f"{block['metrics'][metric]['mean']:.{digits}f}"


def interval(stat: dict, spec: str = ".2f") -> str:
    """A statistic with its 95% CI, e.g. ``0.61 [0.58, 0.64]`` (``spec``: a format spec, ``+.3f`` signed)."""
    return f"{stat['mean']:{spec}} [{stat['ci95'][0]:{spec}}, {stat['ci95'][1]:{spec}}]"


def with_ci(block: dict, metric: str, digits: int = 2) -> str:
    """A final-window mean with its 95% CI, e.g. ``0.61 [0.58, 0.64]``."""
    return interval(block["metrics"][metric], f".{digits}f")


def finding(summary: dict, words: str) -> dict:
    """The summary's one hypothesis whose question holds ``words``: its statistic, CI and verdict."""
    found = [h for h in summary["hypotheses"] if words in h["question"]]
    if len(found) != 1:
        raise ValueError(f"{len(found)} hypotheses ask {words!r}; give words that name one")
    return found[0]


def percent(block: dict, metric: str) -> str:
    """A final-window mean of a rate as a percentage, e.g. ``99%``."""
    return f"{100 * block['metrics'][metric]['mean']:.0f}%"


def seeds_ending(block: dict, labels) -> dict:
    """The fraction of a condition's seeds that ended with one of ``labels``, with its Wilson CI."""
    return wilson(sum(block["outcomes"][x] for x in labels), block["n_seeds"])


def count(block: dict, labels) -> str:
    """How many seeds ended with one of ``labels``, e.g. ``243/256``."""
    return f"{sum(block['outcomes'][x] for x in labels)}/{block['n_seeds']}"


def verdict_list(summary: dict) -> str:
    """Every hypothesis as a Markdown list item: question, statistic with CI, prediction, verdict
    (and, where the summary has it, the verdict after Holm's correction over the figure's
    hypotheses); then how many seeds diverged, which every mean leaves out."""
    hs = summary["hypotheses"]
    p = lambda h: f"p ≤ {P_FLOOR:g}" if h["p"] <= P_FLOOR else f"p {h['p']:.2g}"  # noqa: E731
    holm = lambda h: f" Holm-adjusted over {len(hs)} hypotheses ({p(h)}): {h['holm']}." if "holm" in h else ""  # noqa: E731
    value = lambda h: "no data (no cell it reads was run, or every one was still moving)" if h["mean"] is None else (  # noqa: E731
        f"{h['mean']:.3f} [{h['ci95'][0]:.3f}, {h['ci95'][1]:.3f}]")
    items = [f"- {h['question']} **{h['verdict']}**: {h['statistic']} = {value(h)}, predicted {h['predicted']}."
             f"{holm(h)}" for h in hs]
    diverged = {n: b["outcomes"].get("diverged", 0) for n, b in summary["conditions"].items()}
    where = ", ".join(f"{k} in `{n}`" for n, k in diverged.items() if k)
    return "\n".join(items + [f"\nDiverged seeds (left out of every mean and interval): {where or 'none'}."])
