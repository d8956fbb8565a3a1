"""The compiled programs of this process, one per compile key (``core.traced.compile_key``).

A program is made from a config's structure alone: its jitted, vmapped ``init`` and ``advance``
take the group's rows (its configs stacked, ``core.traced.rows``) as an argument, and the bytes
per row of its state, of one logged point and of the numbers, which ``memory.plan_memory`` plans
with, come from ``jax.eval_shape`` of the same functions on that structure. Each is made once, on
first use, and kept in one cache.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from brainlike.config import Config
from brainlike.core import learner
from brainlike.core.traced import compile_key
from brainlike.run.devices import on_rows

_PROGRAMS: dict = {}


class Program:
    """One structure's jitted ``init(keys, configs)`` and ``advance(state, configs, n_logs)``, over
    rows sharded across devices, and its bytes per row (``row_bytes``)."""

    def __init__(self, key):
        def init(keys, configs):
            return on_rows(jax.vmap(learner.start))(keys, configs)

        def advance(state, configs, n_logs):
            return on_rows(lambda s, c: jax.vmap(learner.resume, (0, 0, None))(s, c, n_logs))(state, configs)

        self.key, self.init, self.advance = key, jax.jit(init), jax.jit(advance, static_argnums=2)
        self._row_bytes = None

    def row_bytes(self) -> tuple[int, int, int]:
        """Bytes per row of the run state, of one logged point and of the numeric knobs, from
        ``jax.eval_shape`` of one row (traced, nothing computed or allocated)."""
        if self._row_bytes is None:
            numbers = jax.tree.unflatten(self.key, [jax.ShapeDtypeStruct((), jnp.float32)] * self.key.num_leaves)
            state = jax.eval_shape(learner.start, jax.ShapeDtypeStruct((2,), np.uint32), numbers)
            logged = jax.eval_shape(functools.partial(learner.resume, n_logs=1), state, numbers)[1]
            self._row_bytes = (_nbytes(state), _nbytes(logged), _nbytes(numbers))
        return self._row_bytes


def _nbytes(tree) -> int:
    return sum(int(np.prod(x.shape)) * np.dtype(x.dtype).itemsize for x in jax.tree.leaves(tree))


def compiled(config: Config) -> Program:
    """The program of ``config``'s structure (cached by its ``compile_key``): configs that differ
    only in numeric knobs share it and compile once; nothing of ``config`` but its structure enters it."""
    key = compile_key(config)
    if key not in _PROGRAMS:
        _PROGRAMS[key] = Program(key)
    return _PROGRAMS[key]


def release_compiled() -> None:
    """Drop every compiled program this process holds (the next use loads it from the persistent
    cache). XLA's CPU programs each map memory sections of their own, and a process that compiles
    the structures of many experiments in turn runs out of memory maps (Linux allows 65,530)."""
    _PROGRAMS.clear()
    jax.clear_caches()
