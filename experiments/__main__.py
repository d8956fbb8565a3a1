"""Run experiments: ``python -m experiments NAME [NAME ...] [--quick] [--redraw] [--readme] [--log PLACE:WHERE]``."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from brainlike.cli import LOG_HELP
from brainlike.report.experiment import draw, render_readings, run_experiment
from brainlike.report.watch import Watch, places
from brainlike.store.results import ResultsError, read_json
from brainlike.run.devices import use_cpu_devices
from brainlike.run.programs import release_compiled
from brainlike.runtime import configure

HERE = Path(__file__).resolve().parent
# every module in this folder is an experiment: adding one is adding a file
NAMES = tuple(sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_")))


def load(name: str):
    return importlib.import_module(f"experiments.{name}").EXPERIMENT


def readings(results: Path, names=NAMES) -> dict[str, str]:
    """Each experiment's README reading, written from its committed summary."""
    out = {}
    for name in names:
        experiment = load(name)
        if experiment.reading and (Path(results) / name / "summary.json").exists():
            out[name] = experiment.reading(read_json(Path(results) / name / "summary.json"))
    return out


def describe(h: dict) -> str:
    """A hypothesis's verdict, question and statistic, as a run prints them."""
    lo, hi = h["ci95"]
    value = "no data in this grid" if h["mean"] is None else f"{h['mean']:.3f} [{lo:.3f}, {hi:.3f}]"
    return f"  [{h['verdict']:>12}] {h['question']}\n      {h['statistic']}: {value} (predicted {h['predicted']})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="experiments", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"experiments: {', '.join(NAMES)}, or all")
    parser.add_argument("--quick", action="store_true", help="reduced scale (a few minutes in all)")
    parser.add_argument("--seeds", type=int, help="override the number of seeds per condition")
    parser.add_argument("--redraw", action="store_true", help="redraw figures from results/ without training")
    parser.add_argument("--readme", metavar="PATH", help="rewrite the readings in this README from results/ "
                        "(no training)")
    parser.add_argument("--results", default="results", help="results folder (default results)")
    parser.add_argument("--figures", default="figures", help="figures folder (default figures)")
    parser.add_argument("--log", action="append", metavar="PLACE:WHERE", help=LOG_HELP)
    args = parser.parse_args(argv)
    configure()
    use_cpu_devices()  # one JAX device per core, so that blocks of seeds run side by side
    names = NAMES if args.names == ["all"] else tuple(args.names)
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        print(f"experiments: error: unknown experiment {unknown[0]!r}; allowed: {', '.join(NAMES)}, all",
              file=sys.stderr)
        return 2
    try:
        logging = places(args.log)  # an extra that is not installed fails now, before anything runs
        if args.readme:
            path = Path(args.readme)
            path.write_text(render_readings(path.read_text(), readings(Path(args.results), names or NAMES)))
            print(path)
        for name in names:
            experiment = load(name)
            if args.redraw:
                summary = read_json(Path(args.results) / name / "summary.json")
                print(draw(experiment, summary, Path(args.figures)))
                continue
            start = time.perf_counter()
            with Watch(logging, name) as watch:
                summary = run_experiment(experiment, args.quick, Path(args.results), Path(args.figures), args.seeds,
                                         watch=watch)
            release_compiled()  # ten figures' programs in one process would exhaust its memory maps
            print(f"{name}: {summary['n_seeds']} seeds x {len(summary['conditions'])} conditions in "
                  f"{time.perf_counter() - start:.1f}s ({summary['train_s']}s of training, resumed runs included)")
            for h in summary["hypotheses"]:
                print(describe(h))
    except (ResultsError, ValueError, OSError) as e:
        print(f"experiments: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
