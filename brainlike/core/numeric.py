"""The numeric half of a config, as the traced run reads it."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp

from brainlike.config import SECTIONS, Config


def numeric(config: Config) -> dict[str, Any]:
    """The numeric half of a config as a pytree of float32 scalars (what a sweep may batch)."""
    hp = {s: {f.name: jnp.float32(getattr(getattr(config, s), f.name))
              for f in dataclasses.fields(getattr(config, s)) if f.type in (float, "float")}
          for s in SECTIONS}
    params = config.env_params_obj()
    hp["env"] = params.replace(**{f.name: jnp.float32(getattr(params, f.name)) for f in dataclasses.fields(params)})
    return hp
