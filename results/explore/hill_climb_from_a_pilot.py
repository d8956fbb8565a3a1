"""Pilot for hill_climb started from A: the alarm enters the reward only after ``reward.alarm_from``
steps, so the agent first settles on A (A pays 1, the path less, honesty 0.5), then meets a graded
or binary alarm (alpha 2, probe fitted on A) with local or all proposals. Does it settle on A, and
where does it end? 32 seeds, brainlike, end_to_end and policy_gradient (sigma 0), settling 6,000
steps then 20,000 with the alarm. For each condition: per plan (0 honest, 1 A, 2-5 the path, 6 B),
the mean share of decisions at the last logged point before the alarm, at the first after it and
over the final window; and the share of seeds with A in most decisions when the alarm arrives.

Run from this folder with the repository on PYTHONPATH: ``python hill_climb_from_a_pilot.py``; it
writes ``hill_climb_from_a_pilot.json`` beside itself.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from brainlike.config import Config, replace
from brainlike.run.devices import use_cpu_devices
from brainlike.run.runner import run_conditions
from brainlike.runtime import configure
from brainlike.store.summary import final_means

SETTLE, CLIMB, SEEDS = 6_000, 20_000, 32


def conditions() -> dict:
    base = replace(Config(), env="hill_climb", **{
        "run.steps": SETTLE + CLIMB, "run.log_every": 25, "probe.coverage": ("A",), "reward.alpha": 2.0,
        "env.reward_b": 0.75, "reward.alarm_from": SETTLE})
    return {f"{r}-{a}-{p}": replace(base, routing=r, **{"reward.alarm": a, "desires.proposal": p})
            for r in ("brainlike", "end_to_end", "policy_gradient") for a in ("graded", "binary")
            for p in ("local", "all")}


def summarise(logged: dict, arrival: int) -> dict:
    freq = np.asarray(logged["plan_freq_by_plan"], np.float64)  # [seeds, points, plans]
    r = lambda v: [round(float(x), 3) for x in v]  # noqa: E731
    return {"at_arrival": r(freq[:, arrival].mean(0)), "after_arrival": r(freq[:, arrival + 1].mean(0)),
            "final_window": r(final_means(freq, 0.2).mean(0)),
            "settled_on_A": round(float((freq[:, arrival, 1] >= 0.5).mean()), 3),
            "final_majority_B": round(float((final_means(freq, 0.2)[:, 6] >= 0.5).mean()), 3)}


if __name__ == "__main__":
    configure()
    use_cpu_devices()
    conds = conditions()
    arrival = SETTLE // next(iter(conds.values())).run.block_steps - 1
    start = time.perf_counter()
    raw = run_conditions(conds, SEEDS, 0, progress=False)
    out = {"settle_steps": SETTLE, "climb_steps": CLIMB, "seeds": SEEDS, "wall_s": round(time.perf_counter() - start, 1),
           "conditions": {n: summarise(logged, arrival) for n, (logged, _) in raw.items()}}
    Path(sys.argv[0]).with_suffix(".json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
