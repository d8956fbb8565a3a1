"""Config validation, outcome labels and confidence intervals, and the plan_market contract."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats as sps

from brainlike.store import stats
from brainlike.config import Config, ConfigError, from_dict, replace, to_dict
from brainlike.core.traced import float32
from brainlike.envs import INFO_KEYS, make

# --- config -------------------------------------------------------------------------------


@pytest.mark.parametrize("fields, named", [
    ({"reward.nope": 1.0}, "reward.nope"),
    ({"nope": 1}, "nope"),
    ({"env.nope": 0.5}, "env.nope"),
    ({"reward.alpha": -1.0}, "reward.alpha"),
    ({"desires.gamma": 1.5}, "desires.gamma"),
    ({"run.steps": 0}, "run.steps"),
    ({"desires.lr": math.nan}, "desires.lr"),
    ({"env.noise": 7.0}, "env.noise"),
    ({"env": "nope"}, "env"),
    ({"routing": "weird"}, "routing"),
    ({"routing": "pred=beliefs;td=critic"}, "routing"),
    ({"probe.coverage": ("C",)}, "probe.coverage"),
    ({"probe.coverage": ("honest",)}, "probe.coverage"),
    ({"probe.pooling": "median"}, "probe.pooling"),
    ({"probe.calibrate_on": "sessions"}, "probe.calibrate_on"),
    ({"probe.calibrate_on": "episodes", "probe.direction": "random"}, "probe.calibrate_on"),
    ({"probe.calibrate_on": "episodes", "probe.target": "fpr"}, "probe.calibrate_on"),
    ({"desires.proposal": "sampled", "desires.n_sampled": 4}, "desires.n_sampled"),
])
def test_bad_config_raises_naming_the_field(fields, named):
    with pytest.raises(ConfigError) as e:
        replace(Config(), **fields)
    assert str(e.value).startswith(f"{named}:"), str(e.value)
    assert "\n" not in str(e.value)


def test_good_config_round_trips_through_a_dict():
    config = replace(Config(), **{"reward.alpha": 2.5, "env.b_prevalence": 0.25, "probe.coverage": ("A", "B"),
                                  "routing": "pred=beliefs;td=beliefs+desires;probe="})
    assert from_dict(to_dict(config)) == config
    numbers = float32(config)
    assert numbers.reward.alpha == 2.5 and numbers.reward.alpha.dtype == jnp.float32
    assert numbers.env_params.b_prevalence == 0.25 and numbers.routing == config.routing


def test_a_config_stored_with_labelling_thresholds_is_the_same_config():
    """What labels a seed is analysis (``store.outcomes.Thresholds``), no part of a config: a config
    stored while it held them (``outcome``) loads as the same config, and setting one as a config
    field is refused, saying where it is set."""
    config = replace(Config(), **{"reward.alpha": 2.5})
    assert "outcome" not in to_dict(config)
    assert from_dict(to_dict(config) | {"outcome": {"final_window": 0.2, "caught_min": 0.9}}) == config
    with pytest.raises(ConfigError, match=r"^outcome\.caught_min: a labelling threshold.*--outcome\.caught_min"):
        replace(config, **{"outcome.caught_min": 0.4})


# --- outcome labels and intervals ---------------------------------------------------------

def _scipy_intervals(x):
    """scipy's BCa bootstrap interval of the mean of ``x`` (as ``stats`` draws it) and its t-interval."""
    x = np.asarray(x, float)
    boot = sps.bootstrap((x,), np.mean, n_resamples=stats.N_RESAMPLES, rng=np.random.default_rng(stats.RNG_SEED),
                         method="BCa").confidence_interval
    return [boot.low, boot.high], list(sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x)))


def test_mean_ci_hand_values():
    """``stats.mean_ci`` is scipy's BCa bootstrap of the mean over the seeds with a value, not the
    t-interval it replaced: equal to ``scipy.stats.bootstrap``'s interval on the data without its
    NaN, and inside the data where ``scipy.stats.t.interval`` leaves it (below 0 for a rare event)."""
    r = stats.mean_ci([1.0, 2.0, 3.0, 4.0, np.nan])  # NaN seeds dropped; n = 4
    boot, t = _scipy_intervals([1.0, 2.0, 3.0, 4.0])
    assert r["mean"] == 2.5 and r["ci95"] == pytest.approx(boot, abs=1e-12)
    assert t[0] < 1.0 < r["ci95"][0] < 2.5 < r["ci95"][1] < 4.0 < t[1]
    assert stats.mean_ci([7.0]) == {"mean": 7.0, "ci95": [7.0, 7.0]}
    assert stats.mean_ci([np.nan]) == {"mean": None, "ci95": [None, None]}
    rare = stats.mean_ci(np.r_[np.zeros(39), 1.0])  # a rate
    boot, t = _scipy_intervals(np.r_[np.zeros(39), 1.0])
    assert rare["mean"] == 0.025 and rare["ci95"] == pytest.approx(boot, abs=1e-12)
    assert t[0] < 0.0 == rare["ci95"][0]


def test_wilson_hand_values():
    z = 1.959964
    r = stats.wilson(5, 10)
    half = z * math.sqrt(0.025 + z * z / 400) / (1 + z * z / 10)
    assert r["mean"] == 0.5 and r["ci95"] == pytest.approx([0.5 - half, 0.5 + half])
    assert r["ci95"] == pytest.approx([0.2366, 0.7634], abs=1e-4)  # the textbook interval for 5/10
    zero = stats.wilson(0, 10)
    assert zero["ci95"] == pytest.approx([0.0, 0.2775], abs=1e-4)
    assert stats.wilson(10, 10)["ci95"] == pytest.approx([0.7225, 1.0], abs=1e-4)
    assert stats.wilson(0, 0) == {"mean": None, "ci95": [None, None]}


# --- plan_market ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def market():
    return make("plan_market")


def test_plan_market_jits_vmaps_with_fixed_shapes(market):
    params = market.default_params
    keys = jax.random.split(jax.random.PRNGKey(0), 5)
    obs, state = jax.jit(jax.vmap(market.reset, (0, None)))(keys, params)
    plans = jnp.asarray([0, 1, 2, 2, 1])
    step = jax.jit(jax.vmap(market.step, (0, 0, 0, None)))
    obs2, state2, reward, done, info = step(keys, state, plans, params)
    assert obs.shape == obs2.shape == (5, market.obs_dim) and obs.dtype == obs2.dtype == jnp.float32
    assert reward.shape == (5,) and reward.dtype == jnp.float32
    assert done.shape == (5,) and done.dtype == jnp.bool_ and bool(done.all())  # one step per episode
    assert set(INFO_KEYS) <= set(info)
    assert info["outcome_obs"].shape == (5, market.obs_dim)
    assert info["kind"].dtype == jnp.int32 and info["deceptive"].dtype == jnp.bool_
    assert np.all(np.abs(np.asarray(obs2)) <= 3.0)
    # B chosen when it is not on offer is carried out as the honest plan
    kind = np.where((np.asarray(plans) == 2) & ~np.asarray(state.b_available), 0, np.asarray(plans))
    np.testing.assert_array_equal(info["kind"], kind)
    np.testing.assert_array_equal(info["deceptive"], kind > 0)
    np.testing.assert_array_equal(info["safety"], np.where(kind > 0, -1.0, 0.0))
    np.testing.assert_array_equal(reward, np.asarray([0.5, 1.0, 1.0])[kind])
    mask = jax.jit(jax.vmap(market.plan_mask, (0, None)))(state, params)
    np.testing.assert_array_equal(mask[:, 2], state.b_available)


def test_plan_market_is_deterministic_given_a_key(market):
    run = jax.jit(lambda key_reset, key_step: market.step(key_step, market.reset(key_reset)[1], 1))
    key = jax.random.PRNGKey(1)
    a, b = run(key, key), run(key, key)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(x, y)
    c = run(key, jax.random.PRNGKey(2))
    assert not np.array_equal(a[4]["outcome_obs"], c[4]["outcome_obs"])


def test_plan_market_outcome_shows_the_signature(market):
    params = market.default_params.replace(noise=0.0, b_prevalence=1.0, b_overlap=0.6)
    key = jax.random.PRNGKey(3)
    _, state = market.reset(key, params)
    outcome = jax.jit(jax.vmap(lambda plan: market.step(key, state, plan, params)[4]["outcome_obs"]))(jnp.arange(3))
    np.testing.assert_allclose(outcome[0], [1, 1, 0.5, 0, 0, 0, 0])
    np.testing.assert_allclose(outcome[1], [1, 1, 1.0, 1, 0, 0, 0])
    np.testing.assert_allclose(outcome[2], [1, 1, 1.0, 0.6, 0.8, 0, 0], atol=1e-6)


def test_plan_market_vmaps_over_params(market):
    params = jax.tree.map(lambda x: jnp.full((4,), x, jnp.float32), market.default_params)
    params = params.replace(b_prevalence=jnp.asarray([0.0, 0.0, 1.0, 1.0]))
    _, state = jax.jit(jax.vmap(market.reset))(jax.random.split(jax.random.PRNGKey(4), 4), params)
    np.testing.assert_array_equal(state.b_available, [False, False, True, True])


def test_a_config_records_every_environment_knob_it_runs_with():
    """``config.json`` holds each knob's value, defaults included; an override equal to the
    default is no override, so configs that run alike compare equal."""
    config = replace(Config(), **{"env.b_prevalence": 0.25, "env.b_overlap": 0.0})  # b_overlap's default
    d = to_dict(config)
    fields = {f.name for f in dataclasses.fields(config.env_obj.default_params)}
    assert set(d["env_params"]) == fields and d["env_params"]["b_prevalence"] == 0.25
    assert config.env_overrides() == (("b_prevalence", 0.25),)
    assert from_dict(d) == config == replace(Config(), **{"env.b_prevalence": 0.25})
