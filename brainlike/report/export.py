"""Result folders as tables: ``brainlike export`` (one CSV row per seed) and ``brainlike compare``
(paired differences between two runs). NumPy only; the statistics are the experiments' own
(``store.summary.final_metrics`` for each seed's final window, ``store.stats.paired_mean_ci``).

A *run folder* holds ``config.json`` and ``metrics.npz`` (as ``brainlike run`` writes it, or one
condition of a sweep or an experiment); a sweep's or an experiment's folder holds run folders.
"""

from __future__ import annotations

import csv
import difflib
import math
from pathlib import Path
from typing import IO

import numpy as np

from brainlike import config as cfg
from brainlike.schema import ORDERED, OUTCOMES
from brainlike.store.outcomes import recorded
from brainlike.store.results import ResultsError, read_json, read_metrics
from brainlike.store.stats import paired_mean_ci
from brainlike.store.summary import final_metrics


def is_run(folder: Path) -> bool:
    return (Path(folder) / "config.json").is_file() and (Path(folder) / "metrics.npz").is_file()


def find_runs(folder) -> dict[str, Path]:
    """``{condition name: run folder}`` under ``folder``: the folder itself if it is a run (named
    after it), else every run folder below it, named by its path relative to ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such results folder")
    if is_run(folder):
        return {folder.resolve().name: folder}
    runs = {p.parent.relative_to(folder).as_posix(): p.parent for p in sorted(folder.rglob("config.json"))
            if is_run(p.parent)}
    if not runs:
        raise ResultsError(f"{folder}: no run folders in it (a folder with config.json and metrics.npz; an "
                           "experiment's metrics.npz is written by running it, and not committed)")
    return runs


class Run:
    """One run folder: its config (flat, as text), per-seed final-window metrics and outcome labels."""

    def __init__(self, folder):
        self.folder = Path(folder)
        raw = read_json(self.folder / "config.json")
        arrays = read_metrics(self.folder / "metrics.npz")
        self.summary = read_json(self.folder / "summary.json") if (self.folder / "summary.json").is_file() else {}
        manifest = self.folder / "manifest.json"
        self.manifest = read_json(manifest) if manifest.is_file() else {}
        self.fields = flat_config(raw)
        kinds = tuple(self.summary.get("kinds") or _kinds(raw))
        fraction = recorded(self.summary).final_window  # the window its labels were given over
        outcome = arrays.pop("outcome")
        arrays.pop("step", None)
        self.final = final_metrics(arrays, kinds, fraction, tuple(self.summary.get("env_metrics", ())))
        self.labels = [OUTCOMES[int(i)] for i in outcome]
        self.n_seeds = len(self.labels)

    @property
    def base_seed(self) -> int | None:
        """The base seed the run's keys derive from (seed i: ``fold_in(PRNGKey(seed), i)``)."""
        seed = self.summary.get("seed", self.manifest.get("seed"))
        return None if seed is None else int(seed)


def _kinds(raw: dict) -> tuple[str, ...]:
    """Plan kinds of a run whose summary does not list them: from its environment, if registered."""
    try:
        return cfg.from_dict(raw).env_spec.kinds
    except (ValueError, TypeError) as e:
        raise ResultsError(f"config.json: cannot tell the plan kinds ({e})") from None


def flat_config(raw: dict) -> dict[str, str]:
    """A stored config as ``{dotted field: text}``, every environment knob included (with its
    default where the run kept it) when the environment is registered; labelling thresholds that
    a config once held (``outcome``) are not config, and are left out."""
    out = {k: _text(v) for k, v in raw.items() if not isinstance(v, dict)}
    for section, values in raw.items():
        if isinstance(values, dict) and section not in ("env_params", cfg.LABELS):
            out |= {f"{section}.{k}": _text(v) for k, v in values.items()}
    knobs = dict(raw.get("env_params", {}))
    try:
        params = cfg.from_dict(raw).env_params
        knobs = {k: getattr(params, k) for k in params.__dataclass_fields__} | knobs
    except (ValueError, TypeError):  # an environment not registered here: the overrides alone
        pass
    return out | {f"env.{k}": _text(v) for k, v in sorted(knobs.items())}


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        return "+".join(map(str, value))
    if isinstance(value, float):
        return format(value, "g") if float(format(value, "g")) == value else repr(value)
    return str(value)


def _number(x) -> str:
    x = float(x)
    return "" if math.isnan(x) else format(x, ".8g")


def export_rows(folder) -> tuple[list[str], list[list[str]]]:
    """The header and one row per (condition, seed): condition, seed, the config fields that
    differ between conditions, every final-window metric, the outcome label."""
    runs = {name: Run(path) for name, path in find_runs(folder).items()}
    names = list(dict.fromkeys(k for r in runs.values() for k in r.fields))
    varying = [k for k in names if len({r.fields.get(k, "") for r in runs.values()}) > 1]
    metrics = list(dict.fromkeys(k for r in runs.values() for k in r.final))
    header = ["condition", "seed", *varying, *metrics, "outcome"]
    rows = []
    for name, r in runs.items():
        for i in range(r.n_seeds):
            rows.append([name, str(i), *(r.fields.get(k, "") for k in varying),
                         *(_number(r.final[k][i]) if k in r.final else "" for k in metrics), r.labels[i]])
    return header, rows


def write_csv(table, file: IO[str]) -> int:
    """A table (``export_rows``'s ``(header, rows)``, or a results folder to make one of) as CSV
    into an open text file; the number of rows written."""
    header, rows = table if isinstance(table, tuple) else export_rows(table)
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return len(rows)


def _one_run(folder, which: str) -> Run:
    folder = Path(folder)
    if not is_run(folder):
        runs = find_runs(folder)
        shown = ", ".join(str(p) for p in list(runs.values())[:4]) + (", ..." if len(runs) > 4 else "")
        raise ResultsError(f"{which}: {folder} holds {len(runs)} conditions; give one condition's folder: {shown}")
    return Run(folder)


def compare(a, b, metrics) -> dict:
    """Paired differences ``B - A`` of final-window metrics, seed ``i`` of A with seed ``i`` of B.

    Both runs must have the same number of seeds and the same base seed, so that seed ``i`` has
    one key in both (common random numbers); else ``ResultsError``. Each metric gets the mean
    of A and of B over seeds and ``paired_mean_ci(B, A)``: the mean difference with its 95% CI.
    """
    ra, rb = _one_run(a, "DIR_A"), _one_run(b, "DIR_B")
    if ra.n_seeds != rb.n_seeds:
        raise ResultsError(f"compare: {a} has {ra.n_seeds} seeds and {b} has {rb.n_seeds}; pairing seed i with "
                           "seed i needs the same seeds in both")
    if ra.base_seed is None or rb.base_seed is None or ra.base_seed != rb.base_seed:
        raise ResultsError(f"compare: base seed {ra.base_seed} in {a} and {rb.base_seed} in {b}; seed i is the "
                           "same seed in both only with the same base seed (--seed)")
    shared = [k for k in ra.final if k in rb.final]
    for m in metrics:
        if m not in shared:
            near = difflib.get_close_matches(m, shared, n=1)
            hint = f"did you mean {near[0]}?" if near else f"allowed: {', '.join(shared)}"
            raise ResultsError(f"metric: {m!r} is not a metric of both runs; {hint}")
    with np.errstate(all="ignore"):
        rows = [{"metric": m, "a": float(np.nanmean(ra.final[m])) if np.isfinite(ra.final[m]).any() else None,
                 "b": float(np.nanmean(rb.final[m])) if np.isfinite(rb.final[m]).any() else None,
                 "n": int((np.isfinite(ra.final[m]) & np.isfinite(rb.final[m])).sum()),
                 "b_minus_a": paired_mean_ci(rb.final[m], ra.final[m])} for m in metrics]
    counts = {w: {o: r.labels.count(o) for o in ORDERED if o in r.labels} for w, r in (("a", ra), ("b", rb))}
    return {"a": str(a), "b": str(b), "n_seeds": ra.n_seeds, "seed": ra.base_seed, "metrics": rows,
            "outcomes": counts, "fields": {k: (ra.fields.get(k), rb.fields.get(k))
                                           for k in dict.fromkeys([*ra.fields, *rb.fields])
                                           if ra.fields.get(k) != rb.fields.get(k)}}


def compare_table(result: dict) -> str:
    """``compare``'s result for people."""
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    sign = lambda v: "n/a" if v is None else f"{v:+.3f}"  # noqa: E731
    lines = [f"A: {result['a']}", f"B: {result['b']}",
             f"{result['n_seeds']} seeds, base seed {result['seed']}: seed i of B paired with seed i of A"]
    if result["fields"]:
        lines.append("differ: " + ", ".join(f"{k} {va} -> {vb}" for k, (va, vb) in result["fields"].items()))
    width = max(len("metric"), *(len(r["metric"]) for r in result["metrics"]))
    lines += ["", f"  {'metric':<{width}}  {'A':>8}  {'B':>8}  {'B - A':>8}  {'95% CI':<19} pairs"]
    for r in result["metrics"]:
        d = r["b_minus_a"]
        lo, hi = d["ci95"]
        ci = "n/a" if lo is None else f"[{lo:+.3f}, {hi:+.3f}]"
        lines.append(f"  {r['metric']:<{width}}  {fmt(r['a']):>8}  {fmt(r['b']):>8}  {sign(d['mean']):>8}  "
                     f"{ci:<19} {r['n']}")
    for w in ("a", "b"):
        lines.append(f"  outcomes {w.upper()}: " + ", ".join(f"{o} {n}" for o, n in result["outcomes"][w].items()))
    return "\n".join(lines)
