"""The pilot that chose the placebo experiment's conditions (64 seeds, 20,000 steps): placebos matched
on the fitted probe's false-positive rate, on how often it fires, or on its recall on A, eight random
directions per seed, beside the fitted probe; and what the grid costs.

Run from this folder: ``python placebo_matching_pilot.py``; it writes ``placebo_matching_pilot.json``
beside itself.
"""

from brainlike.config import Config, replace
from pilot import run_pilot

METRICS = ("deception_rate", "alarm_rate", "evasion_rate", "probe_recall_frozen", "probe_auroc_frozen",
           "start_deception")
DRAWS = 8

if __name__ == "__main__":
    base = replace(Config(), **{"run.steps": 20_000, "probe.coverage": ("A",), "reward.alpha": 1.0,
                                "env.b_prevalence": 0.0})  # loop_closure's, without B
    sampled = {"desires.thought_noise": 0.5, "desires.n_variants": 4}  # tpr_cliff's activation-space RL
    matches = {"brainlike": ("fpr", "firing", "recall"), "end_to_end": ("firing", "recall"),
               "policy_gradient": ("firing", "recall")}
    conditions = {}
    for routing, kinds in matches.items():
        plain = replace(base, routing=routing, **(sampled if routing == "policy_gradient" else {}))
        conditions[f"{routing}-fitted"] = plain
        for match in kinds:
            for d in range(DRAWS):
                conditions[f"{routing}-{match}-d{d}"] = replace(plain, **{
                    "probe.direction": "random", "probe.placebo_match": match, "probe.placebo_draw": float(d)})
    run_pilot(__file__, "placebo pilot: plan_market without B, probe fitted on A at TPR 0.95, alpha 1 (loop_closure's "
                   "main conditions); brainlike, end_to_end and policy_gradient (sigma 0.5, 4 variants); the fitted "
                   "probe, and placebos matched on its false-positive rate (brainlike only), how often it fires on the "
                   "calibration thoughts, or its recall on A, directions 0-7 of each seed; 64 seeds, 20,000 RL "
                   "steps; final-window means over seeds, and the first logged point's",
              conditions, METRICS)
