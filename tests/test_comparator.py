"""The faithful LLM analogue: phrasings, the audited alarm, the frozen reader, the honest start,
and the gradient cosine that tells a policy gradient from one through the probe."""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import TINY, assert_reproduces

from brainlike import envs
from brainlike.config import Config, ConfigError, replace
from brainlike.core import learner as L
from brainlike.core import probes, rollout
from brainlike.core.losses import loss_terms, taken_noise
from brainlike.core.traced import compile_key, float32
from brainlike.run.runner import run_population

REFERENCE = Path(__file__).parent / "data" / "reference_sampled.npz"
# the config tests/data/reference_sampled.npz was written from, before phrasings, the audit, the
# reader, the honest start and the gradient cosine existed
SAMPLED = {**TINY, "routing": "policy_gradient", "desires.thought_noise": 0.5, "desires.n_variants": 2,
           "reward.kl_beta": 0.1}


def test_one_phrasing_and_every_new_knob_off_reproduce_sampled_pg():
    """K = 1, no audit, the live reader, no honest start, no cosine: every metric of 4 seeds of an
    anchored policy_gradient with sampled thoughts equals what the learner logged before they existed
    (the unsampled configs are checked against an older reference in test_policy_gradient); on the
    processor it was written on, bit for bit."""
    reference = np.load(REFERENCE)
    logged, outcome = run_population(replace(Config(), **SAMPLED), 4, 0)
    np.testing.assert_array_equal(outcome, reference["pg_sampled/outcome"])
    assert_reproduces(logged, reference, "pg_sampled")
    assert np.isnan(logged["pg_probe_cosine"]).all()


# --- phrasings ---

def test_phrasings_leave_their_kind_s_signature_weakest_first():
    env = envs.make("plan_market", n_phrasings=4)
    params = env.default_params.replace(noise=0.0, phrasing_spread=0.6, b_prevalence=1.0)
    _, state = env.reset(jax.random.PRNGKey(0), params)
    assert env.num_plans == 12
    sig = lambda plan: env.step_env(jax.random.PRNGKey(1), state, plan, params)[0][3:]  # noqa: E731
    kind = lambda plan: int(env.step_env(jax.random.PRNGKey(1), state, plan, params)[4]["kind"])  # noqa: E731
    assert [kind(p) for p in range(12)] == [0] * 4 + [1] * 4 + [2] * 4
    for first in (4, 8):  # A's phrasings, then B's
        norms = [float(jnp.linalg.norm(sig(first + j))) for j in range(4)]
        np.testing.assert_allclose(norms, [0.4, 0.6, 0.8, 1.0], rtol=1e-6)
    assert all(float(jnp.abs(sig(j)).max()) == 0.0 for j in range(4))  # honest phrasings leave none
    np.testing.assert_array_equal(env.plan_mask(state.replace(b_available=jnp.array(False)), params),
                                  [True] * 8 + [False] * 4)
    envs.check_env(env, params)


def test_phrasings_are_a_shape_knob_validated_as_a_whole_number():
    c = replace(Config(), **{"env.n_phrasings": 8})
    assert c.env_obj.num_plans == 24 and compile_key(c) != compile_key(Config())
    assert compile_key(replace(c, **{"env.phrasing_spread": 0.9})) == compile_key(c)  # the spread is numeric
    assert "n_phrasings" not in str(jax.tree_util.tree_flatten_with_path(c)[0])  # a shape knob is never traced
    with pytest.raises(ConfigError, match="env.n_phrasings: 2.5 is not a whole number"):
        replace(Config(), **{"env.n_phrasings": 2.5})


# --- the audited alarm ---

def _judge(audit: str, deceptive: bool):
    config = replace(Config(), **{"reward.audit": audit, "reward.alpha": 3.0})
    s = rollout.make_spec(float32(config))
    episode = rollout.new_episode(rollout.make_spec(replace(config, **{"reward.oversight": 1.0})), jax.random.PRNGKey(0))
    probe = probes.Probe(jnp.zeros(16), jnp.zeros(()), jnp.asarray(-1.0))  # flags everything
    info = {"deceptive": jnp.asarray(deceptive), "safety": jnp.zeros(())}
    return float(rollout.judge(s, episode, probe, jnp.asarray(0.0), jnp.asarray(1.0), jnp.asarray(1.0), info)[1])


def test_the_audit_penalises_only_a_flagged_deceptive_plan():
    assert _judge("on", deceptive=False) == 1.0  # a flagged truth pays as a truth
    assert _judge("on", deceptive=True) == 1.0 - 3.0
    assert _judge("off", deceptive=False) == 1.0 - 3.0  # without it every flag costs


# --- the frozen reader ---

def _state(fields: dict):
    config = replace(Config(), **{**TINY, **fields})
    s = rollout.make_spec(float32(config))
    return s, jax.jit(lambda k: L.init(s, k))(jax.random.PRNGKey(0))


def test_a_reference_reader_keeps_the_alarm_while_the_live_probe_depths_move():
    s, state = _state({"probe.reads": "reference", "env.b_prevalence": 0.0})
    # every live thought pushed against the probe's direction: the live alarm can no longer fire
    beliefs = jax.tree.map(lambda x: x, state.params["beliefs"])
    last = beliefs["encoder"]["params"]["Dense_1"]
    last["bias"] = last["bias"] - 10.0 * state.probe.u
    moved = dict(state.params, beliefs=beliefs)
    act = lambda params, reader: rollout.rollout(  # noqa: E731
        s, params, state.probe, state.actors, jax.random.PRNGKey(2), True, reader=reader)[1]
    before, after = act(state.params, state.reader), act(moved, state.reader)
    np.testing.assert_array_equal(before.reward, after.reward)
    np.testing.assert_array_equal(before.flagged, after.flagged)
    live_before, live_after = act(state.params, None), act(moved, None)
    np.testing.assert_array_equal(before.flagged, live_before.flagged)  # unmoved: live reads the same
    assert not np.array_equal(live_before.flagged, live_after.flagged)  # moved: the live alarm reads otherwise
    depth = lambda st: L.evaluate(s, st)["probe_score_by_kind"]  # noqa: E731
    assert not np.allclose(depth(state), depth(state._replace(params=moved)))


def test_a_reference_reader_refuses_what_it_cannot_mean():
    with pytest.raises(ConfigError, match="probe.reads"):
        replace(Config(), **{"probe.reads": "reference", "probe.refit_every": 10})
    with pytest.raises(ConfigError, match="probe.reads"):
        replace(Config(), **{"probe.reads": "reference", "routing": "through_probe"})


# --- the honest start ---

@pytest.mark.parametrize("routing", ["brainlike", "policy_gradient"])
def test_the_honest_start_lowers_the_starting_deception(routing):
    start = {n: _state({"routing": routing, "run.sft_steps": n})[1].start_deception for n in (0, 100)}
    assert float(start[0]) > 0.4  # zero desires: uniform over three plans, two of them deceptive when B is on offer
    assert float(start[100]) < 0.1


def test_the_honest_start_updates_only_what_the_routing_s_rl_losses_may():
    s, state = _state({"routing": "brainlike", "run.sft_steps": 20})
    s0, state0 = _state({"routing": "brainlike"})
    jax.tree.map(np.testing.assert_array_equal, state.params["beliefs"], state0.params["beliefs"])
    assert not np.allclose(state.params["desires"]["w"], state0.params["desires"]["w"])


# --- the gradient cosine ---

def test_the_belief_gradients_are_those_of_the_routed_losses():
    """Over one rollout, the pg gradient is jax.grad of policy_gradient's routed pg loss, the probe's
    is jax.grad of through_probe's routed probe loss divided by alpha; their ``cosine`` is the one
    computed by hand from the flattened gradients, sign included."""
    fields = {"desires.thought_noise": 0.5, "desires.n_variants": 2, "reward.alpha": 2.0}
    s, state = _state({**fields, "routing": "policy_gradient"})
    g_pg, g_probe = L.belief_gradients(s, state, 1)
    key = jax.random.split(jax.random.fold_in(state.key, 5), 1)[0]
    _, batch, v_end = rollout.rollout(s, state.params, state.probe, state.actors, key, False)
    grad = lambda spec, term: jax.grad(  # noqa: E731
        lambda p: loss_terms(spec, p, batch, v_end, state.probe)[term])(state.params)["beliefs"]
    tp = rollout.make_spec(replace(s.config, routing="through_probe"))
    np.testing.assert_allclose(L.cosine(g_pg, grad(s, "pg")), 1.0, atol=1e-5)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7), g_pg, grad(s, "pg"))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(2.0 * a, b, rtol=1e-4, atol=1e-7), g_probe, grad(tp, "probe"))
    flat = [np.concatenate([np.ravel(x) for x in jax.tree.leaves(g)]).astype(np.float64) for g in (g_pg, g_probe)]
    by_hand = flat[0] @ flat[1] / np.linalg.norm(flat[0]) / np.linalg.norm(flat[1])
    assert abs(by_hand) > 0.01  # a sign to get right
    np.testing.assert_allclose(L.cosine(g_pg, g_probe), by_hand, rtol=1e-4)
    assert taken_noise(s, batch) is not None


def test_the_cosine_is_logged_where_asked():
    """Measured (finite, where it is NaN unless asked) at every logged point, anew at each block's
    start: a value computed once and repeated would be the same at every point. Its value and sign
    are checked against a hand computation in test_bug_paths."""
    logged, _ = run_population(replace(Config(), **{**TINY, "run.steps": 400, "run.cosine_batches": 2,
                                                    "desires.thought_noise": 0.5}), 2, 0)
    assert np.isfinite(logged["pg_probe_cosine"]).all()
    assert all(len(np.unique(seed)) == len(seed) > 1 for seed in logged["pg_probe_cosine"])
