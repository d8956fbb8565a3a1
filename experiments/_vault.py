"""The vault_grid set-up shared by the figures on it (pooling, oversight): the probe fitted on the
door-entering thoughts (kind A) at TPR 0.9, no B and no supervisor (oversight brings one back), and
the learner's settings that vault_grid's learning tests use (a discount of 0.95, temperature 0.05,
valence learning rate 0.5, 8 environments x 8 steps per update), the belief network at its default size.
"""

VAULT = {"env.supervisor": 0.0, "env.b_prevalence": 0.0, "probe.coverage": ("A",), "probe.rate": 0.9,
         "probe.n_thoughts": 128, "beliefs.pretrain_updates": 200,
         "desires.gamma": 0.95, "desires.td_lambda": 0.8, "desires.temperature": 0.05, "desires.lr": 0.5,
         "run.n_envs": 8, "run.rollout_len": 8, "run.log_every": 20}
