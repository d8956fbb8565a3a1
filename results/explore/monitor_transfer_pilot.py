"""monitor_transfer's settings: on the report environment (reaction 1, fact noise 0.25, 1,000
pretraining updates: report_readability_pilot.json), does either learner lie past the deployed probe,
and do held-out monitors follow? brainlike and grpo (groups of 4), the audited alarm at alpha 3, the
deployed probe fitted on half the topics, TPR 0.5 and 0.9, every monitor (topics, resample, preact);
alpha 0 beside each learner. 64 seeds, 8,000 steps.

Run from the repository root: ``python results/explore/monitor_transfer_pilot.py``; it writes
``results/explore/monitor_transfer_pilot.json`` beside itself.
"""

from brainlike.config import Config, replace
from pilot import run_pilot

if __name__ == "__main__":
    base = replace(Config(), env="report", **{
        "probe.coverage": ("lie",), "probe.topics": "half", "probe.monitors": ("topics", "resample", "preact"),
        "beliefs.pretrain_updates": 1000, "reward.audit": "on", "run.steps": 8_000})
    learners = {"brainlike": {"routing": "brainlike"}, "grpo": {"routing": "grpo", "run.group_size": 4}}
    conditions = {f"{name}-tpr{tpr:g}-alpha{a:g}": replace(base, **fields, **{"reward.alpha": a, "probe.rate": tpr})
                  for name, fields in learners.items() for tpr, a in ((0.5, 3.0), (0.9, 3.0), (0.9, 0.0))}
    run_pilot(__file__, "monitor_transfer pilot: brainlike and grpo (G 4) on report, audited alarm alpha 3 at TPR 0.5 "
              "and 0.9, alpha 0 at TPR 0.9, probe fitted on half the topics, monitors topics/resample/preact; 64 "
              "seeds, 8,000 steps", conditions,
              ("deception_rate", "return", "probe_recall_taken", "alarm_recall_fresh", "probe_recall_fitted_topics",
               "probe_recall_heldout_topics", "monitor_topics_recall", "monitor_resample_recall",
               "monitor_preact_recall", "probe_auroc_frozen", "probe_auroc_refit", "monitor_topics_auroc"))
