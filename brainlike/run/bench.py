"""``python -m brainlike bench``: how fast the RL phase runs, from 1 to 4096 seeds.

For one fixed reference config (``REFERENCE``: plan_market under brainlike routing, each
agent acting in 64 environments per update, a logged point every 25 updates, every other
field at its default), it measures:

- env-steps per second (RL steps of all seeds together) at 1, 64, 1024 and 4096 seeds, in
  steady state: compiled, initialised and warmed up, timing whole logged points (25 updates
  and the probe evaluation) through ``sweep.Blocks``, the machinery sweeps run on;
- the baseline: the same work seed by seed, ``jax.jit`` of one seed's ``advance`` called in a
  Python loop over a few seeds (its rate per seed, which a loop cannot beat);
- compile time of one structural condition (``init``, ``advance``, ``outcome``) with an
  empty persistent cache, and again with the cache that run filled (a warm rerun);
- peak resident memory of each population size, each measured in a fresh process.

Above 256 seeds the population's state is tiled from 256 initialised seeds: the RL phase
costs the same whatever the values, and initialising 4096 seeds (pretraining included)
would take longer than the measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REFERENCE = {"env": "plan_market", "routing": "brainlike", "run.n_envs": 64, "run.rollout_len": 1,
             "run.log_every": 25, "run.steps": 64_000}
SIZES = (1, 64, 1024, 4096)
INIT_MAX = 256  # seeds initialised for real; larger populations tile their state


def add_bench_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="end with one line: the results as a JSON object")
    parser.add_argument("--seeds", default=",".join(map(str, SIZES)),
                        help=f"population sizes, comma-separated (default {','.join(map(str, SIZES))})")
    parser.add_argument("--min-time", type=float, default=3.0, help="seconds of timed work per size (default 3)")
    parser.add_argument("--baseline-seeds", type=int, default=3, help="seeds the baseline loop runs (default 3)")
    parser.add_argument("--block-rows", type=int, help="rows per device in one compiled call (default: as sweeps)")
    parser.add_argument("--workload-seeds", default="256,1024",
                        help="population sizes of the figures' workload, run from the command line (empty: skip)")
    parser.add_argument("--out", help="also write the results as JSON to this file")
    parser.add_argument("--cpu-devices", type=int, default=0,
                        help="JAX devices to split the host CPU into (default 0: one per core, as sweeps)")


def reference_config(overrides: dict | None = None):
    from brainlike import config as cfg

    base = cfg.replace(cfg.Config(), **{"env": REFERENCE["env"]})
    return cfg.replace(base, **{k: v for k, v in (REFERENCE | (overrides or {})).items() if k != "env"})


def describe_reference(config) -> str:
    r, b = config.run, config.beliefs
    return (f"{config.env}, routing {config.routing}, n_envs {r.n_envs}, rollout_len {r.rollout_len}, "
            f"log_every {r.log_every} ({r.log_every * r.steps_per_update} env-steps per seed per logged point), "
            f"hidden {b.hidden}, thought_dim {b.thought_dim}, probe.n_thoughts {config.probe.n_thoughts}, "
            f"everything else default")


# ---------------------------------------------------------------------------------------
# workers: each runs in a fresh process and prints one JSON line

def peak_rss_gb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1e9 if sys.platform == "darwin" else 1e6)


def _block(fn, *args):
    import jax

    return jax.block_until_ready(fn(*args))


def work_size(seeds: int, min_time: float, block_rows: int | None, overrides: dict | None = None) -> dict:
    """Steady-state env-steps per second of ``seeds`` seeds."""
    import jax
    import numpy as np

    from brainlike.run.runner import Blocks, rows_of

    from brainlike.run.devices import default_block_rows

    config = reference_config(overrides)
    block_rows = block_rows or default_block_rows()
    rows = Blocks(config, *rows_of([config], seeds, 0), block_rows)
    n_init = min(seeds, INIT_MAX)
    start = time.perf_counter()
    if n_init == seeds:
        states = rows.init()
    else:
        small = Blocks(config, *rows_of([config], n_init, 0), block_rows)
        state = small.gather(small.init())
        states = rows.scatter(jax.tree.map(lambda x: x[np.arange(seeds) % n_init], state))
    jax.block_until_ready(states)
    init_s = time.perf_counter() - start
    states, _ = rows.advance(states, 1)  # compile (or load from the cache) and warm up
    jax.block_until_ready(states)
    steps_per_log = seeds * config.run.log_every * config.run.steps_per_update
    logs, start = 0, time.perf_counter()
    while True:
        states, _ = rows.advance(states, 1)
        jax.block_until_ready(states)
        logs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
    return {"seeds": seeds, "env_steps_per_s": steps_per_log * logs / elapsed, "timed_s": elapsed,
            "timed_logs": logs, "init_s": init_s, "initialised_seeds": n_init, "block_rows": rows.block,
            "devices": jax.device_count(), "peak_rss_gb": peak_rss_gb()}


def work_baseline(n_seeds: int, min_time: float, overrides: dict | None = None) -> dict:
    """One seed at a time: ``jax.jit`` of one seed's ``advance``, in a Python loop over seeds."""
    import jax

    from brainlike.core import learner
    from brainlike.core.traced import float32
    from brainlike.run.devices import seed_keys

    config = reference_config(overrides)
    numbers = float32(config)
    init, advance = jax.jit(learner.start), jax.jit(learner.resume, static_argnums=2)
    keys = seed_keys(0, range(n_seeds))
    states = [_block(init, keys[i], numbers) for i in range(n_seeds)]
    _block(advance, states[0], numbers, 1)  # compile and warm up
    steps_per_log = config.run.log_every * config.run.steps_per_update
    logs, start = 0, time.perf_counter()
    while True:
        for i in range(n_seeds):  # the loop over seeds
            states[i], _ = _block(advance, states[i], numbers, 1)
            logs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
    return {"env_steps_per_s": steps_per_log * logs / elapsed, "seeds": n_seeds, "timed_logs": logs,
            "peak_rss_gb": peak_rss_gb()}


def work_compile(seeds: int, block_rows: int | None, overrides: dict | None = None) -> dict:
    """Seconds to trace, lower and compile ``init``, ``advance`` and ``outcome`` of one structure."""
    import jax

    from brainlike.run.runner import Blocks, rows_of

    from brainlike.run.devices import default_block_rows

    config = reference_config(overrides)
    rows = Blocks(config, *rows_of([config], seeds, 0), block_rows or default_block_rows())
    keys, configs = rows.put(rows.rows(rows.keys, 0)), rows.configs_dev[0]
    times = {}
    start = time.perf_counter()
    rows.init_fn.lower(keys, configs).compile()
    times["init"] = time.perf_counter() - start
    state = jax.eval_shape(rows.init_fn, keys, configs)
    start = time.perf_counter()
    rows.advance_fn.lower(state, configs, 1).compile()
    times["advance"] = time.perf_counter() - start
    return {"compile_s": sum(times.values()), "parts": times, "block_rows": rows.block,
            "backend": jax.default_backend(), "devices": jax.device_count()}


def work_workload(seeds: int) -> dict:
    from brainlike.run import workload

    return {"shares": workload.shares(seeds), **workload.flops(seeds)}


WORKERS = {"size": work_size, "baseline": work_baseline, "compile": work_compile, "workload": work_workload}


def _spawn(kind: str, params: dict, env: dict | None = None) -> dict:
    """Run one worker in a fresh process; its result, or ``{"error": ...}``."""
    cmd = [sys.executable, "-m", "brainlike.run.bench", "worker", kind, json.dumps(params)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=(os.environ | (env or {})))
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {proc.returncode}: {tail}"}
    return json.loads(lines[-1])


# ---------------------------------------------------------------------------------------
# the benchmark

def run(sizes=SIZES, min_time: float = 3.0, baseline_seeds: int = 3, block_rows: int | None = None,
        cpu_devices: int = 0, overrides: dict | None = None, log=None, workload_seeds: tuple[int, ...] = ()) -> dict:
    """Every measurement, each in its own process; the results as a JSON-able dict."""
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    config = reference_config(overrides)
    result = {"reference": describe_reference(config), "reference_overrides": REFERENCE | (overrides or {}),
              "cpu_cores": os.cpu_count(),
              "load_avg_at_start": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}
    common = {"overrides": overrides, "block_rows": block_rows, "cpu_devices": cpu_devices}
    with tempfile.TemporaryDirectory(prefix="brainlike-bench-cache-") as cache:
        env = {"JAX_COMPILATION_CACHE_DIR": cache, "BRAINLIKE_CACHE": cache}
        log("compiling with an empty cache ...")
        cold = _spawn("compile", common | {"seeds": max(sizes)}, env)
        log("compiling again, with the cache that filled ...")
        warm = _spawn("compile", common | {"seeds": max(sizes)}, env)
    result["compile_s"] = cold.get("compile_s")
    result["compile_parts_s"] = cold.get("parts")
    result["compile_warm_s"] = warm.get("compile_s")
    result["backend"], result["devices"] = cold.get("backend"), cold.get("devices")
    result["env_steps_per_s"], result["peak_rss_gb"], result["init_s"], errors = {}, {}, {}, {}
    for seeds in sizes:
        log(f"{seeds} seeds ...")
        r = _spawn("size", common | {"seeds": seeds, "min_time": min_time})
        if "error" in r:
            errors[str(seeds)] = r["error"]
        result["env_steps_per_s"][str(seeds)] = r.get("env_steps_per_s")
        result["peak_rss_gb"][str(seeds)] = r.get("peak_rss_gb")
        result["init_s"][str(seeds)] = r.get("init_s")
    log(f"baseline: {baseline_seeds} seeds one at a time ...")
    base = _spawn("baseline", {"overrides": overrides, "n_seeds": baseline_seeds, "min_time": min_time,
                               "cpu_devices": 1})  # one seed at a time runs on one device
    result["baseline_env_steps_per_s"] = base.get("env_steps_per_s")
    for kind, r in (("compile", cold), ("compile_warm", warm), ("baseline", base)):
        if "error" in r:
            errors[kind] = r["error"]
    if errors:
        result["errors"] = errors
    result["speedup"] = {k: (v / result["baseline_env_steps_per_s"] if v and result["baseline_env_steps_per_s"]
                             else None) for k, v in result["env_steps_per_s"].items()}
    if workload_seeds:
        result["workload"] = figures_workload(workload_seeds, log)
    return result


def figures_workload(seeds: tuple[int, ...], log) -> dict:
    """The loop_closure reference condition, as ``run.workload`` measures it."""
    from brainlike.run import workload

    out = {"command": " ".join(["brainlike"] + workload.command(0, Path("DIR"))[3:]).replace("--seeds 0", "--seeds N"),
           "runs": []}
    for n in seeds:
        log(f"figures' workload: {n} seeds, from the command line ...")
        out["runs"].append(workload.time_workload(n))
    log("figures' workload: where the time goes, and FLOPs ...")
    out |= _spawn("workload", {"seeds": min(seeds)})
    return out


def table(r: dict) -> str:
    """The results for people."""
    fmt = lambda v, f: "n/a" if v is None else format(v, f)  # noqa: E731
    lines = [f"reference config: {r['reference']}",
             f"machine: {r['cpu_cores']} CPU cores, {r['devices']} {r['backend']} device(s), "
             f"load average {r['load_avg_at_start']} at start",
             "",
             f"{'seeds':>6}  {'env-steps/s':>12}  {'x baseline':>10}  {'peak RSS GB':>11}"]
    for k, v in r["env_steps_per_s"].items():
        lines.append(f"{k:>6}  {fmt(v, ',.0f'):>12}  {fmt(r['speedup'][k], '.1f'):>10}  "
                     f"{fmt(r['peak_rss_gb'][k], '.2f'):>11}")
    lines += ["",
              f"baseline (jit of one seed's advance, Python loop over seeds): "
              f"{fmt(r['baseline_env_steps_per_s'], ',.0f')} env-steps/s",
              f"compile of one structural condition (init + advance + outcome): {fmt(r['compile_s'], '.1f')} s "
              f"with an empty cache, {fmt(r['compile_warm_s'], '.1f')} s warm"]
    if "workload" in r:
        w = r["workload"]
        lines += ["", f"figures' workload: {w['command']}"]
        for run_ in w["runs"]:
            lines.append(f"  {run_.get('seeds')} seeds: {fmt(run_.get('wall_s'), '.1f')} s end to end, "
                         f"{fmt(run_.get('env_steps_per_s'), ',.0f')} env-steps/s; with one logged point "
                         f"({run_.get('fixed_steps')} steps) {fmt(run_.get('fixed_s'), '.1f')} s, the steps beyond "
                         f"at {fmt(run_.get('rl_env_steps_per_s'), ',.0f')} env-steps/s" if "error" not in run_
                         else f"  error: {run_['error']}")
        if "shares" in w:
            lines.append("  where the time goes: " + ", ".join(f"{k} {v:.0%}" for k, v in w["shares"]["shares"].items()))
            lines.append(f"  {w['flops_per_env_step']:,} FLOPs per env-step (XLA cost analysis of an RL update); "
                         f"matmul peak {w['matmul_peak_gflops']} GFLOP/s")
    for k, e in r.get("errors", {}).items():
        lines.append(f"  error in {k}: {e}")
    return "\n".join(lines)


def main(args) -> int:
    try:
        sizes = tuple(int(s) for s in str(args.seeds).split(",") if s.strip())
    except ValueError:
        raise ValueError(f"seeds: {args.seeds!r} is not a comma-separated list of numbers") from None
    if not sizes or min(sizes) < 1:
        raise ValueError(f"seeds: {args.seeds!r}; give population sizes >= 1")
    if args.min_time <= 0 or args.baseline_seeds < 1:
        raise ValueError("min-time and baseline-seeds must be positive")
    workload_seeds = tuple(int(x) for x in str(args.workload_seeds).split(",") if x.strip())
    r = run(sizes, args.min_time, args.baseline_seeds, args.block_rows, args.cpu_devices,
            workload_seeds=workload_seeds)
    print(table(r))
    if args.out:
        from brainlike.store.results import write_json

        write_json(Path(args.out), r)
    if args.json:
        print(json.dumps(r, allow_nan=False))
    return 1 if r.get("errors") else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "worker":
        params = json.loads(sys.argv[3])
        from brainlike.run.devices import use_cpu_devices

        use_cpu_devices(params.pop("cpu_devices", 0))  # as sweeps do, before anything touches a device
        print(json.dumps(WORKERS[sys.argv[2]](**params)))
    else:
        sys.exit("usage: python -m brainlike bench [--json]")
