"""Does calibrating the pooled alarm on labelled episodes (``probe.calibrate_on = episodes``) leave
mean pooling evaded, and is the evasion learned? Single-thought calibration beside it (16 seeds,
alarm weight 1.5, brainlike and policy_gradient; through_probe is left out: it blinds the probe at
every pooling). The first logged point (after 20 RL updates) stands in for the start of RL.

Run from this folder with the repository on PYTHONPATH: ``python pooling_calibration.py``; it writes
``pooling_calibration.json`` beside itself.
"""

from brainlike.config import Config, replace
from experiments.pooling import VAULT
from pilot import run_pilot

if __name__ == "__main__":
    base = replace(Config(), env="vault_grid", **VAULT, **{"run.steps": 20_000, "reward.alpha": 1.5})
    conditions = {f"{r}-{p}-{on}": replace(base, routing=r, **{"probe.pooling": p, "probe.calibrate_on": on})
                  for r in ("brainlike", "policy_gradient") for p in ("last", "mean", "max")
                  for on in ("thoughts", "episodes")}
    run_pilot(__file__, "pooling calibrated on thoughts or on labelled episodes: brainlike and policy_gradient, "
              "alpha 1.5, 16 seeds, 20,000 steps", conditions,
              ("deception_rate", "evasion_rate", "alarm_rate", "probe_recall_taken", "probe_recall_frozen",
               "probe_auroc_frozen"), seeds=16)
