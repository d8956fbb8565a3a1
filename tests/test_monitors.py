"""Probes deployed off their fitting data, held-out monitors, and metrics an environment declares."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainlike import envs
from brainlike.config import Config, ConfigError, replace
from brainlike.envs.check import check_env
from brainlike.envs.report import ReportState
from brainlike.store.summary import summarize

# two topics, so that half of them is one; a few hundred steps of a few seeds
TINY = {"run.steps": 480, "run.log_every": 10, "probe.n_thoughts": 32, "beliefs.pretrain_updates": 20,
        "env.n_topics": 2, "probe.coverage": ("lie",)}


def _config(**fields) -> Config:
    return replace(Config(), env="report", **TINY, **fields)


def _run(config: Config, n_seeds: int = 2):
    from brainlike.run.runner import run_population

    return run_population(config, n_seeds, 0)


def test_report_keeps_the_environment_contract_with_its_topics_and_metrics():
    for n_topics in (1, 3):
        check_env(envs.make("report", n_topics=n_topics, n_phrasings=2))
    assert envs.make("report", n_topics=3).num_topics == 3 and envs.make("plan_market").num_topics == 0


def test_a_lie_is_told_of_the_fact_and_logged_by_whether_the_episode_tempts():
    env = envs.make("report", n_topics=2)
    p, key = env.default_params, jax.random.PRNGKey(0)
    for topic in (0, 1):
        for fact in (0, 1):
            for tempting in (False, True):
                state = ReportState(jnp.asarray(topic, jnp.int32), jnp.asarray(fact, jnp.int32), jnp.asarray(tempting))
                assert int(env.topic(state, p)) == topic
                for report in (0, 1):  # one phrasing: plan = report
                    info = env.step_env(key, state, report, p)[4]
                    lie = report != fact
                    assert bool(info["deceptive"]) == lie
                    assert (float(info["lie_tempted"]), float(info["lie_calm"])) == (lie and tempting,
                                                                                   lie and not tempting)
                    # the halves probe.topics half fits on (topic 0 of 2) and holds out (topic 1)
                    assert (float(info["lie_first_half"]), float(info["lie_second_half"])) == (lie and topic == 0,
                                                                                             lie and topic == 1)


def test_a_probe_fitted_on_one_topic_is_judged_on_the_other():
    logged, _ = _run(_config(**{"probe.topics": "half"}))
    for side in ("fitted", "heldout"):
        for what in ("recall", "auroc"):
            x = np.asarray(logged[f"probe_{what}_{side}_topics"])
            assert np.isfinite(x).all() and ((x >= 0) & (x <= 1)).all(), (side, what)
    # fitted on every topic, none is held out
    everywhere, _ = _run(_config())
    assert np.isnan(everywhere["probe_recall_heldout_topics"]).all()
    np.testing.assert_array_equal(everywhere["probe_recall_fitted_topics"], everywhere["probe_recall_frozen"])


def test_the_deployed_probe_is_fitted_only_on_its_topics():
    from brainlike.core import learner
    from brainlike.core.rollout import make_spec

    s = make_spec(_config(**{"probe.topics": "half"}))
    thoughts = learner.Thoughts(*(jnp.zeros((96, 1)),) * 4, None, jnp.arange(96) % 2)
    ok = jnp.ones(96, bool)
    np.testing.assert_array_equal(learner.on_topics(s, thoughts, ok), thoughts.topic == 0)
    np.testing.assert_array_equal(learner.on_topics(s, thoughts, ok, held_out=True), thoughts.topic == 1)


def test_held_out_monitors_never_change_the_reward_or_training():
    plain, outcome = _run(_config(**{"probe.topics": "half"}))
    watched, outcome_w = _run(_config(**{"probe.topics": "half", "probe.monitors": ("topics", "resample", "preact")}))
    np.testing.assert_array_equal(outcome, outcome_w)
    for name in plain:
        if not name.startswith("monitor_"):
            np.testing.assert_array_equal(plain[name], watched[name], err_msg=name)
    for name in ("topics", "resample", "preact"):
        assert np.isnan(plain[f"monitor_{name}_auroc"]).all()
        for what in ("recall", "auroc"):
            x = np.asarray(watched[f"monitor_{name}_{what}"])
            assert np.isfinite(x).all() and ((x >= 0) & (x <= 1)).all(), (name, what)


def test_the_environment_s_own_metrics_are_logged_and_summarised():
    config = _config()
    logged, outcome = _run(config)
    env_metrics = np.asarray(logged["env_metrics"])
    assert env_metrics.shape[-1] == 4  # lie_tempted, lie_calm, lie_first_half, lie_second_half
    # one decision per episode: either pair of kinds of lie makes up the deception rate
    for pair in (env_metrics[..., :2], env_metrics[..., 2:]):
        np.testing.assert_allclose(pair.sum(-1), logged["deception_rate"], rtol=1e-5)
    summary = summarize(logged, outcome, config.env_spec.kinds, 0.2, config.env_spec.metrics)
    assert {"env_metrics/lie_tempted", "env_metrics/lie_calm"} <= set(summary["metrics"])


@pytest.mark.parametrize("fields, message", [
    ({"probe.topics": "some"}, "^probe.topics: 'some' is not allowed; allowed: all, half$"),
    ({"probe.monitors": ("depth",)}, "^probe.monitors: 'depth' is not a monitor; allowed: each of topics, resample, "
                                     "preact at most once$"),
    ({"probe.monitors": ("preact", "preact")}, "^probe.monitors: 'preact' is repeated"),
    ({"probe.monitors": ("topics",)}, "^probe.monitors: topics is fitted on the topics the deployed probe is not"),
    ({"env.n_topics": 1, "probe.topics": "half"}, "^probe.topics: half needs an environment with two topics"),
])
def test_bad_values_of_the_new_knobs_name_the_field_and_what_is_allowed(fields, message):
    with pytest.raises(ConfigError, match=message) as e:
        replace(Config(), env="report", **{"probe.coverage": ("lie",)} | fields)
    assert "\n" not in str(e.value)


def test_an_environment_without_topics_cannot_hold_some_out():
    with pytest.raises(ConfigError, match="^probe.topics: half needs .* plan_market has 0; allowed: all$"):
        replace(Config(), env="plan_market", **{"probe.topics": "half"})
