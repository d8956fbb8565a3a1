"""Measure ``make figures QUICK=1`` as a fresh clone runs it: ``python -m experiments._quick_time`` (``make
quick-time``) runs it twice into an empty compilation cache of its own (the first run cold, the second
warm from what the first compiled), the quick results cleared before each, and writes each run's time
and every figure's to ``results/figures_time.json``, which the README's sentence on the quick budget
is written from (``make pages``). Run it on an otherwise idle machine: the times are wall clock.
``--jobs N`` times ``make figures QUICK=1 JOBS=N`` instead of the Makefile's default, and ``--out PATH``
writes elsewhere (``results/explore/quick_time_jobs1.json`` is the one-process comparison).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from brainlike.run.grid import compile_key, group_by_structure
from brainlike.store.results import write_json
from experiments.__main__ import NAMES, load

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "figures_time.json"
LINE = re.compile(r"^(\w+): \d+ seeds x (\d+) conditions in ([\d.]+)s", re.M)


def run(cache: str, jobs: int | None) -> tuple[float, dict[str, float], str]:
    """One ``make figures QUICK=1`` with ``cache`` as the compilation cache (and ``JOBS=jobs`` if given):
    its wall time, each figure's time as its process printed it, and the jobs it ran with."""
    for folder in ("results/quick", "figures/quick"):
        shutil.rmtree(ROOT / folder, ignore_errors=True)
    start = time.perf_counter()
    done = subprocess.run(["make", "figures", "QUICK=1", f"BRAINLIKE_CACHE={cache}"]
                          + ([f"JOBS={jobs}"] if jobs else []), cwd=ROOT, text=True, stdout=subprocess.PIPE,
                          stderr=sys.stderr)
    wall = time.perf_counter() - start
    sys.stdout.write(done.stdout)
    if done.returncode:
        raise SystemExit(f"quick-time: make figures QUICK=1 failed ({done.returncode}); nothing written")
    jobs = re.search(r"--jobs (\d+)", done.stdout)
    return wall, {m[1]: float(m[3]) for m in LINE.finditer(done.stdout)}, jobs[1] if jobs else "1"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="experiments._quick_time", description=__doc__)
    parser.add_argument("--jobs", type=int, help="processes side by side (default: the Makefile's for QUICK=1)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    cache = tempfile.mkdtemp(prefix="brainlike-quick-cache-")
    try:
        cold, cold_each, jobs = run(cache, args.jobs)
        warm, warm_each, _ = run(cache, args.jobs)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    grids = {n: load(n).conditions(True) for n in NAMES}
    structures = {compile_key(c) for grid in grids.values() for c in grid.values()}
    write_json(args.out, {
        "what": "make figures QUICK=1 on this project's reference machine, timed by make quick-time: first into an "
                "empty compilation cache, then again with the cache that run filled",
        "cores": os.cpu_count(), "jobs": int(jobs), "figures": len(NAMES),
        "conditions": sum(len(g) for g in grids.values()), "structures": len(structures),
        "groups": sum(len(group_by_structure(g)) for g in grids.values()),
        "cold_cache_total_wall_s": round(cold, 1), "total_wall_s": round(warm, 1),
        "per_figure": {n: {"conditions": len(grids[n]), "cold_wall_s": cold_each.get(n), "wall_s": warm_each.get(n)}
                       for n in NAMES}})
    print(f"quick-time: {cold:.0f} s cold, {warm:.0f} s warm; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
