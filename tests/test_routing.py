"""The routing table, checked with jax.grad on each loss term of a hand-built batch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainlike.core import beliefs

from brainlike.core import probes
from brainlike.config import Config, replace
from brainlike.core.routing import route
from brainlike.core.traced import float32
from brainlike.routes import PRESETS, has_policy_head, parse_routing
from brainlike.core.learner import Transition
from brainlike.core.losses import loss_terms
from brainlike.core.rollout import make_spec

T, E = 3, 2  # time steps, environments


def _batch(key, env, n_variants=1) -> tuple[Transition, jax.Array]:
    """A time-major ``[T, E]`` batch with an episode end in the middle, and ``v_end``."""
    ks = jax.random.split(key, 6)
    f = lambda k, shape=(T, E): jax.random.normal(k, shape)  # noqa: E731
    done = jnp.array([[False, True], [True, False], [False, False]])
    zeros = jnp.zeros((T, E))
    plan = jax.random.randint(ks[1], (T, E), 0, env.num_plans)
    batch = Transition(
        obs=f(ks[0], (T, E, env.obs_dim)), plan=plan, choice=plan * n_variants,
        noise_key=jax.random.split(ks[5], T * E).reshape(T, E, 2), proposal=jnp.ones((T, E, env.num_plans), bool),
        outcome_obs=f(ks[2], (T, E, env.obs_dim)), reward=f(ks[3]), terminated=done.astype(jnp.float32),
        done=done, v=f(ks[4]), v_trunc=zeros, overseen=jnp.ones((T, E)), kind=jnp.zeros((T, E), jnp.int32),
        offered=jnp.ones((T, E, len(env.kinds)), bool), flagged=jnp.zeros((T, E), bool),
        ep_return=zeros, ep_env_return=zeros, ep_safety=zeros, ep_deceptive=zeros, ep_fired=zeros)
    return batch, f(ks[5], (E,))


def _grads(routing: str, jit: bool = True, **fields) -> dict:
    """term -> gradient of that loss term alone with respect to all parameters, and (under
    ``"probe_moves"``) how much the total loss's gradient changes when the probe is another one.

    The parameters and batch are the same under every routing (a fixed key); building them
    inside the jitted function keeps the whole check one compilation per table.
    """
    head = has_policy_head(parse_routing(routing))
    groups = {"run.group_size": E} if head else {}  # a policy head compares the E environments as one group
    config = replace(Config(), **{"routing": routing, "beliefs.hidden": 8, "beliefs.thought_dim": 4, **groups, **fields})
    env, s = config.env_obj, make_spec(float32(config))
    wm = beliefs.WorldModel(config.beliefs.hidden, config.beliefs.thought_dim, env.num_plans, env.obs_dim)

    def grads():
        key_wm, key_w, key_u, key_batch = jax.random.split(jax.random.PRNGKey(0), 4)
        # non-zero valence and probe directions, else dV/dh = 0 would hide a leak
        params = {"beliefs": wm.init(key_wm),
                  "desires": {"w": jax.random.normal(key_w, (4,)), "b": jnp.asarray(0.3)}}
        if head:
            params["policy"] = {"u": jax.random.normal(jax.random.fold_in(key_w, 1), (4,))}
        probe = probes.Probe(jax.random.normal(key_u, (4,)), jnp.asarray(0.1), jnp.asarray(0.0))
        batch, v_end = _batch(key_batch, env, config.desires.n_variants)
        total = lambda p, pr: sum(loss_terms(s, p, batch, v_end, pr).values())  # noqa: E731
        other = probes.Probe(-probe.u, jnp.asarray(-0.4), jnp.asarray(0.2))
        moves = jax.tree.map(jnp.subtract, jax.grad(total)(params, probe), jax.grad(total)(params, other))
        return jax.jacrev(lambda p: loss_terms(s, p, batch, v_end, probe))(params) | {"probe_moves": moves}

    return jax.device_get((jax.jit(grads) if jit else grads)())


def _all_zero(tree) -> bool:
    return all(np.all(np.asarray(x) == 0) for x in jax.tree.leaves(tree))


def _every_leaf_nonzero(tree) -> bool:
    return all(np.any(np.asarray(x) != 0) for x in jax.tree.leaves(tree))


@pytest.fixture(scope="module")
def grads():
    return {preset: _grads(preset) for preset in PRESETS}


def test_brainlike_td_probe_and_pg_never_reach_beliefs(grads):
    g = grads["brainlike"]
    for term in ("td", "probe", "pg"):
        assert _all_zero(g[term]["beliefs"]["encoder"]), term
        assert _all_zero(g[term]["beliefs"]["decoder"]), term
    assert _all_zero(g["probe"]["desires"]) and _all_zero(g["pg"]["desires"])
    assert _every_leaf_nonzero(g["td"]["desires"])  # TD does train the valence


@pytest.fixture(scope="module")
def sampled():
    """policy_gradient with sampled thoughts: 0.5 noise, 3 variants."""
    return _grads("policy_gradient", **{"desires.thought_noise": 0.5, "desires.n_variants": 3})


@pytest.mark.parametrize("which", ["plain", "sampled"])
def test_policy_gradient_reaches_encoder_and_valence_but_never_through_the_probe(grads, sampled, which):
    g = grads["policy_gradient"] if which == "plain" else sampled
    assert _every_leaf_nonzero(g["pg"]["beliefs"]["encoder"]) and _every_leaf_nonzero(g["pg"]["desires"])
    assert _all_zero(g["pg"]["beliefs"]["decoder"])  # the policy never reads the decoder
    assert _all_zero(g["td"]["beliefs"]) and _all_zero(g["probe"])  # td reaches desires only; the probe nothing
    # the alarm is a black box: with the batch's rewards given, no gradient depends on the probe
    assert _all_zero(g["probe_moves"])


def test_grpo_policy_objective_reaches_encoder_and_policy_head_and_no_td_reaches_either(grads):
    """The LLM analogue: the policy objective trains the policy head and, through the thoughts it
    reads, the encoder; the valence it keeps for logging is trained by TD, which reaches neither."""
    g = grads["grpo"]
    assert _every_leaf_nonzero(g["pg"]["beliefs"]["encoder"]) and _every_leaf_nonzero(g["pg"]["policy"])
    assert _all_zero(g["pg"]["desires"]) and _all_zero(g["pg"]["beliefs"]["decoder"])
    assert _all_zero(g["td"]["beliefs"]) and _all_zero(g["td"]["policy"]) and _every_leaf_nonzero(g["td"]["desires"])
    assert _all_zero(g["probe"]) and _all_zero(g["probe_moves"])  # the probe a black box
    for preset in ("brainlike", "end_to_end", "policy_gradient"):
        assert "policy" not in grads[preset]  # no policy head where no row names it


def test_through_probe_gradient_depends_on_the_probe(grads):
    """The control for the black-box check above: where the probe is a loss, it steers the beliefs."""
    assert _every_leaf_nonzero(grads["through_probe"]["probe_moves"]["beliefs"]["encoder"])


def test_brainlike_prediction_never_reaches_valence(grads):
    g = grads["brainlike"]["pred"]
    assert _all_zero(g["desires"])
    assert _every_leaf_nonzero(g["beliefs"]["encoder"]) and _every_leaf_nonzero(g["beliefs"]["decoder"])


def test_end_to_end_td_reaches_beliefs(grads):
    g = grads["end_to_end"]
    assert _every_leaf_nonzero(g["td"]["beliefs"]["encoder"])
    assert _every_leaf_nonzero(g["td"]["desires"])
    assert _all_zero(g["td"]["beliefs"]["decoder"])  # TD never reads the decoder
    assert _all_zero(g["probe"])


def test_through_probe_score_reaches_beliefs(grads):
    g = grads["through_probe"]
    assert _every_leaf_nonzero(g["td"]["beliefs"]["encoder"])
    assert _every_leaf_nonzero(g["probe"]["beliefs"]["encoder"])
    assert _all_zero(g["probe"]["desires"])


def test_prediction_gradient_is_the_same_under_every_preset(grads):
    for preset in ("end_to_end", "through_probe"):
        for a, b in zip(jax.tree.leaves(grads["brainlike"]["pred"]), jax.tree.leaves(grads[preset]["pred"])):
            np.testing.assert_array_equal(a, b)


def test_custom_table_routes_as_written(grads):
    g = _grads("pred=beliefs;td=beliefs;probe=")
    assert _all_zero(g["td"]["desires"])  # TD may not touch the valence it is about
    np.testing.assert_array_equal(g["td"]["beliefs"]["encoder"]["params"]["Dense_0"]["kernel"],
                                  grads["end_to_end"]["td"]["beliefs"]["encoder"]["params"]["Dense_0"]["kernel"])


@pytest.mark.slow
def test_routed_gradients_agree_with_and_without_jit(grads):
    eager = _grads("through_probe", jit=False)  # every path open
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(grads["through_probe"])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_route_stops_only_groups_outside_the_row():
    params = {"beliefs": jnp.array([1.0, 2.0]), "desires": jnp.array(3.0)}
    loss = lambda p: jnp.sum(p["beliefs"] ** 2) * p["desires"]  # noqa: E731
    g = jax.grad(lambda p: loss(route(p, ("desires",))))(params)
    np.testing.assert_array_equal(g["beliefs"], [0.0, 0.0])
    assert g["desires"] == 5.0
    g = jax.grad(lambda p: loss(route(p, ("beliefs", "desires"))))(params)
    np.testing.assert_array_equal(g["beliefs"], [6.0, 12.0])


def test_parse_routing_presets():
    assert parse_routing("brainlike") == {"pred": ("beliefs",), "td": ("desires",), "probe": (), "pg": (),
                                          "attn": ("salience",)}
    assert parse_routing("policy_gradient")["pg"] == ("beliefs", "desires")
    assert parse_routing("end_to_end")["td"] == ("beliefs", "desires")
    assert parse_routing("through_probe")["probe"] == ("beliefs",)


def test_parse_routing_custom_table():
    assert parse_routing("pred=beliefs; td = beliefs+desires ;probe=") == {
        "pred": ("beliefs",), "td": ("beliefs", "desires"), "probe": (), "pg": (), "attn": ()}
    assert parse_routing("td=desires") == {"pred": (), "td": ("desires",), "probe": (), "pg": (),
                                           "attn": ()}  # unnamed: nothing


@pytest.mark.parametrize("spec, named", [
    ("weird", "'weird'"),
    ("pred=beliefs;value=desires", "'value'"),
    ("pred=beliefs;td=desires+critic", "'critic'"),
    ("pred=beliefs;attn=beliefs", "attn=salience"),  # the salience reads the observation: attn reaches it alone
    ("pred=beliefs;td=desires+salience", "attn=salience"),
])
def test_parse_routing_errors_name_the_culprit(spec, named):
    with pytest.raises(ValueError, match="routing") as e:
        parse_routing(spec)
    assert named in str(e.value)


def _masked_grads(routing: str) -> tuple[dict, dict]:
    """Each loss term's gradient in a shared network whose RL mask is a random half of each encoder
    layer's units, and the mask over the beliefs' parameters."""
    from brainlike.core import masks
    config = replace(Config(), **{"routing": routing, "beliefs.hidden": 8, "beliefs.thought_dim": 4,
                                  "beliefs.architecture": "shared", "beliefs.mask": "random"})
    env, s = config.env_obj, make_spec(float32(config))

    def grads():
        key_wm, key_w, key_u, key_batch, key_units = jax.random.split(jax.random.PRNGKey(0), 5)
        params = {"beliefs": s.wm.init(key_wm),
                  "desires": {"w": jax.random.normal(key_w, (4,)), "b": jnp.asarray(0.3)}}
        units = tuple(jax.random.permutation(k, n) < n // 2 for k, n in zip(jax.random.split(key_units), (8, 4)))
        mask = masks.param_mask(params["beliefs"], units)
        probe = probes.Probe(jax.random.normal(key_u, (4,)), jnp.asarray(0.1), jnp.asarray(0.0))
        batch, v_end = _batch(key_batch, env)
        return jax.jacrev(lambda p: loss_terms(s._replace(mask=mask), p, batch, v_end, probe))(params), mask

    return jax.device_get(jax.jit(grads)())


@pytest.mark.parametrize("routing", ["brainlike", "pred=beliefs;td=desires;pg=desires"])
def test_a_mask_routes_the_reward_exactly(routing):
    """In a shared network the reward's losses reach the valence and the masked encoder parameters,
    every one of them and nothing else; prediction still reaches every belief parameter."""
    g, mask = _masked_grads(routing)
    reward_terms = ("td", "pg") if "pg=desires" in routing else ("td",)
    for term in reward_terms:
        inside = jax.tree.map(lambda x, m: x[m], g[term]["beliefs"]["encoder"], mask["encoder"])
        outside = jax.tree.map(lambda x, m: x[~m], g[term]["beliefs"], mask)
        assert _all_zero(outside), term
        assert all(np.mean(np.asarray(x) != 0) > 0.5 for x in jax.tree.leaves(inside)), term
        assert _every_leaf_nonzero(g[term]["desires"]), term
    assert _all_zero(g["probe"])
    assert _every_leaf_nonzero(g["pred"]["beliefs"]) and _all_zero(g["pred"]["desires"])
