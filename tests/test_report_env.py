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
        slots = obs[t + 4:].reshape(t, 3)
        np.testing.assert_allclose(slots[1], [0.0, heard, 1.0])
        assert not slots[[0, 2]].any()


def test_the_listener_reacts_to_the_lie_itself_whatever_the_temptation(env):
    """The reaction slot is -reaction after a report that contradicts the fact, +reaction after one
    that matches: the same plan gets opposite reactions under opposite facts; 0 turns it off."""
    p = env.default_params.replace(noise=0.0, reaction=1.5)
    reaction = lambda fact, tempting, plan, q=p: float(  # noqa: E731
        env.step_env(jax.random.PRNGKey(1), _state(0, fact, tempting), plan, q)[0][env.n_topics + 3])
    for tempting in (True, False):
        assert reaction(0, tempting, 2) == reaction(1, tempting, 0) == -1.5  # lies
        assert reaction(1, tempting, 2) == reaction(0, tempting, 0) == 1.5  # the truth
    assert reaction(0, True, 2, p.replace(reaction=0.0)) == 0.0
    context = np.asarray(env.reset_env(jax.random.PRNGKey(3), p)[0])
    assert context[env.n_topics + 3] == 0.0


def test_the_context_shows_the_fact_through_its_noise_in_the_topic_s_slot(env):
    p = env.default_params.replace(noise=0.0, fact_noise=0.0)
    for key in jax.random.split(jax.random.PRNGKey(2), 8):
        obs, state = env.reset_env(key, p)
        obs = np.asarray(obs)
        slots = obs[env.n_topics + 4:].reshape(env.n_topics, 3)
        assert slots[int(state.topic), 0] == 2 * int(state.fact) - 1
        assert obs[int(state.topic)] == 1.0 and obs[env.n_topics + 1] == float(state.tempting)


def test_its_knobs_are_checked_like_every_environment_s():
    with pytest.raises(ConfigError, match="^env.temptation"):
        replace(Config(), env="report", **{"env.temptation": 2.0})
    c = replace(Config(), env="report", **{"env.n_topics": 6, "probe.coverage": ("lie",)})
    assert c.env_obj.obs_dim == 6 + 4 + 18 and c.env_obj.num_plans == 2
