"""TD(lambda): lambda-returns against hand-computed values and their two limits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainlike.core import desires

GAMMA, LAM = 0.9, 0.5
R = [1.0, 2.0, 3.0, 4.0]
B = [10.0, 20.0, 30.0, 40.0]


RETURNS = jax.jit(desires.lambda_returns)


def _returns(r, discount, lam, b):
    return np.asarray(RETURNS(*(jnp.asarray(x, jnp.float32) for x in (r, discount, lam, b))))


def test_termination_cuts_the_return():
    # the episode terminates after step 1: discount 0 and lambda 0 there
    g = _returns(R, [GAMMA, 0.0, GAMMA, GAMMA], [LAM, 0.0, LAM, LAM], B)
    g3 = 4 + 0.9 * (0.5 * 40 + 0.5 * 40)  # the last step bootstraps on b_3 either way: 40
    g2 = 3 + 0.9 * (0.5 * 30 + 0.5 * g3)  # 34.5
    g1 = 2.0  # terminal: nothing beyond
    g0 = 1 + 0.9 * (0.5 * 10 + 0.5 * g1)  # 6.4
    np.testing.assert_allclose(g, [g0, g1, g2, g3], rtol=1e-6)


def test_truncation_bootstraps_without_crossing_the_boundary():
    # the episode is cut (not terminated) after step 1: lambda 0, discount gamma, b_1 is the cut state's value
    g = _returns(R, [GAMMA] * 4, [LAM, 0.0, LAM, LAM], B)
    g1 = 2 + 0.9 * 20  # 20: one-step target on b_1 only, nothing from the next episode
    g0 = 1 + 0.9 * (0.5 * 10 + 0.5 * g1)  # 14.5
    np.testing.assert_allclose(g[:2], [g0, g1], rtol=1e-6)
    np.testing.assert_allclose(g[2:], [34.5, 40.0], rtol=1e-6)


def test_lambda_one_is_the_monte_carlo_return():
    key_r, key_b = jax.random.split(jax.random.PRNGKey(0))
    n, gamma = 7, 0.8
    r = np.asarray(jax.random.normal(key_r, (n,)))
    b = np.asarray(jax.random.normal(key_b, (n,)))
    g = _returns(r, np.full(n, gamma), np.ones(n), b)
    # sum_k gamma^(k-t) r_k, plus gamma^(T-t) times the bootstrap after the last step
    mc = [sum(gamma ** (k - t) * r[k] for k in range(t, n)) + gamma ** (n - t) * b[-1] for t in range(n)]
    np.testing.assert_allclose(g, mc, rtol=1e-5, atol=1e-6)


def test_lambda_zero_is_the_one_step_target():
    key_r, key_b, key_d = jax.random.split(jax.random.PRNGKey(1), 3)
    n = 6
    r = np.asarray(jax.random.normal(key_r, (n,)))
    b = np.asarray(jax.random.normal(key_b, (n,)))
    discount = np.where(np.asarray(jax.random.bernoulli(key_d, 0.3, (n,))), 0.0, 0.95)
    g = _returns(r, discount, np.zeros(n), b)
    np.testing.assert_allclose(g, r + discount * b, rtol=1e-6)


def test_returns_agree_with_and_without_jit():
    args = [jnp.asarray(x, jnp.float32) for x in (R, [GAMMA, 0.0, GAMMA, GAMMA], [LAM, 0.0, LAM, 1.0], B)]
    with jax.disable_jit():  # the reverse scan runs as a Python loop
        eager = desires.lambda_returns(*args)
    np.testing.assert_allclose(eager, RETURNS(*args), rtol=1e-6)


def test_returns_batch_over_environments_with_vmap():
    r = jnp.asarray([R, [0.0, 0.0, 0.0, 1.0]]).T  # time-major [T, E], as in training
    b = jnp.asarray([B, B]).T
    d = jnp.full((4, 2), GAMMA)
    lam = jnp.full((4, 2), LAM)
    g = jax.vmap(desires.lambda_returns, 1, 1)(r, d, lam, b)
    np.testing.assert_allclose(g[:, 0], _returns(R, [GAMMA] * 4, [LAM] * 4, B), rtol=1e-6)
    np.testing.assert_allclose(g[:, 1], _returns([0.0, 0.0, 0.0, 1.0], [GAMMA] * 4, [LAM] * 4, B), rtol=1e-6)


def test_td_loss_is_semi_gradient():
    v = jnp.asarray(2.0)
    assert desires.td_loss(v, jnp.asarray(5.0)) == pytest.approx(4.5)
    # the target is held fixed: d/dv = -(g - v), and no gradient flows into g
    dv, dg = jax.grad(lambda v, g: desires.td_loss(v, g), argnums=(0, 1))(v, jnp.asarray(5.0))
    assert dv == pytest.approx(-3.0) and dg == 0.0


def test_lambda_returns_rejects_a_batch():
    with pytest.raises(AssertionError):
        desires.lambda_returns(*(jnp.zeros((4, 2)),) * 4)


TARGETS = jax.jit(desires.lambda_targets)


def test_learner_targets_on_a_multi_step_rollout_by_hand():
    """Six steps of one environment: an episode truncated at step 1, one terminated at step 4,
    and one still running when the rollout stops (closed by ``v_end``)."""
    r = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    v = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]  # valence of the thought chosen at each step
    v_trunc = [-1.0, 25.0, -1.0, -1.0, -7.0, -1.0]  # where each episode was cut off (read only after a done)
    terminated = [False, False, False, False, True, False]
    done = [False, True, False, False, True, False]
    g = np.asarray(TARGETS(*(jnp.asarray(x, jnp.float32) for x in (r, v, v_trunc)), jnp.float32(70.0),
                           jnp.asarray(terminated), jnp.asarray(done), GAMMA, LAM))
    g5 = 6 + 0.9 * 70  # running: bootstraps on v_end, the valence of the next thought
    g4 = 5.0  # terminated: nothing beyond (v_trunc -7 is ignored)
    g3 = 4 + 0.9 * (0.5 * 50 + 0.5 * g4)  # next thought's valence is v[4] = 50
    g2 = 3 + 0.9 * (0.5 * 40 + 0.5 * g3)
    g1 = 2 + 0.9 * 25  # truncated: the cut state's value, no trace into the next episode (v[2] = 30 unused)
    g0 = 1 + 0.9 * (0.5 * 20 + 0.5 * g1)
    np.testing.assert_allclose(g, [g0, g1, g2, g3, g4, g5], rtol=1e-6)
