"""Result files: written atomically, read without pickle, with errors that name the file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from brainlike import config as cfg
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
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ResultsError(f"{path}: missing results file") from None
    except (OSError, json.JSONDecodeError) as e:
        raise ResultsError(f"{path}: unreadable results file ({e})") from None


def read_npz(path: Path) -> dict:
    try:
        with np.load(Path(path), allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise ResultsError(f"{path}: missing results file") from None
    except (OSError, ValueError) as e:
        raise ResultsError(f"{path}: unreadable results file ({e})") from None


def logged_steps(config: cfg.Config) -> np.ndarray:
    """RL environment steps per seed at each logged point."""
    run = config.run
    return (np.arange(1, run.n_logs + 1) * run.log_every * run.steps_per_update).astype(np.int64)


def run_summary(config: cfg.Config, logged: dict, outcome, **extra) -> dict:
    """The summary of one population (``summary.json``), with its thresholds and kinds."""
    summary = summarize(logged, outcome, config.env_obj.kinds, config.outcome.final_window)
    return summary | {"kinds": list(config.env_obj.kinds), "thresholds": cfg.to_dict(config)["outcome"]} | extra


def write_run(out: Path, config: cfg.Config, logged: dict, outcome, **extra) -> dict:
    """``config.json``, ``metrics.npz`` and, last, ``summary.json`` of one population."""
    out = Path(out)
    summary = run_summary(config, logged, outcome, **extra)
    write_json(out / "config.json", cfg.to_dict(config))
    write_npz(out / "metrics.npz", dict(logged, outcome=np.asarray(outcome), step=logged_steps(config)))
    write_json(out / "summary.json", summary)
    return summary


def load_run(folder: Path) -> tuple[cfg.Config, dict, dict]:
    """``(config, arrays, summary)`` of a folder written by ``write_run``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such results folder")
    config = cfg.from_dict(read_json(folder / "config.json"))
    return config, read_npz(folder / "metrics.npz"), read_json(folder / "summary.json")
