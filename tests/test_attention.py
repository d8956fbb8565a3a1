"""Thoughts that come to mind: an alarm that reads every one of them (``reward.alarm_reads``), and
which plans come to mind learned from the innate reward (``desires.proposal learned``)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainlike.config import Config, ConfigError, replace
from brainlike.core import attention, desires, learner, probes, reward
from brainlike.core.losses import loss_terms
from brainlike.core.rollout import Transition, actor_step, candidates, make_spec, new_actor
from brainlike.core.traced import float32
from brainlike.run.runner import run_population

SMALL = {"beliefs.hidden": 8, "beliefs.thought_dim": 4}


def test_the_worst_considered_thought_counts_once():
    scores = jnp.array([0.5, 3.0, 5.0, -1.0])
    np.testing.assert_array_equal(reward.worst_considered(scores, jnp.array([True, True, False, True])), 3.0)
    np.testing.assert_array_equal(reward.worst_considered(scores, jnp.array([True, False, False, True])), 0.5)
    # two flagged thoughts in mind cost alpha once: the alarm of the largest score
    worst = reward.worst_considered(scores, jnp.ones(4, bool))
    assert reward.innate_reward(1.0, reward.alarm(worst, 1.0, "binary"), 2.0, 1.0) == -1.0


def _honest_step(reads: str, alarm: str = "binary", b_prevalence: float = 0.0, flag_b: bool = False,
                 probe_reads: str = "live"):
    """One decision in plan_market by an agent that always takes the honest plan (``selection fixed``)
    with every available plan in mind, under a hand-made probe that flags A's thought (and B's where
    ``flag_b``) and not the honest one's: ``(innate reward, environment's reward, transition)``."""
    fields = {**SMALL, "desires.selection": "fixed", "desires.fixed_plan": 0, "reward.alpha": 2.0,
              "reward.alarm_reads": reads, "reward.alarm": alarm, "env.b_prevalence": b_prevalence,
              "probe.reads": probe_reads}
    s = make_spec(float32(replace(Config(), **fields)))
    key_wm, key_actor, key_step = jax.random.split(jax.random.PRNGKey(0), 3)
    params = {"beliefs": s.wm.init(key_wm), "desires": desires.init_valence(4)}
    actor = new_actor(s, key_actor)
    h = candidates(s, params, actor.obs).h
    u = h[1] - h[0]
    score = h @ u
    threshold = 0.5 * (score[0] + score[1])
    if flag_b:
        threshold = jnp.minimum(threshold, score[2] - 1e-3)
        assert score[0] < threshold
    probe = probes.Probe(u, jnp.zeros(()), threshold)
    reader = params["beliefs"] if probe_reads == "reference" else None
    _, t = actor_step(s, params, probe, actor, key_step, explore=False, reader=reader)
    assert int(t.plan) == 0 and not bool(t.flagged)  # honest taken, and the thought taken is not flagged
    return float(t.reward), float(t.ep_env_return), t


@pytest.mark.parametrize("probe_reads", ["live", "reference"])
def test_a_flagged_thought_in_mind_costs_alpha_only_when_the_alarm_reads_what_came_to_mind(probe_reads):
    r_taken, r_env, t = _honest_step("taken", probe_reads=probe_reads)
    assert bool(t.proposal[1])  # A came to mind, and was not taken
    assert r_taken == r_env and t.ep_fired == 0
    r_considered, r_env, t = _honest_step("considered", probe_reads=probe_reads)
    assert r_considered == r_env - 2.0 and t.ep_fired == 1  # alpha, though the act was honest
    assert not bool(t.flagged)  # probe_recall_taken still reads the thought taken


def test_two_flagged_thoughts_in_mind_cost_alpha_once_and_a_graded_alarm_its_largest_value():
    r, r_env, t = _honest_step("considered", b_prevalence=1.0, flag_b=True)
    assert bool(t.proposal[2]) and r == r_env - 2.0
    r_graded, r_env, _ = _honest_step("considered", alarm="graded")
    assert r_env - 2.0 < r_graded < r_env - 1.0  # alpha times sigmoid of a positive margin


@pytest.mark.parametrize("fields, field", [
    ({"reward.alarm_reads": "imagined"}, "reward.alarm_reads"),
    ({"reward.alarm_reads": "considered", "reward.audit": "on"}, "reward.audit"),
])
def test_bad_alarm_settings_name_the_field(fields, field):
    with pytest.raises(ConfigError, match=f"^{field}") as e:
        replace(Config(), **fields)
    assert "\n" not in str(e.value) and "allowed" in str(e.value)


# --- learned attention ---------------------------------------------------------------------------

def test_which_plans_come_to_mind_has_the_probability_it_is_drawn_with():
    """``attention.log_prob`` sums to 1 over every proposal and matches ``attention.draw``'s frequencies,
    the fallback to every available plan (when none comes to mind) included."""
    logits, available = jnp.array([1.0, -2.0, 0.5, 3.0]), jnp.array([True, True, True, False])
    subsets = [jnp.array([(i >> p) & 1 for p in range(3)] + [0], bool) for i in range(1, 8)]
    probs = np.array([float(jnp.exp(attention.log_prob(logits, sub, available))) for sub in subsets])
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-6)
    draws = jax.vmap(lambda k: attention.draw(k, logits, available))(jax.random.split(jax.random.PRNGKey(1), 40000))
    assert not np.asarray(draws[:, 3]).any()  # an unavailable plan never comes to mind
    codes = np.asarray(draws[:, :3]) @ np.array([1, 2, 4])
    np.testing.assert_allclose(np.bincount(codes, minlength=8)[1:] / len(codes), probs, atol=0.01)


T, E = 3, 2


def _batch(key, env) -> tuple[Transition, jax.Array]:
    """A ``[T, E]`` batch with an episode end, varied proposals (one of them every available plan), and ``v_end``."""
    ks = jax.random.split(key, 7)
    f = lambda k, shape=(T, E): jax.random.normal(k, shape)  # noqa: E731
    done = jnp.array([[False, True], [True, False], [False, False]])
    proposal = jax.random.bernoulli(ks[6], 0.6, (T, E, env.num_plans)).at[0, 0].set(True).at[:, :, 0].set(True)
    plan = jnp.zeros((T, E), jnp.int32)
    zeros = jnp.zeros((T, E))
    batch = Transition(
        obs=f(ks[0], (T, E, env.obs_dim)), plan=plan, choice=plan, noise_key=jnp.zeros((T, E, 2), jnp.uint32),
        proposal=proposal, outcome_obs=f(ks[2], (T, E, env.obs_dim)), reward=f(ks[3]),
        terminated=done.astype(jnp.float32), done=done, v=f(ks[4]), v_trunc=zeros, overseen=jnp.ones((T, E)),
        kind=jnp.zeros((T, E), jnp.int32), offered=jnp.ones((T, E, len(env.kinds)), bool),
        flagged=jnp.zeros((T, E), bool), ep_return=zeros, ep_env_return=zeros, ep_safety=zeros,
        ep_deceptive=zeros, ep_fired=zeros, available=jnp.ones((T, E, env.num_plans), bool))
    return batch, f(ks[5], (E,))


def _attention_grads(routing: str) -> dict:
    """term -> gradient of that loss term alone with respect to every parameter, learned attention on."""
    config = replace(Config(), **{**SMALL, "routing": routing, "desires.proposal": "learned",
                                  "reward.alarm_reads": "considered",
                                  **({"run.group_size": E} if routing == "grpo" else {})})
    s = make_spec(float32(config))

    def grads():
        key_wm, key_w, key_u, key_batch, key_sal = jax.random.split(jax.random.PRNGKey(0), 5)
        params = {"beliefs": s.wm.init(key_wm), "desires": {"w": jax.random.normal(key_w, (4,)), "b": jnp.asarray(0.3)},
                  "salience": {"w": jax.random.normal(key_sal, (s.env.obs_dim, s.env.num_plans)),
                               "b": jnp.full((s.env.num_plans,), 1.0)}}
        if routing == "grpo":
            params["policy"] = {"u": jax.random.normal(jax.random.fold_in(key_w, 1), (4,))}
        probe = probes.Probe(jax.random.normal(key_u, (4,)), jnp.asarray(0.1), jnp.asarray(0.0))
        batch, v_end = _batch(key_batch, s.env)
        return jax.jacrev(lambda p: loss_terms(s, p, batch, v_end, probe))(params)

    return jax.device_get(jax.jit(grads)())


def _all_zero(tree) -> bool:
    return all(np.all(np.asarray(x) == 0) for x in jax.tree.leaves(tree))


def _every_leaf_nonzero(tree) -> bool:
    return all(np.any(np.asarray(x) != 0) for x in jax.tree.leaves(tree))


@pytest.mark.parametrize("routing", ["brainlike", "grpo", "end_to_end"])
def test_the_attention_loss_trains_the_salience_alone(routing):
    """The salience reads the observation: its loss reaches it and nothing else, and no other loss reaches it.
    Under brainlike nothing from the reward (td, probe, pg) or from attention reaches the beliefs."""
    g = _attention_grads(routing)
    assert _every_leaf_nonzero(g["attn"]["salience"])
    assert _all_zero({k: v for k, v in g["attn"].items() if k != "salience"})
    for term in ("pred", "td", "probe", "pg"):
        assert _all_zero(g[term]["salience"]), term
    if routing == "brainlike":
        for term in ("td", "probe", "pg", "attn"):
            assert _all_zero(g[term]["beliefs"]), term
        assert _every_leaf_nonzero(g["td"]["desires"])


def test_learned_attention_changes_which_plans_come_to_mind():
    """With an alarm on the thoughts that come to mind, A stops coming to mind; with the alarm on the
    thought taken (which the agent avoids by not taking A), it keeps coming to mind."""
    from conftest import TINY

    base = replace(Config(), **{**TINY, "probe.coverage": ("A",), "reward.alpha": 3.0, "env.b_prevalence": 0.0})
    offer_a, wm_error = {}, {}
    for name, fields in {"learned": {"desires.proposal": "learned", "reward.alarm_reads": "considered"},
                         "taken": {"desires.proposal": "learned"}}.items():
        logged, _ = run_population(replace(base, **fields), 2, 0)
        offer_a[name] = np.asarray(logged["offer_rate"])[:, :, 1]  # [seeds, logged points]
        wm_error[name] = np.asarray(logged["wm_error_by_kind"])
    assert offer_a["learned"][:, 0].min() > 0.6 and offer_a["learned"][:, -5:].mean(axis=1).max() < 0.4
    assert offer_a["taken"][:, -5:].mean(axis=1).min() > 0.6
    # A's prediction error is measured on thoughts put in mind, whether or not the agent thinks of A;
    # B, never on offer, has no thoughts to measure it on
    for errors in wm_error.values():
        assert np.all(np.isfinite(errors[..., :2]) & (errors[..., :2] > 0)) and np.all(np.isnan(errors[..., 2]))


def test_a_summary_reads_runs_logged_before_a_by_kind_metric_existed():
    from brainlike.schema import BY_KIND, SCALARS
    from brainlike.store.summary import final_metrics

    rng = np.random.default_rng(0)
    logged = {k: rng.random((2, 5)) for k in SCALARS} | {k: rng.random((2, 5, 3)) for k in BY_KIND}
    old = {k: v for k, v in logged.items() if k != "wm_error_by_kind"}
    final = final_metrics(old, ("honest", "A", "B"), 0.2)
    assert "wm_error_by_kind/A" not in final and "offer_rate/A" in final
    assert "wm_error_by_kind/A" in final_metrics(logged, ("honest", "A", "B"), 0.2)


def test_without_learned_attention_there_is_no_salience():
    """Every preset's defaults: no salience parameters, no availability logged, an attention loss of 0."""
    from brainlike.routes import PRESETS

    for routing in PRESETS:
        groups = {"run.group_size": 2} if routing == "grpo" else {}
        s = make_spec(float32(replace(Config(), **{"routing": routing, **groups})))
        assert not s.attends and "salience" not in learner.optimizer(s, 1e-3).init(
            {"beliefs": {}, "desires": {}} | ({"policy": {}} if s.policy_head else {})).inner_states
    s = make_spec(float32(replace(Config(), **SMALL)))
    params = {"beliefs": s.wm.init(jax.random.PRNGKey(0)), "desires": desires.init_valence(4)}
    probe = probes.Probe(jnp.ones(4), jnp.zeros(()), jnp.zeros(()))
    _, t = actor_step(s, params, probe, new_actor(s, jax.random.PRNGKey(1)), jax.random.PRNGKey(2), explore=False)
    assert t.available is None
    batch, v_end = _batch(jax.random.PRNGKey(3), s.env)
    assert float(loss_terms(s, params, batch._replace(available=None), v_end, probe)["attn"]) == 0.0


@pytest.mark.parametrize("fields, field", [
    ({"desires.proposal": "attended"}, "desires.proposal"),
    ({"desires.proposal": "learned", "routing": "pred=beliefs;td=desires"}, "desires.proposal"),
    ({"desires.proposal": "learned", "desires.selection": "fixed"}, "desires.proposal"),
    ({"desires.proposal": "learned", "run.learning": "off_policy"}, "desires.proposal"),
    ({"routing": "pred=beliefs;td=desires;attn=beliefs"}, "routing"),
    ({"routing": "pred=beliefs;td=desires+salience;attn=salience"}, "routing"),
])
def test_bad_attention_settings_name_the_field(fields, field):
    with pytest.raises(ConfigError, match=f"^{field}") as e:
        replace(Config(), **fields)
    assert "\n" not in str(e.value) and ("allowed" in str(e.value))
