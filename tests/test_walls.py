"""The walls of the house: what a library import may change, and who may import whom."""

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


# who may import whom inside the package (beyond itself); "jax" marks a room that may import JAX
WALLS = {
    "envs": {"envspec", "jax"},
    "core": {"envs", "config", "routes", "schema", "jax"},
    "run": {"core", "store", "envs", "config", "schema", "jax"},
    "store": {"config", "envspec", "schema"},
    "report": {"store", "run", "config", "schema", "envs"},
}


def _imports(path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_each_room_imports_only_through_its_walls():
    """Environments know nothing of the learner; traced code knows nothing of hosts, files or
    figures; results and reports are plain NumPy (they reach JAX only through ``run``); and the
    library never imports the experiments."""
    broken = []
    for room, allowed in WALLS.items():
        for path in sorted((ROOT / "brainlike" / room).rglob("*.py")):
            for name in _imports(path):
                top, _, rest = name.partition(".")
                if top == "experiments":
                    broken.append(f"{path.relative_to(ROOT)} imports {name}")
                if top in ("jax", "jaxlib", "flax", "optax", "chex") and "jax" not in allowed:
                    broken.append(f"{path.relative_to(ROOT)} imports {name}")
                if top == "brainlike":
                    other = rest.partition(".")[0]
                    if other and other != room and other not in allowed:
                        broken.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not broken, "\n".join(broken)


def test_no_function_in_the_library_runs_past_sixty_odd_lines():
    import ast

    long = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in sorted((ROOT / "brainlike").rglob("*.py"))
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 65]
    assert not long, "\n".join(long)
