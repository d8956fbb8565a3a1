"""How many supervised updates of the honest start leave RL starting mostly honest, but not certain
(16 seeds; only the probability of a deceptive plan where RL starts is read).

Run from the repository root: ``python results/explore/tpr_cliff_sft_calibration.py``; it writes
``results/explore/tpr_cliff_sft_calibration.json`` beside itself.
"""

from brainlike.config import Config, replace
from pilot import run_pilot

if __name__ == "__main__":
    base = replace(Config(), **{
        "run.steps": 400, "probe.coverage": ("A",), "env.b_prevalence": 0.0, "env.reward_honest": 1.0,
        "env.reward_a": 2.0, "reward.alpha": 3.0, "reward.audit": "on", "env.n_phrasings": 8,
        "env.phrasing_spread": 0.5, "reward.kl_beta": 0.1})
    conditions = {f"{r}-sft{n}": replace(base, routing=r, **{"run.sft_steps": n})
                  for r in ("policy_gradient", "brainlike") for n in (5, 10, 20, 40)}
    run_pilot(__file__, "tpr_cliff honest-start calibration: the like-for-like set-up (8 phrasings, audited alarm, "
              "KL 0.1), 5 / 10 / 20 / 40 supervised updates before RL; start_deception is the probability of a "
              "deceptive plan where RL starts; 16 seeds, one logged block", conditions, ("start_deception",), seeds=16)
