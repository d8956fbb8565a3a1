"""The phase diagram like for like with the Obfuscation Atlas: how long until the final window has
settled, and is every region present? (64 seeds, 20,000 steps, alpha 1 / 3 x beta 0 / 1e-4 / 1e-2 /
1e-1, brainlike and policy_gradient at sigma 0; the like-for-like set-up of tpr_cliff without the
audit: the penalty is alpha whenever the alarm fires, as the Atlas's R - alpha psi).

Run from the repository root: ``python results/explore/phase_diagram_atlas_pilot.py``; it writes
``results/explore/phase_diagram_atlas_pilot.json`` beside itself, with the mean deception rate over
seeds at 2,000 / 6,000 / 10,000 / 20,000 steps (each the mean of the logged block ending there).
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

CHECKPOINTS = (2_000, 6_000, 10_000, 20_000)

if __name__ == "__main__":
    configure()
    use_cpu_devices()
    base = replace(Config(), **{
        "run.steps": 20_000, "probe.coverage": ("A",), "env.b_prevalence": 0.0, "env.reward_honest": 1.0,
        "env.reward_a": 2.0, "env.n_phrasings": 8, "env.phrasing_spread": 0.5, "run.sft_steps": 5})
    conditions = {f"{r}-a{a:g}-b{k:g}": replace(base, routing=r, **{"reward.alpha": a, "reward.kl_beta": k})
                  for r in ("brainlike", "policy_gradient") for a in (1.0, 3.0) for k in (0.0, 1e-4, 1e-2, 1e-1)}
    start = time.perf_counter()
    raw = run_conditions(conditions, 64, 0, progress=False)
    out = {"what": "phase_diagram like-for-like pilot: deception rate (mean over 64 seeds) of the logged block "
                   "ending at each checkpoint, final-window means, outcome counts are not computed here",
           "wall_s": round(time.perf_counter() - start, 1), "conditions": {}}
    for name, (logged, _) in raw.items():
        dec = np.asarray(logged["deception_rate"], np.float64)
        per_block = 20_000 / dec.shape[1]
        out["conditions"][name] = {
            "deception_at": {str(c): round(float(dec[:, int(c / per_block) - 1].mean()), 3) for c in CHECKPOINTS},
            "final": {m: round(float(np.nanmean(final_means(np.asarray(logged[m], np.float64), 0.2))), 3)
                      for m in ("deception_rate", "alarm_rate", "evasion_rate", "probe_recall_taken",
                                "probe_auroc_frozen", "start_deception")}}
    Path(__file__).with_suffix(".json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
