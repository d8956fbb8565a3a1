"""The config as traced code reads it: its dataclasses registered as pytrees.

Every ``float`` field of a config section, and every environment knob but the shape knobs
(``envs.Environment`` registers those), is a leaf: under jit it is traced, under vmap batched,
so a group's rows are its configs stacked (``rows``). Every other field is static, part of the
tree's structure, and ``compile_key`` (``jax.tree.structure`` of the config) is the one key of a
compiled program: configs with equal keys run as rows of one. A switch at 0 (``knob(...,
switch=True)``: ``desires.thought_noise``, ``reward.kl_beta``) is static too, so whether noise
is drawn or a reference policy kept is structural, and its size numeric.

Children are ordered by name, as a tree of dicts orders its keys. Unflattening builds the
dataclasses without running their validation (it ran when the config was made): a tree of
tracers, arrays or placeholders is never checked. The config module itself stays free of JAX;
it is registered here, where the JAX side first reads it.
"""

from __future__ import annotations

import dataclasses
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from brainlike import envs  # noqa: F401  (registers every environment's knobs as a pytree)
from brainlike.config import SECTIONS, Config


def _is_zero(value) -> bool:
    return isinstance(value, numbers.Real) and value == 0


def _register(cls, children: tuple[str, ...], switches: tuple[str, ...] = ()) -> None:
    """``cls`` as a pytree whose children are the fields ``children`` names, but a switch at 0;
    every other field is static (in the tree's structure, with the names of the children)."""
    names = tuple(f.name for f in dataclasses.fields(cls))
    rest: dict[tuple, tuple] = {}  # the static fields' names, for each set of children

    def static_names(kids):
        if kids not in rest:
            rest[kids] = tuple(n for n in names if n not in kids)
        return rest[kids]

    def parts(obj):
        d = obj.__dict__
        kids = children
        if switches and any(_is_zero(d[n]) for n in switches):
            kids = tuple(n for n in children if not (n in switches and _is_zero(d[n])))
        return kids, (kids, tuple(d[n] for n in static_names(kids)))

    def flatten(obj):
        kids, aux = parts(obj)
        return [obj.__dict__[n] for n in kids], aux

    def flatten_with_keys(obj):
        kids, aux = parts(obj)
        return [(jax.tree_util.GetAttrKey(n), obj.__dict__[n]) for n in kids], aux

    def unflatten(aux, values):
        kids, static = aux
        obj = object.__new__(cls)
        obj.__dict__.update(zip(static_names(kids), static))
        obj.__dict__.update(zip(kids, values))
        return obj

    jax.tree_util.register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten)


for _section in SECTIONS:  # a section's leaves: its float fields, by name
    _fields = dataclasses.fields(getattr(Config(), _section))
    _register(type(getattr(Config(), _section)), tuple(sorted(f.name for f in _fields if f.type in (float, "float"))),
              tuple(f.name for f in _fields if f.metadata.get("switch")))
_register(Config, tuple(sorted(("env_params",) + SECTIONS)))  # the config's: its sections and the environment's knobs


def compile_key(config: Config) -> jax.tree_util.PyTreeDef:
    """The config's static part, as the structure of its pytree: configs with equal keys share
    one compiled program, each as rows of it with its own numbers."""
    return jax.tree.structure(config)


def float32(config: Config) -> Config:
    """The config with every number it traces as a float32 scalar (what one row of a group holds)."""
    return jax.tree.map(jnp.float32, config)


def rows(configs: list[Config], repeats: int = 1) -> Config:
    """Configs of one compile key stacked into a group's rows (NumPy float32, each repeated
    ``repeats`` times in place): one config whose every traced leaf has a leading row axis."""
    keys = {compile_key(c) for c in configs}
    if len(keys) > 1:
        raise ValueError(f"configs: {len(keys)} structures; only configs of one compile key stack into rows")
    return jax.tree.map(lambda *xs: np.repeat(np.stack([np.float32(x) for x in xs]), repeats, axis=0), *configs)
