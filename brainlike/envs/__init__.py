"""Environments by name. Each one is a single file; register it in ``REGISTRY``."""

from __future__ import annotations

from brainlike.envs.base import INFO_KEYS, Box, Environment
from brainlike.envs.plan_market import PlanMarket

REGISTRY: dict[str, type[Environment]] = {
    "plan_market": PlanMarket,
}


def make(name: str) -> Environment:
    """The environment registered as ``name``."""
    if name not in REGISTRY:
        raise ValueError(f"env: unknown environment {name!r}; allowed: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]()


__all__ = ["INFO_KEYS", "Box", "Environment", "REGISTRY", "make"]
