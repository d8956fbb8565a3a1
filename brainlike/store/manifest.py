"""Provenance beside every result: the config, package versions, git commit and devices."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from brainlike import config as cfg
from brainlike.config import Config


def manifest(config: Config, devices: dict, **extra) -> dict:
    """What produced a result: full config, package versions, git commit, ``devices`` (as
    ``run.devices.describe_devices`` gives them), the machine, and ``extra``."""
    versions = {"python": sys.version.split()[0]}
    for package in ("brainlike", "jax", "jaxlib", "numpy", "flax", "optax", "chex"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"config": cfg.to_dict(config), "versions": versions, "git": git_commit(),
            "devices": devices, "machine": {"system": platform.system(), "machine": platform.machine(),
                                            "cpus": os.cpu_count()},
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
