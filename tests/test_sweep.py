"""Sweeps at scale: grids, one compilation per structure, devices, chunks, checkpoints, resume.

Every run here uses the tiny config of ``conftest`` (and mostly its 4-row shape), so the
compiled functions of ``tiny_population`` are reused wherever the shapes allow.
"""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ROOT, TINY, TINY_SEEDS, cli_flags

from brainlike import cli
from brainlike.config import ConfigError
from brainlike.run import checkpoint, programs, runner
from brainlike.run.devices import seed_keys
from brainlike.run.grid import grid, parse_axis
from brainlike.schema import OUTCOMES
from brainlike.store.results import ResultsError, read_npz, write_npz


def _same(a: dict, b: dict, rows=slice(None)):
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k][rows], err_msg=k)


# What the agents did, counted: identical bit for bit on any number of devices.
BEHAVIOUR = ("plan_freq", "alarm_rate", "evasion_rate", "probe_recall_frozen", "probe_recall_by_kind",
             "probe_auroc_frozen", "probe_auroc_refit")


def _same_behaviour(a: dict, b: dict):
    """The same choices and counts; float means within a last bit (see docs/scaling.md)."""
    assert set(a) == set(b)
    for k in a:
        if k in BEHAVIOUR:  # the same counts: a ratio of counts may differ in its last bit (how XLA divides),
            # a count that differs moves it by a whole decision (at least 1/80 here)
            np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-6, err_msg=k)
        else:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-6, atol=1e-7, err_msg=k)


TINY_FLAGS = ["--env", "plan_market", "--routing", "brainlike", *cli_flags(TINY)]


# --- the grid ---------------------------------------------------------------------------

def test_grid_is_a_product_with_readable_names(tiny_config):
    conditions = grid(tiny_config, {"reward.alpha": [0, 1, 2], "routing": ["brainlike", "end_to_end"]})
    assert len(conditions) == 6
    c = conditions["reward.alpha=2,routing=end_to_end"]
    assert c.reward.alpha == 2.0 and isinstance(c.reward.alpha, float) and c.routing == "end_to_end"
    assert c.run == tiny_config.run


def test_grid_zipped_axes_vary_together(tiny_config):
    conditions = grid(tiny_config, {"reward.alpha": [0.5]},
                            zipped={"env.b_prevalence": [0.0, 0.5], "env.b_overlap": [0.0, 0.9]})
    assert list(conditions) == ["reward.alpha=0.5,env.b_prevalence=0,env.b_overlap=0",
                                "reward.alpha=0.5,env.b_prevalence=0.5,env.b_overlap=0.9"]
    params = conditions[list(conditions)[1]].env_params
    assert (params.b_overlap, params.b_prevalence) == (0.9, 0.5)


def test_grid_parses_command_line_text(tiny_config):
    name, values = parse_axis("probe.coverage=A,A+B")
    conditions = grid(tiny_config, {name: values, "run.n_envs": ["4"]})
    assert [c.probe.coverage for c in conditions.values()] == [("A",), ("A", "B")]
    assert all(c.run.n_envs == 4 for c in conditions.values())


@pytest.mark.parametrize("axes, zipped, named", [
    ({}, None, "grid: no axes"),
    ({"reward.alfa": [1.0]}, None, "reward.alfa: unknown field; did you mean reward.alpha?"),
    ({"reward.alpha": []}, None, "reward.alpha: the grid axis has no values"),
    ({"reward.alpha": [1.0]}, {"env.noise": [0.1, 0.2], "env.b_overlap": [0.0]}, "env.b_overlap: zipped axes"),
    ({"reward.alpha": [-1.0]}, None, "reward.alpha: -1.0 is out of range"),
    ({"reward.alpha": [1, 1.0]}, None, "reward.alpha: the grid axis repeats a value"),
    ({"run.n_envs": ["many"]}, None, "run.n_envs: 'many' is not a valid int"),
    ({"reward.alpha": 1.0}, None, "reward.alpha: give a list of values"),
    ({"outcome.caught_min": [0.4, 0.5]}, None, "outcome.caught_min: a labelling threshold, not a config field"),
])
def test_malformed_grid_names_the_field(tiny_config, axes, zipped, named):
    with pytest.raises(ConfigError, match="^" + named.replace("?", r"\?").replace("(", r"\(")):
        grid(tiny_config, axes, zipped)


# --- one compilation per structure, sharing rows -----------------------------------------

def test_numeric_conditions_share_one_compilation_per_structure(tiny_config, tiny_population):
    """Four conditions, two structures: two compilations of each function, not four."""
    compiles = []

    def listen(event, duration, fun_name="", **_):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(fun_name)

    jax.monitoring.register_event_duration_secs_listener(listen)
    programs._PROGRAMS.clear()  # fresh jitted functions: every compilation shows up
    conditions = grid(tiny_config, {"routing": ["brainlike", "end_to_end"], "reward.alpha": [0.5, 1.0]})
    try:
        results = runner.run_conditions(conditions, 2, progress=False)
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    assert sorted(n for n in compiles if n in ("jit(init)", "jit(advance)")) == ["jit(advance)"] * 2 + ["jit(init)"] * 2
    # a seed's result does not depend on which conditions run beside it (rows 2, 3 of their group)
    logged, outcome = results["routing=brainlike,reward.alpha=1"]
    _same(logged, tiny_population[0], slice(0, 2))
    np.testing.assert_array_equal(outcome, tiny_population[1][:2])


def test_seed_i_is_the_same_whatever_the_population_size(tiny_config, tiny_population):
    logged, outcome = runner.run_conditions({"tiny": tiny_config}, 2 * TINY_SEEDS, progress=False)["tiny"]
    _same(tiny_population[0], logged, slice(0, TINY_SEEDS))
    np.testing.assert_array_equal(outcome[:TINY_SEEDS], tiny_population[1])


def test_one_seed_alone_gives_the_bits_it_gives_in_a_population(tiny_config, tiny_population):
    """A population of one is padded to two rows a device: XLA compiles a batch of one otherwise,
    and the last bit of a rate then differed from the same seed's in a population."""
    logged, outcome = runner.run_conditions({"tiny": tiny_config}, 1, progress=False)["tiny"]
    _same(logged, tiny_population[0], slice(0, 1))
    np.testing.assert_array_equal(outcome, tiny_population[1][:1])


# --- results, chunks, checkpoints and resume ---------------------------------------------

def test_sweep_writes_results_and_matches_the_population(tmp_path, tiny_config, tiny_population):
    out = tmp_path / "sweep"
    logged, outcome = runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, out=out, progress=False)["tiny"]
    _same(logged, tiny_population[0])
    folder = out / "tiny"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "manifest.json", "metrics.npz", "summary.json"]
    assert not list(out.glob("checkpoint*")), "finished groups leave no checkpoint"
    with np.load(folder / "metrics.npz", allow_pickle=False) as f:
        assert f["deception_rate"].shape == (TINY_SEEDS, tiny_config.run.n_logs)
        np.testing.assert_array_equal(f["outcome"], tiny_population[1])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["config"]["run"]["steps"] == TINY["run.steps"]
    assert {"jax", "numpy", "python"} <= set(manifest["versions"])
    assert manifest["devices"]["count"] == jax.device_count() and manifest["wall_s"] > 0
    assert json.loads((out / "sweep.json").read_text())["status"] == "complete"


def test_a_committed_result_without_its_metrics_trains_again_on_resume(tmp_path, tiny_config, tiny_population):
    """A clone holds an experiment's summaries and manifests but not its metrics.npz: rerunning the
    experiment trains those conditions again instead of failing on the missing file."""
    out = tmp_path / "sweep"
    runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, out=out, progress=False)
    (out / "tiny" / "metrics.npz").unlink()
    logged, outcome = runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, out=out, resume=True,
                                            progress=False)["tiny"]
    _same(logged, tiny_population[0])
    assert (out / "tiny" / "metrics.npz").exists()


def test_chunked_and_killed_then_resumed_runs_match_an_uninterrupted_one(tmp_path, tiny_config, tiny_population):
    n_logs = tiny_config.run.n_logs
    whole, _ = runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, progress=False, chunk_logs=n_logs)["tiny"]
    _same(whole, tiny_population[0])  # one chunk vs n_logs chunks of one point

    class Killed(Exception):
        pass

    def kill_after_7(p):
        if p.logs_done == 7:
            raise Killed

    out = tmp_path / "killed"
    with pytest.raises(Killed):
        runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, progress=kill_after_7, out=out)
    assert (out / "checkpoint-0.npz").exists() and not (out / "tiny" / "manifest.json").exists()
    assert checkpoint.read_meta(out / "checkpoint-0.npz")["done"] == 7
    with pytest.raises(ResultsError, match="already holds a sweep.*continue it with --resume"):
        runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, progress=False, out=out)
    seen = []
    logged, outcome = runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, progress=seen.append, out=out,
                                           resume=True)["tiny"]
    assert seen[0].logs_done == 7, "the resumed sweep starts from its checkpoint"
    _same(logged, tiny_population[0])
    np.testing.assert_array_equal(outcome, tiny_population[1])
    assert (out / "tiny" / "manifest.json").exists() and not (out / "checkpoint-0.npz").exists()
    # resuming a finished sweep reads its results back
    again = runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, progress=False, out=out, resume=True)["tiny"]
    _same(again[0], tiny_population[0])
    # labels are derived from the logged points: a label stored under an older rule is replaced
    arrays = read_npz(out / "tiny" / "metrics.npz")
    write_npz(out / "tiny" / "metrics.npz", arrays | {"outcome": (arrays["outcome"] + 1) % len(OUTCOMES)})
    again = runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, progress=False, out=out, resume=True)["tiny"]
    np.testing.assert_array_equal(again[1], tiny_population[1])
    np.testing.assert_array_equal(read_npz(out / "tiny" / "metrics.npz")["outcome"], tiny_population[1])
    # a different sweep in the same folder is refused
    with pytest.raises(ResultsError, match="same sweep"):
        runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS + 1, progress=False, out=out, resume=True)


def test_checkpoint_refuses_a_different_tree(tmp_path):
    tree = {"a": np.arange(3.0), "b": (np.zeros((2, 2), np.int32), np.ones(()))}
    path = tmp_path / "ckpt.npz"
    checkpoint.save(path, tree, {"done": 3})
    loaded, meta = checkpoint.load(path, tree)
    assert meta == {"done": 3}
    jax.tree.map(np.testing.assert_array_equal, loaded, tree)
    with pytest.raises(ResultsError, match="ckpt.npz: checkpoint holds a different state tree"):
        checkpoint.load(path, {"a": tree["a"], "c": tree["b"]})
    with pytest.raises(ResultsError, match=r"ckpt.npz: checkpoint array 0 is float64\[3\]"):
        checkpoint.load(path, {"a": np.arange(4.0), "b": tree["b"]})
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ResultsError, match="bad.npz: unreadable checkpoint"):
        checkpoint.load(tmp_path / "bad.npz", tree)


# --- devices -------------------------------------------------------------------------------

FOUR_DEVICES = r"""
import json, sys
import jax, numpy as np
from brainlike.config import Config, replace
from brainlike.run import runner
from brainlike.run.devices import default_block_rows
tiny = replace(Config(), **{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(sys.argv[1]).items()})
report = {"devices": jax.device_count()}
for name, n_seeds, block_rows in (("padded", 4, default_block_rows()), ("real", 16, 4)):
    rows = runner.Blocks(tiny, *runner.rows_of([tiny], n_seeds, 0), block_rows)
    seeds = rows.put(rows.rows(rows.keys, 0))  # the first block's seed keys, as the devices receive them
    key = rows.init()[0].key if name == "padded" else seeds  # the state init leaves: sharded as its keys
    shards = sorted(seeds.addressable_shards, key=lambda s: s.index[0].start)
    logged, outcome = runner.run_conditions({"tiny": tiny}, n_seeds, progress=False, block_rows=block_rows)["tiny"]
    np.savez(f"{sys.argv[2]}/{name}.npz", outcome=outcome, **logged)
    report[name] = {"spec": str(key.sharding.spec), "layout": [rows.block, rows.n_blocks],
                    "shards": sorted({tuple(s.data.shape) for s in key.addressable_shards}),
                    "shard_devices": len({s.device for s in shards}),
                    "seed_keys": [np.asarray(s.data).tolist() for s in shards]}
print(json.dumps(report))
"""


def test_four_devices_shard_rows_and_give_the_same_results(tmp_path, tiny_config, tiny_population):
    """Four CPU devices (one process): every seed's results equal a one-device run's, decisions
    exactly and floats to round-off, whether most devices compute padding or every one holds real seeds.

    Bug caught (``real``): sharding that computes a seed on another device's rows, mixes rows up when
    gathering them back, or gives a seed other results beside other seeds on another device; and a
    block layout that regresses to putting every seed on device 0, which the test asserts against by
    reading which seed keys each device received (16 seeds, ``block_rows`` 4: seeds 4d..4d+3 on
    device d, no padding). ``padded``: 4 seeds at the default ``block_rows``, each device given the
    4 rows one device would (the real ones on device 0, padding on the others): the same shapes, the
    same bits."""
    env = dict(os.environ, XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4",
               JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", FOUR_DEVICES, json.dumps(TINY), str(tmp_path)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["devices"] == 4
    keys = lambda n: np.asarray(seed_keys(0, np.arange(n))).tolist()  # noqa: E731
    padded = [keys(4)] + [[keys(4)[-1]] * 4] * 3  # device 0 the 4 seeds, the others the last row repeated
    real = np.asarray(keys(16)).reshape(4, 4, 2).tolist()  # device d: seeds 4d..4d+3
    assert report["padded"] == {"spec": "P('rows',)", "layout": [16, 1], "shards": [[4, 2]], "shard_devices": 4,
                                "seed_keys": padded}
    assert report["real"] == {"spec": "P('rows',)", "layout": [16, 1], "shards": [[4, 2]], "shard_devices": 4,
                              "seed_keys": real}
    one_device = {"padded": tiny_population, "real": runner.run_population(tiny_config, 16, 0, block_rows=4)}
    assert len(np.unique(one_device["real"][0]["wm_loss"][:, -1])) == 16  # every seed its own: a mix-up would show
    for name, (logged, outcome) in one_device.items():
        with np.load(tmp_path / f"{name}.npz") as f:
            arrays = dict(f)
        np.testing.assert_array_equal(arrays.pop("outcome"), outcome, err_msg=name)
        if name == "padded":
            _same_behaviour(arrays, logged)
            continue
        # 16 seeds: more values near 0, so float round-off as assert_reproduces allows it; a score minus its
        # threshold (logits of size ~5) carries their absolute round-off
        assert set(arrays) == set(logged)
        for k, v in logged.items():
            np.testing.assert_allclose(arrays[k], v, rtol=0 if k in BEHAVIOUR else 1e-5,
                                       atol=1e-5 if k == "probe_score_by_kind" else 1e-6, err_msg=k)


def test_fast_prng_gives_the_same_bits_as_the_rolled_loop():
    from jax._src.random import threefry2x32 as threefry

    from brainlike.core import fast_prng

    assert fast_prng.installed
    fast_prng.use(True)  # as a program that suits it is lowered (an earlier test may have lowered one that does not)
    key, count = jnp.array([12345, 678], jnp.uint32), jnp.arange(1000, dtype=jnp.uint32)
    fast = jax.jit(threefry.threefry_2x32)(key, count)
    rolled = jax.jit(lambda k, x: jnp.concatenate(threefry._threefry2x32_lowering(
        k[0], k[1], x[:500], x[500:], use_rolled_loops=True)))(key, count)
    np.testing.assert_array_equal(fast, rolled)


@pytest.mark.slow
def test_sampled_thoughts_in_an_environment_that_truncates_compile_in_minutes_not_hours(tmp_path):
    """With XLA's full optimisations (not the suite's fast-compile flags), the unrolled hash made
    this program compile for more than ten minutes; the runner lowers it with the rolled loop."""
    from brainlike.core import fast_prng
    from brainlike.config import Config, replace

    sampled = {"desires.thought_noise": 0.5, "desires.n_variants": 4}
    assert not fast_prng.suits(replace(Config(), env="vault_grid", **sampled))
    assert fast_prng.suits(replace(Config(), env="plan_market", **sampled))
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"BRAINLIKE_CACHE": str(tmp_path / "cache")}
    args = ["--env", "vault_grid", "--seeds", "2", "--steps", "128", "--beliefs.pretrain_updates", "2",
            "--probe.n_thoughts", "16", "--run.log_every", "2", *cli_flags(sampled), "--out", str(tmp_path / "run")]
    proc = subprocess.run([sys.executable, "-m", "brainlike", "run", *args], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


# --- the command line ----------------------------------------------------------------------

def test_cli_sweep_writes_every_condition(tmp_path, capsys, tiny_population):
    out = tmp_path / "cli"
    assert cli.main(["sweep", *TINY_FLAGS, "--grid", "reward.alpha=0.5,1", "--seeds", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "reward.alpha=0.5" in printed and "reward.alpha=1" in printed
    for name in ("reward.alpha=0.5", "reward.alpha=1"):
        assert (out / name / "manifest.json").exists() and (out / name / "summary.json").exists()
    with np.load(out / "reward.alpha=1" / "metrics.npz") as f:
        np.testing.assert_array_equal(f["deception_rate"], tiny_population[0]["deception_rate"][:2])


@pytest.mark.parametrize("args, named", [
    (["--grid", "reward.alfa=0,1"], "reward.alfa: unknown field"),
    (["--grid", "reward.alpha="], "reward.alpha: the grid axis has no values"),
    ([], "grid: no axes"),
    (["--zip", "env.noise=0.1,0.2", "--zip", "env.b_overlap=0"], "env.b_overlap: zipped axes must have equal"),
    (["--grid", "reward.alpha=1", "--seeds", "0"], "seeds: 0 is out of range"),
    (["--grid", "reward.alpha=1", "--out-is-a-file"], "out: cannot write to"),
    (["--grid", "outcome.caught_min=0.4,0.5"], "outcome.caught_min: a labelling threshold"),
    (["--grid", "reward.alpha=1", "--outcome.caught_min", "2"], "outcome.caught_min: 2.0 is out of range"),
])
def test_cli_malformed_sweep_fails_at_once_and_writes_nothing(tmp_path, capsys, args, named):
    out = tmp_path / "out"
    if "--out-is-a-file" in args:
        args = [a for a in args if a != "--out-is-a-file"]
        (tmp_path / "file").write_text("")
        out = tmp_path / "file" / "out"
    assert cli.main(["sweep", *TINY_FLAGS, *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"brainlike: error: {named}"), err
    assert not out.exists()


def test_bench_reports_its_numbers_and_no_verdicts_on_internal_targets():
    from brainlike.run import bench

    r = {"reference": "tiny", "backend": "cpu", "devices": 1, "cpu_cores": 2, "load_avg_at_start": 0.1,
         "compile_s": 42.0, "compile_warm_s": 30.0, "baseline_env_steps_per_s": 1e5,
         "env_steps_per_s": {"1": 1e5, "1024": 2.5e5, "4096": 1.1e5}, "peak_rss_gb": {"1": 0.5, "1024": 1.0, "4096": 9.0}}
    r["speedup"] = {k: v / 1e5 for k, v in r["env_steps_per_s"].items()}
    text = bench.table(r)
    assert "250,000" in text and "42.0 s" in text and "9.00" in text
    assert "target" not in text.lower() and " met" not in text.lower(), text
    assert not hasattr(bench, "TARGETS")
    # one row per population size: its throughput, speedup over the baseline and peak memory, in order
    rows = [line.split() for line in text.splitlines() if line.split()[:1] in (["1"], ["1024"], ["4096"])]
    assert rows == [["1", "100,000", "1.0", "0.50"], ["1024", "250,000", "2.5", "1.00"],
                    ["4096", "110,000", "1.1", "9.00"]], text


def test_bench_workers_run_a_module_that_exists(monkeypatch):
    """Each measurement runs ``python -m MODULE worker ...`` in a fresh process: MODULE must import."""
    import importlib.util
    import types

    from brainlike.run import bench

    seen = []
    monkeypatch.setattr(bench.subprocess, "run", lambda cmd, **kw: seen.append(cmd) or types.SimpleNamespace(
        returncode=0, stdout=json.dumps({"env_steps_per_s": 1.0}), stderr=""))
    bench._spawn("size", {"seeds": 1})
    module = seen[0][seen[0].index("-m") + 1]
    assert importlib.util.find_spec(module) is not None, module
    assert hasattr(importlib.import_module(module), "WORKERS")


@pytest.mark.slow
def test_bench_runs_end_to_end_at_a_tiny_scale():
    from brainlike.run import bench

    tiny = {"run.n_envs": 8, "run.log_every": 5, "run.steps": 400, "beliefs.pretrain_updates": 10,
            "probe.n_thoughts": 16}
    r = bench.run(sizes=(1, 2), min_time=0.2, baseline_seeds=1, overrides=tiny, log=lambda text: None)
    assert not r.get("errors"), r.get("errors")
    assert all(v > 0 for v in r["env_steps_per_s"].values()) and r["compile_s"] > 0
    assert "target" not in bench.table(r).lower()


def test_progress_through_a_pipe_is_plain_lines():
    import io

    from brainlike.run.progress import Progress, progress_bar

    out = io.StringIO()  # not a terminal, as when a log is redirected to a file
    show = progress_bar(out)
    for done in (0, 5, 10):
        show(Progress(0, 1, ("a",), 0, 1, done, 10, done * 100, 1000, 1.0 + done, None if done == 0 else 3.0))
    assert "\r" not in out.getvalue()
    assert out.getvalue().count("\n") == 3


def test_progress_names_the_phase_and_ends_with_every_condition_done(tiny_config):
    import io

    from brainlike.run.progress import progress_bar

    seen = []
    programs._PROGRAMS.clear()  # fresh jitted functions: the first of each compiles
    runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, progress=seen.append)
    phases = [p.phase for p in seen]
    assert phases[0] == "compiling, then pretraining and fitting the probe" and seen[0].logs_done == 0
    assert phases[1] == "compiling, then RL" and set(phases[2:-1]) == {"RL"} and phases[-1] == "RL done"
    out = io.StringIO()
    show = progress_bar(out)
    for p in (seen[0], seen[-1]):
        show(p)
    first, last = out.getvalue().splitlines()
    assert first.startswith("[0/1 conditions] tiny")
    assert first.endswith("compiling, then pretraining and fitting the probe")
    assert last.startswith("[1/1 conditions] tiny") and f"{seen[-1].steps_total}/{seen[-1].steps_total} steps" in last


def test_a_group_of_conditions_is_labelled_by_its_group_and_size():
    import io

    from brainlike.run.progress import Progress, progress_bar

    out = io.StringIO()
    progress_bar(out)(Progress(0, 2, ("reward.alpha=0,probe.coverage=A", "reward.alpha=1,probe.coverage=A"), 0, 4,
                               3, 10, 300, 1000, 5.0, 2.0, "RL"))
    assert out.getvalue().startswith("[0/4 conditions] group 1/2: 2 conditions [") and "+1" not in out.getvalue()


def test_a_grid_axis_written_with_a_space_gets_the_hint_to_use_equals(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["sweep", "--grid", "reward.alpha", "0,1", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(err) == 1 and "--grid reward.alpha=0,1" in err[0], err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 cut short", b"not an archive"])
def test_a_damaged_checkpoint_is_one_error_naming_it(tmp_path, content):
    path = tmp_path / "checkpoint-0.npz"
    path.write_bytes(content)
    with pytest.raises(ResultsError, match="checkpoint-0.npz: unreadable checkpoint"):
        checkpoint.read_meta(path)
