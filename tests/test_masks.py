"""A shared network's masks: gradient routing localises the value, and attribution finds it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainlike.config import Config, ConfigError, replace
from brainlike.core import desires, learner, masks
from brainlike.core.rollout import make_spec
from brainlike.core.traced import float32

SHARE = 0.25


def _pretrained(mask: str, seed: int = 0):
    """A tiny shared network after pretraining (``mask`` imposed: gradient-routed), its spec and
    exploratory thoughts."""
    config = replace(Config(), **{"beliefs.architecture": "shared", "beliefs.mask": mask, "beliefs.hidden": 16,
                                  "beliefs.thought_dim": 8, "beliefs.mask_share": SHARE,
                                  "beliefs.pretrain_updates": 300, "probe.n_thoughts": 64})
    s = make_spec(float32(config))

    def run(key):
        params, _, actors = learner.pretrain(s, key)
        return params, learner.split(s, learner.collect_thoughts(s, params, actors, jax.random.fold_in(key, 9)), 0)

    return s, *jax.jit(run)(jax.random.PRNGKey(seed))


def _ablation(s, params, thoughts, units) -> float:
    """Mean |change of V| over the thoughts when the ``units`` (hidden, thought) are zeroed."""
    def value(o, p, gates):
        return desires.valence(params["desires"], s.wm.encode(params["beliefs"], o, p, gates=gates))
    gates = tuple(1.0 - u.astype(jnp.float32) for u in units)
    full = jax.vmap(value, (0, 0, None))(thoughts.obs, thoughts.plan, None)
    cut = jax.vmap(value, (0, 0, None))(thoughts.obs, thoughts.plan, gates)
    return float(jnp.mean(jnp.abs(cut - full)))


def _first_and_last(s):
    """The designated units (the first share of each layer) and as many from the end of each layer."""
    first = masks.designated(s)
    return first, tuple(u[::-1] for u in first)


@pytest.fixture(scope="module")
def routed():
    return _pretrained("imposed")


@pytest.fixture(scope="module")
def unrouted():
    return _pretrained("none")


def test_gradient_routing_localises_the_value(routed, unrouted):
    """Ablating the designated units moves V far more than ablating as many others; without routing
    (the control) the same two sets of units matter about equally."""
    s, params, thoughts = routed
    first, last = _first_and_last(s)
    ratio_routed = _ablation(s, params, thoughts, first) / _ablation(s, params, thoughts, last)
    s, params, thoughts = unrouted
    ratio_unrouted = _ablation(s, params, thoughts, first) / _ablation(s, params, thoughts, last)
    assert ratio_routed > 3.0 and ratio_unrouted < 2.0, (ratio_routed, ratio_unrouted)


def test_attribution_finds_the_routed_thought_units(routed):
    """After gradient routing, the thought units attribution ranks first are mostly the designated
    ones, far above the overlap a random choice of the same share has on average (the share). Not so
    in the hidden layer: prediction's thought units read the designated hidden units too, so those
    serve both (seeds 1 and 2 overlap 0.25 there)."""
    s, params, thoughts = routed
    scores = masks.attribution(s, params, thoughts.obs, thoughts.plan, thoughts.outcome_obs)
    assert float(jnp.mean(masks.top_share(scores[1], SHARE)[masks.designated(s)[1]])) >= 0.75


def test_top_share_takes_the_highest():
    np.testing.assert_array_equal(masks.top_share(jnp.array([0.1, 0.9, 0.5, 0.7]), 0.5), [False, True, False, True])
    assert not masks.top_share(jnp.arange(8.0), 0.0).any() and masks.top_share(jnp.arange(8.0), 1.0).all()


def test_a_mask_needs_a_shared_network():
    with pytest.raises(ConfigError, match="beliefs.mask"):
        replace(Config(), **{"beliefs.mask": "found"})
    with pytest.raises(ConfigError, match="run.sft_steps"):
        replace(Config(), **{"beliefs.architecture": "shared", "run.sft_steps": 5})


def test_the_control_for_imposed_routes_pretraining_and_masks_at_random():
    """``imposed_random`` pretrains exactly as ``imposed`` does, then masks as ``random`` does."""
    def run(mask):
        config = replace(Config(), **{"beliefs.architecture": "shared", "beliefs.mask": mask, "beliefs.hidden": 8,
                                      "beliefs.thought_dim": 4, "beliefs.pretrain_updates": 20, "probe.n_thoughts": 16,
                                      "run.steps": 800})
        return jax.jit(lambda k: learner.start(k, float32(config)))(jax.random.PRNGKey(1))
    control, imposed, random = run("imposed_random"), run("imposed"), run("random")
    for a, b in zip(jax.tree.leaves(control.params["beliefs"]), jax.tree.leaves(imposed.params["beliefs"])):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(jax.tree.leaves(control.mask), jax.tree.leaves(random.mask)):
        np.testing.assert_array_equal(a, b)
    assert any(np.any(np.asarray(a) != np.asarray(b)) for a, b in
               zip(jax.tree.leaves(control.mask), jax.tree.leaves(imposed.mask)))
