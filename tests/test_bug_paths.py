"""Code paths the experiments' conditions run through, each checked against a hand computation: the frozen
reader inside ``rl_update`` and the off-policy log. Each test's docstring names the bug it catches.

Every run starts from ``START`` (``learner.start`` jitted with the config as an argument), so configs
that differ from ``conftest.TINY`` only in numbers share one compiled program.
"""

from __future__ import annotations

import jax
import numpy as np
from conftest import TINY

from brainlike.config import Config, replace
from brainlike.core import learner as L
from brainlike.core import rollout
from brainlike.core.losses import encode_batch
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
