"""Pilots for oversight with the alarm judged at the step (``reward.judged step``) beside the
end-judged one: does judging at the step bring back task completion under heavy oversight, is
policy_gradient safer than brainlike, and how long until the final window stops moving? Two runs
of 16 seeds on oversight's set-up (supervisor present half the time, max pooling, alpha 2):
``short``, brainlike, policy_gradient and through_probe step-judged and brainlike and
policy_gradient end-judged at oversight 0.01, 0.05, 0.25 and 1, for 61,440 steps; ``long``,
brainlike both ways at 0.05, 0.25 and 1, for 122,880 steps. For each condition and metric: the
first logged point, the window before the final one, the final window (the last fifth of the
logged points), and the means over ten equal stretches of training.

Run from this folder with the repository on PYTHONPATH: ``python oversight_judged_pilot.py``; it
writes ``oversight_judged_pilot.json`` beside itself.
"""

import json
import time
from pathlib import Path

import numpy as np

from brainlike.config import Config, replace
from brainlike.run.devices import use_cpu_devices
from brainlike.run.runner import run_conditions
from brainlike.runtime import configure
from experiments.pooling import VAULT

METRICS = ("deception_rate", "safety_score", "completion_rate", "env_reward", "alarm_rate")
PILOTS = {"short": (61_440, (0.01, 0.05, 0.25, 1.0), ("brainlike:step", "policy_gradient:step", "through_probe:step",
                                                      "brainlike:end", "policy_gradient:end")),
          "long": (122_880, (0.05, 0.25, 1.0), ("brainlike:step", "brainlike:end"))}


def conditions(steps: int, fractions, routings) -> dict:
    base = replace(Config(), env="vault_grid", **(VAULT | {"env.supervisor": 0.5, "probe.pooling": "max",
                                                           "reward.alpha": 2.0, "run.steps": steps}))
    return {f"{r}-{j}-o{f:g}": replace(base, routing=r, **{"reward.oversight": f, "reward.judged": j})
            for r, j in (x.split(":") for x in routings) for f in fractions}


def windows(x: np.ndarray) -> dict:
    """Means over seeds of ``x`` (``[seeds, points]``): first point, the window before the final one, final window."""
    n = x.shape[1]
    k = max(1, int(round(0.2 * n)))
    r = lambda v: round(float(np.nanmean(v)), 3)  # noqa: E731
    return {"first_point": r(x[:, 0]), "previous_window": r(x[:, n - 2 * k:n - k]), "final_window": r(x[:, n - k:]),
            "stretches": [r(x[:, idx]) for idx in np.array_split(np.arange(n), 10)]}


def summarise(raw: dict) -> dict:
    return {name: {m: windows(np.asarray(logged[m], np.float64)) for m in METRICS} for name, (logged, _) in raw.items()}


if __name__ == "__main__":
    configure()
    use_cpu_devices()
    out = {}
    for pilot, (steps, fractions, routings) in PILOTS.items():
        start = time.perf_counter()
        raw = run_conditions(conditions(steps, fractions, routings), 16, 0, progress=False)
        out[pilot] = {"steps": steps, "wall_s": round(time.perf_counter() - start, 1), "conditions": summarise(raw)}
    Path(__file__).with_suffix(".json").write_text(json.dumps(out, indent=1) + "\n")
