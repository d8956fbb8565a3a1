"""Rows on devices: keys per seed, the row axis sharded over every device, host <-> device.

Row ``i`` of a population is seeded by ``fold_in(PRNGKey(seed), i)``, so a seed's run does not
depend on how many others run beside it, nor on how rows are split across devices or chunks.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def seed_keys(seed: int, indices) -> jax.Array:
    """The key of each row: independent of the population's size."""
    return jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(seed), i))(jnp.asarray(indices, jnp.uint32))


def row_sharding() -> NamedSharding:
    """Shard a leading row axis over every visible device."""
    mesh = Mesh(np.asarray(jax.devices()), ("rows",))
    return NamedSharding(mesh, PartitionSpec("rows"))


def pad_rows(tree, n_padded: int):
    """Repeat the last row until there are ``n_padded`` rows (NumPy stays NumPy, on the host)."""
    def pad(x):
        extra = n_padded - x.shape[0]
        xp = np if isinstance(x, np.ndarray) else jnp
        return x if extra == 0 else xp.concatenate([x, xp.repeat(x[-1:], extra, axis=0)])
    return jax.tree.map(pad, tree)


def on_rows(fn):
    """``fn`` applied by every device to its own rows, with no communication (``jax.shard_map``).

    Rows never interact, so each device runs the vmapped program on its shard alone; nothing
    is left to XLA's partitioner to gather or replicate.
    """
    rows = PartitionSpec("rows")
    return jax.shard_map(fn, mesh=row_sharding().mesh, in_specs=rows, out_specs=rows, check_vma=False)


def to_devices(tree, sharding):
    """Host arrays with a leading row axis -> global arrays, rows sharded (every process passes all rows)."""
    return jax.tree.map(lambda x: jax.make_array_from_callback(x.shape, sharding, lambda i: x[i]), tree)


def to_host(tree):
    """Global arrays -> NumPy arrays on every process."""
    leaves = jax.tree.leaves(tree)
    if all(x.is_fully_addressable for x in leaves):
        return jax.device_get(tree)
    from jax.experimental import multihost_utils

    return jax.tree.map(lambda x: np.asarray(multihost_utils.process_allgather(x, tiled=True)), tree)


def default_block_rows() -> int:
    """Rows per device in one compiled call: on CPU a cache-sized block; on accelerators all of them."""
    return 128 if jax.default_backend() == "cpu" else 1 << 16


def use_cpu_devices(n: int = 0) -> int:
    """Split the host's CPU into ``n`` JAX devices (0: one per core), so that blocks run on every core.

    JAX gives a host one CPU device, and XLA runs most of a small block's operations on one
    thread; with a device per core, blocks run side by side. This only works before JAX has
    started its backend, and leaves alone a count chosen already (``XLA_FLAGS`` or
    ``jax_num_cpu_devices``). Returns the number of devices asked for, or 0 if left alone.
    """
    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", "") or \
            jax.config.jax_num_cpu_devices >= 0:
        return 0
    n = n or os.cpu_count() or 1
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except RuntimeError:  # the backend already started (a notebook, a test): keep its devices
        return 0
    return n


def block_layout(n_rows: int, block_rows: int) -> tuple[int, int]:
    """``(rows per block, number of blocks)`` for ``block_rows`` rows per device.

    Each device gets ``min(block_rows, n_rows)`` rows per call whatever the number of
    devices, so a row meets the same shapes, and gives the same bits, on one device or many.
    """
    per_device = max(1, min(block_rows, n_rows))
    block = per_device * jax.device_count()
    return block, -(-n_rows // block)


def describe_devices() -> dict:
    """The devices a run used, for its manifest."""
    devices = jax.devices()
    return {"platform": devices[0].platform, "count": len(devices), "kinds": sorted({d.device_kind for d in devices}),
            "processes": jax.process_count()}
