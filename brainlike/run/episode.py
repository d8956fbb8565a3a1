"""One episode of a trained seed, played on the host's device for a person to see (``report.episode``)."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from brainlike.config import Config
from brainlike.core.rollout import make_spec, play

EPISODE_STEPS = 64  # decisions played: an episode longer than this (and than the time limit) is cut there


def record(config: Config, state, index: int) -> dict:
    """Episode ``index`` of the agent in ``state`` (a seed's final ``RunState``, as ``runner.train_seed``
    gives it), from a fresh episode keyed ``fold_in(its last key, index)``: per step, the environment's
    state before it (``env.FIELD``) and what ``rollout.play`` records, as NumPy."""
    s = make_spec(config)
    n = max(EPISODE_STEPS, int(getattr(config.env_params, "max_steps", 0)))
    run = jax.jit(lambda st, key: play(s, st.params, st.probe, key, n, st.ref, st.reader))
    steps = jax.device_get(run(state, jax.random.fold_in(state.key, index)))
    ends = np.flatnonzero(np.asarray(steps.done))
    length = int(ends[0]) + 1 if len(ends) else n
    env = {f"env.{f.name}": np.asarray(getattr(steps.env_state, f.name))[:length]
           for f in dataclasses.fields(steps.env_state)}
    return env | {k: np.asarray(v)[:length] for k, v in steps._asdict().items() if k != "env_state"}

