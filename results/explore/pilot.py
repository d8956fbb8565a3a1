"""What every pilot here does: train conditions, then write each one's final-window and first-point
means over seeds, beside the script that declared them (``<script>.json``)."""

import json
import time
from pathlib import Path

import numpy as np

from brainlike.run.devices import use_cpu_devices
from brainlike.run.runner import run_conditions
from brainlike.runtime import configure
from brainlike.store.summary import final_means


def run_pilot(script: str, what: str, conditions: dict, metrics: tuple, seeds: int = 64, per_plan: bool = False):
    configure()
    use_cpu_devices()
    start = time.perf_counter()
    raw = run_conditions(conditions, seeds, 0, progress=False)
    out = {"what": what, "wall_s": round(time.perf_counter() - start, 1), "conditions": {}}
    for name, (logged, _) in raw.items():
        mean = lambda x: round(float(np.nanmean(x)), 3)  # noqa: E731
        block = {"final": {m: mean(final_means(np.asarray(logged[m], np.float64), 0.2)) for m in metrics},
                 "first_point": {m: mean(np.asarray(logged[m])[:, 0]) for m in metrics}}
        if per_plan:
            freq = final_means(np.asarray(logged["plan_freq_by_plan"], np.float64), 0.2).mean(0)
            block["plan_freq_by_plan"] = [round(float(x), 3) for x in freq]
        out["conditions"][name] = block
    Path(script).with_suffix(".json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
