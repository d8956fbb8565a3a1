"""Sweeps: a grid of conditions x a number of seeds, sharded over devices, checkpointed, resumable.

Conditions whose configs share a structure (``core.traced.compile_key``) run as rows of one
compiled function (``programs.compiled``): their configs stacked, each row with its own numeric
knobs, which the program receives as traced arguments; each structure compiles once. Rows
(conditions x seeds) run in blocks, ``block_rows`` rows per device (fewer if there are
fewer rows); each block's row axis is sharded over every visible device (``jax.sharding``),
on one host or many. A device always sees the shapes one device alone would, so a seed
gives the same bits on one device or many; on CPU, smallish blocks stay in cache.

Work proceeds in chunks of logged points. With ``out``, every chunk ends with an atomic
checkpoint of the whole group (the ``RunState`` of every row, the points logged so far, how
many); ``resume=True`` picks a killed sweep up from its checkpoints and ends with the same
results as an uninterrupted run. Each finished condition gets ``out/<condition>/`` with
``config.json``, ``metrics.npz`` (seeds x time), ``summary.json`` and, last,
``manifest.json``; a condition folder without a manifest is unfinished. One process writes into
``out`` at a time (``store.lock``).

Before anything is written, ``plan_memory`` estimates the memory the sweep needs (each
structure's state and logged point per row, from ``jax.eval_shape``, times rows, plus the
host copy of every logged point) and compares it with the memory available: it shrinks the
blocks and chunks it chose itself until the sweep fits, or refuses in one line that says
what to change. A write that fails mid-sweep (a full disk, a folder made read-only) stops
the sweep with one line naming the folder; the last checkpoint stays as it was.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import jax
import numpy as np

from brainlike import schema

from brainlike import config as cfg
from brainlike.config import Config
from brainlike.core import fast_prng
from brainlike.core.traced import rows as stacked
from brainlike.run import checkpoint
from brainlike.run.devices import (block_layout, describe_devices, pad_rows, row_sharding, seed_keys,
                                   to_devices, to_host)
from brainlike.run.grid import check_conditions, check_names, group_by_structure
from brainlike.run.memory import plan_memory
from brainlike.run.programs import compiled
from brainlike.run.progress import Clock, Progress, progress_bar
from brainlike.store import outcomes
from brainlike.store.outcomes import Thresholds
from brainlike.store.manifest import manifest
from brainlike.store.lock import writing
from brainlike.store.results import (ResultsError, ensure_writable, read_json, read_npz, run_summary, write_json,
                                     write_npz, write_run)

SWEEP_FILE = "sweep.json"
MANIFEST = "manifest.json"
METRICS = "metrics.npz"


def run_conditions(conditions: dict[str, Config], n_seeds: int, seed: int = 0, progress=True, *,
                   out=None, resume: bool = False, chunk_logs: int | None = None,
                   block_rows: int | None = None, plans: list | None = None, watch=None,
                   thresholds: Thresholds = Thresholds()):
    """Train ``n_seeds`` seeds of every condition: ``{name: (logged, outcome)}`` as NumPy.

    ``logged[metric]`` is ``[n_seeds, n_logs, ...]``, ``outcome`` ``[n_seeds]``. Seed ``i`` of
    every condition uses the same key, so conditions are compared on common random numbers and
    a seed's result does not depend on which conditions run beside it.

    ``progress``: ``True`` for a progress bar on stderr, ``False`` for none, or a callable given
    a ``Progress`` after each group's init and after every chunk (after its checkpoint). ``out``:
    a folder for per-condition results and checkpoints; ``resume``: continue the sweep already
    in ``out``. ``chunk_logs``: logged points per chunk (default: about a tenth of the run).
    ``block_rows``: rows per device in one compiled call (default ``default_block_rows()``).
    A sweep too large for the memory available raises ``ValueError`` before anything is written
    (``plan_memory``, unless the caller gives its ``plans``); a write that fails mid-sweep raises
    ``ResultsError`` naming the folder, the last checkpoint intact. While it runs, ``out`` is
    locked (``store.lock``): another process that would write into it is refused, naming this one.
    Resuming a finished sweep reads its results back and writes nothing (labels that a newer rule
    changes aside). ``watch``: called as ``watch(name, config, logged, start)`` for every condition
    after every chunk, ``logged`` its points so far (``[n_seeds, points, ...]``) and ``start`` the
    first new one (``report.watch.Watch``: TensorBoard, W&B); a finished group read back is shown whole.
    ``thresholds`` label the seeds (``store.outcomes``): no part of a condition, so a finished sweep
    resumed with others is relabelled from its stored metrics, never trained again.
    """
    check_conditions(conditions, n_seeds)
    n_seeds = int(n_seeds)
    if chunk_logs is not None and chunk_logs < 1:
        raise ValueError(f"chunk_logs: {chunk_logs} is out of range; allowed: >= 1")
    if block_rows is not None and block_rows < 1:
        raise ValueError(f"block_rows: {block_rows} is out of range; allowed: >= 1")
    groups = group_by_structure(conditions)
    spec = json.loads(json.dumps({"conditions": {name: cfg.to_dict(c) for name, c in conditions.items()},
                                  "n_seeds": n_seeds, "seed": int(seed), "groups": groups}))  # as stored
    if out is not None:
        check_names(conditions)
        out = Path(out)
    plans = plans or plan_memory(conditions, n_seeds, block_rows=block_rows, chunk_logs=chunk_logs, out=out,
                                 resume=resume)
    with _one_writer(out):
        return _sweep(conditions, n_seeds, seed, progress, out, resume, plans, groups, spec, watch, thresholds)


def _one_writer(out):
    """The output folder's lock (``store.lock``), held by the process that writes (the first), if any."""
    if out is None or jax.process_index() != 0:
        return contextlib.nullcontext()
    return writing(ensure_writable(out))


def _sweep(conditions, n_seeds, seed, progress, out, resume, plans, groups, spec, watch, thresholds):
    """``run_conditions`` once its arguments are checked, its memory planned and its folder locked."""
    previous = None
    if out is not None:
        out, previous = _prepare_out(out, spec, resume)
    callback = progress if callable(progress) else (progress_bar() if progress else None)
    steps = {name: c.run.n_updates * c.run.steps_per_update for name, c in conditions.items()}
    clock = Clock(float(sum(steps.values())) * n_seeds)
    results, done_conditions, trained = {}, 0, False
    for gi, names in enumerate(groups):
        # a committed result holds its summaries but not its (large) metrics: such a group trains again
        finished = out is not None and resume and all((out / n / MANIFEST).exists() and (out / n / METRICS).exists()
                                                       for n in names)
        if finished:
            results |= _relabelled([conditions[n] for n in names], names, out, thresholds)
            for n in names if watch else ():
                watch(n, conditions[n], results[n][0], 0)
            clock.skip(sum(steps[n] for n in names) * n_seeds)
        else:
            report = _reporter(callback, clock, gi, len(groups), names, done_conditions, len(conditions),
                               steps[names[0]])
            start = time.perf_counter()
            group_results = _run_group([conditions[n] for n in names], names, n_seeds, seed, plans[gi], out,
                                       resume, gi, clock, report, watch, thresholds=thresholds)[0]
            if out is not None and jax.process_index() == 0:
                _finish_group(out, gi, {n: conditions[n] for n in names}, group_results, n_seeds, seed,
                              time.perf_counter() - start, plans[gi].block_rows, thresholds)
            results.update(group_results)
            trained = True
        done_conditions += len(names)
    finished_before = not trained and (previous or {}).get("status") == "complete"
    if out is not None and jax.process_index() == 0 and not finished_before:  # a finished sweep read back: as it was
        with _writing(out, "every result is written; only the sweep's status is not"):
            write_json(out / SWEEP_FILE, spec | {"status": "complete", "wall_s": clock.elapsed()})
    return {name: results[name] for name in conditions}


def _reporter(callback, clock: Clock, gi: int, n_groups: int, names, done_conditions: int, n_conditions: int,
              per_seed: int):
    """``report(logs_done, n_logs, phase)`` for one group: a ``Progress`` to ``callback``, if any."""
    def report(logs_done, n_logs, phase):
        if callback:
            callback(Progress(gi, n_groups, tuple(names), done_conditions, n_conditions, logs_done, n_logs,
                              per_seed * logs_done // n_logs, per_seed, clock.elapsed(), clock.eta(), phase))
    return report


def train_seed(config: Config, index: int, seed: int = 0, progress=False, name: str | None = None,
               thresholds: Thresholds = Thresholds()):
    """Seed ``index`` of a population of ``config`` (base seed ``seed``), trained alone: ``(logged
    [1, n_logs, ...], outcome [1], its final RunState)``, the bits that seed has in any population
    (its key is ``fold_in(seed, index)``, and a device never runs fewer than two rows). ``progress``
    as in ``run_conditions``, labelled ``name``; ``thresholds`` label it."""
    callback = progress if callable(progress) else (progress_bar() if progress else None)
    per_seed = config.run.n_updates * config.run.steps_per_update
    clock = Clock(float(per_seed))
    report = _reporter(callback, clock, 0, 1, [name or f"seed {index}"], 0, 1, per_seed)
    plan = plan_memory({"seed": config}, 1)[0]
    results, rows, states = _run_group([config], ["seed"], 1, seed, plan, None, False, 0, clock, report, first=index,
                                       thresholds=thresholds)
    logged, outcome = results["seed"]
    return logged, outcome, jax.tree.map(lambda x: x[0], rows.gather(states))


def _finish_group(out: Path, gi: int, configs: dict, group_results: dict, n_seeds, seed, wall, block_rows,
                  thresholds):
    """Every condition's folder, then the group's checkpoint removed (only once all are written)."""
    ckpt = checkpoint.group_path(out, gi)
    for name, config in configs.items():
        with _writing(out / name, f"the checkpoint {ckpt.name} holds every logged point"):
            _write_condition(out / name, config, *group_results[name], list(configs), n_seeds, seed, wall, block_rows,
                             thresholds)
    with _writing(out, f"every result of {', '.join(configs)} is written"):
        ckpt.unlink(missing_ok=True)


@contextlib.contextmanager
def _writing(folder: Path, kept: str):
    """A failed write (a full disk, a folder made read-only) as one line naming ``folder`` and
    saying what is kept; atomic writes leave the previous file (the last checkpoint) whole."""
    try:
        yield
    except OSError as e:
        raise ResultsError(f"out: cannot write to {folder} ({e.strerror or e}); {kept}; make room or fix the "
                           "folder's permissions, then run the same command with --resume") from None


class Blocks:
    """Rows of one structure split into equal blocks, each block's rows sharded over all devices.

    Every compiled call sees the same block shape, and every device ``min(block_rows,
    n_rows)`` rows of it: a row's result does not depend on the number of devices.
    """

    def __init__(self, config: Config, keys, configs, block_rows: int):
        self.n_rows = keys.shape[0]
        self.block, self.n_blocks = block_layout(self.n_rows, block_rows)
        self.sharding = row_sharding()
        fast_prng.use(fast_prng.suits(config))  # how the hash is lowered, wherever these compile next
        program = compiled(config)
        self.init_fn, self.advance_fn = program.init, program.advance
        self.keys, self.configs = pad_rows((keys, configs), self.block * self.n_blocks)
        self.configs_dev = [self.put(self.rows(self.configs, b)) for b in range(self.n_blocks)]

    def rows(self, tree, b: int):
        """Block ``b`` of a host tree with all (padded) rows."""
        return jax.tree.map(lambda x: x[b * self.block:(b + 1) * self.block], tree)

    def put(self, tree):
        return to_devices(tree, self.sharding)

    def init(self) -> list:
        """Every block's state after pretraining and the probe fit."""
        return [self.init_fn(self.put(self.rows(self.keys, b)), self.configs_dev[b]) for b in range(self.n_blocks)]

    def advance(self, states: list, n_logs: int) -> tuple[list, dict]:
        """``n_logs`` logged points more for every block; the points as NumPy ``[n_rows, n_logs, ...]``."""
        out = [self.advance_fn(s, c, n_logs) for s, c in zip(states, self.configs_dev)]
        return [s for s, _ in out], self.gather([logged for _, logged in out])

    def gather(self, blocks: list):
        """Per-block device trees -> one NumPy tree of the real rows."""
        return jax.tree.map(lambda *xs: np.concatenate(xs)[:self.n_rows], *[to_host(x) for x in blocks])

    def scatter(self, tree) -> list:
        """A NumPy tree of the real rows -> per-block device trees."""
        padded = pad_rows(tree, self.block * self.n_blocks)
        return [self.put(self.rows(padded, b)) for b in range(self.n_blocks)]

    def shapes(self, n_logs: int):
        """Shapes of one block's state and of ``n_logs`` logged points, without running anything."""
        state = jax.eval_shape(self.init_fn, self.rows(self.keys, 0), self.configs_dev[0])
        return state, (jax.eval_shape(self.advance_fn, state, self.configs_dev[0], n_logs)[1] if n_logs else {})


def rows_of(configs: list[Config], n_seeds: int, seed: int, first: int = 0):
    """Keys and configs of rows ``[condition, seed]`` (condition-major) for seeds ``first`` to
    ``first + n_seeds - 1``, as NumPy: the configs stacked, every numeric knob with a leading row axis."""
    keys = np.tile(np.asarray(seed_keys(seed, np.arange(first, first + n_seeds))), (len(configs), 1))
    return keys, stacked(configs, n_seeds)


def _run_group(configs, names, n_seeds, seed, plan, out, resume, gi, clock, report, watch=None, first=0,
               thresholds: Thresholds = Thresholds()):
    """Rows ``[condition, seed]`` of one structure (seeds ``first`` on): ``({name: (logged, outcome)},
    the rows' ``Blocks``, their final states)``.

    The logged points of every row live in one host array per metric, ``[n_rows, n_logs, ...]``,
    filled chunk by chunk: no concatenation, and a checkpoint writes views of it; ``watch`` sees
    views of it too.
    """
    n_logs = configs[0].run.n_logs
    ckpt = checkpoint.group_path(out, gi) if out is not None else None
    resuming = ckpt is not None and resume and ckpt.exists()
    rows = Blocks(configs[0], *rows_of(configs, n_seeds, seed, first), plan.block_rows)
    work_per_log = configs[0].run.log_every * configs[0].run.steps_per_update * rows.n_rows
    meta = json.loads(json.dumps({"names": list(names), "configs": [cfg.to_dict(c) for c in configs],
                                  "n_seeds": n_seeds, "seed": int(seed), "block_rows": plan.block_rows,
                                  "n_logs": n_logs}))
    states, logged, done, shown = None, None, 0, 0
    if resuming:
        states, stored, done = _resume(ckpt, meta, rows)
        logged = _filled(None, stored, 0, n_logs) if done else None
        clock.skip(work_per_log * done)
    if states is None:
        report(0, n_logs, _phase("pretraining and fitting the probe", rows.init_fn))
        states = rows.init()
        if ckpt is not None:
            _save(ckpt, rows, states, logged, 0, meta, "no checkpoint of this group is written yet")
    report(done, n_logs, _phase("RL", rows.advance_fn) if done < n_logs else "RL done")
    clock.begin_chunks()
    while done < n_logs:
        size = min(plan.chunk, n_logs - done)
        states, part = rows.advance(states, size)
        logged = _filled(logged, part, done, n_logs)
        if ckpt is not None:
            _save(ckpt, rows, states, logged, done + size, meta,
                  f"the last checkpoint, {ckpt.name} ({done} of {n_logs} logged points), is intact")
        done += size
        clock.add(work_per_log * size)
        shown = _watched(watch, names, configs, logged, n_seeds, shown, done)
        report(done, n_logs, "RL" if done < n_logs else "RL done")
    _watched(watch, names, configs, logged, n_seeds, shown, done)  # a checkpoint that held every point
    per_condition = [{k: v[i * n_seeds:(i + 1) * n_seeds] for k, v in logged.items()} for i in range(len(names))]
    results = {name: (part, outcomes.label(config, part, thresholds))
               for name, config, part in zip(names, configs, per_condition)}
    return results, rows, states


def _watched(watch, names, configs, logged, n_seeds: int, shown: int, done: int) -> int:
    """Points ``shown`` to ``done`` of every condition of a group to ``watch``; the points shown now."""
    if watch is not None and done > shown:
        for i, (name, config) in enumerate(zip(names, configs)):
            watch(name, config, {k: v[i * n_seeds:(i + 1) * n_seeds, :done] for k, v in logged.items()}, shown)
    return done


def _phase(what: str, jitted) -> str:
    """``what`` runs next, after compiling if ``jitted`` holds no compiled program yet (pretraining
    and the probe's fit run in one compiled call, so they are one phase)."""
    size = getattr(jitted, "_cache_size", None)  # JAX's own count; absent, the phase is said without it
    return f"compiling, then {what}" if size is not None and size() == 0 else what


def _filled(logged: dict | None, part: dict, start: int, n_logs: int) -> dict:
    """``part`` (``[n_rows, size, ...]``) written into ``logged`` at point ``start``; ``logged`` is
    allocated for ``n_logs`` points on first use."""
    if logged is None:
        logged = {k: np.empty((v.shape[0], n_logs) + v.shape[2:], v.dtype) for k, v in part.items()}
    for k, v in part.items():
        logged[k][:, start:start + v.shape[1]] = v
    return logged


def _save(path, rows: Blocks, states, logged, done, meta, kept: str):
    """All rows' state and the points logged so far (only the first process writes); a failed write
    leaves the previous checkpoint as it was and stops the sweep, saying so (``kept``)."""
    state = rows.gather(states)
    if jax.process_index() != 0:
        return
    so_far = {k: v[:, :done] for k, v in logged.items()} if logged is not None and done else {}
    with _writing(path.parent, kept):
        checkpoint.save(path, {"state": state, "logged": so_far}, meta | {"done": done})


def _resume(path, meta, rows: Blocks):
    """The states (on devices), logged points and count stored in a group's checkpoint, read in one
    open of the file: its meta and its arrays are of one version of it."""
    def like(stored):
        for key in ("names", "configs", "n_seeds", "seed", "n_logs"):
            same = _same_configs if key == "configs" else (lambda a, b: a == b)
            if not same(stored.get(key), meta[key]):
                raise ResultsError(f"{path}: checkpoint belongs to another sweep ({key} differs); "
                                   "remove it or choose another output folder")
        done, n = int(stored["done"]), rows.n_rows
        state_shape, logged_shape = rows.shapes(1 if done else 0)
        return {"state": jax.tree.map(lambda s: jax.ShapeDtypeStruct((n,) + s.shape[1:], s.dtype), state_shape),
                "logged": {k: jax.ShapeDtypeStruct((n, done) + v.shape[2:], v.dtype) for k, v in logged_shape.items()}}

    tree, stored = checkpoint.load(path, like)
    return rows.scatter(tree["state"]), tree["logged"], int(stored["done"])


def _same_configs(stored, now) -> bool:
    """Stored configs (a checkpoint's, a sweep's) describe these, compared as configs: a field added
    since at its default, or the labelling thresholds a config once held, change nothing."""
    try:
        return [cfg.from_dict(d) for d in stored or []] == [cfg.from_dict(d) for d in now]
    except (TypeError, ValueError):  # a field since removed: no config of today
        return False


def _prepare_out(out: Path, spec: dict, resume: bool) -> tuple[Path, dict | None]:
    """Check ``out`` before any work: writable, and either new, or this very sweep when resuming;
    ``(out, the sweep.json it held)``."""
    existing, old = out / SWEEP_FILE, None
    if existing.exists():
        if not resume:
            raise ResultsError(f"out: {out} already holds a sweep ({SWEEP_FILE}); continue it with --resume "
                               "(resume=True from Python), or choose another folder")
        old = read_json(existing)
        for key in ("n_seeds", "seed"):
            if old.get(key) != spec[key]:
                raise ResultsError(f"{existing}: {key} was {old.get(key)}, now {spec[key]}; a resumed sweep "
                                   "must be the same sweep")
        stored, now = old.get("conditions", {}), spec["conditions"]
        if stored.keys() != now.keys() or not _same_configs([stored[n] for n in now], list(now.values())):
            changed = sorted(set(stored) ^ set(now)) or [n for n in now if not _same_configs([stored[n]], [now[n]])]
            raise ResultsError(f"{existing}: the conditions differ from this sweep's (first: {changed[0]}); "
                               "a resumed sweep must be the same sweep")
    ensure_writable(out)
    if jax.process_count() > 1:  # every process has checked before the first one writes
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("brainlike sweep: output checked")
    if jax.process_index() == 0 and not (existing.exists() and resume):
        with _writing(out, "nothing has run yet"):
            write_json(existing, spec | {"status": "running"})
    return out, old


def _write_condition(folder: Path, config, logged, outcome, names, n_seeds, seed, wall, block_rows, thresholds):
    folder.mkdir(parents=True, exist_ok=True)
    write_run(folder, config, logged, outcome, thresholds, wall_s=wall, seed=int(seed))
    write_json(folder / MANIFEST, manifest(config, describe_devices(), n_seeds=n_seeds, seed=int(seed), wall_s=wall,
                                           ran_with=list(names), block_rows=block_rows))


def _relabelled(configs, names, out: Path, thresholds: Thresholds) -> dict:
    """Finished conditions read back, each seed labelled anew from its logged points on the host:
    labels are derived data, so results written before a labelling rule or ``thresholds`` changed
    follow those of today: ``metrics.npz``'s labels and ``summary.json`` are rewritten where they
    changed, the logged points and the config never."""
    results = {}
    for config, name in zip(configs, names):
        arrays = read_npz(out / name / METRICS)
        metrics, stored = _load_condition(dict(arrays))
        new = outcomes.label(config, metrics, thresholds)
        if jax.process_index() == 0:
            if not np.array_equal(new, stored):
                write_npz(out / name / METRICS, arrays | {"outcome": new})
            written = read_json(out / name / "summary.json")
            if not np.array_equal(new, stored) or outcomes.recorded(written) != thresholds:
                write_json(out / name / "summary.json", written | run_summary(config, metrics, new, thresholds))
        results[name] = (metrics, new)
    return results


def _load_condition(arrays: dict):
    """``(logged, stored outcome)`` from a condition's ``metrics.npz`` arrays (consumed)."""
    outcome = arrays.pop("outcome")
    arrays.pop("step", None)
    if "nonfinite" not in arrays:  # written before ``nonfinite`` was logged: read it off the losses
        losses = np.stack([arrays["wm_loss"], arrays["td_loss"]])
        arrays["nonfinite"] = (~np.isfinite(losses)).any(axis=0).astype(np.float32)
    for name in schema.SCALARS:  # a metric logged only since: not known for these seeds
        arrays.setdefault(name, np.full_like(arrays["return"], np.nan))
    return arrays, outcome


def n_rows_total(conditions: dict[str, Config], n_seeds: int) -> int:
    """How many rows a sweep trains (conditions x seeds)."""
    return len(conditions) * n_seeds


def describe(conditions: dict[str, Config], n_seeds: int) -> str:
    """One line: how many conditions, groups (compilations) and rows."""
    groups = group_by_structure(conditions)
    return (f"{len(conditions)} conditions in {len(groups)} compiled group{'s' * (len(groups) != 1)} x {n_seeds} "
            f"seeds = {n_rows_total(conditions, n_seeds)} rows on {jax.device_count()} "
            f"{jax.default_backend()} device{'s' * (jax.device_count() != 1)}")


def run_population(config: Config, n_seeds: int, seed: int = 0, progress=False, **kwargs):
    """``n_seeds`` seeds of one config, as ``(logged, outcome)``: a sweep of one condition."""
    return run_conditions({"population": config}, n_seeds, seed, progress, **kwargs)["population"]
