"""Result files: written atomically, read without pickle, with errors that name the file."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from brainlike import config as cfg
from brainlike import envspec
from brainlike.store.outcomes import Thresholds
from brainlike.store.summary import summarize


class ResultsError(ValueError):
    """A results file or folder that is missing, unreadable or unwritable."""


def ensure_writable(out: str | os.PathLike) -> Path:
    """Create ``out`` if needed and check a file can be written there, before any work starts."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".probe-", delete=True):
            pass
    except OSError as e:
        raise ResultsError(f"out: cannot write to {out} ({e.strerror or e})") from None
    return out


def atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.chmod(tmp, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj) -> None:
    atomic_write(Path(path), lambda f: f.write((json.dumps(obj, indent=1, allow_nan=False) + "\n").encode()))


def write_npz(path: Path, arrays: dict) -> None:
    atomic_write(Path(path), lambda f: np.savez_compressed(f, **arrays))


def read_json(path: Path) -> dict:
    """A JSON object from a results file; ``ResultsError`` naming the file if it is missing, empty,
    not JSON or not an object."""
    try:
        text = Path(path).read_bytes()
    except FileNotFoundError:
        raise ResultsError(f"{path}: missing results file") from None
    except OSError as e:
        raise ResultsError(f"{path}: unreadable results file ({e.strerror or e})") from None
    if not text.strip():
        raise ResultsError(f"{path}: empty file, not JSON (written only in part?)")
    try:
        obj = json.loads(text)
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not a JSON file (binary content)") from None
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: damaged JSON ({e}; written only in part?)") from None
    if not isinstance(obj, dict):
        raise ResultsError(f"{path}: not a results file (a JSON {type(obj).__name__}, not an object)")
    return obj


def read_npz(path: Path) -> dict:
    """Every array of a ``.npz`` results file; ``ResultsError`` naming the file if it is missing,
    empty, truncated, not an ``.npz`` archive, or holds anything but plain arrays."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise ResultsError(f"{path}: missing results file") from None
    except OSError as e:
        raise ResultsError(f"{path}: unreadable results file ({e.strerror or e})") from None
    if not head:
        raise ResultsError(f"{path}: empty file, not a NumPy .npz archive (written only in part?)")
    if head != b"PK\x03\x04":  # every zip archive, and so every .npz, begins so
        raise ResultsError(f"{path}: not a NumPy .npz archive (it begins with {head!r})")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, EOFError, zlib.error) as e:
        raise ResultsError(f"{path}: truncated or damaged .npz archive ({e or type(e).__name__})") from None
    except ValueError as e:
        if "pickle" in str(e):
            raise ResultsError(f"{path}: holds Python objects, not plain arrays; not a brainlike results "
                               "file") from None
        raise ResultsError(f"{path}: damaged .npz archive ({e})") from None
    except OSError as e:
        raise ResultsError(f"{path}: unreadable results file ({e.strerror or e})") from None


def read_config(path: Path) -> cfg.Config:
    """The config stored in a ``config.json`` (or a run folder holding one); ``ResultsError``
    naming the file if it is missing, damaged or not a config of a registered environment."""
    path = Path(path)
    if path.is_dir():
        path = path / "config.json"
    raw = read_json(path)
    if raw.get("env") is not None and raw["env"] not in envspec.REGISTRY:
        raise ResultsError(f"{path}: environment {raw['env']!r} is not registered here; import the file that "
                           "registers it with --import")
    try:
        return cfg.from_dict(raw)
    except cfg.ConfigError as e:
        raise ResultsError(f"{path}: {e}") from None
    except (TypeError, ValueError, AttributeError) as e:
        raise ResultsError(f"{path}: not a brainlike config ({e})") from None


def read_metrics(path: Path) -> dict:
    """A run's ``metrics.npz``: ``read_npz``, and ``ResultsError`` if it lacks a run's arrays."""
    arrays = read_npz(path)
    missing = [k for k in ("outcome", "step", "return") if k not in arrays]
    if missing:
        raise ResultsError(f"{path}: not a run's metrics (no {', '.join(missing)} array)")
    n = arrays["outcome"].shape[:1]
    odd = sorted(k for k, v in arrays.items() if k != "step" and v.shape[:1] != n)
    if arrays["outcome"].ndim != 1 or odd:
        raise ResultsError(f"{path}: damaged run metrics (arrays of different seed counts: {', '.join(odd)})")
    return arrays


def logged_steps(config: cfg.Config) -> np.ndarray:
    """RL environment steps per seed at each logged point."""
    run = config.run
    return (np.arange(1, run.n_logs + 1) * run.log_every * run.steps_per_update).astype(np.int64)


def run_summary(config: cfg.Config, logged: dict, outcome, thresholds: Thresholds = Thresholds(), **extra) -> dict:
    """The summary of one population (``summary.json``), with the thresholds that labelled it and its kinds."""
    env = config.env_spec
    summary = summarize(logged, outcome, env.kinds, thresholds.final_window, env.metrics)
    return summary | {"kinds": list(env.kinds), "env_metrics": list(env.metrics),
                      "thresholds": dataclasses.asdict(thresholds)} | extra


def write_run(out: Path, config: cfg.Config, logged: dict, outcome, thresholds: Thresholds = Thresholds(),
              **extra) -> dict:
    """``config.json``, ``metrics.npz`` and, last, ``summary.json`` of one population."""
    out = Path(out)
    summary = run_summary(config, logged, outcome, thresholds, **extra)
    write_json(out / "config.json", cfg.to_dict(config))
    write_npz(out / "metrics.npz", dict(logged, outcome=np.asarray(outcome), step=logged_steps(config)))
    write_json(out / "summary.json", summary)
    return summary


def load_run(folder: Path) -> tuple[cfg.Config, dict, dict]:
    """``(config, arrays, summary)`` of a folder written by ``write_run``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such results folder")
    return read_config(folder / "config.json"), read_metrics(folder / "metrics.npz"), read_json(folder / "summary.json")
