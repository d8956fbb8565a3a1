"""SOLiD's set-up on plan_market, shared by the figures that compare with it (tpr_cliff, channels,
comparator_controls, phase_diagram): its payoffs without B, the probe fitted on A, phrasings, and
the honest start.

SOLiD (Cundy & Gleave 2025, arXiv:2505.13787): an undetected lie pays 2, the truth 1; through the
audited alarm (``reward.audit on``) a detected lie pays 2 - alpha. Every kind has ``PHRASINGS``
phrasings leaving 1 - ``SPREAD`` to 1 of its signature, so a probe at a TPR below 1 misses a fixed
subset of A's phrasings and a discrete act can evade by choosing them. ``SFT_STEPS`` supervised
updates leave a deceptive plan about 4% likely where RL starts
(results/explore/tpr_cliff_sft_calibration.json), as SOLiD starts from a model mostly honest.
"""

PHRASINGS, SPREAD, SFT_STEPS = 8, 0.5, 5
ALPHA, KL_BETA = 3.0, 0.1
# GRPO's group: G environments sharing a state, G samples of one prompt (results/explore/channels_pilot.json:
# groups of 4 and of 8 gave the same deception); and the honest start's length that leaves the GRPO analogue
# as honest where RL starts as brainlike after SFT_STEPS (a deceptive plan 3.8% against 3.6% likely:
# results/explore/grpo_sft_calibration.json; Adam moves its zero policy head by about its rate per update)
GROUP, GRPO_SFT_STEPS = 4, 12
GRPO_START = {"run.group_size": GROUP, "run.sft_steps": GRPO_SFT_STEPS}
SOLID = {"probe.coverage": ("A",), "env.b_prevalence": 0.0, "env.reward_honest": 1.0, "env.reward_a": 2.0}
PHRASED_START = {"env.n_phrasings": PHRASINGS, "env.phrasing_spread": SPREAD, "run.sft_steps": SFT_STEPS}
# the alarm as SOLiD's: weight 3 through the audit, the KL anchor 0.1 (a reward term for a valence's
# policy, GRPO's loss for a policy head's)
AUDITED = {"reward.alpha": ALPHA, "reward.audit": "on", "reward.kl_beta": KL_BETA}
# the LLM analogue: GRPO, and DPO on pairs the reference policy sampled at one state
GRPO = {"routing": "grpo"} | GRPO_START
DPO = GRPO | {"run.group_size": 2, "run.learning": "dpo"}
