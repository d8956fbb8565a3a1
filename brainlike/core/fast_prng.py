"""Threefry without rolled loops on CPU: the same random bits, cheaper to compile and to run.

On CPU, JAX lowers the threefry hash behind every ``jax.random`` call as a five-step
``fori_loop`` (to keep huge programs small). In this simulator the hash runs on small arrays
inside a scanned step, where each loop becomes its own little kernel: compiling a run took
about twice as long, and the rollout spent a sixth of its time in loop overhead. ``install``
registers JAX's own unrolled lowering (the one GPUs use by default) for CPU as well. The
hash, and so every random number, is bit for bit the same; only the XLA program differs.

One kind of program compiles far worse unrolled: sampled thoughts in an environment that
truncates episodes (``suits``). There XLA's CPU compiler, which copies the unrolled hash into
every consumer of the many random numbers it makes, took more than ten minutes for one
vault_grid program with four variants per plan; the rolled loop compiles it in about 20 s.
The runner lowers such programs with the rolled loop (``use``).

It touches JAX internals, so it is guarded: if they are not where this JAX version keeps
them, nothing changes. Set ``BRAINLIKE_ROLLED_THREEFRY=1`` to keep JAX's default.
"""

from __future__ import annotations

import os

installed = False


def _lowerings():
    from jax._src.interpreters import mlir
    from jax._src.random import threefry2x32 as threefry

    return mlir, threefry


def install() -> bool:
    """Use the unrolled threefry lowering on CPU; returns whether it is in place."""
    global installed
    if installed or os.environ.get("BRAINLIKE_ROLLED_THREEFRY") == "1":
        return installed
    try:
        mlir, threefry = _lowerings()
        mlir.register_lowering(threefry.threefry2x32_p, threefry._threefry2x32_lowering_rule, platform="cpu")
    except (ImportError, AttributeError):
        return False
    installed = True
    return True


def suits(config) -> bool:
    """Does the unrolled hash suit ``config``'s programs? Not where thoughts are sampled in an
    environment that truncates episodes (see the module docstring)."""
    return not (config.desires.noisy and config.env_obj.truncates)


def use(unrolled: bool) -> None:
    """Lower programs from now on with the unrolled hash, or with JAX's rolled loop; nothing
    unless ``install`` put the unrolled one in place."""
    if installed:
        mlir, threefry = _lowerings()
        rule = threefry._threefry2x32_lowering_rule if unrolled else threefry._threefry2x32_cpu_lowering_rule
        mlir.register_lowering(threefry.threefry2x32_p, rule, platform="cpu")
