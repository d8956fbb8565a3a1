"""The walls of the house: what a library import may change, and who may import whom."""

import subprocess
import sys

from conftest import ROOT

IMPORT_EVERYTHING = """
import jax
before = dict(jax.config.values)
import brainlike, brainlike.cli, brainlike.sweep, brainlike.train, brainlike.experiment, brainlike.bench
import brainlike.fast_prng as fast_prng
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
