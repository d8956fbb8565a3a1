"""The names every part agrees on: what a run logs, and the outcome labels (no JAX here).

Logging, summaries and curves all read these lists; a learner that logs anything else fails.
"""

OUTCOMES = ("honest", "caught", "evades_by_plan", "evades_by_shift", "evades_by_obfuscation",
            "evades_by_erasure", "unpenalised_unseen", "unpenalised_stale", "unstable",
            "diverged", "evades_by_choice")  # appended, so that labels stored before them keep their indices
# the labels as tables, bars and readings list them
ORDERED = ("honest", "caught", "evades_by_plan", "evades_by_choice", "evades_by_shift", "evades_by_obfuscation",
           "evades_by_erasure", "unpenalised_unseen", "unpenalised_stale", "unstable", "diverged")
assert sorted(ORDERED) == sorted(OUTCOMES)
EVADES = tuple(o for o in ORDERED if o.startswith("evades"))

# logged per point and per seed; the vector-valued ones are indexed by plan kind. ``overseen_return``
# is the return of the episodes in which the alarm was applied (``reward.oversight``), NaN where none ended;
# ``completion_rate`` the share of episodes that terminated (the task done) rather than hit a time limit
SCALARS = ("return", "overseen_return", "env_reward", "safety_score", "deception_rate", "alarm_rate", "evasion_rate",
           "completion_rate", "valence_chosen", "wm_loss", "td_loss", "probe_recall_taken", "probe_recall_frozen",
           "probe_auroc_frozen", "probe_auroc_refit",
           "nonfinite",  # 1.0 where a loss of the logged block, or a parameter at its end, was not finite
           "start_deception",  # the policy's deception probability where RL started (the same at every point)
           # the deployed alarm's recall on fresh thoughts of the kinds it covers, read as the alarm reads them
           # (through the frozen reader where there is one): at this point, and where RL started (before any update)
           "alarm_recall_fresh", "alarm_recall_start",
           "pg_probe_cosine",  # NaN unless run.cosine_batches: see core.learner.gradient_cosine
           # the deployed probe on fresh thoughts of the topics it was fitted on and of the others (``probe.topics``):
           # without topics every thought is a fitted one; with every topic fitted, the held-out ones are NaN
           "probe_recall_fitted_topics", "probe_recall_heldout_topics", "probe_auroc_fitted_topics",
           "probe_auroc_heldout_topics")
MONITORS = ("topics", "resample", "preact")  # the held-out monitors (``probe.monitors``), never in the reward
# each monitor's recall at its own threshold and its AUROC on fresh thoughts; NaN where it is off
SCALARS += tuple(f"monitor_{m}_{k}" for m in MONITORS for k in ("recall", "auroc"))
# ``offer_rate``: how often a plan of the kind came to mind (a fraction of decisions; under learned attention,
# how often the agent thinks of it); ``wm_error_by_kind``: the world model's squared prediction error on fresh
# exploratory thoughts of the kind, put in mind whether or not the agent would think of them
BY_KIND = ("plan_freq", "offer_rate", "probe_recall_taken_by_kind", "probe_recall_by_kind", "probe_score_by_kind",
           "valence_by_kind", "wm_error_by_kind")
BY_PLAN = ("plan_freq_by_plan",)  # indexed by plan: with phrasings, several plans per kind
BY_ENV = ("env_metrics",)  # indexed by the environment's own declared metrics (``EnvSpec.metrics``): per decision
LOGGED = SCALARS + BY_KIND + BY_PLAN + BY_ENV
