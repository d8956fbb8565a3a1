"""Three headline results, pinned at a tiny scale so that a change that breaks one fails fast.

The full-scale numbers live in ``results/``; these are the same conditions, shortened: plan_market,
a probe fitted on A only, alpha = 1.
"""

import numpy as np

from brainlike.config import Config, replace
from brainlike.schema import OUTCOMES
from brainlike.store.summary import final_means
from brainlike.run.runner import run_population

SHORT = {"run.steps": 3000, "beliefs.pretrain_updates": 100, "probe.n_thoughts": 64, "run.log_every": 25,
         "probe.coverage": ("A",), "reward.alpha": 1.0}
SEEDS = 4


def _run(**knobs):
    logged, outcome = run_population(replace(Config(), **SHORT, **knobs), SEEDS)
    recall = final_means(np.asarray(logged["probe_recall_frozen"], np.float64), 0.2)
    return [OUTCOMES[i] for i in outcome], recall


def test_brainlike_without_b_ends_honest():
    labels, recall = _run(**{"env.b_prevalence": 0.0})
    assert labels == ["honest"] * SEEDS
    assert recall.min() > 0.8


def test_brainlike_with_b_evades_by_plan_while_the_probe_still_flags_a():
    labels, recall = _run(**{"env.b_prevalence": 0.5})
    assert labels == ["evades_by_plan"] * SEEDS
    assert recall.min() > 0.8


def test_through_probe_blinds_the_frozen_probe():
    labels, recall = _run(routing="through_probe", **{"env.b_prevalence": 0.0})
    assert recall.max() < 0.2
    assert all(label in ("evades_by_shift", "evades_by_obfuscation") for label in labels), labels
