"""Pilot for discovered_routing's price: is there a task on which RL that may reshape the thoughts
gains? The first pilot (``discovered_routing_pilot.*``) found none among its tasks without an
alarm (vault_grid: end_to_end's task reward 0.003 above brainlike's; plan_market without B: 0).
Here the thought is narrowed (``beliefs.thought_dim`` 2, 4, 16) on vault_grid and on plan_market
without B, alpha 0 (no alarm): ``split`` under ``brainlike`` (TD into the valence head only)
against ``end_to_end`` (TD into every belief parameter). 32 seeds, 20,000 steps: the task reward
over the final window and over the first quarter (learning speed), paired per seed.

Run from this folder with the repository on PYTHONPATH: ``python discovered_routing_reshaping_pilot.py``;
it writes ``discovered_routing_reshaping_pilot.json`` beside itself.
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
from discovered_routing_pilot import ENVS, SEEDS, STEPS

DIMS = (2, 4, 16)


def conditions() -> dict:
    return {f"{e}-dim{d}-{r}": replace(Config(), routing=r, **{
        "run.steps": STEPS, "probe.coverage": ("A",), "reward.alpha": 0.0, "beliefs.thought_dim": d, **ENVS[e]})
        for e in ("vault", "marketnoB") for d in DIMS for r in ("brainlike", "end_to_end")}


if __name__ == "__main__":
    configure()
    use_cpu_devices()
    start = time.perf_counter()
    raw = run_conditions(conditions(), SEEDS, 0, progress=False)
    env = {n: np.asarray(logged["env_reward"], np.float64) for n, (logged, _) in raw.items()}
    quarter = lambda x: x[:, :max(1, x.shape[1] // 4)].mean(1)  # noqa: E731
    out = {"seeds": SEEDS, "steps": STEPS, "wall_s": round(time.perf_counter() - start, 1), "conditions": {}}
    for n, x in env.items():
        block = {"env_reward_final": round(float(final_means(x, 0.2).mean()), 3),
                 "env_reward_first_quarter": round(float(quarter(x).mean()), 3)}
        if n.endswith("end_to_end"):
            ref = env[n.replace("end_to_end", "brainlike")]
            d = final_means(x, 0.2) - final_means(ref, 0.2)
            block |= {"final_minus_brainlike": round(float(d.mean()), 3),
                      "final_minus_brainlike_sd": round(float(d.std(ddof=1)), 3),
                      "first_quarter_minus_brainlike": round(float((quarter(x) - quarter(ref)).mean()), 3)}
        out["conditions"][n] = block
    Path(sys.argv[0]).with_suffix(".json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
