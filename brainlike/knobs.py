"""A knob: a dataclass field that carries its meaning and the values it allows, checked where the
dataclass is made. Config sections and environments' parameters are declared with it (no JAX here)."""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers


class ConfigError(ValueError):
    """A config value that is not allowed; the message names the field."""


def unknown(name: str, allowed, what: str = "field") -> ConfigError:
    """``name: unknown field; did you mean X?`` (the nearest of ``allowed``), else the allowed names."""
    allowed = list(allowed)
    near = difflib.get_close_matches(name, allowed, n=1)
    return ConfigError(f"{name}: unknown {what}; " + (f"did you mean {near[0]}?" if near else
                                                        f"allowed: {', '.join(allowed)}"))


def knob(default, help: str, lo=None, hi=None, choices=None, switch: bool = False):
    """A field with its documentation and the values it allows; ``switch``: a numeric knob whose 0
    turns a computation off, so that 0 is structural and every other value numeric."""
    return dataclasses.field(default=default, metadata={"help": help, "lo": lo, "hi": hi, "choices": choices,
                                                        "switch": switch})


def check_fields(section, prefix: str) -> None:
    """``ConfigError`` naming the first field of ``section`` whose value its knob does not allow; a
    value that is not a number (a traced one) is not checked against bounds."""
    for f in dataclasses.fields(section):
        value, meta, name = getattr(section, f.name), f.metadata, f"{prefix}{f.name}"
        if meta.get("choices") and value not in meta["choices"]:
            raise ConfigError(f"{name}: {value!r} is not allowed; allowed: {', '.join(map(str, meta['choices']))}")
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            lo, hi = meta.get("lo"), meta.get("hi")
            if not math.isfinite(value) or (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ConfigError(f"{name}: {value} is out of range; allowed: [{lo}, {hi}]")
