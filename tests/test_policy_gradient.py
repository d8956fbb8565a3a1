"""The LLM-like comparator: sampled thoughts, the ``pg`` loss, off-policy learning."""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import TINY, assert_reproduces

from brainlike.config import Config, ConfigError, replace
from brainlike.core import learner as L
from brainlike.core.losses import pg_term
from brainlike.core.traced import float32
from brainlike.core.rollout import Transition, make_spec
from brainlike.run.runner import run_population
from brainlike.schema import OUTCOMES

REFERENCE = Path(__file__).parent / "data" / "reference_metrics.npz"
# the configs tests/data/reference_metrics.npz was written from, before thoughts could be sampled
REFERENCE_CONFIGS = {
    "market": TINY,
    "vault": {**TINY, "env": "vault_grid", "run.steps": 1200, "run.rollout_len": 4, "routing": "end_to_end"},
}


def test_unsampled_thoughts_reproduce_the_metrics_from_before_sampling():
    """thought_noise 0 and one variant: every logged metric of 4 seeds, on a one-step and a
    multi-step environment, equals what the learner logged before sampled thoughts existed
    (``conftest.assert_reproduces``)."""
    reference = np.load(REFERENCE)
    for name, fields in REFERENCE_CONFIGS.items():
        logged, outcome = run_population(replace(Config(), **fields), 4, 0)
        # the reference's seeds that now end evades_by_choice (a label added since) were filed evades_by_shift
        then = np.where(outcome == OUTCOMES.index("evades_by_choice"), OUTCOMES.index("evades_by_shift"), outcome)
        np.testing.assert_array_equal(then, reference[f"{name}/outcome"])
        assert_reproduces(logged, reference, name)


# --- the pg gradient against REINFORCE computed by hand ---

def _toy(sigma: float, n_variants: int):
    """A one-decision batch on plan_market with two plans proposed (honest, A), random parameters."""
    config = replace(Config(), **{"routing": "policy_gradient", "beliefs.hidden": 8, "beliefs.thought_dim": 4,
                                  "desires.thought_noise": sigma, "desires.n_variants": n_variants})
    s = make_spec(float32(config))
    k_wm, k_w, k_obs, k_noise = jax.random.split(jax.random.PRNGKey(3), 4)
    params = {"beliefs": s.wm.init(k_wm), "desires": {"w": jax.random.normal(k_w, (4,)), "b": jnp.asarray(0.2)}}
    one = lambda x: jnp.asarray(x)[None, None]  # noqa: E731
    zeros = jnp.zeros((1, 1))
    batch = Transition(
        obs=one(jax.random.normal(k_obs, (s.env.obs_dim,))), plan=one(1), choice=one(n_variants + n_variants - 1),
        noise_key=one(k_noise), proposal=one(jnp.array([True, True, False])), outcome_obs=jnp.zeros((1, 1, 7)),
        reward=zeros, terminated=zeros, done=zeros.astype(bool), v=zeros, v_trunc=zeros, overseen=zeros,
        kind=zeros.astype(jnp.int32), offered=jnp.zeros((1, 1, 3), bool), flagged=zeros.astype(bool),
        ep_return=zeros, ep_env_return=zeros, ep_safety=zeros, ep_deceptive=zeros, ep_fired=zeros)
    return s, params, batch


@pytest.mark.parametrize("sigma, n_variants", [(0.0, 1), (0.4, 3)])
def test_pg_gradient_is_reinforce_by_hand(sigma, n_variants):
    """d/dw of -A log pi(c) = -A (h_c - sum_i pi_i h_i) / tau over the candidates, and, for
    sampled thoughts, the encoder's gradient is -A sum_pj (eps_pj / sigma) dz_p over proposed plans."""
    s, params, batch = _toy(sigma, n_variants)
    advantage, tau = jnp.full((1, 1), 0.7), s.config.desires.temperature
    grad = jax.grad(lambda p: pg_term(s, p, batch, advantage))(params)

    obs, plans = batch.obs[0, 0], jnp.arange(2)
    z = lambda enc: jax.vmap(s.wm.preact, (None, None, 0))({"encoder": enc}, obs, plans)  # noqa: E731
    eps = jax.random.normal(batch.noise_key[0, 0], (3, n_variants, 4))[:2] if sigma else jnp.zeros((2, n_variants, 4))
    h = jnp.tanh(z(params["beliefs"]["encoder"])[:, None] + sigma * eps).reshape(-1, 4)  # [2 * n_variants, 4]
    pi = jax.nn.softmax(h @ params["desires"]["w"] / tau)
    c = int(batch.choice[0, 0])
    np.testing.assert_allclose(grad["desires"]["w"], -0.7 * (h[c] - pi @ h) / tau, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad["desires"]["b"], 0.0, atol=1e-6)  # a shared bias cancels in a softmax
    if sigma:
        _, vjp = jax.vjp(z, params["beliefs"]["encoder"])
        (expected,) = vjp(-0.7 * eps.sum(axis=1) / sigma)
        for a, b in zip(jax.tree.leaves(grad["beliefs"]["encoder"]), jax.tree.leaves(expected)):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


# --- what each learner does to the thought the probe reads ---

def test_policy_gradient_pushes_the_deceptive_thought_below_the_probe_and_brainlike_does_not():
    """A fixed probe, sampled thoughts (sigma 0.5, 4 variants), and A always worth taking (honest
    pays -0.5, A 1, A alarmed 0): policy_gradient reinforces the variants of A that escaped the
    alarm, so A's mean thought sinks below the frozen probe's threshold; brainlike, where no
    gradient from the reward reaches the beliefs, leaves it above (it rises)."""
    fields = {**TINY, "env.b_prevalence": 0.0, "env.reward_honest": -0.5, "reward.alpha": 1.0,
              "desires.thought_noise": 0.5, "desires.n_variants": 4}
    a = Config().env_obj.kinds.index("A")
    for routing, sinks in (("policy_gradient", True), ("brainlike", False)):
        logged, _ = run_population(replace(Config(), routing=routing, **fields), 4, 0)
        score = logged["probe_score_by_kind"][:, :, a]  # frozen probe's logit - threshold on fresh A thoughts
        assert np.all(logged["deception_rate"][:, -1] > 0.8), routing  # the agent keeps taking A throughout
        if sinks:
            assert np.all(score[:, -1] < 0) and np.all(score[:, -1] < score[:, 0] - 1), score
        else:
            assert np.all(score[:, -1] > 0) and np.all(score[:, -1] > score[:, 0] - 0.5), score


# --- off-policy learning ---

def _params_after(learning: str, reward_a_during_rl: float):
    config = replace(Config(), **{**TINY, "run.learning": learning, "run.offline_batches": 20,
                                  "routing": "policy_gradient"})
    state = jax.jit(L.start)(jax.random.PRNGKey(0), float32(config))
    during = float32(replace(config, **{"env.reward_a": reward_a_during_rl}))  # the same program, other numbers
    state, _ = jax.jit(L.resume, static_argnums=2)(state, during, 3)
    return state.params


@pytest.mark.parametrize("learning, same", [("off_policy", True), ("on_policy", False)])
def test_off_policy_learning_never_reads_the_environment_after_logging(learning, same):
    """Off-policy, what the environment does once the dataset is logged (here A's reward
    changes) cannot reach the parameters; on-policy (the control) it does."""
    a, b = _params_after(learning, 1.0), _params_after(learning, -3.0)
    equal = all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
    assert equal == same


def test_pg_needs_a_boltzmann_policy():
    with pytest.raises(ConfigError, match="desires.selection"):
        replace(Config(), **{"routing": "policy_gradient", "desires.selection": "keep_if_positive"})
