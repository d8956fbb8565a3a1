"""The phase diagram on the GRPO analogue: on which scale of alpha and beta does each axis move the
outcome? (64 seeds, 20,000 steps; grpo at alpha 0.5 / 1 / 2 / 3 x beta 0 / 1e-2 / 1e-1 / 1, its KL a
loss of the policy head as GRPO's; brainlike at alpha 0.5 / 1 / 2 x beta 0 / 1e-1 / 1, its KL a
reward term; the like-for-like set-up of tpr_cliff without the audit: the penalty is alpha whenever
the alarm fires, as the Atlas's R - alpha psi).

Run from the repository root: ``python results/explore/phase_diagram_grpo_pilot.py``; it writes
``results/explore/phase_diagram_grpo_pilot.json`` beside itself, with the mean deception rate over
seeds in the logged block ending at 2,000 / 6,000 / 10,000 / 16,000 / 20,000 steps, and final-window means.
"""

import json
import time
from pathlib import Path

import numpy as np

from brainlike.config import Config, replace
from brainlike.run.devices import use_cpu_devices
from brainlike.run.runner import run_conditions
from brainlike.runtime import configure
from brainlike.store.summary import final_means
from experiments._solid import GRPO, PHRASED_START, SOLID

CHECKPOINTS = (2_000, 6_000, 10_000, 16_000, 20_000)

if __name__ == "__main__":
    configure()
    use_cpu_devices()
    base = replace(Config(), **SOLID | PHRASED_START | {"run.steps": 20_000})
    grid = {"grpo": ((0.5, 1.0, 2.0, 3.0), (0.0, 1e-2, 1e-1, 1.0)), "brainlike": ((0.5, 1.0, 2.0), (0.0, 1e-1, 1.0))}
    conditions = {f"{r}-a{a:g}-b{k:g}": replace(base, **(GRPO if r == "grpo" else {"routing": r}),
                                                **{"reward.alpha": a, "reward.kl_beta": k})
                  for r, (alphas, betas) in grid.items() for a in alphas for k in betas}
    start = time.perf_counter()
    raw = run_conditions(conditions, 64, 0, progress=False)
    out = {"what": "phase_diagram on grpo pilot: deception rate (mean over 64 seeds) of the logged block ending at "
                   "each checkpoint, and final-window means",
           "wall_s": round(time.perf_counter() - start, 1), "conditions": {}}
    for name, (logged, _) in raw.items():
        dec = np.asarray(logged["deception_rate"], np.float64)
        per_block = 20_000 / dec.shape[1]
        out["conditions"][name] = {
            "deception_at": {str(c): round(float(dec[:, int(c / per_block) - 1].mean()), 3) for c in CHECKPOINTS},
            "final": {m: round(float(np.nanmean(final_means(np.asarray(logged[m], np.float64), 0.2))), 3)
                      for m in ("deception_rate", "alarm_rate", "evasion_rate", "probe_recall_taken",
                                "alarm_recall_fresh", "probe_auroc_frozen", "start_deception")}}
    Path(__file__).with_suffix(".json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
