"""Shared fixtures: a tiny config, and one population of it that several test files read.

Compiling a run dominates the suite's time, so the end-to-end tests share one structure
(``TINY``): configs that differ from it only in numeric knobs reuse its compiled functions.
"""

import os
import time
from pathlib import Path

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
# the project's persistent compilation cache, wherever pytest is started from
os.environ.setdefault("BRAINLIKE_CACHE", str(ROOT / ".jax_cache"))
CACHE_WARM = any(Path(os.environ["BRAINLIKE_CACHE"]).glob("*"))  # before this run fills it
# Tests run tiny programs, so XLA's slow backend optimisations cost far more than they save
# (they triple the compile time of a run on CPU). Set before JAX starts its backend.
FAST_COMPILE = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {FAST_COMPILE}".strip()

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from brainlike.config import Config, replace  # noqa: E402
from brainlike.runtime import configure  # noqa: E402

configure()  # the entry point's JAX set-up: the compilation cache, the CPU threefry lowering

# 250 RL updates of 8 environments, logged every 10; the probe is fitted on every deceptive kind
TINY = {"run.steps": 2000, "beliefs.pretrain_updates": 50, "probe.n_thoughts": 64, "run.log_every": 10,
        "probe.coverage": ("all",)}
TINY_SEEDS = 4


def assert_reproduces(logged: dict, reference, prefix: str) -> None:
    """Every metric ``reference`` holds under ``prefix/`` equals ``logged``'s, to float32 round-off.

    Not to the bit: XLA's CPU code generation follows the host's vector instructions, so the last
    bits of a sum differ between processors (a reference written on one with AVX-512 differs in the
    7th digit of its losses on one without). Any change in what is computed moves a rate by a whole
    decision (1/400 here) and a loss far past round-off, which this still catches."""
    written = [k.split("/", 1)[1] for k in reference.files if k.startswith(f"{prefix}/") and k != f"{prefix}/outcome"]
    assert len(written) >= 20  # every metric logged then; metrics added since are new, not changed
    for k in written:
        np.testing.assert_allclose(logged[k], reference[f"{prefix}/{k}"], rtol=1e-5, atol=1e-6, err_msg=f"{prefix}/{k}")


def assert_png(path, min_height: int = 200, min_width: int = 200) -> None:
    """``path`` is a figure matplotlib reads back: a PNG at least ``min_height`` x ``min_width`` pixels
    with something drawn on it (at least 1% of its pixels away from the background colour), not
    merely a file that starts like a PNG."""
    import matplotlib.image

    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] >= min_height and image.shape[1] >= min_width, (path, image.shape)
    rgb = image[..., :3].reshape(-1, 3)
    background = np.median(rgb, axis=0)
    ink = np.abs(rgb - background).max(axis=1) > 0.1
    assert ink.mean() > 0.01, f"{path}: blank ({ink.mean():.2%} of its pixels drawn)"


def cli_flags(fields: dict) -> list[str]:
    """Config fields as command-line flags; a tuple's items join by ``+``, as on every command line."""
    return [a for k, v in fields.items() for a in (f"--{k}", "+".join(v) if isinstance(v, tuple) else str(v))]


@pytest.fixture(scope="session")
def tiny_config() -> Config:
    return replace(Config(), **TINY)


@pytest.fixture(scope="session")
def tiny_population(tiny_config):
    """``(logged, outcome)`` of seeds 0..3 of ``tiny_config`` (base seed 0)."""
    from brainlike.run.runner import run_population

    return run_population(tiny_config, TINY_SEEDS, 0)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """``make suite-stats``: with ``BRAINLIKE_SUITE_STATS`` naming a file, a run that passed writes there its
    counts, wall time and slowest tests, which the README states (``python -m experiments --pages``)."""
    path = os.environ.get("BRAINLIKE_SUITE_STATS")
    if not path or hasattr(config, "workerinput"):
        return
    if exitstatus != 0:
        terminalreporter.write_line(f"suite stats: {path} left as it was, since the suite did not pass")
        return
    from brainlike.store.results import write_json

    stats = terminalreporter.stats
    calls = sorted((r for r in stats.get("passed", []) if r.when == "call"), key=lambda r: -r.duration)
    write_json(Path(path), {
        "passed": len(calls), "skipped": len(stats.get("skipped", [])), "xfailed": len(stats.get("xfailed", [])),
        "wall_s": round(time.perf_counter() - STARTED, 1), "cores": os.cpu_count(),
        "cache": "warm" if CACHE_WARM else "cold",
        "slowest": [{"test": r.nodeid, "s": round(r.duration, 1)} for r in calls[:2]]})
    terminalreporter.write_line(f"suite stats: {path}")
