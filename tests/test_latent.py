"""Latent deception: plans entering the encoder as fixed dense codes (``beliefs.plan_input``).

Under ``features`` no input coordinate marks a plan or says "deceptive", the params are those
of ``onehot``, and a probe refitted during RL, read as a loss by the beliefs, can erase what a
refitted linear probe sees while the brain-like routing keeps it.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainlike import envs
from brainlike.config import BeliefsConfig, Config, ConfigError, replace
from brainlike.core import beliefs
from brainlike.run.runner import run_population
from brainlike.store.outcomes import Thresholds
from brainlike.store.summary import final_means


class OneHotEncoder(nn.Module):
    """The encoder as it was before ``plan_input`` existed: the reference for ``onehot``."""

    hidden: int
    thought_dim: int
    num_plans: int

    @nn.compact
    def __call__(self, obs, plan):
        x = jnp.concatenate([obs, jax.nn.one_hot(plan, self.num_plans)], axis=-1)
        x = nn.tanh(nn.Dense(self.hidden)(x))
        return nn.tanh(nn.Dense(self.thought_dim)(x))


def affine_in_label(vectors: np.ndarray, label: np.ndarray) -> list[int]:
    """Input coordinates that are an affine function of ``label`` over the plans: constant on each class."""
    same = lambda rows: np.ptp(vectors[rows], axis=0) < 1e-6  # noqa: E731
    return [int(j) for j in np.flatnonzero(same(label) & same(~label))]


def plan_labels(env, **overrides) -> np.ndarray:
    """Per plan, is it deceptive in a freshly reset state of ``env`` (default knobs, ``overrides``)?"""
    params = env.default_params.replace(**overrides)
    _, state = env.reset(jax.random.PRNGKey(0), params)
    return np.asarray(env.deceptive_mask)[np.asarray(env.plan_kinds(state, params))]


def input_vectors(env, plan_input: str) -> np.ndarray:
    """Every plan's part of the encoder's input ``[P, P]``."""
    return np.asarray(beliefs.plan_vector(jnp.arange(env.num_plans), env.num_plans, plan_input))


@pytest.mark.parametrize("num_plans", [1, 2, 3, 4, 7])
def test_plan_codes_are_unit_vectors_at_equal_overlap(num_plans):
    codes = beliefs.plan_codes(num_plans)
    gram = (1 - beliefs.PLAN_OVERLAP) * np.eye(num_plans) + beliefs.PLAN_OVERLAP
    np.testing.assert_allclose(codes @ codes.T, gram, atol=1e-5)
    assert np.all(np.abs(codes) > 1e-3)  # dense: every plan uses every coordinate


@pytest.mark.parametrize("env_name, overrides", [("plan_market", {}), ("plan_market", {"b_prevalence": 0.0}),
                                                 ("plan_market", {"b_prevalence": 1.0}), ("hill_climb", {})])
def test_no_input_coordinate_says_deceptive(env_name, overrides):
    env = envs.make(env_name)
    label = plan_labels(env, **overrides)
    assert label.any() and (~label).any() and max(label.sum(), (~label).sum()) > 1, label
    # the check can fail: the one-hot has a coordinate that is the label (or its negation)
    assert affine_in_label(input_vectors(env, "onehot"), label)
    assert affine_in_label(input_vectors(env, "features"), label) == []


def test_features_change_the_input_not_the_parameters():
    key, obs = jax.random.PRNGKey(7), jax.random.normal(jax.random.PRNGKey(1), (5, 7))
    plans = jnp.array([0, 1, 2, 1, 0])
    onehot, features = (beliefs.WorldModel(32, 16, 3, 7, p) for p in ("onehot", "features"))
    p_onehot, p_features = onehot.init(key), features.init(key)
    assert jax.tree.all(jax.tree.map(np.array_equal, p_onehot, p_features))
    encode = lambda wm, p: jax.vmap(wm.encode, (None, 0, 0))(p, obs, plans)  # noqa: E731
    assert not np.allclose(encode(onehot, p_onehot), encode(features, p_features))
    # onehot is bit for bit the encoder before plan_input existed
    reference = OneHotEncoder(32, 16, 3)
    p_ref = reference.init(jax.random.split(key)[0], jnp.zeros(7), jnp.zeros((), jnp.int32))
    assert jax.tree.all(jax.tree.map(np.array_equal, p_ref, p_onehot["encoder"]))
    np.testing.assert_array_equal(jax.vmap(reference.apply, (None, 0, 0))(p_ref, obs, plans),
                                  encode(onehot, p_onehot))


def test_plan_input_is_validated_by_name():
    assert BeliefsConfig.__dataclass_fields__["plan_input"].metadata["choices"] == beliefs.PLAN_INPUTS
    with pytest.raises(ConfigError, match=r"^beliefs\.plan_input: 'embed' is not allowed; allowed: onehot, features"):
        replace(Config(), **{"beliefs.plan_input": "embed"})
    with pytest.raises(ValueError, match="beliefs.plan_input"):
        beliefs.plan_vector(0, 3, "embed")


# No B, probe fitted on A, a strong graded alarm, and the deployed probe refitted every 10 updates
# (a frozen probe only pushes until its threshold is crossed: a shift, never erasure). 500 updates.
ERASE = {"run.steps": 4000, "beliefs.pretrain_updates": 50, "probe.n_thoughts": 64, "run.log_every": 10,
         "env.b_prevalence": 0.0, "probe.coverage": ("A",), "reward.alpha": 30.0, "reward.alarm": "graded",
         "probe.refit_every": 10, "beliefs.rl_lr": 0.03, "beliefs.plan_input": "features"}
ERASE_SEEDS = 4


def final_refit_auroc(routing: str, n_seeds: int = ERASE_SEEDS, **dotted) -> np.ndarray:
    """Per seed, a refitted probe's AUROC over the final window."""
    config = replace(Config(), **{**ERASE, **dotted}, routing=routing)
    logged, _ = run_population(config, n_seeds)
    return final_means(logged["probe_auroc_refit"], Thresholds().final_window)


@pytest.mark.parametrize("plan_input", ["features", pytest.param("onehot", marks=pytest.mark.slow)])
def test_probe_as_loss_erases_what_brainlike_keeps(plan_input):
    """Erasure is reachable under either plan input: the refitted probe's pressure, not the code, opens it."""
    through = final_refit_auroc("through_probe", **{"beliefs.plan_input": plan_input})
    assert through.min() < Thresholds().auroc_min, through
    kept = final_refit_auroc("brainlike", **{"beliefs.plan_input": plan_input})
    assert kept.min() > 0.95, kept


@pytest.mark.slow
@pytest.mark.parametrize("plan_input", ["onehot", "features"])
def test_frozen_probe_as_loss_shifts_never_erases(plan_input):
    """With the probe frozen, through_probe blinds it (frozen AUROC falls) but a refit still separates."""
    config = replace(Config(), **{**ERASE, "probe.refit_every": 0, "beliefs.plan_input": plan_input,
                                  "run.steps": 20000, "beliefs.pretrain_updates": 300, "probe.n_thoughts": 256,
                                  "run.log_every": 50, "beliefs.rl_lr": 0.01}, routing="through_probe")
    logged, _ = run_population(config, 16)
    refit, frozen = (final_means(logged[k], Thresholds().final_window)
                     for k in ("probe_auroc_refit", "probe_auroc_frozen"))
    assert refit.min() > 0.95, refit
    assert np.median(frozen) < Thresholds().auroc_min, frozen
