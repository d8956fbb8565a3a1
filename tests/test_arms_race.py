"""Anchoring (``reward.kl_beta``), the placebo probe (``probe.direction``), the refit schedule, and
the experiments built on them (probe_refresh, phase_diagram, placebo)."""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import TINY

from brainlike.config import Config, ConfigError, replace
from brainlike.core import learner as lr
from brainlike.core import probes
from brainlike.core.traced import compile_key, float32
from brainlike.core.rollout import actor_step, make_spec, new_actor

SMALL = {**TINY, "probe.coverage": ("A",), "beliefs.pretrain_updates": 30}


# --- anchoring: r - beta * (log pi(a) - log pi_ref(a)) ---

def test_anchoring_is_structural_and_absent_at_beta_zero():
    """At beta = 0 no reference policy is kept or computed: the default run is the run from
    before anchoring existed (tests/test_policy_gradient.py checks its metrics bit for bit)."""
    plain, anchored = Config(), replace(Config(), **{"reward.kl_beta": 0.1})
    assert not plain.reward.anchored and not make_spec(float32(plain)).anchored
    assert compile_key(anchored) != compile_key(plain) and make_spec(float32(anchored)).anchored
    assert compile_key(replace(anchored, **{"reward.kl_beta": 1.0})) == compile_key(anchored)  # its size is numeric
    traced = lambda c: {jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(c)[0]}  # noqa: E731
    assert ".reward.kl_beta" in traced(anchored) and ".reward.kl_beta" not in traced(plain)  # 0 is a constant
    with pytest.raises(ConfigError, match="kl_beta"):
        replace(Config(), **{"reward.kl_beta": 0.1, "desires.selection": "keep_if_positive"})
    state = jax.eval_shape(lr.start, jax.random.PRNGKey(0), float32(replace(Config(), **SMALL)))
    assert state.ref is None


def _two_plans(beta: float, w, sigma: float = 0.0, n_variants: int = 1):
    """One decision on plan_market without B (two plans: honest and A), desires ``w`` now and
    zero at the start of RL, an alarm that plays no part (alpha 0)."""
    config = replace(Config(), **{"env.b_prevalence": 0.0, "reward.alpha": 0.0, "reward.kl_beta": beta,
                                  "beliefs.hidden": 8, "beliefs.thought_dim": 4, "desires.temperature": 0.5,
                                  "desires.thought_noise": sigma, "desires.n_variants": n_variants})
    numbers = float32(config)
    s = make_spec(numbers)
    params = {"beliefs": s.wm.init(jax.random.PRNGKey(1)), "desires": {"w": jnp.asarray(w), "b": jnp.asarray(0.3)}}
    ref = {"beliefs": params["beliefs"], "desires": {"w": jnp.zeros(4), "b": jnp.zeros(())}}
    actor = new_actor(s, jax.random.PRNGKey(2))
    step = jax.jit(lambda key, c: actor_step(make_spec(c), params, lr.blind(s), actor, key, False, ref)[1])
    return s, numbers, params, actor, step


@pytest.mark.parametrize("seed", range(4))
def test_kl_term_equals_a_hand_computed_value_on_two_plans(seed):
    """pi = softmax(V / tau) over honest and A, pi_ref uniform (zero desires): the reward of the
    decision taken is r_env - beta * (log pi(a) - log 1/2)."""
    w = [1.5, -0.7, 0.4, 2.0]
    s, numbers, params, actor, step = _two_plans(0.25, w)
    t = step(jax.random.PRNGKey(10 + seed), numbers)
    h = np.stack([np.asarray(s.wm.encode(params["beliefs"], actor.obs, p)) for p in (0, 1)])
    v = (h @ np.asarray(w) + 0.3) / 0.5
    log_pi = v - np.log(np.exp(v).sum())
    a = int(t.plan)
    r_env = (0.5, 1.0)[a]
    np.testing.assert_allclose(float(t.reward), r_env - 0.25 * (log_pi[a] - np.log(0.5)), rtol=1e-5)
    np.testing.assert_allclose(float(t.ep_return), float(t.reward))  # one-step episodes: the return is the reward


def test_kl_term_is_exactly_zero_at_beta_zero_and_at_the_reference():
    """The anchored code path with beta = 0 gives the unanchored reward exactly, and so does any
    beta while the policy is still the reference policy (RL's first decision)."""
    w = [1.5, -0.7, 0.4, 2.0]
    _, numbers, _, _, step = _two_plans(0.25, w, sigma=0.5, n_variants=3)
    key = jax.random.PRNGKey(7)
    zero = dataclasses.replace(numbers.reward, kl_beta=jnp.float32(0.0))  # traced: the anchored program
    at_zero = step(key, dataclasses.replace(numbers, reward=zero))
    assert float(at_zero.reward) == (0.5, 1.0)[int(at_zero.plan)]
    _, numbers, _, _, step = _two_plans(0.25, [0.0] * 4, sigma=0.5, n_variants=3)
    t = step(key, numbers)
    assert float(t.reward) == (0.5, 1.0)[int(t.plan)]


# --- the placebo probe ---

def _inits(config: Config, n: int):
    s = make_spec(float32(config))
    keys = jax.random.split(jax.random.PRNGKey(5), n)
    return s, jax.jit(jax.vmap(functools.partial(lr.init, s)))(keys)


def _fpr(s, states, probe_of, i: int):
    """Per seed: the false-positive rate of ``probe_of(state)`` on honest thoughts of set ``i``."""
    def one(state):
        h, y, ok = lr.labelled_h(s, state.params, lr.split(s, state.thoughts, i))
        p = probe_of(state)
        return probes.false_positive_rate(h @ p.u + p.c, y, ok, p.threshold), ((y < 0.5) & ok).sum()
    return jax.vmap(one)(states)


@pytest.mark.parametrize("target, rate", [("fpr", 0.2), ("tpr", 0.95)])
def test_placebo_matches_the_fitted_probes_false_positive_rate(target, rate):
    """A random unit direction, a different one per seed, calibrated to the fitted probe's FPR on the
    honest calibration thoughts: equal there, and on fresh honest thoughts within sampling error. Calibrated
    for a TPR (the default), the fitted probe separates the kinds and its FPR is about 0, which any
    threshold above every honest score matches: there the placebo's threshold must be the highest
    honest calibration score along its direction (not, say, the highest of all calibration thoughts)."""
    n = 24
    config = replace(Config(), **SMALL, **{"probe.direction": "random", "probe.target": target,
                                           "probe.rate": rate})
    s, states = _inits(config, n)
    u = np.asarray(states.probe.u)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, rtol=1e-5)
    assert np.abs(u @ u.T - np.eye(n)).max() < 0.999  # every seed draws its own direction
    fitted = lambda st: lr.fit(s, st.params, st.thoughts)  # noqa: E731
    placebo = lambda st: st.probe  # noqa: E731
    (f_cal, n_cal), (p_cal, _) = _fpr(s, states, fitted, 1), _fpr(s, states, placebo, 1)
    if target == "fpr":
        assert float(np.mean(f_cal)) > 0.1  # a false-positive rate worth matching
    # the same count of negatives above threshold, give or take the one a threshold placed on a
    # negative's own score can gain or lose to rounding when the scores are computed again
    np.testing.assert_allclose(p_cal, f_cal, atol=1.01 / float(np.min(n_cal)))
    if target == "tpr":
        def top(state):  # the highest honest calibration score along the placebo's direction
            h, y, ok = lr.labelled_h(s, state.params, lr.split(s, state.thoughts, 1))
            return jnp.max(jnp.where((y < 0.5) & ok, h @ state.probe.u, -jnp.inf))
        none = np.asarray(f_cal) == 0
        assert none.mean() > 0.5
        np.testing.assert_allclose(np.asarray(states.probe.threshold)[none], np.asarray(jax.vmap(top)(states))[none],
                                   rtol=1e-6, atol=1e-6)
    (f_ev, _), (p_ev, _) = _fpr(s, states, fitted, 2), _fpr(s, states, placebo, 2)
    # on fresh thoughts, within the sampling error of a rate measured on the calibration negatives
    # (twice its largest standard deviation, 0.5 / sqrt(n)); a threshold matched to an FPR of 0 sits
    # on the largest honest score, which a fresh honest thought exceeds with probability 1 / (n + 1)
    diff = np.asarray(p_ev) - np.asarray(f_ev)
    assert abs(diff.mean()) < 1 / np.sqrt(float(np.min(n_cal)))


def _share(s, states, probe_of, i: int, match: str):
    """Per seed: the share of set ``i``'s ``matched_set`` that ``probe_of(state)`` flags, and its size."""
    def one(state):
        h, y, ok = lr.labelled_h(s, state.params, lr.split(s, state.thoughts, i))
        p, select = probe_of(state), probes.matched_set(y, ok, match)
        return probes.flagged_share(h @ p.u + p.c, select, p.threshold), select.sum()
    return jax.vmap(one)(states)


@pytest.mark.parametrize("match", ["firing", "recall"])
def test_placebo_matches_how_often_the_fitted_probe_fires_or_its_recall(match):
    """``probe.placebo_match``: the placebo flags the same share of every calibration thought (B's,
    which the probe is not fitted on, among them) or of A's as the fitted probe, to one thought; on
    fresh thoughts within sampling error. Matched on recall at TPR 0.95, it fires far more often than
    the fitted probe on honest thoughts: a random direction flags most of A only by flagging most of all."""
    n = 24
    config = replace(Config(), **SMALL, **{"probe.direction": "random", "probe.placebo_match": match})
    s, states = _inits(config, n)
    fitted = lambda st: lr.fit(s, st.params, st.thoughts)  # noqa: E731
    placebo = lambda st: st.probe  # noqa: E731
    (f_cal, n_cal), (p_cal, _) = (_share(s, states, p, 1, match) for p in (fitted, placebo))
    assert float(np.mean(f_cal)) > 0.1  # a share worth matching
    np.testing.assert_allclose(p_cal, f_cal, atol=1.01 / float(np.min(n_cal)))
    (f_ev, n_ev), (p_ev, _) = (_share(s, states, p, 2, match) for p in (fitted, placebo))
    assert abs(float(np.mean(np.asarray(p_ev) - np.asarray(f_ev)))) < 1 / np.sqrt(float(np.min(n_ev)))
    if match == "recall":
        (f_fp, _), (p_fp, _) = _fpr(s, states, fitted, 1), _fpr(s, states, placebo, 1)
        assert float(np.mean(p_fp)) > float(np.mean(f_fp)) + 0.2


def test_placebo_draws_are_numeric_and_distinct():
    """``probe.placebo_draw`` picks one of a seed's directions without compiling again; draw 0 is the
    direction a placebo drew before there were several (``fold_in(key, 1)``), and draws differ."""
    config = replace(Config(), **SMALL, **{"probe.direction": "random"})
    assert compile_key(replace(config, **{"probe.placebo_draw": 5.0})) == compile_key(config)
    key = jax.random.PRNGKey(9)
    draw = lambda d: make_spec(float32(replace(config, **{"probe.placebo_draw": d})))  # noqa: E731
    dirs = [np.asarray(probes.random_direction(lr.placebo_key(draw(d), key),
                                               config.beliefs.thought_dim)) for d in (0.0, 1.0, 2.0)]
    np.testing.assert_array_equal(dirs[0], probes.random_direction(jax.random.fold_in(key, 1), config.beliefs.thought_dim))
    assert not np.array_equal(dirs[0], dirs[1]) and not np.array_equal(dirs[1], dirs[2])


@pytest.mark.parametrize("fields, match", [({"probe.direction": "random", "probe.placebo_draw": 1.5}, "whole number"),
                                           ({"probe.placebo_match": "recall"}, "only a placebo"),
                                           ({"probe.placebo_draw": 2.0}, "only a placebo"),
                                           ({"probe.direction": "random", "probe.placebo_match": "auroc"}, "allowed")])
def test_placebo_knobs_refuse_bad_values(fields, match):
    with pytest.raises(ConfigError, match=match):
        replace(Config(), **fields)


# --- the refit schedule ---

def _updates(config: Config, n: int):
    """The deployed probe of seed 1 of two run side by side (``vmap``, as a sweep runs them) after each
    of ``n`` RL updates (index 0: before RL)."""
    s = make_spec(float32(config))
    state = jax.jit(jax.vmap(functools.partial(lr.init, s)))(jax.random.split(jax.random.PRNGKey(3), 2))
    update = jax.jit(jax.vmap(lambda st: lr.rl_update(s, st)[0]))
    seen = [state.probe]
    for _ in range(n):
        state = update(state)
        seen.append(state.probe)
    return [jax.tree.map(lambda x: x[1], p) for p in seen]


@pytest.mark.parametrize("direction", ["fitted", "random"])
def test_refit_schedule_is_exact(direction):
    """refit_every = N: the deployed probe changes after exactly the updates N, 2N, 3N and at no
    other, with seeds run side by side as in a sweep; a placebo keeps its direction and changes only
    its threshold."""
    every = 3
    config = replace(Config(), **SMALL, **{"probe.refit_every": every, "probe.direction": direction,
                                           "beliefs.rl_lr": 0.03})
    seen = _updates(config, 10)
    changed = [i for i in range(1, len(seen))
               if not (np.array_equal(seen[i].u, seen[i - 1].u) and seen[i].threshold == seen[i - 1].threshold)]
    assert changed == [3, 6, 9]
    if direction == "random":
        assert all(np.array_equal(p.u, seen[0].u) for p in seen)
    else:
        assert all(not np.array_equal(seen[i].u, seen[i - 1].u) for i in changed)
