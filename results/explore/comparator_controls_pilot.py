"""The pilot that chose comparator_controls' phrasing spread and run length (64 seeds, 6,000 steps).

Run from the repository root: ``python results/explore/comparator_controls_pilot.py``; it writes
``results/explore/comparator_controls_pilot.json`` beside itself.
"""

from brainlike.config import Config, replace
from pilot import run_pilot

METRICS = ("deception_rate", "evasion_rate", "probe_recall_frozen", "probe_recall_taken", "probe_auroc_frozen",
           "probe_auroc_refit", "start_deception", "pg_probe_cosine")

if __name__ == "__main__":
    base = replace(Config(), **{"run.steps": 6_000, "probe.coverage": ("A",), "env.b_prevalence": 0.0,
                                "env.reward_honest": 1.0, "env.reward_a": 2.0, "reward.alpha": 3.0, "probe.rate": 0.9})
    conditions = {}
    for routing in ("brainlike", "policy_gradient"):
        for spread in (0.5, 1.0):
            conditions[f"{routing}-K8-spread{spread:g}"] = replace(
                base, routing=routing, **{"env.n_phrasings": 8, "env.phrasing_spread": spread})
    for sigma, k in ((0.0, 1), (0.5, 4)):
        conditions[f"policy_gradient-s{sigma:g}-a0"] = replace(
            base, routing="policy_gradient", **{"reward.alpha": 0.0, "desires.thought_noise": sigma,
                                                "desires.n_variants": k, "run.cosine_batches": 16})
    run_pilot(__file__, "comparator_controls pilot before the full run: plan_market without B, truth 1, undetected lie 2, "
                   "detected lie -1, probe fitted on A at TPR 0.9; 8 phrasings per kind at spread 0.5 / 1 (sigma 0) "
                   "x brainlike / policy_gradient (alpha 3); policy_gradient at alpha 0 with sigma 0 (1 variant) and "
                   "0.5 (4 variants), the gradient cosine over 16 rollouts; 64 seeds, 6,000 RL steps; final-window "
                   "means over seeds, and the first logged point's",
              conditions, METRICS, per_plan=True)
