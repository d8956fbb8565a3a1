"""Environments by name. Each one is a single file: a built-in one declares its facts and knobs
first, without JAX, which is all the config reads of it (``brainlike.envspec``), then its dynamics;
one of one's own registers with ``@register`` on its class. Importing this package puts every
built-in environment in ``REGISTRY`` in place of its declaration."""

from __future__ import annotations

from brainlike.envs.base import INFO_KEYS, Box, Environment
from brainlike.envs.check import check_env
from brainlike.envs.hill_climb import HillClimb
from brainlike.envs.plan_market import PlanMarket
from brainlike.envs.report import Report
from brainlike.envs.vault_grid import VaultGrid
from brainlike.envspec import REGISTRY


def register(cls: type[Environment]) -> type[Environment]:
    """Add an environment class to ``REGISTRY`` under its ``name`` (usable as a decorator)."""
    REGISTRY[cls.name] = cls
    return cls


REGISTRY.update((cls.name, cls) for cls in (PlanMarket, HillClimb, VaultGrid, Report))  # each over its declaration


def make(name: str, **static) -> Environment:
    """The environment registered as ``name``, its shape knobs (``static_knobs``) set from ``static``."""
    if name not in REGISTRY:
        raise ValueError(f"env: unknown environment {name!r}; allowed: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name](**static)


__all__ = ["INFO_KEYS", "Box", "Environment", "REGISTRY", "check_env", "make", "register"]
