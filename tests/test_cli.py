"""``python -m brainlike run``: the files it writes, and one-line errors that write nothing."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, TINY, TINY_SEEDS

from brainlike import cli
from brainlike.config import from_dict
from brainlike.schema import OUTCOMES


def _flags(fields: dict) -> list[str]:
    return [a for k, v in fields.items() for a in (f"--{k}", ",".join(v) if isinstance(v, tuple) else str(v))]


TINY_FLAGS = ["--env", "plan_market", "--routing", "brainlike", "--seeds", str(TINY_SEEDS), *_flags(TINY)]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, tiny_population):
    """One tiny run through the command line (in process, so it reuses the tiny compilation)."""
    out = tmp_path_factory.mktemp("cli") / "run"
    assert cli.main(["run", *TINY_FLAGS, "--out", str(out)]) == 0
    return out


def test_run_writes_config_metrics_and_summary(cli_run, tiny_config, tiny_population):
    assert sorted(p.name for p in cli_run.iterdir()) == ["config.json", "manifest.json", "metrics.npz", "summary.json",
                                                       "sweep.json"]
    assert from_dict(json.loads((cli_run / "config.json").read_text())) == tiny_config
    with np.load(cli_run / "metrics.npz") as f:
        arrays = dict(f)
    n_logs = tiny_config.run.n_logs
    assert arrays["deception_rate"].shape == (TINY_SEEDS, n_logs)
    assert arrays["plan_freq"].shape == (TINY_SEEDS, n_logs, 3)
    assert arrays["outcome"].shape == (TINY_SEEDS,)
    # the same seeds as the in-process population, bit for bit
    for k, v in tiny_population[0].items():
        np.testing.assert_array_equal(arrays[k], v, err_msg=k)


def test_summary_has_the_design_schema(cli_run):
    summary = json.loads((cli_run / "summary.json").read_text())
    assert summary["n_seeds"] == TINY_SEEDS
    assert set(OUTCOMES) == set(summary["outcomes"])
    assert sum(summary["outcomes"].values()) == TINY_SEEDS
    assert all(isinstance(v, int) for v in summary["outcomes"].values())
    for name in ("return", "deception_rate", "alarm_rate", "evasion_rate", "probe_recall_frozen",
                 "probe_auroc_frozen", "probe_auroc_refit", "plan_freq/honest", "plan_freq/B"):
        block = summary["metrics"][name]
        assert set(block) == {"mean", "ci95"}, name
        lo, hi = block["ci95"]
        assert lo <= block["mean"] <= hi, name


@pytest.mark.parametrize("args, named", [
    (["--env", "nope"], "env"),
    (["--routing", "weird"], "routing"),
    (["--routing", "pred=beliefs;td=critic"], "critic"),
    (["--reward.nope", "1"], "--reward.nope"),
    (["--reward.alpha", "-1"], "reward.alpha"),
    (["--env.noise", "7"], "env.noise"),
    (["--probe.coverage", "C"], "probe.coverage"),
    (["--probe.pooling", "median"], "probe.pooling"),
    (["--run.steps", "many"], "run.steps"),
    (["--seeds", "0"], "seeds"),
])
def test_bad_run_exits_with_one_line_and_writes_nothing(tmp_path, capsys, args, named):
    out = tmp_path / "out"
    try:
        rc = cli.main(["run", *args, "--out", str(out)])
    except SystemExit as e:  # argparse's own errors
        rc = e.code
    captured = capsys.readouterr()
    assert rc != 0
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], captured.err
    assert not out.exists()


def test_module_entry_point_reports_an_unknown_field_in_one_line(tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, BRAINLIKE_CACHE=str(ROOT / ".jax_cache"))
    proc = subprocess.run([sys.executable, "-m", "brainlike", "run", "--beliefs.depth", "3", "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "--beliefs.depth" in proc.stderr, proc.stderr
    assert not out.exists()
