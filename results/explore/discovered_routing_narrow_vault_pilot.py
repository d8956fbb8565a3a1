"""Pilot for discovered_routing on the task that pays RL for reshaping the thoughts: vault_grid with
a narrow thought (``beliefs.thought_dim`` 4), where ``end_to_end`` earned 0.09 more task reward than
``brainlike`` without any alarm (``discovered_routing_reshaping_pilot.*``). With the alarm (alpha 1),
as ``discovered_routing_pilot.py`` ran vault_grid at thought_dim 16: the split network, every mask
under TD and under pg, and without alarm split brainlike and end_to_end. 32 seeds, 20,000 steps;
the same summary per condition.

Run from this folder with the repository on PYTHONPATH: ``python discovered_routing_narrow_vault_pilot.py``;
it writes ``discovered_routing_narrow_vault_pilot.json`` beside itself.
"""

import json
import sys
import time
from pathlib import Path

from brainlike.config import replace
from brainlike.run.devices import use_cpu_devices
from brainlike.run.runner import run_conditions
from brainlike.runtime import configure
from discovered_routing_pilot import SEEDS, STEPS, conditions, summarise

if __name__ == "__main__":
    configure()
    use_cpu_devices()
    conds = {n: replace(c, **{"beliefs.thought_dim": 4}) for n, c in conditions().items() if n.startswith("vault")}
    start = time.perf_counter()
    raw = run_conditions(conds, SEEDS, 0, progress=False)
    out = {"seeds": SEEDS, "steps": STEPS, "thought_dim": 4, "wall_s": round(time.perf_counter() - start, 1),
           "conditions": {n: summarise(logged, outcome) for n, (logged, outcome) in raw.items()}}
    Path(sys.argv[0]).with_suffix(".json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
