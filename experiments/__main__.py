"""Run experiments: ``python -m experiments NAME [NAME ...] [--quick] [--jobs N] [--redraw] [--pages DIR] [--log PLACE:WHERE]``."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

from brainlike.cli import LOG_HELP
from brainlike.report import pages
from brainlike.report.experiment import draw, run_experiment
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


SUITE = "suite.json"  # in the results folder: the fast suite's size and time (``make suite-stats``)
QUICK_TIME = "figures_time.json"  # in the results folder: make figures QUICK=1's time (``make quick-time``)


def committed(results: Path, names=NAMES) -> tuple[str, ...]:
    """The experiments among ``names`` whose summary is in ``results``."""
    return tuple(n for n in names if (Path(results) / n / "summary.json").exists())


def summaries(results: Path, names=NAMES) -> dict[str, dict]:
    """Each experiment's full-scale summary; ``ResultsError`` naming the first file that is missing,
    damaged or a ``--quick`` run's (whose grid a reading may not find its conditions in)."""
    out = {n: read_json(Path(results) / n / "summary.json") for n in names}
    quick = [n for n, s in out.items() if s.get("quick")]
    if quick:
        raise ResultsError(f"{Path(results) / quick[0] / 'summary.json'}: a --quick run's summary; the gallery "
                           "quotes full-scale results")
    return out


def reading(name: str, summary: dict) -> str:
    """An experiment's reading for its gallery page, written from its full-scale summary."""
    experiment = load(name)
    if not experiment.reading:
        raise ValueError(f"{name}: declares no reading for its page")
    return experiment.reading(summary)


def readme_blocks(results: Path, pages_link: str, results_link: str) -> dict[str, str]:
    """The README's generated blocks: the gallery's index of every experiment with a summary (its page
    at ``pages_link/<name>.md``), the figures' training time, the quick run's time and the suite's size
    and time (their files linked at ``results_link/``)."""
    written = summaries(results, committed(results))
    rows = [(n, load(n).description, f"{pages_link}/{n}.md", load(n).headline and load(n).headline(s))
            for n, s in written.items()]
    return {"gallery": pages.index(rows), "training_time": pages.training_time(written),
            "suite": pages.suite(read_json(Path(results) / SUITE), f"{results_link}/{SUITE}"),
            "quick_time": pages.quick_time(read_json(Path(results) / QUICK_TIME), f"{results_link}/{QUICK_TIME}")}


def write_pages(folder: Path, readme: Path, results: Path, names=NAMES) -> list[Path]:
    """Rewrite the reading on each experiment's page in ``folder`` (a missing page is started) and the
    README's generated blocks, from the summaries in ``results``. Everything is written before any file
    is: a missing summary or block fails naming it, and leaves every file as it was."""
    link = lambda path: Path(os.path.relpath(path, readme.parent)).as_posix()  # noqa: E731
    texts = {}
    for name, summary in summaries(results, names).items():
        path = folder / f"{name}.md"
        text = path.read_text() if path.exists() else pages.new_page(name, load(name).description)
        texts[path] = pages.fill(path, text, {name: reading(name, summary)})
    blocks = readme_blocks(results, link(folder), link(results))
    texts[readme] = pages.fill(readme, readme.read_text(), blocks, "generated")
    folder.mkdir(parents=True, exist_ok=True)
    for path, text in texts.items():
        pages.write(path, text)
    return list(texts)


def describe(h: dict) -> str:
    """A hypothesis's verdict, question and statistic, as a run prints them."""
    lo, hi = h["ci95"]
    value = "no data in this grid" if h["mean"] is None else f"{h['mean']:.3f} [{lo:.3f}, {hi:.3f}]"
    return f"  [{h['verdict']:>12}] {h['question']}\n      {h['statistic']}: {value} (predicted {h['predicted']})"


def shares(names, jobs: int, quick: bool) -> list[list[str]]:
    """``names`` split into at most ``jobs`` lists of about equal work, counted in compiled structures
    (``group_by_structure``: on a CPU each costs seconds to compile, and it dominates a quick run),
    largest first onto the least loaded list."""
    from brainlike.run.grid import group_by_structure

    cost = {n: len(group_by_structure(load(n).conditions(quick))) for n in names}
    out = [[] for _ in range(min(jobs, len(names)))]
    for n in sorted(names, key=lambda n: -cost[n]):
        min(out, key=lambda share: sum(cost[m] for m in share)).append(n)
    return out


def in_parallel(names, args) -> int:
    """Train ``names`` in ``args.jobs`` processes side by side, each ``python -m experiments`` on its
    share with the same options: one process leaves a core idle while XLA compiles, so a run that
    compiles many small programs (``--quick``) finishes sooner. The worst exit status."""
    options = (["--quick"] if args.quick else []) + (["--seeds", str(args.seeds)] if args.seeds else []) + [
        "--results", args.results, "--figures", args.figures] + [x for place in args.log or [] for x in ("--log", place)]
    # on a GPU, each process takes memory as it needs it rather than most of the device at start
    env = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"} | dict(os.environ)
    workers = [subprocess.Popen([sys.executable, "-m", "experiments", *share, *options], env=env)
               for share in shares(names, args.jobs, args.quick)]
    return max(w.wait() for w in workers)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="experiments", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"experiments: {', '.join(NAMES)}, or all")
    parser.add_argument("--quick", action="store_true", help="reduced scale (a few minutes in all)")
    parser.add_argument("--seeds", type=int, help="override the number of seeds per condition")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="train in N processes side by side (default "
                        "1; times written to summaries are then shared-machine times)")
    parser.add_argument("--redraw", action="store_true", help="redraw figures from results/ without training")
    parser.add_argument("--pages", metavar="DIR", help="rewrite from results/ the readings on the gallery's pages "
                        "in DIR and the README's generated blocks, without training (after --redraw, if given)")
    parser.add_argument("--readme", metavar="PATH", help="the README --pages rewrites (default README.md)")
    parser.add_argument("--results", default="results", help="results folder (default results)")
    parser.add_argument("--figures", default="figures", help="figures folder (default figures)")
    parser.add_argument("--log", action="append", metavar="PLACE:WHERE", help=LOG_HELP)
    args = parser.parse_args(argv)
    if args.readme and not args.pages:
        parser.error("--readme names the README that --pages rewrites; give --pages DIR too")
    if args.jobs < 1:
        parser.error(f"--jobs: {args.jobs} is out of range; allowed: 1 or more")
    trains = not (args.redraw or args.pages)
    if trains or args.redraw:
        configure()
        use_cpu_devices()  # one JAX device per core, so that blocks of seeds run side by side
    names = NAMES if args.names == ["all"] else tuple(args.names)
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        print(f"experiments: error: unknown experiment {unknown[0]!r}; allowed: {', '.join(NAMES)}, all",
              file=sys.stderr)
        return 2
    if trains and args.jobs > 1 and len(names) > 1:
        return in_parallel(names, args)
    try:
        logging = places(args.log)  # an extra that is not installed fails now, before anything runs
        for name in names:
            experiment = load(name)
            if args.redraw:
                summary = read_json(Path(args.results) / name / "summary.json")
                print(draw(experiment, summary, Path(args.figures)))
            if not trains:
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
        if args.pages:
            for path in write_pages(Path(args.pages), Path(args.readme or "README.md"), Path(args.results),
                                    names or NAMES):
                print(path)
    except (ResultsError, ValueError, OSError) as e:
        print(f"experiments: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
