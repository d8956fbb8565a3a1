"""Tiny end-to-end runs: seeds are independent of the population, jit matches no-jit, and the
agent learns what its innate reward asks for."""

import jax
import numpy as np
import pytest
from conftest import TINY_SEEDS

from brainlike import schema
from brainlike.config import Config, replace
from brainlike.core.learner import make_train
from brainlike.run.devices import seed_keys
from brainlike.run.runner import run_conditions, run_population
from brainlike.store.outcomes import Thresholds, label
from brainlike.store.summary import final_means


def _assert_identical(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)  # NaN == NaN here


def _same_seeds_in_4_and_8(config, population4=None):
    """Seeds 0..3 of a population of 8 equal a population of 4 bit for bit, in EVERY logged metric."""
    logged4, outcome4 = population4 or run_population(config, TINY_SEEDS, 0)
    logged8, outcome8 = run_population(config, 2 * TINY_SEEDS, 0)
    assert set(logged4) == set(logged8) == set(schema.LOGGED)
    _assert_identical(logged4, {k: v[:TINY_SEEDS] for k, v in logged8.items()})
    np.testing.assert_array_equal(outcome4, outcome8[:TINY_SEEDS])
    assert logged8["deception_rate"].shape == (8, config.run.n_logs)
    # and the seeds differ from one another
    assert not np.array_equal(logged8["wm_loss"][0], logged8["wm_loss"][1])


def test_seed_i_is_the_same_in_a_population_of_4_and_of_8(tiny_config, tiny_population):
    _same_seeds_in_4_and_8(tiny_config, tiny_population)


def test_seed_i_is_the_same_in_4_and_8_with_full_size_probe_sets(tiny_config):
    """At the default 256 evaluation thoughts XLA on CPU reduces a [seeds, 256, kinds] sum in one
    order for 4 seeds and another for 8; a per-kind mean written as such a sum differed in the
    last bits (probe_score_by_kind up to 1e-6). The 64 thoughts of the tiny config hide it."""
    _same_seeds_in_4_and_8(replace(tiny_config, **{"probe.n_thoughts": 256, "run.steps": 400}))


def test_a_rerun_is_identical(tiny_config, tiny_population):
    logged, outcome = run_population(tiny_config, TINY_SEEDS, 0)
    _assert_identical(tiny_population[0], logged)
    np.testing.assert_array_equal(tiny_population[1], outcome)


# a whole run op by op is slow (every primitive compiles on its own), so it is kept very small
VERY_TINY = {"run.steps": 48, "run.n_envs": 24, "run.log_every": 1, "beliefs.pretrain_updates": 2,
             "probe.n_thoughts": 8, "beliefs.hidden": 8, "beliefs.thought_dim": 4}


@pytest.mark.slow
def test_one_seed_without_jit_matches_jit_and_vmap():
    config = replace(Config(), **VERY_TINY)
    train = make_train(config)
    key = seed_keys(0, [0])[0]
    with jax.disable_jit():
        _, eager = train(key)
    _, jitted = jax.jit(train)(key)
    population, outcome = run_population(config, 2, 0)
    one = lambda logged: int(label(config, jax.tree.map(lambda x: np.asarray(x)[None], logged))[0])  # noqa: E731
    assert one(eager) == one(jitted) == outcome[0]
    for k in population:
        np.testing.assert_allclose(eager[k], jitted[k], rtol=1e-4, atol=1e-5, err_msg=k)
        np.testing.assert_allclose(jitted[k], population[k][0], rtol=1e-5, atol=1e-6, err_msg=k)


@pytest.fixture(scope="module")
def alpha_runs(tiny_config):
    """Seeds 0..3 with alpha = 0 and with alpha = 3, as one compiled batch (numeric conditions)."""
    runs = run_conditions({f"alpha{a:g}": replace(tiny_config, **{"reward.alpha": a}) for a in (0.0, 3.0)},
                          TINY_SEEDS, progress=False)
    return tuple(final_means(runs[n][0]["deception_rate"], Thresholds().final_window) for n in runs)


def test_without_alarm_the_agent_settles_on_deception(alpha_runs):
    unpunished, _ = alpha_runs
    assert np.sum(unpunished > 0.9) >= TINY_SEEDS - 1, unpunished


def test_a_strong_alarm_on_every_deceptive_kind_makes_it_honest(tiny_config, alpha_runs):
    assert tiny_config.probe.coverage == ("all",)
    _, punished = alpha_runs
    assert np.sum(punished < 0.1) >= TINY_SEEDS - 1, punished


def test_an_alarm_that_enters_the_reward_late_changes_nothing_before_it(tiny_config):
    """``reward.alarm_from``: until then the run is the run without the alarm in its reward (alpha 0);
    after it, it is not."""
    block = tiny_config.run.block_steps
    late = replace(tiny_config, **{"reward.alpha": 3.0, "reward.alarm_from": 2 * block})
    runs = run_conditions({"late": late, "never": replace(tiny_config, **{"reward.alpha": 0.0})}, 2, progress=False)
    (late_log, _), (never, _) = runs["late"], runs["never"]
    for k in ("return", "deception_rate", "alarm_rate", "wm_loss"):
        np.testing.assert_allclose(late_log[k][:, :2], never[k][:, :2], rtol=1e-5, atol=1e-6, err_msg=k)
    assert not np.allclose(late_log["return"][:, 2:], never["return"][:, 2:])
    with pytest.raises(ValueError, match="reward.alarm_from"):
        replace(tiny_config, **{"reward.alarm_from": tiny_config.run.steps})
