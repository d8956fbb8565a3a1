"""Run experiments: ``python -m experiments NAME [NAME ...] [--quick] [--redraw]``."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from brainlike.experiment import draw, run_experiment
from brainlike.results import ResultsError, read_json

NAMES = ("loop_closure", "preexisting_b")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="experiments", description=__doc__)
    parser.add_argument("names", nargs="+", help=f"experiments: {', '.join(NAMES)}, or all")
    parser.add_argument("--quick", action="store_true", help="reduced scale (a few minutes in all)")
    parser.add_argument("--seeds", type=int, help="override the number of seeds per condition")
    parser.add_argument("--redraw", action="store_true", help="redraw figures from results/ without training")
    parser.add_argument("--results", default="results", help="results folder (default results)")
    parser.add_argument("--figures", default="figures", help="figures folder (default figures)")
    args = parser.parse_args(argv)
    names = NAMES if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        print(f"experiments: error: unknown experiment {unknown[0]!r}; allowed: {', '.join(NAMES)}, all",
              file=sys.stderr)
        return 2
    try:
        for name in names:
            experiment = importlib.import_module(f"experiments.{name}").EXPERIMENT
            if args.redraw:
                summary = read_json(Path(args.results) / name / "summary.json")
                print(draw(experiment, summary, Path(args.figures)))
                continue
            summary = run_experiment(experiment, args.quick, Path(args.results), Path(args.figures), args.seeds)
            print(f"{name}: {summary['n_seeds']} seeds x {len(summary['conditions'])} conditions "
                  f"in {summary['wall_s']}s")
            for h in summary["hypotheses"]:
                lo, hi = h["ci95"]
                print(f"  [{h['verdict']:>12}] {h['question']}\n      {h['statistic']}: "
                      f"{h['mean']:.3f} [{lo:.3f}, {hi:.3f}] (predicted {h['predicted']})")
    except (ResultsError, ValueError) as e:
        print(f"experiments: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
