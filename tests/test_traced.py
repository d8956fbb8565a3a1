"""One config under jit: its numbers are traced leaves, its structure is the one compile key.

Conditions that differ only in numbers run as rows of one compiled program. The program gets the
config itself, its rows stacked, and core code reads every knob from it (``s.config.reward.alpha``):
each row reads its own value, never the first condition's.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import TINY

from brainlike.config import Config, ConfigError, replace
from brainlike.core import learner, probes, rollout, traced
from brainlike.run import programs, runner
from brainlike.run.grid import group_by_structure

# three conditions that differ only in numbers: the alarm's weight and an environment knob
KNOBS = [{"reward.alpha": 0.5, "env.reward_a": 1.0}, {"reward.alpha": 2.0, "env.reward_a": -1.0},
         {"reward.alpha": 3.0, "env.reward_a": 0.25}]


@pytest.fixture(scope="module")
def group():
    configs = [replace(Config(), **TINY, **knobs) for knobs in KNOBS]
    assert group_by_structure({str(i): c for i, c in enumerate(configs)}) == [["0", "1", "2"]]  # one program
    return configs


def _flagged_step_reward(c: Config) -> jax.Array:
    """The innate reward of one overseen step whose thought the alarm flags, the step ending its
    episode with the environment's reward for plan A: ``reward_a - alpha``, both read from ``c``."""
    s = rollout.make_spec(c)
    episode = rollout.new_episode(s, jax.random.PRNGKey(0))  # reward.oversight 1: overseen
    probe = probes.Probe(jnp.zeros(c.beliefs.thought_dim), jnp.zeros(()), jnp.asarray(-1.0))  # flags everything
    info = {"deceptive": jnp.asarray(True), "safety": jnp.zeros(())}
    return rollout.judge(s, episode, probe, jnp.asarray(0.0), s.config.env_params.reward_a, jnp.asarray(True),
                         info)[1]


def test_every_row_of_one_compiled_group_reads_its_own_number_knobs(group):
    """A core function reading ``reward.alpha`` and ``env.reward_a`` from the config object, vmapped
    over the group's stacked rows under jit, gets each row's own values; so does the spec the
    compiled program makes from its rows (the hazard of a spec made from the first condition)."""
    rows = traced.rows(group)
    expected = [k["env.reward_a"] - k["reward.alpha"] for k in KNOBS]
    np.testing.assert_allclose(jax.jit(jax.vmap(_flagged_step_reward))(rows), expected, rtol=1e-6)
    read = jax.jit(jax.vmap(lambda c: rollout.make_spec(c).config.reward.alpha))
    np.testing.assert_array_equal(read(rows), np.float32([k["reward.alpha"] for k in KNOBS]))


def test_the_compiled_program_takes_the_rows_and_nothing_of_the_first_condition(group):
    """``programs.compiled`` of the first condition and of the last is the same program; given the
    rows, its state and its logged points are those of each row's own config run alone."""
    program = programs.compiled(group[0])
    assert programs.compiled(group[-1]) is program
    keys, rows = runner.rows_of(group, 1, 0)
    _, logged = program.advance(program.init(keys, rows), rows, 1)
    for i, config in enumerate(group):
        alone = traced.float32(config)
        one = jax.jit(lambda k, c: learner.resume(learner.start(k, c), c, 1)[1])(keys[i], alone)
        for name in ("return", "deception_rate", "td_loss"):
            np.testing.assert_allclose(logged[name][i], one[name], rtol=1e-5, atol=1e-6, err_msg=f"{i} {name}")
    assert len({float(logged["return"][i, 0]) for i in range(len(group))}) == len(group)  # the rows differ


def test_the_compile_key_is_the_static_part():
    base = replace(Config(), **TINY)
    key = traced.compile_key(base)
    for numeric in ({"reward.alpha": 7.0}, {"env.noise": 0.1}, {"desires.lr": 0.01}):
        assert traced.compile_key(replace(base, **numeric)) == key, numeric
    for structural in ({"routing": "end_to_end"}, {"run.n_envs": 4}, {"env.n_phrasings": 2},
                       {"desires.thought_noise": 0.2}, {"reward.kl_beta": 0.1}, {"probe.pooling": "max"}):
        assert traced.compile_key(replace(base, **structural)) != key, structural
    # a switch's size is numeric once it is on
    noisy = replace(base, **{"desires.thought_noise": 0.2})
    assert traced.compile_key(replace(noisy, **{"desires.thought_noise": 0.7})) == traced.compile_key(noisy)
    with pytest.raises(ValueError, match="compile key"):
        traced.rows([base, noisy])


def test_float_knobs_are_float32_leaves_and_everything_else_is_static():
    config = replace(Config(), **TINY)
    numbers = traced.float32(config)
    leaves = jax.tree.leaves(numbers)
    assert leaves and all(x.dtype == jnp.float32 and x.shape == () for x in leaves)
    paths = {jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(config)[0]}
    assert {".reward.alpha", ".env_params.noise", ".probe.rate", ".desires.temperature"} <= paths
    assert not any(name in p for p in paths for name in ("routing", "n_envs", "coverage", "n_phrasings", "thought_noise"))
    assert (numbers.routing, numbers.run.n_envs, numbers.probe.coverage) == (config.routing, config.run.n_envs,
                                                                              config.probe.coverage)


def test_validation_names_the_field_but_skips_traced_values():
    with pytest.raises(ConfigError, match=r"^reward.alpha: -1.0 is out of range; allowed: \[0.0, 1000.0\]$"):
        replace(Config(), **{"reward.alpha": -1.0})
    numbers = traced.float32(replace(Config(), **TINY))

    def negated(c):  # a traced value is not checked against its knob's bounds
        return dataclasses.replace(c, reward=dataclasses.replace(c.reward, alpha=-c.reward.alpha)).reward.alpha

    assert float(jax.jit(negated)(numbers)) == -1.0
    # unflattening rebuilds the config as it was, whatever the leaves
    assert jax.tree.map(lambda x: x, replace(Config(), **TINY)) == replace(Config(), **TINY)
