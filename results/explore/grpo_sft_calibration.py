"""How many supervised updates of the honest start leave the GRPO analogue starting RL about as honest
as the brain-like learner after 5 (a deceptive plan about 4% likely): the channels pilot found grpo
after 5 updates at 24.5% against brainlike's 3.6%, since Adam moves its zero policy head by about its
learning rate per update where SGD moves the valence by its gradient (16 seeds; only the probability of
a deceptive plan where RL starts is read).

Run from the repository root: ``python results/explore/grpo_sft_calibration.py``; it writes
``results/explore/grpo_sft_calibration.json`` beside itself.
"""

from brainlike.config import Config, replace
from pilot import run_pilot

if __name__ == "__main__":
    base = replace(Config(), **{
        "run.steps": 400, "probe.coverage": ("A",), "env.b_prevalence": 0.0, "env.reward_honest": 1.0,
        "env.reward_a": 2.0, "reward.alpha": 3.0, "reward.audit": "on", "env.n_phrasings": 8,
        "env.phrasing_spread": 0.5, "reward.kl_beta": 0.1, "routing": "grpo", "run.group_size": 4})
    conditions = {f"grpo-sft{n}": replace(base, **{"run.sft_steps": n}) for n in (5, 10, 12, 15, 20, 30)}
    run_pilot(__file__, "grpo honest-start calibration: tpr_cliff's like-for-like set-up (8 phrasings, audited alarm, "
              "KL 0.1), groups of 4, 5 / 10 / 12 / 15 / 20 / 30 supervised updates before RL; start_deception is the "
              "probability of a deceptive plan where RL starts; 16 seeds, one logged block", conditions,
              ("start_deception",), seeds=16)
