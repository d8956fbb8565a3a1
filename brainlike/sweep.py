"""Sweeps: a grid of conditions x a number of seeds.

Conditions whose configs share a structure (``config.structure``) run as rows of one
compiled function, each row with its own numeric knobs; each structure compiles once.
"""

from __future__ import annotations

import numpy as np

from brainlike.config import Config, numeric, structure
from brainlike.population import progress_bar, run_rows, seed_keys

import jax
import jax.numpy as jnp


def group_by_structure(conditions: dict[str, Config]) -> list[list[str]]:
    """Condition names grouped so that each group compiles once, in first-seen order."""
    groups: dict[tuple, list[str]] = {}
    for name, config in conditions.items():
        groups.setdefault(structure(config), []).append(name)
    return list(groups.values())


def run_conditions(conditions: dict[str, Config], n_seeds: int, seed: int = 0, progress: bool = True):
    """Train ``n_seeds`` seeds of every condition: ``{name: (logged, outcome)}`` as NumPy.

    Seed ``i`` of every condition uses the same key, so conditions are compared on common
    random numbers and a seed's result does not depend on which conditions run beside it.
    """
    if not conditions:
        raise ValueError("conditions: the sweep is empty; give at least one condition")
    if n_seeds < 1:
        raise ValueError(f"seeds: {n_seeds} is out of range; allowed: >= 1")
    results = {}
    for names in group_by_structure(conditions):
        first = conditions[names[0]]
        keys = jnp.concatenate([seed_keys(seed, np.arange(n_seeds))] * len(names))
        hp = jax.tree.map(lambda *xs: jnp.stack(xs), *[numeric(conditions[n]) for n in names])
        hp = jax.tree.map(lambda x: jnp.repeat(x, n_seeds, axis=0), hp)
        label = f"{', '.join(names)}" if len(names) <= 3 else f"{names[0]} ... ({len(names)} conditions)"
        logged, outcome = run_rows(first, keys, hp, progress=progress_bar(label) if progress else None)
        for i, name in enumerate(names):
            rows = slice(i * n_seeds, (i + 1) * n_seeds)
            results[name] = ({k: v[rows] for k, v in logged.items()}, outcome[rows])
    return results
