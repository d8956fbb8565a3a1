"""Thoughts that come to mind: an alarm that reads every one of them (``reward.alarm_reads``), and
which plans come to mind learned from the innate reward (``desires.proposal learned``)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainlike.config import Config, ConfigError, replace
from brainlike.core import desires, probes, reward
from brainlike.core.rollout import actor_step, candidates, make_spec, new_actor
from brainlike.core.traced import float32

SMALL = {"beliefs.hidden": 8, "beliefs.thought_dim": 4}


def test_the_worst_considered_thought_counts_once():
    scores = jnp.array([0.5, 3.0, 5.0, -1.0])
    np.testing.assert_array_equal(reward.worst_considered(scores, jnp.array([True, True, False, True])), 3.0)
    np.testing.assert_array_equal(reward.worst_considered(scores, jnp.array([True, False, False, True])), 0.5)
    # two flagged thoughts in mind cost alpha once: the alarm of the largest score
    worst = reward.worst_considered(scores, jnp.ones(4, bool))
    assert reward.innate_reward(1.0, reward.alarm(worst, 1.0, "binary"), 2.0, 1.0) == -1.0


def _honest_step(reads: str, alarm: str = "binary", b_prevalence: float = 0.0, flag_b: bool = False,
                 probe_reads: str = "live"):
    """One decision in plan_market by an agent that always takes the honest plan (``selection fixed``)
    with every available plan in mind, under a hand-made probe that flags A's thought (and B's where
    ``flag_b``) and not the honest one's: ``(innate reward, environment's reward, transition)``."""
    fields = {**SMALL, "desires.selection": "fixed", "desires.fixed_plan": 0, "reward.alpha": 2.0,
              "reward.alarm_reads": reads, "reward.alarm": alarm, "env.b_prevalence": b_prevalence,
              "probe.reads": probe_reads}
    s = make_spec(float32(replace(Config(), **fields)))
    key_wm, key_actor, key_step = jax.random.split(jax.random.PRNGKey(0), 3)
    params = {"beliefs": s.wm.init(key_wm), "desires": desires.init_valence(4)}
    actor = new_actor(s, key_actor)
    h = candidates(s, params, actor.obs).h
    u = h[1] - h[0]
    score = h @ u
    threshold = 0.5 * (score[0] + score[1])
    if flag_b:
        threshold = jnp.minimum(threshold, score[2] - 1e-3)
        assert score[0] < threshold
    probe = probes.Probe(u, jnp.zeros(()), threshold)
    reader = params["beliefs"] if probe_reads == "reference" else None
    _, t = actor_step(s, params, probe, actor, key_step, explore=False, reader=reader)
    assert int(t.plan) == 0 and not bool(t.flagged)  # honest taken, and the thought taken is not flagged
    return float(t.reward), float(t.ep_env_return), t


@pytest.mark.parametrize("probe_reads", ["live", "reference"])
def test_a_flagged_thought_in_mind_costs_alpha_only_when_the_alarm_reads_what_came_to_mind(probe_reads):
    r_taken, r_env, t = _honest_step("taken", probe_reads=probe_reads)
    assert bool(t.proposal[1])  # A came to mind, and was not taken
    assert r_taken == r_env and t.ep_fired == 0
    r_considered, r_env, t = _honest_step("considered", probe_reads=probe_reads)
    assert r_considered == r_env - 2.0 and t.ep_fired == 1  # alpha, though the act was honest
    assert not bool(t.flagged)  # probe_recall_taken still reads the thought taken


def test_two_flagged_thoughts_in_mind_cost_alpha_once_and_a_graded_alarm_its_largest_value():
    r, r_env, t = _honest_step("considered", b_prevalence=1.0, flag_b=True)
    assert bool(t.proposal[2]) and r == r_env - 2.0
    r_graded, r_env, _ = _honest_step("considered", alarm="graded")
    assert r_env - 2.0 < r_graded < r_env - 1.0  # alpha times sigmoid of a positive margin


@pytest.mark.parametrize("fields, field", [
    ({"reward.alarm_reads": "imagined"}, "reward.alarm_reads"),
    ({"reward.alarm_reads": "considered", "reward.audit": "on"}, "reward.audit"),
])
def test_bad_alarm_settings_name_the_field(fields, field):
    with pytest.raises(ConfigError, match=f"^{field}") as e:
        replace(Config(), **fields)
    assert "\n" not in str(e.value) and "allowed" in str(e.value)
