"""Memory: what a sweep needs, against what the machine has, decided before anything is written.

Each structure's state and logged point per row come from ``jax.eval_shape``
(``programs.Program.row_bytes``: nothing is computed or allocated); times rows, plus the host copy of every logged point, plus the
allocator's slack and a fixed overhead, they must fit in the memory available. Blocks and
chunks the caller did not fix shrink, halving, until the sweep fits; otherwise one line says
what to change.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import jax

from brainlike.config import Config
from brainlike.run import checkpoint
from brainlike.run.devices import (available_memory, block_layout, default_block_rows, device_memory,
                                   smallest_over_processes)
from brainlike.run.grid import group_by_structure
from brainlike.run.programs import compiled


def chunk_size(n_logs: int, target_chunks: int = 10) -> int:
    """The largest divisor of ``n_logs`` that gives at least ``target_chunks`` chunks (or 1)."""
    return max([d for d in range(1, n_logs + 1) if n_logs % d == 0 and n_logs // d >= target_chunks] or [n_logs])


KEY_BYTES = 8  # a row's PRNG key
# One compiled call's working memory per row, in units of the row's state: XLA's memory_analysis
# of ``advance`` gives 0.9x for the tests' tiny config and 1.5x for bench's reference config.
TEMP_PER_STATE = 2
OVERHEAD = 512 << 20  # compiling, and what JAX and NumPy allocate beside the arrays counted here
# The allocator's slack over the arrays counted: peak RSS grew 1.17x the arrays' estimate at 4,096
# tiny seeds (docs/scaling.md); the arrays' estimate is multiplied by SLACK_NUM / SLACK_DEN.
SLACK_NUM, SLACK_DEN = 5, 4


class Plan(NamedTuple):
    """How one group of conditions runs: rows per device in a call, logged points per chunk."""

    block_rows: int
    chunk: int


def group_memory(n_rows: int, n_logs: int, sizes, plan: Plan, checkpointing: bool) -> tuple[int, int, int]:
    """Bytes one group needs: ``(kept, host, devices)``.

    ``kept``: the host copy of every logged point, ``n_rows * n_logs * point``, kept until the
    sweep returns. ``host``: while it runs, the rows' keys and knobs, a chunk's points gathered
    (``2 * padded * chunk * point``) and, for a checkpoint, the state gathered
    (``2 * padded * state``). ``devices`` (all together): every block's state before and after a
    chunk, its knobs and key, a chunk's points, and one call's working memory
    (``TEMP_PER_STATE * state`` per row of a block). ``padded``: rows rounded up to whole blocks.
    """
    state, point, knobs = sizes
    block, n_blocks = block_layout(n_rows, plan.block_rows)
    padded = block * n_blocks
    kept = n_rows * n_logs * point
    host = padded * (KEY_BYTES + knobs) + 2 * padded * plan.chunk * point + (2 * padded * state if checkpointing else 0)
    devices = padded * (2 * state + knobs + KEY_BYTES + plan.chunk * point) + block * TEMP_PER_STATE * state
    return kept, host, devices


def plan_memory(conditions: dict[str, Config], n_seeds: int, *, block_rows: int | None = None,
                chunk_logs: int | None = None, out=None, resume: bool = False) -> list[Plan]:
    """Each group's ``Plan``, checked against the memory available; ``ValueError`` (one line saying
    what to change) if the sweep cannot fit. Blocks and chunks not fixed by the caller (or by a
    checkpoint being resumed) shrink, halving, until it fits. Nothing is allocated or written.

    On CPU, host and devices share the machine's memory: ``need_for(sum(kept) + max(host +
    devices))`` over groups (``group_memory``; the arrays times the allocator's slack, plus
    ``OVERHEAD``) must fit in ``available_memory()``. On accelerators, the devices' share
    divided over the devices must fit in ``device_memory()`` and the rest in the host's.
    """
    groups, out = group_by_structure(conditions), None if out is None else Path(out)
    host_free, device_free = smallest_over_processes(available_memory()), device_memory()
    if device_free is not None:
        device_free = smallest_over_processes(device_free)
    sizes = [compiled(conditions[names[0]]).row_bytes() for names in groups]
    n_rows = [len(names) * n_seeds for names in groups]
    n_logs = [conditions[names[0]].run.n_logs for names in groups]
    choices = [_candidates(conditions, names, gi, block_rows, chunk_logs, out, resume)
               for gi, names in enumerate(groups)]
    kept = sum(group_memory(n_rows[g], n_logs[g], sizes[g], choices[g][0], False)[0] for g in range(len(groups)))

    def fits(g, plan, rows=None):
        _, host, devices = group_memory(rows or n_rows[g], n_logs[g], sizes[g], plan, out is not None)
        k_all = kept if rows is None else kept * rows // n_rows[g]  # (rows given: every group scaled alike)
        if device_free is None:
            return need_for(k_all + host + devices) <= host_free
        return need_for(k_all + host) <= host_free and need_for(devices, 0) // jax.device_count() <= device_free

    plans = []
    for g in range(len(groups)):
        plan = next((p for p in choices[g] if fits(g, p)), None)
        if plan is None:
            smallest = [c[-1] for c in choices]
            lo, hi = 0, n_seeds - 1  # the most seeds per condition that fit, with the smallest blocks and chunks
            while lo < hi:
                mid = (lo + hi + 1) // 2
                ok = all(fits(h, smallest[h], len(groups[h]) * mid) for h in range(len(groups)))
                lo, hi = (mid, hi) if ok else (lo, mid - 1)
            raise ValueError(_too_large(conditions, n_seeds, groups[g], group_memory(
                n_rows[g], n_logs[g], sizes[g], smallest[g], out is not None), kept, host_free, device_free, lo))
        plans.append(plan)
    return plans


def _candidates(conditions, names, gi, block_rows, chunk_logs, out, resume) -> list[Plan]:
    """A group's plans, preferred first: the blocks and chunks asked for (or the defaults), then,
    where the caller left them open, smaller blocks, then smaller chunks."""
    n_logs = conditions[names[0]].run.n_logs
    ckpt = checkpoint.group_path(out, gi) if out is not None else None
    if ckpt is not None and resume and ckpt.exists():  # the same blocks as before: the same shapes
        block_rows = checkpoint.read_meta(ckpt).get("block_rows", block_rows)
    if block_rows:
        blocks = [block_rows]
    else:
        blocks = [default_block_rows()]
        while blocks[-1] > 1:
            blocks.append(blocks[-1] // 2)
    chunks = [min(chunk_logs, n_logs)] if chunk_logs else \
        [d for d in range(chunk_size(n_logs), 0, -1) if n_logs % d == 0]
    return [Plan(b, c) for c in chunks for b in blocks]


def _too_large(conditions, n_seeds, names, memory, kept, host_free, device_free, n_fit) -> str:
    """The one line that refuses a sweep: what it needs, what there is, and what to change."""
    _, host, devices = memory
    run = conditions[names[0]].run
    sweep = f"{len(conditions)} condition{'s' * (len(conditions) != 1)} x {n_seeds:,} seeds"
    hints = [f"give fewer seeds ({f'at most {n_fit:,} seeds fit' if n_fit else 'not even one seed fits'})"]
    if device_free is not None and need_for(devices, 0) // jax.device_count() > device_free:
        hints.append("run on more devices")
        where = (f"device memory: {sweep} need about {_gib(need_for(devices, 0) // jax.device_count())} per device, "
                 f"more than the {_gib(device_free)} free on each of the {jax.device_count()} "
                 f"{jax.default_backend()} devices")
    else:
        need = need_for(kept + host + (devices if device_free is None else 0))
        where = (f"memory: {sweep} need about {_gib(need)} ({_gib(need_for(kept, 0))} for the logged points, "
                 f"{_gib(need - need_for(kept, 0))} to run), more than the {_gib(host_free)} available")
        if 4 * kept >= need:
            hints.append(f"log fewer points (run.log_every, now {run.log_every}: {run.n_logs} points per seed)")
    if len(conditions) > 1:
        hints.append("run fewer conditions at once")
    return f"{where}; " + (", ".join(hints[:-1]) + " or " if len(hints) > 1 else "") + hints[-1]


def need_for(arrays: int, overhead: int = OVERHEAD) -> int:
    """Memory to ask for ``arrays`` bytes of arrays: with the allocator's slack and the overhead."""
    return overhead + arrays * SLACK_NUM // SLACK_DEN


def _gib(n: int) -> str:
    return f"{n / 2**30:.3g} GiB"
