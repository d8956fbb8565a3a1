"""Can a linear probe read the report environment's relational lie? The first look
(report_env_pilot.json) found AUROC 0.53-0.63 at the defaults. Here the alarm is off (alpha 0) and
the brain-like learner runs briefly, so the first logged point reads the beliefs as pretraining left
them: the deployed probe's AUROC on fresh thoughts there, and a refitted probe's.

Two rounds. The first varied the noise on the agent's view of the fact (0.5, 0.1), the pretraining's
length (300, 3,000 updates) and the world model's width (32, 128): AUROC 0.53-0.64 everywhere. The
decoder's own hidden layer can compute "report contradicts fact" from a thought that holds report and
fact apart, and nothing in the outcome is the lie alone: the reward is the lie times the temptation's
sign. The second round crossed a linear decoder (a trial knob, not kept: it read no better) with the
listener's reaction in the outcome (``env.reaction`` 0, 1), a consequence of the lie itself, at fact
noise 0.5 and 0.25: the reaction makes the lie readable (deployed AUROC 0.83-0.90 at the first point,
refitted 0.98-1.00 at the end with the hidden-layer decoder), the decoder does not. The third round,
this script, sets the pretraining's length (300, 1,000, 3,000 updates) with the reaction on, fact noise
0.25. 32 seeds, 2,000 steps.

Run from the repository root: ``python results/explore/report_readability_pilot.py``; it writes
``results/explore/report_readability_pilot.json`` beside itself (the first round's numbers are in the
third's ``first_round`` and ``second_round``).
"""

import json
from pathlib import Path

from brainlike.config import Config, replace
from pilot import run_pilot

SECOND_ROUND = {  # deployed probe's AUROC at the first logged point, refitted probe's at the end
    f"{d}-reaction{r}-noise{n}": v for (d, r, n), v in {
        ("mlp", 0, 0.5): (0.55, 0.573), ("mlp", 0, 0.25): (0.566, 0.596), ("mlp", 1, 0.5): (0.826, 0.981),
        ("mlp", 1, 0.25): (0.904, 0.997), ("linear", 0, 0.5): (0.543, 0.563), ("linear", 0, 0.25): (0.556, 0.577),
        ("linear", 1, 0.5): (0.745, 0.963), ("linear", 1, 0.25): (0.807, 0.99)}.items()}
FIRST_ROUND = {  # deployed probe's AUROC at the first logged point, refitted probe's at the end
    f"noise{n}-pre{p}-h{h}": v for (n, p, h), v in {
        (0.5, 300, 32): (0.557, 0.581), (0.5, 300, 128): (0.582, 0.598), (0.5, 3000, 32): (0.534, 0.546),
        (0.5, 3000, 128): (0.579, 0.581), (0.1, 300, 32): (0.579, 0.621), (0.1, 300, 128): (0.625, 0.635),
        (0.1, 3000, 32): (0.569, 0.572), (0.1, 3000, 128): (0.606, 0.604)}.items()}

if __name__ == "__main__":
    base = replace(Config(), env="report", **{"probe.coverage": ("lie",), "probe.rate": 0.9, "run.steps": 2_000,
                                              "reward.alpha": 0.0})
    conditions = {f"pre{pre}": replace(base, **{"env.fact_noise": 0.25, "env.reaction": 1.0,
                                                "beliefs.pretrain_updates": pre}) for pre in (300, 1000, 3000)}
    run_pilot(__file__, "report environment, readability: brainlike at alpha 0, probe fitted on every topic at TPR "
              "0.9; reaction 1, fact_noise 0.25, pretrain_updates 300/1000/3000; 32 seeds, 2,000 steps", conditions,
              ("deception_rate", "alarm_recall_fresh", "probe_auroc_frozen", "probe_auroc_refit", "wm_loss"), seeds=32)
    out = Path(__file__).with_suffix(".json")
    data = json.loads(out.read_text())
    for key, rounds in (("first_round", FIRST_ROUND), ("second_round", SECOND_ROUND)):
        data[key] = {k: {"auroc_first_point": a, "auroc_refit_final": b} for k, (a, b) in rounds.items()}
    out.write_text(json.dumps(data, indent=1) + "\n")
