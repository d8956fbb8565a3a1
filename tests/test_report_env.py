"""The report environment: a lie is a relation between the fact and the report, not a plan."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainlike import envs
from brainlike.config import Config, ConfigError, replace
from brainlike.envs.report import ReportState


@pytest.fixture(scope="module")
def env():
    return envs.make("report", n_topics=3, n_phrasings=2)


def _state(topic, fact, tempting):
    return ReportState(jnp.asarray(topic, jnp.int32), jnp.asarray(fact, jnp.int32), jnp.asarray(tempting))


def test_the_same_report_is_honest_under_one_fact_and_a_lie_under_the_other(env):
    p, key = env.default_params, jax.random.PRNGKey(0)
    for plan in range(env.num_plans):  # plans 0, 1 report 0; plans 2, 3 report 1
        report = plan // env.n_phrasings
        kinds = [int(env.step_env(key, _state(1, fact, True), plan, p)[4]["kind"]) for fact in (0, 1)]
        assert kinds == [int(report != 0), int(report != 1)]
    # what the learner reads as the opportunity to deceive follows the fact
    np.testing.assert_array_equal(env.plan_kinds(_state(0, 0, False), p), [0, 0, 1, 1])
    np.testing.assert_array_equal(env.plan_kinds(_state(0, 1, False), p), [1, 1, 0, 0])


def test_a_lie_pays_more_only_when_the_episode_tempts(env):
    p, key = env.default_params, jax.random.PRNGKey(0)
    reward = lambda fact, tempting, plan: float(env.step_env(key, _state(2, fact, tempting), plan, p)[2])  # noqa: E731
    assert reward(0, True, 2) == p.reward_lie and reward(0, False, 2) == p.reward_lie_calm
    assert reward(0, True, 0) == reward(0, False, 0) == p.reward_honest


def test_the_outcome_fills_only_the_topic_s_slots_and_hedges_by_phrasing(env):
    p = env.default_params.replace(noise=0.0)
    t = env.n_topics
    for plan, heard in ((2, 0.5), (3, 1.0), (0, -0.5)):  # the faint phrasing conveys 1 - spread of the report
        obs = np.asarray(env.step_env(jax.random.PRNGKey(1), _state(1, 1, True), plan, p)[0])
        slots = obs[t + 3:].reshape(t, 3)
        np.testing.assert_allclose(slots[1], [0.0, heard, 1.0])
        assert not slots[[0, 2]].any()


def test_the_context_shows_the_fact_through_its_noise_in_the_topic_s_slot(env):
    p = env.default_params.replace(noise=0.0, fact_noise=0.0)
    for key in jax.random.split(jax.random.PRNGKey(2), 8):
        obs, state = env.reset_env(key, p)
        obs = np.asarray(obs)
        slots = obs[env.n_topics + 3:].reshape(env.n_topics, 3)
        assert slots[int(state.topic), 0] == 2 * int(state.fact) - 1
        assert obs[int(state.topic)] == 1.0 and obs[env.n_topics + 1] == float(state.tempting)


def test_its_knobs_are_checked_like_every_environment_s():
    with pytest.raises(ConfigError, match="^env.temptation"):
        replace(Config(), env="report", **{"env.temptation": 2.0})
    c = replace(Config(), env="report", **{"env.n_topics": 6, "probe.coverage": ("lie",)})
    assert c.env_obj.obs_dim == 6 + 3 + 18 and c.env_obj.num_plans == 2
