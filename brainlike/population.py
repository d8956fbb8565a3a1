"""Run a population of seeds: one jitted, vmapped function, the seed axis sharded over devices.

Row ``i`` of a population is seeded by ``fold_in(PRNGKey(seed), i)``, so a seed's run does not
depend on how many others run beside it, nor on how rows are split across devices or chunks.
"""

from __future__ import annotations

import sys
import time
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from brainlike.config import Config, numeric, structure
from brainlike.train import make_learner


def seed_keys(seed: int, indices) -> jax.Array:
    """The key of each row: independent of the population's size."""
    return jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(seed), i))(jnp.asarray(indices, jnp.uint32))


def row_sharding() -> NamedSharding:
    """Shard a leading row axis over every visible device."""
    mesh = Mesh(np.asarray(jax.devices()), ("rows",))
    return NamedSharding(mesh, PartitionSpec("rows"))


def broadcast_rows(hp, n: int):
    """One numeric pytree repeated for ``n`` rows."""
    return jax.tree.map(lambda x: jnp.broadcast_to(x, (n,) + jnp.shape(x)), hp)


def pad_rows(tree, n_padded: int):
    """Repeat the last row until there are ``n_padded`` rows (NumPy stays NumPy, on the host)."""
    def pad(x):
        extra = n_padded - x.shape[0]
        xp = np if isinstance(x, np.ndarray) else jnp
        return x if extra == 0 else xp.concatenate([x, xp.repeat(x[-1:], extra, axis=0)])
    return jax.tree.map(pad, tree)


_COMPILED: dict[tuple, tuple] = {}


def compiled(config: Config):
    """The jitted, vmapped ``init``, ``advance`` and ``outcome`` of a config's structure (cached):
    configs that differ only in numeric knobs share them and compile once."""
    key = structure(config)
    if key not in _COMPILED:
        learner = make_learner(config)

        def init(keys, hp):
            return on_rows(jax.vmap(learner.init))(keys, hp)

        def advance(state, hp, n_logs):
            return on_rows(lambda s, h: jax.vmap(learner.advance, (0, 0, None))(s, h, n_logs))(state, hp)

        def outcome(logged, hp):
            return on_rows(jax.vmap(learner.outcome))(logged, hp)

        _COMPILED[key] = (jax.jit(init), jax.jit(advance, static_argnums=2), jax.jit(outcome))
    return _COMPILED[key]


def on_rows(fn):
    """``fn`` applied by every device to its own rows, with no communication (``jax.shard_map``).

    Rows never interact, so each device runs the vmapped program on its shard alone; nothing
    is left to XLA's partitioner to gather or replicate.
    """
    rows = PartitionSpec("rows")
    return jax.shard_map(fn, mesh=row_sharding().mesh, in_specs=rows, out_specs=rows, check_vma=False)


def chunk_size(n_logs: int, target_chunks: int = 10) -> int:
    """The largest divisor of ``n_logs`` that gives at least ``target_chunks`` chunks (or 1)."""
    return max([d for d in range(1, n_logs + 1) if n_logs % d == 0 and n_logs // d >= target_chunks] or [n_logs])


def run_rows(config: Config, keys, hp_rows, chunk_logs: int | None = None,
             progress: Callable[[int, int], None] | None = None):
    """Train one row per key with its own numeric knobs; returns ``(logged, outcome)`` as NumPy.

    ``logged[name]`` has shape ``[rows, n_logs, ...]``; ``outcome`` ``[rows]``.
    """
    n = keys.shape[0]
    n_dev = len(jax.devices())
    n_padded = -(-n // n_dev) * n_dev
    sharding = row_sharding()
    keys, hp_rows = jax.device_put(pad_rows((keys, hp_rows), n_padded), sharding)
    init, advance, outcome = compiled(config)
    n_logs = config.run.n_logs
    chunk = chunk_logs or chunk_size(n_logs)
    state = init(keys, hp_rows)
    parts, done = [], 0
    while done < n_logs:
        size = min(chunk, n_logs - done)
        state, logged = advance(state, hp_rows, size)
        parts.append(jax.device_get(logged))
        done += size
        if progress:
            progress(done, n_logs)
    logged = {k: np.concatenate([p[k] for p in parts], axis=1) for k in parts[0]}
    labels = np.asarray(outcome({k: jnp.asarray(v) for k, v in logged.items()}, hp_rows))
    return {k: v[:n] for k, v in logged.items()}, labels[:n]


def run_population(config: Config, n_seeds: int, seed: int = 0, **kwargs):
    """``n_seeds`` seeds of one config."""
    return run_rows(config, seed_keys(seed, np.arange(n_seeds)), broadcast_rows(numeric(config), n_seeds), **kwargs)


def progress_bar(label: str, stream=sys.stderr):
    """A one-line progress callback with elapsed time and ETA."""
    start = time.perf_counter()

    def show(done: int, total: int):
        elapsed = time.perf_counter() - start
        eta = elapsed / done * (total - done)
        bar = "#" * int(30 * done / total)
        end = "\n" if done == total else ""
        stream.write(f"\r{label} [{bar:<30}] {done}/{total} logs  {elapsed:6.1f}s  eta {eta:6.1f}s{end}")
        stream.flush()

    return show
