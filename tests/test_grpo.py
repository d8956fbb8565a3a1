"""The LLM analogue (routing ``grpo``): its advantage, its groups, its KL anchor, DPO, and the rate
every learner's alarm has when RL starts."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import special

from brainlike.config import Config, ConfigError, replace
from brainlike.core import learner, losses, policy
from brainlike.core.rollout import Transition, make_spec
from brainlike.core.traced import float32

# a bandit small enough to enumerate: three arms, direct logits, deterministic rewards
LOGITS = np.array([0.3, -0.5, 0.9])
REWARDS = np.array([1.0, 2.0, -1.0])


def _expected_gradient(advantage, group_size: int) -> np.ndarray:
    """``E[mean_i A_i grad log pi(a_i)]`` over every group of ``group_size`` independent draws, exactly;
    ``advantage(r, a)``: the group's advantages from its rewards and acts."""
    pi = special.softmax(LOGITS)
    score = np.eye(3) - pi  # row a: grad of log pi(a) with respect to the logits
    total = np.zeros(3)
    for acts in itertools.product(range(3), repeat=group_size):
        a = np.asarray(acts)
        adv = np.asarray(advantage(jnp.asarray(REWARDS[a], jnp.float32), a), np.float64)
        total += np.prod(pi[a]) * np.mean(adv[:, None] * score[a], axis=0)
    return total


def _true_gradient() -> np.ndarray:
    """``grad E_pi[r]`` with respect to the logits."""
    pi = special.softmax(LOGITS)
    return pi * (REWARDS - pi @ REWARDS)


@pytest.mark.parametrize("group_size", [2, 3, 4])
def test_leave_one_out_advantage_is_unbiased_exactly(group_size):
    got = _expected_gradient(lambda r, a: policy.group_advantage(r, "loo"), group_size)
    np.testing.assert_allclose(got, _true_gradient(), rtol=1e-5, atol=1e-7)


def test_grpo_std_advantage_ascends_but_is_not_the_gradient():
    """GRPO as published divides by the group's std: an ascent direction, rescaled per group, so
    not ``grad E[r]`` itself (the reason ``run.group_norm loo`` exists)."""
    got, true = _expected_gradient(lambda r, a: policy.group_advantage(r, "std"), 3), _true_gradient()
    assert got @ true / (np.linalg.norm(got) * np.linalg.norm(true)) > 0.9
    assert not np.allclose(got / np.linalg.norm(got), true / np.linalg.norm(true), atol=1e-3)


def test_an_action_value_baseline_is_biased():
    """``G - V(h_taken)``, the advantage ``policy_gradient`` uses, subtracts a baseline that depends on
    the act: its expected gradient is not ``grad E[r]``."""
    values = np.array([0.5, 1.5, 0.0])  # a critic's action values, not yet equal to the rewards
    got = _expected_gradient(lambda r, a: r - values[a], 1)
    assert not np.allclose(got, _true_gradient(), atol=1e-3)
    unbiased = _expected_gradient(lambda r, a: r - 0.7, 1)  # a constant baseline is not
    np.testing.assert_allclose(unbiased, _true_gradient(), rtol=1e-5, atol=1e-7)


def test_group_advantage_of_equal_rewards_is_zero_and_of_two_is_plus_minus():
    np.testing.assert_array_equal(policy.group_advantage(jnp.ones(4), "std"), np.zeros(4))
    np.testing.assert_allclose(policy.group_advantage(jnp.array([0.0, 2.0]), "loo"), [-2.0, 2.0])
    # GRPO's: (r - mean) / (std with Bessel's correction + 1e-4)
    r = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(policy.group_advantage(jnp.asarray(r), "std"),
                               (r - r.mean()) / (r.std(ddof=1) + 1e-4), rtol=1e-6)


def _spec(**fields):
    return make_spec(float32(replace(Config(), **{"routing": "grpo", "run.group_size": 2, **fields})))


def test_advantage_groups_consecutive_environments_at_each_step():
    """Four environments in groups of two, two steps: each decision is compared with its own group's."""
    s = _spec(**{"run.n_envs": 4, "run.group_norm": "loo"})
    reward = jnp.array([[1.0, 3.0, 0.0, 0.0], [2.0, 2.0, 5.0, 1.0]])
    got = losses.advantage(s, None, Transition(**{f: None for f in Transition._fields} | {"reward": reward}), None, None)
    np.testing.assert_allclose(got, [[-2.0, 2.0, 0.0, 0.0], [0.0, 0.0, 4.0, -4.0]])


@pytest.mark.parametrize("fields, field", [
    ({"run.group_size": 1}, "run.group_size"),
    ({"run.group_size": 3}, "run.group_size"),
    ({"env": "vault_grid"}, "run.group_size"),
    ({"run.learning": "dpo", "reward.kl_beta": 0.1, "run.group_size": 4}, "run.group_size"),
    ({"run.learning": "dpo"}, "reward.kl_beta"),
    ({"run.learning": "dpo", "reward.kl_beta": 0.1, "desires.thought_noise": 0.5}, "desires.thought_noise"),
])
def test_bad_group_settings_name_the_field(fields, field):
    with pytest.raises(ConfigError, match=f"^{field}"):
        replace(Config(), **{"routing": "grpo", "run.group_size": 2, **fields})


def test_dpo_needs_a_policy_head():
    with pytest.raises(ConfigError, match="^routing: run.learning dpo"):
        replace(Config(), **{"run.learning": "dpo", "run.group_size": 2, "reward.kl_beta": 0.1})


# --- the learner on a tiny run -------------------------------------------------------------------

TINY = {"beliefs.pretrain_updates": 20, "probe.n_thoughts": 64, "run.log_every": 5, "run.steps": 400,
        "probe.coverage": ("all",), "beliefs.hidden": 16, "beliefs.thought_dim": 8}


@pytest.fixture(scope="module")
def grouped():
    """A grpo seed with groups of 4 (two groups of 8 environments): its RL start and one update."""
    s = _spec(**TINY, **{"run.group_size": 4})
    state = jax.jit(lambda k: learner.init(s, k))(jax.random.PRNGKey(3))
    after, _ = jax.jit(lambda st: learner.rl_update(s, st))(state)
    return state, after


def test_a_group_starts_rl_in_one_state_and_stays_in_one(grouped):
    for state in grouped:
        obs = np.asarray(state.actors.obs).reshape(2, 4, -1)
        np.testing.assert_array_equal(obs, np.broadcast_to(obs[:, :1], obs.shape))  # within a group: one state
        assert not np.array_equal(obs[0, 0], obs[1, 0])  # the two groups: two prompts


def test_the_first_update_moves_the_policy_head_and_not_by_td(grouped):
    state, after = grouped
    assert not np.allclose(state.params["policy"]["u"], after.params["policy"]["u"])


def _hand_batch(s, choice, reward):
    """Steps of two environments, each pair at one observation, every plan in mind; ``choice`` and
    ``reward``: one pair ``[2]`` or several ``[T, 2]``."""
    choice, reward = np.atleast_2d(choice), np.atleast_2d(reward).astype(np.float32)
    t, n = choice.shape[0], s.env.num_plans
    zeros = jnp.zeros((t, 2))
    return Transition(
        obs=jnp.tile(jnp.linspace(-1, 1, s.env.obs_dim), (t, 2, 1)), plan=jnp.asarray(choice), choice=jnp.asarray(choice),
        noise_key=jnp.zeros((t, 2, 2), jnp.uint32), proposal=jnp.ones((t, 2, n), bool), outcome_obs=None,
        reward=jnp.asarray(reward), terminated=zeros, done=zeros, v=zeros, v_trunc=zeros, overseen=zeros,
        kind=None, offered=None, flagged=None, ep_return=None, ep_env_return=None, ep_safety=None, ep_deceptive=None,
        ep_fired=None)


def _params(s, key, scale=1.0):
    k1, k2 = jax.random.split(key)
    return {"beliefs": s.wm.init(k1), "desires": {"w": jnp.zeros(s.config.beliefs.thought_dim), "b": jnp.zeros(())},
            "policy": {"u": scale * jax.random.normal(k2, (s.config.beliefs.thought_dim,))}}


def _log_pi(s, params, obs):
    h = jax.vmap(s.wm.encode, (None, None, 0))(params["beliefs"], obs, jnp.arange(s.env.num_plans))
    return jax.nn.log_softmax(h @ params["policy"]["u"] / s.config.desires.temperature)


def test_dpo_loss_equals_its_closed_form_on_a_hand_pair():
    s = _spec(**{"run.learning": "dpo", "reward.kl_beta": 0.7})
    params, ref = _params(s, jax.random.PRNGKey(0)), _params(s, jax.random.PRNGKey(1))
    batch = _hand_batch(s, [2, 0], [0.5, 1.0])  # environment 1's act (plan 0) is preferred
    obs = batch.obs[0, 0]
    m = np.asarray(_log_pi(s, params, obs) - _log_pi(s, ref, obs))
    want = -np.log(special.expit(0.7 * (m[0] - m[2])))
    np.testing.assert_allclose(losses.dpo_term(s, params, ref, batch), want, rtol=1e-5)
    tie = _hand_batch(s, [2, 0], [1.0, 1.0])
    assert float(losses.dpo_term(s, params, ref, tie)) == 0.0  # a tie is no preference


def _margin_after_dpo(beta: float) -> float:
    """``(log pi - log pi_ref)(preferred) - (log pi - log pi_ref)(other)`` at the pairs' state after 600 Adam steps (their rate decaying to 0) of DPO on four pairs of the same two
    acts, plan 0 preferred in three: DPO's optimum is then ``beta . margin = log 3``, finite (one
    preference alone has none: its margin grows without bound)."""
    s = _spec(**{"run.learning": "dpo", "reward.kl_beta": beta})
    ref = _params(s, jax.random.PRNGKey(1), scale=0.1)
    batch = _hand_batch(s, [[2, 0]] * 4, [[0.0, 1.0]] * 3 + [[1.0, 0.0]])
    opt = optax.adam(optax.cosine_decay_schedule(3e-2, 600))

    def step(carry, _):
        p, o = carry
        g = jax.grad(lambda p: losses.dpo_term(s, p, ref, batch))(p)
        u, o = opt.update(g, o, p)
        return (optax.apply_updates(p, u), o), None

    params = jax.lax.scan(step, (ref, opt.init(ref)), None, length=600)[0][0]
    obs = batch.obs[0, 0]
    m = _log_pi(s, params, obs) - _log_pi(s, ref, obs)
    return float(m[0] - m[2])


def test_dpo_with_large_beta_stays_at_the_reference():
    """The implicit reward is beta . log(pi / pi_ref), so a large beta fits the preferences with a small
    move: at DPO's optimum the pair's margin is log(3) / beta. (DPO constrains only the acts its pairs
    hold: a plan in no pair moves freely as a side effect of the shared weights.)"""
    large, small = _margin_after_dpo(100.0), _margin_after_dpo(0.1)
    np.testing.assert_allclose(large, np.log(3) / 100.0, atol=0.01)
    assert small > 3.0


def test_kl_term_is_zero_at_the_reference_and_positive_away_from_it():
    s = _spec(**{"reward.kl_beta": 2.0})
    ref = _params(s, jax.random.PRNGKey(1))
    batch = _hand_batch(s, [0, 1], [0.0, 1.0])
    assert abs(float(losses.kl_term(s, ref, ref, batch))) < 1e-6
    moved = {**ref, "policy": {"u": ref["policy"]["u"] + 1.0}}
    obs = batch.obs[0, 0]
    want = 2.0 * float(policy.exact_kl(_log_pi(s, moved, obs), _log_pi(s, ref, obs), jnp.ones(s.env.num_plans, bool)))
    np.testing.assert_allclose(losses.kl_term(s, moved, ref, batch), want, rtol=1e-5)
    assert want > 0


# --- every learner faces its nominal rate when RL starts ------------------------------------------

def _start_recall(routing: str, reads: str, tpr: float, seeds: int = 8) -> float:
    fields = {**TINY, "routing": routing, "probe.reads": reads, "probe.rate": tpr, "run.sft_steps": 60,
              "probe.n_thoughts": 256, "beliefs.rl_lr": 3e-2}
    if routing == "grpo":
        fields["run.group_size"] = 2
    s = make_spec(float32(replace(Config(), **fields)))
    states = jax.jit(jax.vmap(lambda k: learner.init(s, k)))(jax.random.split(jax.random.PRNGKey(0), seeds))
    return float(np.mean(states.start_recall))


@pytest.mark.parametrize("routing, reads", [("end_to_end", "live"), ("grpo", "live"), ("grpo", "reference"),
                                            pytest.param("policy_gradient", "live", marks=pytest.mark.slow),
                                            pytest.param("brainlike", "live", marks=pytest.mark.slow),
                                            pytest.param("end_to_end", "reference", marks=pytest.mark.slow)])
@pytest.mark.parametrize("tpr", [0.5, 0.9])
def test_the_alarm_faces_its_nominal_tpr_when_rl_starts(routing, reads, tpr):
    """After an honest start that moves the beliefs (a fast one), the deployed alarm's recall on fresh
    thoughts, read as it reads them, is the calibrated rate: 8 seeds x ~170 positives each, so the
    mean's sampling error is about 0.02 at 0.5."""
    assert abs(_start_recall(routing, reads, tpr) - tpr) < 0.08


def _start(**fields):
    s = make_spec(float32(replace(Config(), **{**TINY, "run.sft_steps": 10, "run.group_size": 2, **fields})))
    return jax.jit(lambda k: learner.init(s, k))(jax.random.PRNGKey(5))


def test_a_channel_control_starts_rl_where_its_learner_does():
    """Beliefs kept out of RL (``pred=;td=desires;pg=policy``) with ``run.sft_routing grpo``: the same
    honest start, parameters, optimiser state and probe as grpo's; without it the honest start leaves
    the beliefs where pretraining did, so the control would start elsewhere."""
    full = _start(routing="grpo")
    control = _start(routing="pred=;td=desires;probe=;pg=policy", **{"run.sft_routing": "grpo"})
    for a, b in ((full.params, control.params), (full.opt_state, control.opt_state), (full.probe, control.probe)):
        jax.tree.map(np.testing.assert_array_equal, a, b)
    alone = _start(routing="pred=;td=desires;probe=;pg=policy")
    assert not np.allclose(jax.tree.leaves(full.params["beliefs"])[0], jax.tree.leaves(alone.params["beliefs"])[0])


def test_sft_routing_must_agree_on_the_policy_head():
    with pytest.raises(ConfigError, match="^run.sft_routing"):
        replace(Config(), **{"run.sft_routing": "grpo"})
    with pytest.raises(ConfigError, match="^run.sft_routing: unknown preset"):
        replace(Config(), **{"run.sft_routing": "nonsense"})
