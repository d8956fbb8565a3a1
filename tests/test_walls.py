"""The walls of the house: what a library import may change, and who may import whom."""

import ast
import subprocess
import sys

from conftest import ROOT

IMPORT_EVERYTHING = """
import jax
before = dict(jax.config.values)
import brainlike, brainlike.cli, brainlike.run.runner, brainlike.run.bench, brainlike.report.experiment
import brainlike.core.fast_prng as fast_prng
changed = {k: (before[k], v) for k, v in jax.config.values.items() if before.get(k) != v}
assert not changed, changed
assert not fast_prng.installed, "importing the library installed the threefry lowering"
print("unchanged")
"""


def test_importing_the_library_leaves_jax_configuration_alone():
    env_free = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], cwd=ROOT, capture_output=True, text=True,
                              env={"PATH": "", "PYTHONPATH": str(ROOT)})
    assert env_free.returncode == 0, env_free.stderr
    assert env_free.stdout.strip() == "unchanged"


JAX = ("jax", "jaxlib", "flax", "optax", "chex")
# who may import whom inside the package (beyond itself): a room is a folder of brainlike/ or one of
# its top-level modules; "jax" marks a room that may import JAX itself
WALLS = {
    "envs": {"envspec", "knobs", "jax"},
    "core": {"envs", "config", "routes", "schema", "jax"},
    "run": {"core", "store", "envs", "config", "schema", "jax"},
    "store": {"config", "envspec", "knobs", "schema"},  # knobs: the labelling thresholds are declared as knobs
    "report": {"store", "run", "config", "schema", "envs"},
    "config": {"knobs", "envspec", "routes", "schema", "envs"},  # envs: inside env_obj, for the run side only
    "envspec": {"knobs"},
    "knobs": set(),
    "routes": set(),
    "schema": set(),
    "runtime": {"core", "jax"},
    "cli": {"config", "envs", "envspec", "routes", "run", "store", "report", "schema", "runtime"},
    "__init__": set(),
    "__main__": {"cli"},
}
# what reaches no JAX through any chain of imports: results, statistics and their tables are NumPy
NO_JAX = ("store", "report/export.py", "report/pages.py", "config.py", "envspec.py", "knobs.py", "routes.py", "schema.py")


def _room(path) -> str:
    """The room of a file of the package: its folder under brainlike/, or its own name at the top."""
    parts = path.relative_to(ROOT / "brainlike").parts
    return parts[0] if len(parts) > 1 else path.stem


def _imports(path, on_import: bool = False) -> set[str]:
    """Modules a file names in its imports, ``brainlike.x.y`` for ``from brainlike.x import y``;
    ``on_import``: only those that run when it is imported (none inside a function)."""
    names = set()

    def visit(node):
        if on_import and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-node.level]) if node.level else ""
            module = ".".join(p for p in (package, node.module) if p)
            names.add(module)
            names.update(f"{module}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return names


def _files(module: str) -> list:
    """The files that importing ``brainlike.x.y`` runs: each package's ``__init__.py`` on the way, and
    the module's own file (none for a name that is not a module, such as a function's)."""
    parts, files = module.split("."), []
    for i in range(1, len(parts) + 1):
        base = ROOT.joinpath(*parts[:i])
        files += [p for p in (base / "__init__.py", base.with_suffix(".py")) if p.is_file()]
    return files


def _reaches_jax(path, names: set[str] | None = None) -> list[str] | None:
    """A chain of module-level imports from ``path`` (or from ``names``, imported there) to JAX,
    flax, optax or chex, or None."""
    chains, queue = {path: [str(path.relative_to(ROOT))]}, [path]
    while queue:
        here = queue.pop(0)
        for name in sorted(names if here == path and names is not None else _imports(here, on_import=True)):
            if name.partition(".")[0] in JAX:
                return chains[here] + [name]
            if name.partition(".")[0] == "brainlike":
                for file in _files(name):
                    if file not in chains:
                        chains[file] = chains[here] + [str(file.relative_to(ROOT))]
                        queue.append(file)
    return None


def test_each_room_imports_only_through_its_walls():
    """Environments know nothing of the learner; traced code knows nothing of hosts, files or
    figures; results and reports reach JAX only through ``run``; and the library never imports
    the experiments. Every file of the package is in a room, the top-level modules included."""
    broken = []
    for path in sorted((ROOT / "brainlike").rglob("*.py")):
        room = _room(path)
        assert room in WALLS, f"{path.relative_to(ROOT)}: a room the walls do not name; add it to WALLS"
        allowed = WALLS[room]
        for name in _imports(path):
            top, _, rest = name.partition(".")
            other = rest.partition(".")[0]
            if top == "experiments" or (top in JAX and "jax" not in allowed) or \
                    (top == "brainlike" and other and other != room and other not in allowed):
                broken.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not broken, "\n".join(broken)


def test_results_and_their_tables_reach_no_jax_through_any_import():
    """Importing the store, export or the config runs no JAX, however many modules lie between:
    the closure of their module-level imports, not only their own lines."""
    places = [ROOT / "brainlike" / where for where in NO_JAX]
    roots = [p for place in places for p in (sorted(place.rglob("*.py")) if place.is_dir() else [place]) if p.is_file()]
    chains = [" -> ".join(chain) for chain in map(_reaches_jax, roots) if chain]
    assert not chains, "\n".join(chains)
    assert all(place.exists() for place in places), [str(p) for p in places if not p.exists()]


def test_each_built_in_environment_declares_itself_before_any_jax():
    """The config reads a built-in environment from its file's statements before its first JAX
    import, run alone (``envspec.declare``): those reach no JAX through any chain of imports, and
    they declare the environment's facts and every knob it has."""
    from brainlike import envspec

    for name in envspec.BUILT_IN:
        path = ROOT / "brainlike" / "envs" / f"{name}.py"
        body = ast.parse(path.read_text()).body
        cut = next(i for i, node in enumerate(body) if envspec._imports_jax(node))
        head = ast.Module(body[:cut], [])
        names = {n for node in ast.walk(head) if isinstance(node, (ast.Import, ast.ImportFrom))
                 for n in ([a.name for a in node.names] if isinstance(node, ast.Import) else
                           [node.module] + [f"{node.module}.{a.name}" for a in node.names])}
        assert _reaches_jax(path, names) is None, (name, _reaches_jax(path, names))
        assert envspec.REGISTRY[name].name == name and envspec.REGISTRY[name].knobs()


ENVIRONMENTS_AFTER_THE_CONFIG = """
import sys
from brainlike.config import Config, replace

config = replace(Config(), env="vault_grid", **{"env.noise": 0.1})
declared = type(config.env_spec)
assert "jax" not in sys.modules
import jax
from brainlike import envs
from brainlike.envs.vault_grid import VaultGrid, VaultGridParams

assert envs.REGISTRY["vault_grid"] is VaultGrid and issubclass(VaultGrid, declared)
assert type(config.env_params) is VaultGridParams
assert len(jax.tree.leaves(config.env_params)) == len(VaultGrid.knobs())  # a pytree: its class is the one registered
print(type(config.env_obj).__name__)
"""


def test_a_config_made_before_the_environments_are_imported_runs_with_them():
    """A built-in environment's file runs once, in two steps: the class its dynamics define subclasses
    the very declaration a config made before (without JAX) holds, so that config's knobs are its pytree."""
    done = subprocess.run([sys.executable, "-c", ENVIRONMENTS_AFTER_THE_CONFIG], cwd=ROOT, capture_output=True,
                          text=True, env={"PATH": "", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "VaultGrid"


REFUSE_JAX = """
import importlib, pkgutil, sys
from pathlib import Path

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {jax}:
            raise ImportError(f"{{name}} is refused here")
        return None

sys.meta_path.insert(0, Refuse())
import brainlike.store, brainlike.report.export
for module in pkgutil.iter_modules(brainlike.store.__path__):
    importlib.import_module(f"brainlike.store.{{module.name}}")

import numpy as np
from brainlike.config import Config, replace
from brainlike.report.export import Run, compare, export_rows
from brainlike.schema import BY_KIND, BY_PLAN, SCALARS
from brainlike.store.results import load_run, write_run

config = replace(Config(), env="plan_market", **{{"env.n_phrasings": 2, "env.noise": 0.1, "run.steps": 800}})
shape, rng = (2, config.run.n_logs), np.random.default_rng(0)
logged = {{k: rng.random(shape) for k in SCALARS}} | {{k: rng.random(shape + (3,)) for k in BY_KIND}}
logged |= {{k: rng.random(shape + (6,)) for k in BY_PLAN}}
out = Path(sys.argv[1])
write_run(out, config, logged, np.zeros(2, int), seed=0)
assert load_run(out)[0] == config
assert len(export_rows(out)[1]) == 2
assert Run(out).fields["env.noise"] == "0.1" and Run(out).fields["env.b_prevalence"] == "0.5"  # a default
assert compare(out, out, ["return"])["metrics"][0]["b_minus_a"]["mean"] == 0
assert not [m for m in sys.modules if m.partition(".")[0] in {jax}]
print("no jax")
""".format(jax=JAX)


def test_store_and_export_import_and_run_with_jax_refused(tmp_path):
    """With an import hook that refuses JAX, flax, optax and chex, every store module and export
    import, and a run is written, read back, exported and compared."""
    done = subprocess.run([sys.executable, "-c", REFUSE_JAX, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no jax"


def test_no_function_in_the_library_runs_past_sixty_odd_lines():
    long = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in sorted((ROOT / "brainlike").rglob("*.py"))
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 65]
    assert not long, "\n".join(long)
