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


MIN_ROWS = 2  # XLA compiles a batch of one row otherwise: the last bit of a rate then differs from a population's


def block_layout(n_rows: int, block_rows: int) -> tuple[int, int]:
    """``(rows per block, number of blocks)`` for ``block_rows`` rows per device.

    Each device gets ``min(block_rows, n_rows)`` rows per call whatever the number of
    devices, so a row meets the same shapes, and gives the same bits, on one device or many;
    and never fewer than ``MIN_ROWS`` (padded), so that one seed trained alone gives the bits it
    gives in any population.
    """
    per_device = max(MIN_ROWS, min(block_rows, n_rows))
    block = per_device * jax.device_count()
    return block, -(-n_rows // block)


def describe_devices() -> dict:
    """The devices a run used, for its manifest."""
    devices = jax.devices()
    return {"platform": devices[0].platform, "count": len(devices), "kinds": sorted({d.device_kind for d in devices}),
            "processes": jax.process_count()}


def available_memory() -> int:
    """Bytes of host memory this process can still take: ``MemAvailable`` of /proc/meminfo (else
    the free pages, ``os.sysconf``), within the container's cgroup limit where it has one."""
    free = None
    try:
        with open("/proc/meminfo") as f:
            free = next((int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:")), None)
    except (OSError, ValueError):
        pass
    if free is None:
        try:
            free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
        except (AttributeError, OSError, ValueError):
            return 1 << 62  # unknown: nothing to check against
    for limit, usage in (("memory.max", "memory.current"),  # cgroup v2, then v1
                         ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            with open(f"/sys/fs/cgroup/{limit}") as f_limit, open(f"/sys/fs/cgroup/{usage}") as f_usage:
                text = f_limit.read().strip()
                if text.isdigit():
                    free = min(free, int(text) - int(f_usage.read().strip()))
        except (OSError, ValueError):
            continue
    return max(0, free)


def device_memory() -> int | None:
    """Bytes free on the fullest local accelerator (its allocator's limit less what is in use), or
    None on CPU, where the devices share the host's memory (``available_memory``)."""
    if jax.default_backend() == "cpu":
        return None
    free = [s["bytes_limit"] - s.get("bytes_in_use", 0) for s in (d.memory_stats() or {} for d in jax.local_devices())
            if "bytes_limit" in s]
    return min(free) if free else None


def smallest_over_processes(n: int) -> int:
    """``n`` on one process; the smallest of every process's ``n`` on many (a collective: every
    process calls it), so that all of them plan the same blocks."""
    if jax.process_count() == 1:
        return n
    from jax.experimental import multihost_utils

    mib = multihost_utils.process_allgather(np.asarray(n / 2**20, np.float32))  # float32: JAX's ints are 32-bit
    return int(float(np.min(mib)) * 2**20)


def init_distributed(coordinator: str | None = None, num_processes: int | None = None,
                     process_id: int | None = None) -> None:
    """``jax.distributed.initialize`` for one process per host, before anything touches a device.

    Each value comes from the argument, else from ``JAX_COORDINATOR_ADDRESS``,
    ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID``, else from the cluster (SLURM, Open MPI,
    Kubernetes, Cloud TPU), which ``jax.distributed.initialize`` detects itself. JAX reads only
    the first of these variables, so the other two are passed on here. On CPU the processes
    exchange results through gloo (JAX's default CPU collectives).
    """
    env = os.environ
    coordinator = coordinator or env.get("JAX_COORDINATOR_ADDRESS") or None
    num_processes = num_processes if num_processes is not None else _int_env("JAX_NUM_PROCESSES")
    process_id = process_id if process_id is not None else _int_env("JAX_PROCESS_ID")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes, process_id=process_id)


def _int_env(name: str) -> int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not an integer") from None
