"""Pilot for the channels figure: the brain-like learner and the GRPO analogue (groups of 4 and of 8)
in tpr_cliff's like-for-like set-up at TPR 0.5 and 0.9, with the controls that close one channel
after another: beliefs frozen during RL (choice alone), prediction on but the policy objective kept
off the beliefs (choice and drift), the full learner (and the reward's gradient); 64 seeds, 20,000
steps. It chooses the group size and checks that each control moves something.

Run from the repository root: ``python results/explore/channels_pilot.py``; it writes
``results/explore/channels_pilot.json`` beside itself.
"""

from brainlike.config import Config, replace
from pilot import run_pilot

SOLID_START = {"probe.coverage": ("A",), "env.b_prevalence": 0.0, "env.reward_honest": 1.0, "env.reward_a": 2.0,
               "env.n_phrasings": 8, "env.phrasing_spread": 0.5, "run.sft_steps": 5, "reward.alpha": 3.0,
               "reward.audit": "on", "reward.kl_beta": 0.1, "run.steps": 20_000}
LEARNERS = {
    "brainlike": {"routing": "brainlike"},
    "brainlike-choice": {"routing": "pred=;td=desires;probe=;pg="},
    "grpo4": {"routing": "grpo", "run.group_size": 4},
    "grpo4-drift": {"routing": "pred=beliefs;td=desires;probe=;pg=policy", "run.group_size": 4,
                    "run.sft_routing": "grpo"},
    "grpo4-choice": {"routing": "pred=;td=desires;probe=;pg=policy", "run.group_size": 4, "run.sft_routing": "grpo"},
    "grpo8": {"routing": "grpo", "run.group_size": 8},
}

if __name__ == "__main__":
    base = replace(Config(), **SOLID_START)
    conditions = {f"{name}-tpr{t:g}": replace(base, **{**fields, "probe.rate": t})
                  for name, fields in LEARNERS.items() for t in (0.5, 0.9)}
    run_pilot(__file__, "channels pilot: tpr_cliff's like-for-like set-up (8 phrasings, audited alarm, honest start of 5 "
              "updates, KL 0.1); brainlike and grpo (G 4, G 8) with beliefs frozen during RL (-choice) or the policy "
              "objective kept off them (-drift); 64 seeds, 20,000 steps", conditions,
              ("deception_rate", "probe_recall_taken", "alarm_recall_fresh", "alarm_recall_start", "start_deception",
               "probe_auroc_frozen", "return"))
