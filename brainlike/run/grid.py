"""Conditions from the command line: dotted fields, values parsed by their field's type, grids.

One syntax everywhere: a tuple field's items join by ``+`` (``probe.coverage=A+B``), and a
grid axis lists values separated by ``,`` (``--grid probe.coverage=A,A+B`` is two conditions).
"""

from __future__ import annotations

import dataclasses
import itertools
import re

import numpy as np

from brainlike import config as cfg
from brainlike.config import Config, ConfigError, unknown
from brainlike.core.traced import compile_key

SAFE_NAME = re.compile(r"^[A-Za-z0-9_.,=+-]+$")


def field_type(base: Config, name: str):
    """The Python type of a settable dotted field (``reward.alpha`` -> float); ConfigError if unknown."""
    head, _, tail = name.partition(".")
    if head == cfg.LABELS:
        raise cfg.not_config(name)
    if head == "env" and tail:
        if tail not in base.env_spec.knobs():
            raise unknown(name, ["env." + k for k in base.env_spec.knobs()], f"knob of {base.env}")
        return float
    top = {f.name: f for f in dataclasses.fields(Config)}
    if not tail and head in top and head not in cfg.SECTIONS and head != "env_params":
        return _resolve(top[head].type)
    if head in cfg.SECTIONS and tail:
        fields = {f.name: f for f in dataclasses.fields(getattr(base, head))}
        if tail in fields:
            return _resolve(fields[tail].type)
    raise unknown(name, cfg.field_names(base))


def _resolve(kind):
    text = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    return {"int": int, "float": float, "str": str}.get(text, tuple if "tuple" in text else str)


def parse_value(base: Config, name: str, value):
    """A value (a flag's, or a grid axis's) as its field's type: the one parser of the command line.

    Text is parsed by the field's type; a tuple field's items join by ``+`` (``"A+B"`` ->
    ``("A", "B")``). A ``,`` inside a tuple's text is refused: on the command line ``,``
    separates the values of a grid axis, never the items of one tuple.
    """
    kind = field_type(base, name)
    if kind is tuple and isinstance(value, str) and "," in value:
        joined = "+".join(t.strip() for t in value.split(",") if t.strip())
        raise ConfigError(f"{name}: {value!r} separates items with ','; join a tuple's items with + "
                          f"(--{name} {joined}; in --grid, ',' separates conditions: {name}=A,A+B)")
    try:
        if kind is tuple:
            return tuple(t.strip() for t in value.split("+") if t.strip()) if isinstance(value, str) else tuple(value)
        if kind is float:
            return float(value)
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: {value!r} is not a valid {kind.__name__}") from None


def parse_axis(text: str) -> tuple[str, list[str]]:
    """``"reward.alpha=0,1,2"`` -> ``("reward.alpha", ["0", "1", "2"])`` (values still text)."""
    name, eq, values = text.partition("=")
    name = name.strip()
    if not eq or not name:
        raise ConfigError(f"grid: {text!r} is not FIELD=V1,V2,... (e.g. reward.alpha=0,1,2)")
    return name, [v.strip() for v in values.split(",")] if values.strip() else []


def format_value(value) -> str:
    """Short text of a grid value, used in condition names."""
    if isinstance(value, float):
        short = format(value, "g")
        return short if float(short) == value else repr(value)
    if isinstance(value, tuple):
        return "+".join(map(str, value))
    return str(value)


def grid(base: Config, axes: dict[str, list], zipped: dict[str, list] | None = None) -> dict[str, Config]:
    """Every combination of ``axes`` (a product), as ``{name: config}``.

    ``grid(base, {"reward.alpha": [0, 1, 2], "routing": ["brainlike", "end_to_end"]})`` gives
    six conditions named like ``reward.alpha=1,routing=brainlike``. ``zipped`` axes vary
    together, as one more axis of the product, and must all have the same length. Every
    problem (an unknown field, an empty axis, unequal zipped lengths, a value out of range,
    steps that are not a whole number of the condition's logged blocks) raises ``ConfigError``
    naming the field, before anything runs.
    """
    zipped = dict(zipped or {})
    if not axes and not zipped:
        raise ConfigError("grid: no axes; give at least one field with its values (e.g. reward.alpha=0,1,2)")
    if "env" in zipped:
        raise ConfigError("env: cannot be a zipped axis; give it as a grid axis")
    for name in axes:
        if name in zipped:
            raise ConfigError(f"{name}: appears both as a grid axis and as a zipped axis")
    for source in (axes, zipped):
        for name, values in source.items():
            if not (name.startswith("env.") and "env" in axes):  # knobs of a gridded env: checked per condition
                field_type(base, name)
            if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
                raise ConfigError(f"{name}: give a list of values, not {values!r}")
            if len(values) == 0:
                raise ConfigError(f"{name}: the grid axis has no values")
            if len({format_value(v) for v in values}) < len(values):
                raise ConfigError(f"{name}: the grid axis repeats a value ({', '.join(map(format_value, values))})")
    if zipped:
        first = next(iter(zipped))
        for name, values in zipped.items():
            if len(values) != len(zipped[first]):
                raise ConfigError(f"{name}: zipped axes must have equal lengths; {name} has {len(values)} values, "
                                  f"{first} has {len(zipped[first])}")
    # the environment first, so that its knobs are checked against the right one
    columns = [[((name, v),) for v in axes[name]] for name in sorted(axes, key=lambda n: n != "env")]
    if zipped:
        columns.append([tuple((name, values[i]) for name, values in zipped.items())
                        for i in range(len(zipped[first]))])
    conditions: dict[str, Config] = {}
    for combo in itertools.product(*columns):
        config, values, shown = base, {}, []
        for name, value in (pair for column in combo for pair in column):
            if name == "env":  # first: the other values are parsed against it
                value = str(value)
                config = cfg.replace(config, env=value)
            else:
                value = values[name] = parse_value(config, name, value)
            shown.append(f"{name}={format_value(value)}")
        # at once, so that the steps are checked against the condition's own logged blocks
        config = cfg.replace(config, **values)
        config.run.check_steps(values.get("run.steps", base.run.steps))
        conditions[",".join(shown)] = config
    return conditions


def check_conditions(conditions: dict[str, Config], n_seeds: int) -> None:
    """Fail at once, naming the problem, on an empty sweep, a bad seed count or a bad condition name."""
    if not conditions:
        raise ValueError("conditions: the sweep is empty; give at least one condition")
    if not isinstance(n_seeds, (int, np.integer)) or n_seeds < 1:
        raise ValueError(f"seeds: {n_seeds} is out of range; allowed: >= 1")
    for name, config in conditions.items():
        if not isinstance(config, Config):
            raise ValueError(f"conditions: {name!r} is a {type(config).__name__}, not a Config")


def check_names(conditions) -> None:
    """Each condition names a results folder; ``""`` (a run of one condition) is the output folder itself."""
    for name in conditions:
        if name == "" and len(conditions) == 1:
            continue
        if not SAFE_NAME.match(name) or name.startswith("."):
            raise ValueError(f"conditions: {name!r} cannot name a results folder; use letters, digits and . , = + - _")


def group_by_structure(conditions: dict[str, Config]) -> list[list[str]]:
    """Condition names grouped by ``compile_key``, so that each group compiles once, in first-seen order."""
    groups: dict = {}
    for name, config in conditions.items():
        groups.setdefault(compile_key(config), []).append(name)
    return list(groups.values())
