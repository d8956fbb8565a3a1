"""Sweeps: a grid of conditions x a number of seeds, sharded over devices, checkpointed, resumable.

Conditions whose configs share a structure (``config.structure``) run as rows of one
compiled function, each row with its own numeric knobs; each structure compiles once. Rows
(conditions x seeds) run in blocks, ``block_rows`` rows per device (fewer if there are
fewer rows); each block's row axis is sharded over every visible device (``jax.sharding``),
on one host or many. A device always sees the shapes one device alone would, so a seed
gives the same bits on one device or many; on CPU, smallish blocks stay in cache.

Work proceeds in chunks of logged points. With ``out``, every chunk ends with an atomic
checkpoint of the whole group (the ``RunState`` of every row, the points logged so far, how
many); ``resume=True`` picks a killed sweep up from its checkpoints and ends with the same
results as an uninterrupted run. Each finished condition gets ``out/<condition>/`` with
``config.json``, ``metrics.npz`` (seeds x time), ``summary.json`` and, last,
``manifest.json``; a condition folder without a manifest is unfinished.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import json
import os
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Callable, NamedTuple

import jax
import numpy as np

from brainlike import checkpoint
from brainlike import config as cfg
from brainlike.config import Config, ConfigError, numeric, structure
from brainlike.population import chunk_size, compiled, pad_rows, row_sharding, seed_keys
from brainlike.results import ResultsError, ensure_writable, read_json, read_npz, write_json, write_run

SWEEP_FILE = "sweep.json"
MANIFEST = "manifest.json"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.,=+-]+$")


# ---------------------------------------------------------------------------------------
# the grid

def field_type(base: Config, name: str):
    """The Python type of a settable dotted field (``reward.alpha`` -> float); ConfigError if unknown."""
    head, _, tail = name.partition(".")
    if head == "env" and tail:
        if tail not in base.env_obj.params_bounds:
            raise ConfigError(f"{name}: unknown knob of {base.env}; "
                              f"allowed: {', '.join('env.' + k for k in base.env_obj.params_bounds)}")
        return float
    top = {f.name: f for f in dataclasses.fields(Config)}
    if not tail and head in top and head not in cfg.SECTIONS and head != "env_params":
        return _resolve(top[head].type)
    if head in cfg.SECTIONS and tail:
        fields = {f.name: f for f in dataclasses.fields(getattr(base, head))}
        if tail in fields:
            return _resolve(fields[tail].type)
    names = cfg.field_names(base)
    near = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {near[0]}?" if near else f"allowed: {', '.join(names)}"
    raise ConfigError(f"{name}: unknown field; {hint}")


def _resolve(kind):
    text = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    return {"int": int, "float": float, "str": str}.get(text, tuple if "tuple" in text else str)


def parse_value(base: Config, name: str, value):
    """A grid value as its field's type; from the command line, tuple items are joined by ``+``."""
    kind = field_type(base, name)
    try:
        if kind is tuple:
            return tuple(t.strip() for t in value.split("+") if t.strip()) if isinstance(value, str) else tuple(value)
        if kind is float:
            return float(value)
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: {value!r} is not a valid {kind.__name__}") from None


def parse_axis(text: str) -> tuple[str, list[str]]:
    """``"reward.alpha=0,1,2"`` -> ``("reward.alpha", ["0", "1", "2"])`` (values still text)."""
    name, eq, values = text.partition("=")
    name = name.strip()
    if not eq or not name:
        raise ConfigError(f"grid: {text!r} is not FIELD=V1,V2,... (e.g. reward.alpha=0,1,2)")
    return name, [v.strip() for v in values.split(",")] if values.strip() else []


def format_value(value) -> str:
    """Short text of a grid value, used in condition names."""
    if isinstance(value, float):
        short = format(value, "g")
        return short if float(short) == value else repr(value)
    if isinstance(value, tuple):
        return "+".join(map(str, value))
    return str(value)


def grid(base: Config, axes: dict[str, list], zipped: dict[str, list] | None = None) -> dict[str, Config]:
    """Every combination of ``axes`` (a product), as ``{name: config}``.

    ``grid(base, {"reward.alpha": [0, 1, 2], "routing": ["brainlike", "end_to_end"]})`` gives
    six conditions named like ``reward.alpha=1,routing=brainlike``. ``zipped`` axes vary
    together, as one more axis of the product, and must all have the same length. Every
    problem (an unknown field, an empty axis, unequal zipped lengths, a value out of range)
    raises ``ConfigError`` naming the field, before anything runs.
    """
    zipped = dict(zipped or {})
    if not axes and not zipped:
        raise ConfigError("grid: no axes; give at least one field with its values (e.g. reward.alpha=0,1,2)")
    if "env" in zipped:
        raise ConfigError("env: cannot be a zipped axis; give it as a grid axis")
    for name in axes:
        if name in zipped:
            raise ConfigError(f"{name}: appears both as a grid axis and as a zipped axis")
    for source in (axes, zipped):
        for name, values in source.items():
            if not (name.startswith("env.") and "env" in axes):  # knobs of a gridded env: checked per condition
                field_type(base, name)
            if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
                raise ConfigError(f"{name}: give a list of values, not {values!r}")
            if len(values) == 0:
                raise ConfigError(f"{name}: the grid axis has no values")
            if len({format_value(v) for v in values}) < len(values):
                raise ConfigError(f"{name}: the grid axis repeats a value ({', '.join(map(format_value, values))})")
    if zipped:
        first = next(iter(zipped))
        for name, values in zipped.items():
            if len(values) != len(zipped[first]):
                raise ConfigError(f"{name}: zipped axes must have equal lengths; {name} has {len(values)} values, "
                                  f"{first} has {len(zipped[first])}")
    # the environment first, so that its knobs are checked against the right one
    columns = [[((name, v),) for v in axes[name]] for name in sorted(axes, key=lambda n: n != "env")]
    if zipped:
        columns.append([tuple((name, values[i]) for name, values in zipped.items())
                        for i in range(len(zipped[first]))])
    conditions: dict[str, Config] = {}
    for combo in itertools.product(*columns):
        config, shown = base, []
        for name, value in (pair for column in combo for pair in column):
            value = str(value) if name == "env" else parse_value(config, name, value)
            config = cfg.replace(config, **{name: value})
            shown.append(f"{name}={format_value(value)}")
        conditions[",".join(shown)] = config
    return conditions


def check_conditions(conditions: dict[str, Config], n_seeds: int) -> None:
    """Fail at once, naming the problem, on an empty sweep, a bad seed count or a bad condition name."""
    if not conditions:
        raise ValueError("conditions: the sweep is empty; give at least one condition")
    if not isinstance(n_seeds, (int, np.integer)) or n_seeds < 1:
        raise ValueError(f"seeds: {n_seeds} is out of range; allowed: >= 1")
    for name, config in conditions.items():
        if not isinstance(config, Config):
            raise ValueError(f"conditions: {name!r} is a {type(config).__name__}, not a Config")


def _check_names(conditions) -> None:
    for name in conditions:
        if not _SAFE_NAME.match(name) or name.startswith("."):
            raise ValueError(f"conditions: {name!r} cannot name a results folder; use letters, digits and . , = + - _")


def group_by_structure(conditions: dict[str, Config]) -> list[list[str]]:
    """Condition names grouped so that each group compiles once, in first-seen order."""
    groups: dict[tuple, list[str]] = {}
    for name, config in conditions.items():
        groups.setdefault(structure(config), []).append(name)
    return list(groups.values())


# ---------------------------------------------------------------------------------------
# progress

class Progress(NamedTuple):
    """Where a sweep stands; passed to a ``progress`` callback after init and after every chunk."""

    group: int  # index of the group of conditions now running (they share one compiled function)
    n_groups: int
    names: tuple[str, ...]  # the conditions of this group
    conditions_done: int  # conditions finished before this group
    n_conditions: int
    logs_done: int  # logged points done in this group (0 right after init)
    n_logs: int
    steps_done: int  # RL environment steps per seed done in this group
    steps_total: int
    elapsed_s: float  # since the sweep started
    eta_s: float | None  # of the whole sweep, compilation of later groups not included


def progress_bar(stream=None) -> Callable[[Progress], None]:
    """Progress: conditions, steps, elapsed time and ETA. On a terminal one line redrawn in place;
    elsewhere (a log file, a pipe) a plain line per chunk, with no carriage returns."""
    stream = stream or sys.stderr
    live = hasattr(stream, "isatty") and stream.isatty()

    def show(p: Progress):
        frac = p.logs_done / p.n_logs
        bar = "#" * int(24 * frac)
        label = p.names[0] if len(p.names) == 1 else f"{p.names[0]} +{len(p.names) - 1}"
        eta = "  eta   --  " if p.eta_s is None else f"  eta {_clock(p.eta_s)}"
        line = (f"[{p.conditions_done}/{p.n_conditions} conditions] {label[:40]} [{bar:<24}] "
                f"{p.steps_done}/{p.steps_total} steps  {_clock(p.elapsed_s)}{eta}")
        if live:
            stream.write(f"\r{line}" + ("\n" if p.logs_done == p.n_logs else ""))
        else:
            stream.write(line + "\n")
        stream.flush()

    return show


def _clock(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class _Clock:
    """Elapsed time and an ETA from the steady-state rate: each group's first chunk, which
    compiles, and its init are left out of the rate."""

    def __init__(self, total_work: float):
        self.start, self.total, self.done = time.perf_counter(), total_work, 0.0
        self.measured_work, self.measured_s, self.mark, self.warm = 0.0, 0.0, None, False

    def begin_chunks(self):
        self.mark, self.warm = time.perf_counter(), False

    def add(self, work: float):
        now = time.perf_counter()
        self.done += work
        if self.warm:
            self.measured_work += work
            self.measured_s += now - self.mark
        self.mark, self.warm = now, True

    def skip(self, work: float):
        self.done += work

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def eta(self) -> float | None:
        if self.measured_work <= 0:
            return None
        return (self.total - self.done) * self.measured_s / self.measured_work


# ---------------------------------------------------------------------------------------
# rows on devices, on one host or many

def _to_devices(tree, sharding):
    """Host arrays with a leading row axis -> global arrays, rows sharded (every process passes all rows)."""
    return jax.tree.map(lambda x: jax.make_array_from_callback(x.shape, sharding, lambda i: x[i]), tree)


def _to_host(tree):
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


def _blocks(n_rows: int, block_rows: int) -> tuple[int, int]:
    """``(rows per block, number of blocks)`` for ``block_rows`` rows per device.

    Each device gets ``min(block_rows, n_rows)`` rows per call whatever the number of
    devices, so a row meets the same shapes, and gives the same bits, on one device or many.
    """
    per_device = max(1, min(block_rows, n_rows))
    block = per_device * jax.device_count()
    return block, -(-n_rows // block)


# ---------------------------------------------------------------------------------------
# running

def run_conditions(conditions: dict[str, Config], n_seeds: int, seed: int = 0, progress=True, *,
                   out=None, resume: bool = False, chunk_logs: int | None = None,
                   block_rows: int | None = None):
    """Train ``n_seeds`` seeds of every condition: ``{name: (logged, outcome)}`` as NumPy.

    ``logged[metric]`` is ``[n_seeds, n_logs, ...]``, ``outcome`` ``[n_seeds]``. Seed ``i`` of
    every condition uses the same key, so conditions are compared on common random numbers and
    a seed's result does not depend on which conditions run beside it.

    ``progress``: ``True`` for a progress bar on stderr, ``False`` for none, or a callable given
    a ``Progress`` after each group's init and after every chunk (after its checkpoint). ``out``:
    a folder for per-condition results and checkpoints; ``resume``: continue the sweep already
    in ``out``. ``chunk_logs``: logged points per chunk (default: about a tenth of the run).
    ``block_rows``: rows per device in one compiled call (default ``default_block_rows()``).
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
        _check_names(conditions)
        out = _prepare_out(Path(out), spec, resume)
    block_rows = block_rows or default_block_rows()
    callback = progress if callable(progress) else (progress_bar() if progress else None)
    steps = {name: c.run.n_updates * c.run.steps_per_update for name, c in conditions.items()}
    clock = _Clock(float(sum(steps.values())) * n_seeds)
    results, done_conditions = {}, 0
    for gi, names in enumerate(groups):
        finished = out is not None and resume and all((out / n / MANIFEST).exists() for n in names)
        if finished:
            for name in names:
                results[name] = _load_condition(out / name)
            clock.skip(sum(steps[n] for n in names) * n_seeds)
        else:
            def report(logs_done, n_logs, names=names, gi=gi):
                if callback:
                    per_seed = steps[names[0]]
                    callback(Progress(gi, len(groups), tuple(names), done_conditions, len(conditions),
                                      logs_done, n_logs, per_seed * logs_done // n_logs, per_seed,
                                      clock.elapsed(), clock.eta()))

            start = time.perf_counter()
            group_results = _run_group([conditions[n] for n in names], names, n_seeds, seed, block_rows,
                                       chunk_logs, out, resume, gi, clock, report)
            wall = time.perf_counter() - start
            if out is not None and jax.process_index() == 0:
                for name in names:
                    _write_condition(out / name, conditions[name], *group_results[name], names, n_seeds, seed,
                                     wall, block_rows)
                ckpt = _checkpoint_path(out, gi)
                ckpt.unlink(missing_ok=True)
            results.update(group_results)
        done_conditions += len(names)
    if out is not None and jax.process_index() == 0:
        write_json(out / SWEEP_FILE, spec | {"status": "complete", "wall_s": clock.elapsed()})
    return {name: results[name] for name in conditions}


class Blocks:
    """Rows of one structure split into equal blocks, each block's rows sharded over all devices.

    Every compiled call sees the same block shape, and every device ``min(block_rows,
    n_rows)`` rows of it: a row's result does not depend on the number of devices.
    """

    def __init__(self, config: Config, keys, hp, block_rows: int):
        self.n_rows = keys.shape[0]
        self.block, self.n_blocks = _blocks(self.n_rows, block_rows)
        self.sharding = row_sharding()
        self.init_fn, self.advance_fn, self.outcome_fn = compiled(config)
        self.keys, self.hp = pad_rows((keys, hp), self.block * self.n_blocks)
        self.hp_dev = [self.put(self.rows(self.hp, b)) for b in range(self.n_blocks)]

    def rows(self, tree, b: int):
        """Block ``b`` of a host tree with all (padded) rows."""
        return jax.tree.map(lambda x: x[b * self.block:(b + 1) * self.block], tree)

    def put(self, tree):
        return _to_devices(tree, self.sharding)

    def init(self) -> list:
        """Every block's state after pretraining and the probe fit."""
        return [self.init_fn(self.put(self.rows(self.keys, b)), self.hp_dev[b]) for b in range(self.n_blocks)]

    def advance(self, states: list, n_logs: int) -> tuple[list, dict]:
        """``n_logs`` logged points more for every block; the points as NumPy ``[n_rows, n_logs, ...]``."""
        out = [self.advance_fn(s, hp, n_logs) for s, hp in zip(states, self.hp_dev)]
        return [s for s, _ in out], self.gather([logged for _, logged in out])

    def outcome(self, logged: dict) -> np.ndarray:
        padded = pad_rows(logged, self.block * self.n_blocks)
        return self.gather([self.outcome_fn(self.put(self.rows(padded, b)), hp) for b, hp in enumerate(self.hp_dev)])

    def gather(self, blocks: list):
        """Per-block device trees -> one NumPy tree of the real rows."""
        return jax.tree.map(lambda *xs: np.concatenate(xs)[:self.n_rows], *[_to_host(x) for x in blocks])

    def scatter(self, tree) -> list:
        """A NumPy tree of the real rows -> per-block device trees."""
        padded = pad_rows(tree, self.block * self.n_blocks)
        return [self.put(self.rows(padded, b)) for b in range(self.n_blocks)]

    def shapes(self, n_logs: int):
        """Shapes of one block's state and of ``n_logs`` logged points, without running anything."""
        state = jax.eval_shape(self.init_fn, self.rows(self.keys, 0), self.hp_dev[0])
        return state, (jax.eval_shape(self.advance_fn, state, self.hp_dev[0], n_logs)[1] if n_logs else {})


def rows_of(configs: list[Config], n_seeds: int, seed: int):
    """Keys and numeric knobs of rows ``[condition, seed]`` (condition-major), as NumPy."""
    keys = np.tile(np.asarray(seed_keys(seed, np.arange(n_seeds))), (len(configs), 1))
    hps = [jax.tree.map(np.asarray, numeric(c)) for c in configs]
    return keys, jax.tree.map(lambda *xs: np.repeat(np.stack(xs), n_seeds, axis=0), *hps)


def _run_group(configs, names, n_seeds, seed, block_rows, chunk_logs, out, resume, gi, clock, report):
    """Rows ``[condition, seed]`` of one structure; ``{name: (logged, outcome)}``."""
    first = configs[0]
    n_logs = first.run.n_logs
    chunk = chunk_logs or chunk_size(n_logs)
    ckpt = _checkpoint_path(out, gi) if out is not None else None
    resuming = ckpt is not None and resume and ckpt.exists()
    if resuming:  # the same blocks as before, so that every call sees the same shapes
        block_rows = checkpoint.read_meta(ckpt).get("block_rows", block_rows)
    rows = Blocks(first, *rows_of(configs, n_seeds, seed), block_rows)
    work_per_log = first.run.log_every * first.run.steps_per_update * rows.n_rows
    meta = json.loads(json.dumps({"names": list(names), "configs": [cfg.to_dict(c) for c in configs],
                                  "n_seeds": n_seeds, "seed": int(seed), "block_rows": block_rows, "n_logs": n_logs}))
    states, parts, done = None, [], 0
    if resuming:
        states, logged, done = _resume(ckpt, meta, rows)
        parts = [logged] if done else []
        clock.skip(work_per_log * done)
    if states is None:
        states = rows.init()
        if ckpt is not None:
            _save(ckpt, rows, states, parts, 0, meta)
    report(done, n_logs)
    clock.begin_chunks()
    while done < n_logs:
        size = min(chunk, n_logs - done)
        states, logged = rows.advance(states, size)
        parts.append(logged)
        done += size
        if ckpt is not None:
            _save(ckpt, rows, states, parts, done, meta)
        clock.add(work_per_log * size)
        report(done, n_logs)
    logged = {k: np.concatenate([p[k] for p in parts], axis=1) for k in parts[0]}
    labels = rows.outcome(logged)
    return {name: ({k: v[i * n_seeds:(i + 1) * n_seeds] for k, v in logged.items()},
                   labels[i * n_seeds:(i + 1) * n_seeds]) for i, name in enumerate(names)}


def _checkpoint_path(out: Path, gi: int) -> Path:
    return out / f"checkpoint-{gi}.npz"


def _save(path, rows: Blocks, states, parts, done, meta):
    """All rows' state and the points logged so far (only the first process writes)."""
    state = rows.gather(states)
    if jax.process_index() != 0:
        return
    logged = {k: np.concatenate([p[k] for p in parts], axis=1) for k in parts[0]} if parts else {}
    checkpoint.save(path, {"state": state, "logged": logged}, meta | {"done": done})


def _resume(path, meta, rows: Blocks):
    """The states (on devices), logged points and count stored in a group's checkpoint."""
    stored = checkpoint.read_meta(path)
    for key in ("names", "configs", "n_seeds", "seed", "n_logs"):
        if stored.get(key) != meta[key]:
            raise ResultsError(f"{path}: checkpoint belongs to another sweep ({key} differs); "
                               "remove it or choose another output folder")
    done = int(stored["done"])
    state_shape, logged_shape = rows.shapes(1 if done else 0)
    n = rows.n_rows
    like = {"state": jax.tree.map(lambda s: jax.ShapeDtypeStruct((n,) + s.shape[1:], s.dtype), state_shape),
            "logged": {k: jax.ShapeDtypeStruct((n, done) + v.shape[2:], v.dtype) for k, v in logged_shape.items()}}
    tree, _ = checkpoint.load(path, like)
    return rows.scatter(tree["state"]), tree["logged"], done


# ---------------------------------------------------------------------------------------
# results on disk

def _prepare_out(out: Path, spec: dict, resume: bool) -> Path:
    """Check ``out`` before any work: writable, and either new, or this very sweep when resuming."""
    existing = out / SWEEP_FILE
    if existing.exists():
        if not resume:
            raise ResultsError(f"out: {out} already holds a sweep ({SWEEP_FILE}); pass resume to continue it, "
                               "or choose another folder")
        old = read_json(existing)
        for key in ("n_seeds", "seed"):
            if old.get(key) != spec[key]:
                raise ResultsError(f"{existing}: {key} was {old.get(key)}, now {spec[key]}; a resumed sweep "
                                   "must be the same sweep")
        if old.get("conditions") != spec["conditions"]:
            changed = sorted(set(old.get("conditions", {})) ^ set(spec["conditions"])) or \
                [n for n in spec["conditions"] if old["conditions"].get(n) != spec["conditions"][n]]
            raise ResultsError(f"{existing}: the conditions differ from this sweep's (first: {changed[0]}); "
                               "a resumed sweep must be the same sweep")
    ensure_writable(out)
    if jax.process_count() > 1:  # every process has checked before the first one writes
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("brainlike sweep: output checked")
    if jax.process_index() == 0 and not (existing.exists() and resume):
        write_json(existing, spec | {"status": "running"})
    return out


def _write_condition(folder: Path, config, logged, outcome, names, n_seeds, seed, wall, block_rows):
    folder.mkdir(parents=True, exist_ok=True)
    write_run(folder, config, logged, outcome, wall_s=wall, seed=int(seed))
    write_json(folder / MANIFEST, manifest(config, n_seeds=n_seeds, seed=int(seed), wall_s=wall,
                                           ran_with=list(names), block_rows=block_rows))


def _load_condition(folder: Path):
    arrays = read_npz(folder / "metrics.npz")
    outcome = arrays.pop("outcome")
    arrays.pop("step", None)
    return arrays, outcome


def manifest(config: Config, **extra) -> dict:
    """What produced a result: full config, package versions, git commit, devices, and ``extra``."""
    versions = {"python": sys.version.split()[0]}
    for package in ("brainlike", "jax", "jaxlib", "numpy", "flax", "optax", "chex"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    devices = jax.devices()
    return {"config": cfg.to_dict(config), "versions": versions, "git": git_commit(),
            "devices": {"platform": devices[0].platform, "count": len(devices),
                        "kinds": sorted({d.device_kind for d in devices}), "processes": jax.process_count()},
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")} | extra


def git_commit() -> dict | None:
    """The commit of the source tree this package runs from, if it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(dirty)} if re.fullmatch(r"[0-9a-f]{40}", commit) else None


def n_rows_total(conditions: dict[str, Config], n_seeds: int) -> int:
    """How many rows a sweep trains (conditions x seeds)."""
    return len(conditions) * n_seeds


def describe(conditions: dict[str, Config], n_seeds: int) -> str:
    """One line: how many conditions, groups (compilations) and rows."""
    groups = group_by_structure(conditions)
    return (f"{len(conditions)} conditions in {len(groups)} compiled group{'s' * (len(groups) != 1)} x {n_seeds} "
            f"seeds = {n_rows_total(conditions, n_seeds)} rows on {jax.device_count()} "
            f"{jax.default_backend()} device{'s' * (jax.device_count() != 1)}")


__all__ = ["Progress", "grid", "parse_axis", "run_conditions", "group_by_structure", "progress_bar", "manifest",
           "describe", "default_block_rows", "field_type", "parse_value", "format_value"]
