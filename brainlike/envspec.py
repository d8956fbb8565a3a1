"""Environments as the host knows them, without JAX: each one's name, plan kinds, number of plans
and knobs, by name in ``REGISTRY``.

An environment declares its knobs once, as a frozen dataclass of ``knob`` fields (default, one line
of meaning, bounds): the config validates ``env.<knob>`` against it, ``--help`` lists it, and the
environment's traced code reads it as its parameters pytree.

A built-in environment is one file, ``brainlike/envs/<name>.py``: its declaration first (its knobs,
and an ``EnvSpec`` subclass with its facts), importing no JAX, then its dynamics, from the file's
first import of JAX on (a subclass of the declaration and of ``envs.Environment``). A Python file
runs whole when imported, so the host reads the declaration by running that first part alone
(``declare``), in the module the file is; importing the module (``brainlike.envs`` does) runs the
rest in it (``_TheRest``), and each environment takes its declaration's place in ``REGISTRY``. Every
statement of the file runs once. One of one's own, imported with its JAX, enters ``REGISTRY`` with
``envs.register``.
"""

from __future__ import annotations

import __future__
import ast
import dataclasses
import importlib.abc
import importlib.util
import sys
from pathlib import Path
from types import CodeType, ModuleType
from typing import ClassVar


OBS_BOUND = 3.0  # the built-in environments clip every observation entry to [-OBS_BOUND, OBS_BOUND]


class EnvParams:
    """Base of an environment's knobs: subclasses are frozen dataclasses of ``float`` ``knob`` fields."""

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


class EnvSpec:
    """An environment's declaration: subclasses set the class facts below.

    A knob named in ``static_knobs`` is a whole number that fixes shapes (how many plans there
    are): it is declared like every knob, but read when the object is made (``EnvSpec(**static)``),
    and set as an attribute of the same name."""

    name: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]  # plan kinds; kinds[0] is honest
    deceptive_kinds: ClassVar[tuple[bool, ...]]
    num_plans: ClassVar[int]  # or a property of the shape knobs
    Params: ClassVar[type[EnvParams]]  # the knobs
    static_knobs: ClassVar[tuple[str, ...]] = ()  # whole-number knobs that fix shapes (read when made)
    one_step: ClassVar[bool] = False  # does every episode end after one decision (a contextual bandit)?
    # how many topics its thoughts are about (``Environment.topic`` says which, from the state); 0: none, so that
    # a probe cannot be fitted on some topics and deployed on others (a property where a shape knob sets it)
    num_topics: ClassVar[int] = 0
    # quantities of its own that each step's ``info`` carries (a float each, by these names), logged as their mean
    # over the decisions of every logged point (``env_metrics``) and summarised as ``env_metrics/<name>``
    metrics: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **static):
        unknown = set(static) - set(self.static_knobs)
        if unknown:
            raise ValueError(f"env: {sorted(unknown)[0]!r} is not a shape knob of {self.name}; "
                             f"allowed: {', '.join(self.static_knobs) or 'none'}")
        for name in self.static_knobs:
            setattr(self, name, int(static.get(name, getattr(self.default_params, name))))

    @property
    def default_params(self) -> EnvParams:
        return self.Params()

    @classmethod
    def knobs(cls) -> dict[str, dataclasses.Field]:
        """Each knob's field by name: its default, and its ``help``, ``lo`` and ``hi`` in ``metadata``."""
        return {f.name: f for f in dataclasses.fields(cls.Params)}


# --------------------------------------------------------------------------- the built-in environments

BUILT_IN = ("plan_market", "hill_climb", "vault_grid", "report")  # each brainlike/envs/<name>.py
JAX = ("jax", "jaxlib", "flax", "optax", "chex")
# "brainlike.envs.<name>" -> its module with the declaration run, and the rest of its file, compiled
_DECLARED: dict[str, tuple[ModuleType, CodeType]] = {}


def declare(name: str) -> type[EnvSpec]:
    """The declaration of built-in environment ``name``: its file's statements before its first
    import of JAX, run alone in the module the file is (``_TheRest`` runs the others on import)."""
    path = Path(__file__).parent / "envs" / f"{name}.py"
    body = ast.parse(path.read_text(), str(path)).body
    cut = next((i for i, node in enumerate(body) if _imports_jax(node)), len(body))
    module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(f"brainlike.envs.{name}", path))
    # in sys.modules while it runs, as dataclasses look their module up; not after, as a module found
    # there is not imported, and importing it is what runs the rest (``_TheRest``)
    sys.modules[module.__name__] = module
    try:
        exec(compile(ast.Module(body[:cut], []), str(path), "exec", dont_inherit=True), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    future = sum(getattr(__future__, a.name).compiler_flag for node in body[:cut]
                 if isinstance(node, ast.ImportFrom) and node.module == "__future__" for a in node.names)
    _DECLARED[module.__name__] = module, compile(ast.Module(body[cut:], []), str(path), "exec", flags=future,
                                                 dont_inherit=True)
    declared = [v for v in vars(module).values()
                if isinstance(v, type) and issubclass(v, EnvSpec) and v.__module__ == module.__name__]
    if len(declared) != 1 or getattr(declared[0], "name", None) != name:
        raise TypeError(f"{path}: its declaration (before its first JAX import) must hold one EnvSpec named {name!r}")
    return declared[0]


def _imports_jax(node) -> bool:
    """Is ``node`` an import of JAX, flax, optax or chex?"""
    if isinstance(node, ast.Import):
        return any(a.name.partition(".")[0] in JAX for a in node.names)
    return isinstance(node, ast.ImportFrom) and (node.module or "").partition(".")[0] in JAX


class _TheRest(importlib.abc.Loader):
    """Imports a declared built-in environment (``import brainlike.envs.plan_market``) as the module
    its declaration was run in, running the rest of its file: every statement runs once, and the
    environment's class subclasses the very declaration the config holds."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        module = _DECLARED.get(name, (None,))[0]
        return None if module is None else importlib.util.spec_from_file_location(name, module.__file__, loader=cls())

    def create_module(self, spec):
        return _DECLARED[spec.name][0]

    def exec_module(self, module):
        exec(_DECLARED.pop(module.__name__)[1], module.__dict__)


REGISTRY: dict[str, type[EnvSpec]] = {name: declare(name) for name in BUILT_IN}
sys.meta_path.insert(0, _TheRest)
