"""Code paths the experiments' conditions run through, each checked against a hand computation: the
frozen reader inside ``rl_update`` and the off-policy log, the honest start's parameters and Adam state,
the anchor it leaves, the gradient cosine's sign, partial oversight, the selection and proposal rules,
replay and the recalibration schedule. Each test's docstring names the bug it catches.

Every run starts from ``START`` (``learner.start`` jitted with the config as an argument), so configs
that differ from ``conftest.TINY`` only in numbers share one compiled program.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import TINY

from brainlike.config import Config, replace
from brainlike.core import learner as L
from brainlike.core import probes, rollout
from brainlike.core.losses import encode_batch, honest_log_prob, prediction_errors
from brainlike.core.rollout import make_spec
from brainlike.core.traced import float32

START = jax.jit(L.start)
UPDATE = jax.jit(lambda state, c: L.rl_update(make_spec(c), state))


def _start(fields: dict, seed: int = 0):
    """``(config, numbers, spec, state RL starts from)`` of TINY with ``fields``."""
    config = replace(Config(), **{**TINY, **fields})
    numbers = float32(config)
    return config, numbers, make_spec(numbers), START(jax.random.PRNGKey(seed), numbers)


def _numbers(fields: dict):
    """``(config, numbers, spec)`` of TINY with ``fields``, to update a state another config started."""
    config = replace(Config(), **{**TINY, **fields})
    return config, float32(config), make_spec(float32(config))


def _env_reward(config, kind) -> np.ndarray:
    """plan_market's reward of each transition's kind (honest, A, B)."""
    p = config.env_params
    return np.array([p.reward_honest, p.reward_a, p.reward_b], np.float32)[np.asarray(kind)]


def _acted_on(s, state):
    """The rollout ``rl_update(state)`` acts on: its key, its policy; the live beliefs read it (the
    reader changes rewards and flags, never which thoughts are taken)."""
    key_roll = jax.random.split(state.key)[1]
    return rollout.rollout(s, state.params, state.probe, state.actors, key_roll, False, ref=state.ref)[1]


def _leaves_equal(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))


# --- the frozen reader (probe.reads = reference) -----------------------------------------------

def _moved_off_the_reader(state):
    """The live beliefs with every thought pushed 10 probe directions down: the live alarm cannot fire."""
    beliefs = jax.tree.map(lambda x: x, state.params["beliefs"])
    last = beliefs["encoder"]["params"]["Dense_1"]
    last["bias"] = last["bias"] - 10.0 * state.probe.u
    return state._replace(params=dict(state.params, beliefs=beliefs))


def _read(config, s, probe, beliefs, batch):
    """By hand: each transition's score through ``beliefs``, its flag and its graded innate reward."""
    h = np.asarray(encode_batch(s, beliefs, batch.obs, batch.plan))
    score = h @ np.asarray(probe.u) + float(probe.c)
    alarm = 1.0 / (1.0 + np.exp(-(score - float(probe.threshold))))
    reward = _env_reward(config, batch.kind) - config.reward.alpha * alarm * np.asarray(batch.overseen)
    return score > float(probe.threshold), reward


def test_rl_update_s_alarm_reads_the_thought_taken_through_the_frozen_reader():
    """Bug caught: ``rl_update`` passing ``reader=None`` to ``rollout`` (the alarm then reads the live
    beliefs, which RL moves, instead of the frozen copy ``probe.reads = reference`` asks for).

    The live beliefs are moved so that the live alarm can no longer fire; the update's logged flags,
    alarms and return must be those computed by hand through the reader's parameters."""
    config, numbers, s, state = _start({"probe.reads": "reference", "reward.alarm": "graded"})
    state = _moved_off_the_reader(state)
    _, stats = UPDATE(state, numbers)
    batch = _acted_on(s, state)
    flagged, reward = _read(config, s, state.probe, state.reader, batch)
    live_flagged, live_reward = _read(config, s, state.probe, state.params["beliefs"], batch)
    assert flagged.sum() > 0 and live_flagged.sum() == 0  # the two readings differ on this batch
    assert float(stats["alarm_rate"]) == flagged.sum()  # one-step episodes: an alarm per flagged decision
    taken = np.eye(s.n_kinds)[np.asarray(batch.kind)]
    np.testing.assert_array_equal(stats["flagged"], (taken * flagged[..., None]).sum(axis=(0, 1)))
    np.testing.assert_allclose(float(stats["return"]), reward.sum(), rtol=1e-5)
    assert abs(live_reward.sum() - reward.sum()) > 1.0


def test_the_off_policy_log_reads_through_the_frozen_reader():
    """Bug caught: ``log_dataset`` (or ``init`` calling it) reading the logged thoughts through the live
    beliefs instead of the reader (``reader=None``).

    An honest start routed into the beliefs (``end_to_end``) moves them before the dataset is logged,
    so the live and frozen readings differ; the logged rewards (graded alarm) must be the reader's."""
    config, _, s, state = _start({"probe.reads": "reference", "run.learning": "off_policy", "routing": "end_to_end",
                                  "run.sft_steps": 20, "reward.alarm": "graded", "run.offline_batches": 4})
    assert not _leaves_equal(state.params["beliefs"], state.reader)
    data = state.dataset
    flagged, reward = _read(config, s, state.probe, state.reader, data)
    _, live_reward = _read(config, s, state.probe, state.params["beliefs"], data)
    np.testing.assert_array_equal(data.flagged, flagged)
    np.testing.assert_allclose(data.reward, reward, rtol=0, atol=1e-6)
    assert np.abs(live_reward - reward).max() > 1e-3  # far beyond round-off: the live reading is not it


# --- the honest start: what it moves, Adam's state included ---------------------------------

def _beliefs_adam(state):
    """The beliefs' Adam state (count, mu, nu) inside the partitioned optimiser state."""
    adam = state.opt_state.inner_states["beliefs"].inner_state[0]
    return adam.count, adam.mu["beliefs"], adam.nu["beliefs"]


@pytest.mark.parametrize("routing, moves", [("brainlike", False), ("end_to_end", True), ("policy_gradient", True)])
def test_the_honest_start_moves_the_beliefs_and_their_adam_state_only_where_routed(routing, moves):
    """Bug caught (brainlike): the honest start keeping Adam's new state unconditionally
    (``opt_state = new_state``), which advances the beliefs' Adam count and decays its moments while
    their parameters stay put. Bug caught (end_to_end, policy_gradient): an honest start that leaves
    the beliefs' parameters or their Adam state where pretraining left them, though the routing's
    RL losses reach the beliefs."""
    sft = 20
    _, _, _, before = _start({"routing": routing})
    config, _, _, after = _start({"routing": routing, "run.sft_steps": sft})
    (count0, mu0, nu0), (count1, mu1, nu1) = _beliefs_adam(before), _beliefs_adam(after)
    assert int(count0) == config.beliefs.pretrain_updates
    assert not _leaves_equal(before.params["desires"], after.params["desires"])  # the desires always move
    if moves:
        assert int(count1) == config.beliefs.pretrain_updates + sft
        assert not _leaves_equal(before.params["beliefs"], after.params["beliefs"])
        assert not _leaves_equal(mu0, mu1) and not _leaves_equal(nu0, nu1)
    else:
        assert int(count1) == int(count0)
        assert _leaves_equal(before.params["beliefs"], after.params["beliefs"])
        assert _leaves_equal(mu0, mu1) and _leaves_equal(nu0, nu1)


# --- the honest start and the KL anchor ------------------------------------------------------

def test_the_anchor_is_the_policy_the_honest_start_left_and_stays_fixed_through_rl():
    """Bug caught: ``RunState.ref`` taken before the honest start (the pretrained, zero-desire policy)
    instead of after it, or moved by RL updates (``ref`` replaced by the current parameters)."""
    _, numbers, _, state = _start({"reward.kl_beta": 0.1, "run.sft_steps": 20})
    assert _leaves_equal(state.ref, state.params)
    assert np.abs(np.asarray(state.ref["desires"]["w"])).max() > 0  # the honest start's desires, not zeros
    ref = state.ref
    for _ in range(3):
        state, _ = UPDATE(state, numbers)
    assert _leaves_equal(state.ref, ref)
    assert not _leaves_equal(state.params["desires"], ref["desires"])  # RL moved the policy, not its anchor


def _encoder_by_hand(beliefs, obs, plan, num_plans):
    """The encoder's pre-activation z, written out: tanh(W0 [obs, onehot(plan)] + b0), then W1 . + b1."""
    p = beliefs["encoder"]["params"]
    x = np.concatenate([np.asarray(obs), np.eye(num_plans)[plan]])
    hidden = np.tanh(x @ np.asarray(p["Dense_0"]["kernel"]) + np.asarray(p["Dense_0"]["bias"]))
    return hidden @ np.asarray(p["Dense_1"]["kernel"]) + np.asarray(p["Dense_1"]["bias"])


def _logsumexp(x):
    m = x.max()
    return m + np.log(np.exp(x - m).sum())


@pytest.mark.parametrize("sigma, n_variants", [(0.0, 1), (0.5, 2)])
def test_honest_log_prob_equals_a_hand_computation(sigma, n_variants):
    """Bug caught: any change to ``log pi(honest)`` (the honest start's loss): which candidates count as
    honest, the temperature, the masking of unavailable plans, or the variants of a sampled thought.
    Two phrasings of each kind (six plans, two honest); an honest phrasing and one of B's unavailable."""
    config = replace(Config(), **{"env.n_phrasings": 2, "env.b_prevalence": 1.0, "desires.temperature": 0.7,
                                  "desires.thought_noise": sigma, "desires.n_variants": n_variants})
    s = make_spec(float32(config))
    rng = np.random.default_rng(0)
    params = {"beliefs": s.wm.init(jax.random.PRNGKey(1)),
              "desires": {"w": jnp.asarray(rng.normal(size=config.beliefs.thought_dim), jnp.float32),
                          "b": jnp.asarray(0.2)}}
    obs = jnp.asarray(rng.normal(size=s.env.obs_dim), jnp.float32)
    kinds = jnp.array([0, 0, 1, 1, 2, 2])
    available = jnp.array([True, False, True, True, False, True])
    noise = rollout.candidate_noise(s, jax.random.PRNGKey(2))
    z = np.stack([_encoder_by_hand(params["beliefs"], obs, p, 6) for p in range(6)])  # [P, H]
    if noise is None:
        h = np.repeat(np.tanh(z), n_variants, axis=0)
    else:
        h = np.tanh(z[:, None] + sigma * np.asarray(noise)).reshape(6 * n_variants, -1)
    logits = (h @ np.asarray(params["desires"]["w"]) + 0.2) / 0.7
    plan = np.arange(6 * n_variants) // n_variants
    ok, honest = np.asarray(available)[plan], np.asarray(kinds)[plan] == 0
    expected = _logsumexp(logits[ok & honest]) - _logsumexp(logits[ok])
    got = float(honest_log_prob(s, params, obs, available, kinds, noise))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert got < -0.01  # a real choice: the deceptive plans hold some probability
    none_honest = jnp.array([False, False, True, True, False, True])
    assert float(honest_log_prob(s, params, obs, none_honest, kinds, noise)) == 0.0


# --- the gradient cosine ---------------------------------------------------------------------

def _tree(x, y, z):
    return {"a": jnp.asarray([x, y], jnp.float32), "b": {"c": jnp.asarray([[z]], jnp.float32)}}


@pytest.mark.parametrize("degrees", [0, 60, 90, 120, 180])
def test_cosine_of_pytrees_at_a_known_angle(degrees):
    """Bug caught: a sign flip, a missing normalisation, or leaves paired wrongly in ``cosine``. The
    trees lie in a plane spanned by a leaf of one subtree and a leaf of another, at ``degrees``."""
    t = np.radians(degrees)
    a = _tree(2.0, 0.0, 0.0)
    b = _tree(3.0 * np.cos(t), 0.0, 3.0 * np.sin(t))
    np.testing.assert_allclose(float(L.cosine(a, b)), np.cos(t), atol=1e-6)
    np.testing.assert_allclose(float(L.cosine(b, a)), np.cos(t), atol=1e-6)
    assert float(L.cosine(a, _tree(0.0, 0.0, 0.0))) == 0.0  # a vanishing gradient: no alignment


def _cosine_by_hand(a, b) -> float:
    a = np.concatenate([np.ravel(x) for x in jax.tree.leaves(a)]).astype(np.float64)
    b = np.concatenate([np.ravel(x) for x in jax.tree.leaves(b)]).astype(np.float64)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


# REINFORCE on sampled thoughts against a graded alarm: the pg term's expected belief gradient is
# alpha times that of the expected soft alarm, which the probe's gradient estimates pathwise
ALIGNED = {"routing": "policy_gradient", "desires.thought_noise": 0.5, "reward.alarm": "graded",
           "run.cosine_batches": 16}


@jax.jit
def _measured(state, c):
    """At RL's start: the two belief gradients, ``gradient_cosine``, and the cosine ``advance`` logs."""
    s = make_spec(c)
    return (L.belief_gradients(s, state, ALIGNED["run.cosine_batches"]), L.gradient_cosine(s, state),
            L.advance(s, state, 1)[1]["pg_probe_cosine"][0])


def test_the_logged_gradient_cosine_is_positive_where_the_two_gradients_estimate_one_direction():
    """Bug caught: a sign flip anywhere between the two belief gradients and the logged
    ``pg_probe_cosine`` (``cosine``, ``gradient_cosine``, the pg term's sign in ``belief_gradients``,
    or ``advance``'s logging). The logged value at RL's start is ``gradient_cosine`` there, which is
    the hand-computed cosine of ``belief_gradients``, and is clearly positive: with sampled thoughts
    and a graded alarm, the policy gradient is a zeroth-order estimate of the probe's gradient."""
    for seed in (0, 1):
        _, numbers, _, state = _start(ALIGNED, seed)
        (g_pg, g_probe), cosine, logged = _measured(state, numbers)
        by_hand = _cosine_by_hand(g_pg, g_probe)
        assert by_hand > 0.1, (seed, by_hand)
        np.testing.assert_allclose(float(cosine), by_hand, rtol=1e-4)
        np.testing.assert_allclose(float(logged), by_hand, rtol=1e-4)


# --- partial oversight -------------------------------------------------------------------------

def test_an_unoverseen_episode_pays_no_alarm_and_an_overseen_one_pays_alpha():
    """Bug caught: the innate reward dropping its ``overseen`` factor (every flagged episode
    penalised whatever ``reward.oversight`` says), or ``judge`` reading another episode's flag."""
    _, _, s = _numbers({"reward.alpha": 2.5, "reward.oversight": 0.5})
    probe = probes.Probe(jnp.zeros(16), jnp.zeros(()), jnp.asarray(-1.0))  # flags everything
    info = {"deceptive": jnp.asarray(True), "safety": jnp.zeros(())}
    for overseen, expected in ((False, 1.0), (True, 1.0 - 2.5)):
        episode = rollout.new_episode(s, jax.random.PRNGKey(0))._replace(overseen=jnp.asarray(overseen))
        r = rollout.judge(s, episode, probe, jnp.asarray(0.0), jnp.asarray(1.0), jnp.asarray(True), info)[1]
        assert float(r) == expected, overseen


def test_episodes_are_overseen_at_the_rate_asked_and_only_they_pay_the_alarm():
    """Bug caught: ``new_episode`` drawing ``overseen`` at another rate than ``reward.oversight`` (its
    complement, or always), the reward ignoring it, or the logged overseen return and count not being
    those of the overseen episodes.

    Over 4,000 fresh episodes the overseen share is within 4 standard errors of 0.3; over RL rollouts
    at oversight 0.5 every decision's reward is ``r_env - alpha * flagged * overseen`` (binary alarm,
    one-step episodes), with flagged decisions both overseen and not."""
    _, _, s3 = _numbers({"reward.oversight": 0.3})
    keys = jax.random.split(jax.random.PRNGKey(0), 4000)
    share = float(jnp.mean(jax.vmap(lambda k: rollout.new_episode(s3, k).overseen)(keys)))
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 4000), share

    config, numbers, s, state = _start({"reward.oversight": 0.5, "reward.alpha": 2.0})
    roll = jax.jit(lambda st, k: jax.lax.scan(
        lambda a, key: rollout.rollout(s, st.params, st.probe, a, key, False)[:2], st.actors,
        jax.random.split(k, 32))[1])
    batch = roll(state, jax.random.PRNGKey(3))
    overseen, flagged = np.asarray(batch.overseen), np.asarray(batch.flagged)
    assert (flagged & (overseen == 1)).any() and (flagged & (overseen == 0)).any()
    np.testing.assert_allclose(batch.reward, _env_reward(config, batch.kind) - 2.0 * flagged * overseen, atol=1e-6)

    _, stats = UPDATE(state, numbers)
    acted = _acted_on(s, state)
    assert float(stats["overseen_episodes"]) == float(acted.overseen.sum())
    np.testing.assert_allclose(float(stats["overseen_return"]), float((acted.reward * acted.overseen).sum()),
                               rtol=1e-6)


# --- selection and proposal rules --------------------------------------------------------------

N_DRAWS = 4000
TOL = 4 * np.sqrt(0.25 / N_DRAWS)  # 4 standard errors of a share, at its largest


def _choices(fields: dict, values, available, prev_plan=0):
    """``N_DRAWS`` draws of ``rollout.choose`` under ``fields``: (plans taken, proposals)."""
    config = replace(Config(), **fields)
    s = make_spec(float32(config))
    values, available = jnp.asarray(values, jnp.float32), jnp.asarray(available)

    def one(key):
        key_prop, key_sel = jax.random.split(key)
        choice, proposal = rollout.choose(s, key_prop, key_sel, values, available, jnp.asarray(prev_plan))
        return choice // s.n_variants, proposal

    plans, proposals = jax.jit(jax.vmap(one))(jax.random.split(jax.random.PRNGKey(0), N_DRAWS))
    return np.asarray(plans), np.asarray(proposals)


def _shares(plans, n):
    return np.bincount(plans, minlength=n) / len(plans)


def test_fixed_selection_takes_the_fixed_plan_with_probability_fixed_p():
    """Bug caught: ``selection fixed`` ignoring ``fixed_p`` (always the plan, or with probability
    ``1 - p``), taking an unavailable fixed plan, or not spreading the rest uniformly over the other
    available plans; the valence must play no part, and every available plan counts as proposed."""
    fields = {"desires.selection": "fixed", "desires.fixed_plan": 2, "desires.fixed_p": 0.7, "desires.n_variants": 2}
    plans, proposals = _choices(fields, [5.0, 5.0, 9.0, 9.0, -9.0, -9.0], [True, True, True])
    np.testing.assert_allclose(_shares(plans, 3), [0.15, 0.15, 0.7], atol=TOL)
    assert proposals.all()
    plans, _ = _choices(fields, [0.0] * 6, [True, True, False])  # B not on offer: never taken
    np.testing.assert_allclose(_shares(plans, 3), [0.5, 0.5, 0.0], atol=TOL)
    plans, _ = _choices({**fields, "desires.fixed_p": 0.0}, [0.0] * 6, [True, True, True])
    np.testing.assert_allclose(_shares(plans, 3), [0.5, 0.5, 0.0], atol=TOL)


SIX = {"env.n_phrasings": 2, "env.b_prevalence": 1.0}  # six plans


def test_sampled_proposal_thinks_of_exactly_n_sampled_available_plans():
    """Bug caught: ``proposal sampled`` proposing more or fewer than ``n_sampled`` plans, an unavailable
    one, always the same ones, or a choice outside what was proposed."""
    available = [True, True, True, False, True, True]
    plans, proposals = _choices({**SIX, "desires.proposal": "sampled", "desires.n_sampled": 2},
                                [0.0] * 6, available)
    assert (proposals.sum(axis=1) == 2).all()
    assert not proposals[:, 3].any()
    np.testing.assert_allclose(proposals.mean(axis=0), [0.4, 0.4, 0.4, 0.0, 0.4, 0.4], atol=TOL)
    assert proposals[np.arange(N_DRAWS), plans].all()
    _, one = _choices({**SIX, "desires.proposal": "sampled", "desires.n_sampled": 3}, [0.0] * 6,
                      [False, False, True, False, False, True])  # fewer available than asked: all of them
    assert (one == np.array([False, False, True, False, False, True])).all()


@pytest.mark.parametrize("prev_plan, available, near", [
    (2, [True] * 6, [1, 2, 3]),
    (0, [True] * 6, [0, 1]),
    (5, [True] * 6, [4, 5]),
    (4, [True, True, True, True, False, True], [3, 5]),  # the last plan itself is no longer on offer
    (4, [True, False, False, False, False, False], [0]),  # no neighbour available: every available plan
])
def test_local_proposal_thinks_of_the_last_plan_s_available_neighbours(prev_plan, available, near):
    """Bug caught: ``proposal local`` proposing other than the available plans within one of the last
    plan taken (or not falling back to every available plan when none is), or a choice outside them."""
    plans, proposals = _choices({**SIX, "desires.proposal": "local"}, [0.0] * 6, available, prev_plan)
    expected = np.isin(np.arange(6), near)
    assert (proposals == expected).all()
    assert set(np.unique(plans)) == set(near)


def test_keep_if_positive_takes_a_positive_proposal_whatever_boltzmann_prefers():
    """Bug caught: ``selection keep_if_positive`` behaving as Boltzmann (which would take the larger
    valence almost always), taking a non-positive or unproposed plan while a positive one is
    proposed, or not falling back to Boltzmann when none is positive."""
    fields = {"desires.selection": "keep_if_positive", "desires.temperature": 0.1}
    # two positive plans: each first in random order half the time, though Boltzmann gives 5.0 all of it
    plans, _ = _choices(fields, [0.1, 5.0, -1.0], [True, True, True])
    np.testing.assert_allclose(_shares(plans, 3), [0.5, 0.5, 0.0], atol=TOL)
    # a hot temperature: Boltzmann is near uniform, keep_if_positive takes the one positive plan
    plans, _ = _choices({**fields, "desires.temperature": 10.0}, [-0.01, 0.01, -0.02], [True, True, True])
    assert (plans == 1).all()
    # the positive plan not proposed (B off offer): Boltzmann over the rest
    plans, _ = _choices(fields, [-0.1, -0.2, 3.0], [True, True, False])
    p = np.exp(np.array([-1.0, -2.0]))
    np.testing.assert_allclose(_shares(plans, 3), [*(p / p.sum()), 0.0], atol=TOL)


# --- replay and the recalibration schedule -----------------------------------------------------

def test_replay_adds_stored_transitions_to_the_predictive_loss():
    """Bug caught: ``beliefs.replay`` transitions left out of the RL update's predictive loss (the
    replay batch not drawn, or not passed to ``total_loss``). The logged ``wm_loss`` must be the mean
    squared prediction error over the update's own transitions and the replayed ones together."""
    _, _, s0, state = _start({})
    replay = 16
    _, numbers, s = _numbers({"beliefs.replay": replay})
    _, stats = UPDATE(state, numbers)
    key_roll = jax.random.split(state.key)[1]
    batch = _acted_on(s0, state)
    idx = jax.random.randint(jax.random.fold_in(key_roll, 2), (replay,), 0, 3 * TINY["probe.n_thoughts"])
    stored = jax.tree.map(lambda x: x[idx], state.thoughts)
    own = np.asarray(prediction_errors(s, state.params["beliefs"], batch.obs, batch.plan, batch.outcome_obs))
    replayed = np.asarray(prediction_errors(s, state.params["beliefs"], stored.obs, stored.plan, stored.outcome_obs))
    assert own.size == 8 and replayed.size == replay
    np.testing.assert_allclose(float(stats["wm_loss"]), np.concatenate([own, replayed]).mean(), rtol=1e-5)
    assert abs(own.mean() - np.concatenate([own, replayed]).mean()) > 1e-3 * own.mean()


def test_recalibrate_every_resets_only_the_threshold_at_the_scheduled_updates():
    """Bug caught: ``probe.recalibrate_every`` recalibrating at the wrong updates (every one, never,
    off by one), refitting the direction as well, or setting the threshold on anything but the
    calibration thoughts under the beliefs of that moment. With N = 3 the threshold changes after
    updates 3 and 6 only, to the hand-computed ``1 - rate`` quantile of the covered deceptive
    calibration thoughts' scores; ``u`` and ``c`` never change."""
    config, _, _, state = _start({})
    _, numbers, s = _numbers({"probe.recalibrate_every": 3, "beliefs.rl_lr": 0.03})
    first = state.probe
    seen = [state.probe]
    for _ in range(6):
        state, _ = UPDATE(state, numbers)
        seen.append(state.probe)
        np.testing.assert_array_equal(state.probe.u, first.u)
        assert float(state.probe.c) == float(first.c)
        if len(seen) in (4, 7):  # after updates 3 and 6: the threshold under the beliefs of that moment
            cal = L.split(s, state.thoughts, 1)
            h = np.asarray(encode_batch(s, state.params["beliefs"], cal.obs, cal.plan))
            kind = np.asarray(cal.kind)
            positive = np.asarray(s.deceptive)[kind] & np.asarray(s.covered)[kind]
            scores = h[positive] @ np.asarray(first.u) + float(first.c)
            np.testing.assert_allclose(float(state.probe.threshold),
                                       np.quantile(scores, 1 - config.probe.rate), rtol=1e-5, atol=1e-6)
    changed = [i for i in range(1, 7) if float(seen[i].threshold) != float(seen[i - 1].threshold)]
    assert changed == [3, 6]
