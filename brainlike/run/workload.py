"""The figures' own workload, measured: what a user waits for when an experiment runs.

The loop_closure reference condition (every knob at its default, ``probe.coverage A``,
20,000 RL steps) is run end to end from the command a user types (``brainlike run ...`` in a
fresh process, compilation included), and its time is split into shares in-process:
pretraining, thought collection and the probe fit, RL updates, evaluation (the three probe
depths, including a probe refit, every logged point), and host transfers plus writing.
XLA's own cost analysis of the compiled update gives FLOPs per env-step; a large matmul gives
this machine's measured peak, so the distance to the physical limit is a number.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOAD = {"probe.coverage": ("A",), "run.steps": 20_000}


def command(seeds: int, out: Path, steps: int = 20_000) -> list[str]:
    """The command a user types for the workload."""
    return [sys.executable, "-m", "brainlike", "run", "--env", "plan_market", "--probe.coverage", "A",
            "--seeds", str(seeds), "--steps", str(steps), "--out", str(out)]


def time_command(seeds: int, steps: int = 20_000) -> dict:
    """Wall time of the user's command in a fresh process (compilation, if the cache is cold, included)."""
    with tempfile.TemporaryDirectory(prefix="brainlike-workload-") as tmp:
        start = time.perf_counter()
        proc = subprocess.run(command(seeds, Path(tmp) / "run", steps), capture_output=True, text=True)
        wall = time.perf_counter() - start
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return {"seeds": seeds, "wall_s": round(wall, 2), "env_steps_per_s": round(seeds * steps / wall)}


def time_workload(seeds: int) -> dict:
    """``time_command`` at ``seeds``, split into a fixed part (the same command with one logged
    point: start-up, tracing, loading compiled code, pretraining, the probe fit, writing) and the
    rate of the RL steps beyond it (the rest of the run, the evaluation at each logged point included)."""
    from brainlike.config import Config

    run = Config().run
    one_point = run.log_every * run.steps_per_update
    full, short = time_command(seeds), time_command(seeds, one_point)
    if "error" in full or "error" in short:
        return full if "error" in full else short
    beyond = full["wall_s"] - short["wall_s"]
    return full | {"fixed_s": short["wall_s"], "fixed_steps": one_point,
                   "rl_env_steps_per_s": round(seeds * (WORKLOAD["run.steps"] - one_point) / beyond) if beyond > 0
                   else None}


def _timed(fn, *args) -> float:
    import jax

    jax.block_until_ready(fn(*args))  # compiled and warm
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def shares(seeds: int = 256) -> dict:
    """Seconds of one block of ``seeds`` rows in each phase of a full run, and their shares."""
    import jax
    import numpy as np

    from brainlike.config import Config, replace
    from brainlike.core import learner
    from brainlike.core.rollout import make_spec
    from brainlike.core.traced import rows
    from brainlike.run.devices import seed_keys
    from brainlike.store.results import write_run

    config = replace(Config(), **WORKLOAD)
    keys, configs = seed_keys(0, np.arange(seeds)), rows([config], seeds)
    bare = rows([replace(config, **{"beliefs.pretrain_updates": 0})], seeds)
    init = jax.jit(jax.vmap(learner.start))
    state = init(keys, configs)
    n_logs, k = config.run.n_logs, 4  # time k logged points and scale to the run
    advance = jax.jit(jax.vmap(lambda s, c: learner.resume(s, c, k)))
    evaluate = jax.jit(jax.vmap(lambda s, c: learner.evaluate(make_spec(c), s)))
    t_all, t_bare = _timed(init, keys, configs), _timed(init, keys, bare)
    t_advance, t_eval = _timed(advance, state, configs) * n_logs / k, _timed(evaluate, state, configs) * n_logs
    start = time.perf_counter()
    logged = {name: np.repeat(np.asarray(v), n_logs // k, axis=1)
              for name, v in jax.device_get(advance(state, configs)[1]).items()}
    with tempfile.TemporaryDirectory(prefix="brainlike-workload-") as tmp:
        write_run(Path(tmp), config, logged, np.zeros(seeds, np.int32))
    t_write = time.perf_counter() - start
    parts = {"pretraining": t_all - t_bare, "thoughts and probe fit": t_bare, "RL updates": t_advance - t_eval,
             "evaluation (probe depths, refit)": t_eval, "host transfers and writing": t_write}
    total = sum(parts.values())
    return {"seeds": seeds, "seconds": {k_: round(v, 2) for k_, v in parts.items()},
            "shares": {k_: round(v / total, 3) for k_, v in parts.items()}}


def flops(seeds: int = 256) -> dict:
    """FLOPs per env-step of an RL update (XLA's cost analysis; the evaluation every logged point is
    not included), and this machine's matmul peak (a 1024 x 1024 float32 product, best of five)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from brainlike.config import Config, replace
    from brainlike.core import learner
    from brainlike.core.rollout import make_spec
    from brainlike.core.traced import rows
    from brainlike.run.devices import seed_keys

    config = replace(Config(), **WORKLOAD)
    configs = rows([config], seeds)
    state = jax.jit(jax.vmap(learner.start))(seed_keys(0, np.arange(seeds)), configs)
    update = jax.jit(jax.vmap(lambda s, c: learner.rl_update(make_spec(c), s)[0])).lower(state, configs).compile()
    cost = update.cost_analysis()  # a loop's body counts once: the update has none but its 1-step rollout
    cost = cost[0] if isinstance(cost, list) else cost
    per_step = float(cost["flops"]) / (seeds * config.run.steps_per_update)
    n = 1024
    a = jnp.ones((n, n), jnp.float32)
    mm = jax.jit(lambda x: x @ x)
    t = min(_timed(mm, a) for _ in range(5))
    return {"flops_per_env_step": round(per_step), "matmul_peak_gflops": round(2 * n ** 3 / t / 1e9, 1)}
