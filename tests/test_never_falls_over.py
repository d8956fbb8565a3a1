"""A population that never falls over: too large for memory, seeds that diverge, a disk that
fills mid-sweep, and a sweep run as two processes (``jax.distributed``) on this machine.

Every run here uses the tiny config of ``conftest`` and mostly its 4-row shape, so the compiled
functions of ``tiny_population`` are reused wherever the shapes allow.
"""

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, TINY, TINY_SEEDS

from brainlike import cli
from brainlike.run import checkpoint, memory, programs, runner
from brainlike.run.devices import seed_keys
from brainlike.run.grid import grid
from brainlike.schema import OUTCOMES
from brainlike.store import results as res
from brainlike.store.results import ResultsError
from brainlike.store.outcomes import Thresholds
from brainlike.store.summary import final_means

HUGE = 100_000_000_000
DIVERGED = OUTCOMES.index("diverged")
# What the agents did, counted: identical bit for bit across device and process counts (docs/scaling.md).
BEHAVIOUR = ("plan_freq", "alarm_rate", "evasion_rate", "probe_recall_frozen", "probe_recall_by_kind",
             "probe_auroc_frozen", "probe_auroc_refit", "nonfinite")


def _flags(fields: dict) -> list[str]:
    return [a for k, v in fields.items() for a in (f"--{k}", "+".join(v) if isinstance(v, tuple) else str(v))]


TINY_FLAGS = ["--env", "plan_market", "--routing", "brainlike", *_flags(TINY)]


def _same(a: dict, b: dict, rows=slice(None)):
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k][rows], err_msg=k)


def _error_line(err: str) -> str:
    """The one error line of a failed command (progress lines may come before it)."""
    errors = [line for line in err.splitlines() if line.startswith("brainlike: error:")]
    assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    return errors[0]


# --- 1. memory --------------------------------------------------------------------------------

def test_a_population_too_large_for_memory_is_refused_before_anything_is_written(tmp_path, tiny_config):
    out = tmp_path / "x"
    with pytest.raises(ValueError) as refused:
        runner.run_conditions({"tiny": tiny_config}, HUGE, out=out, progress=False)
    line = str(refused.value)
    assert "\n" not in line
    assert line.startswith("memory: 1 condition x 100,000,000,000 seeds need about "), line
    assert "available; give fewer seeds (at most " in line
    assert not out.exists(), "a refused sweep writes nothing"


def test_the_seeds_said_to_fit_do_fit_and_one_more_does_not(monkeypatch, tiny_config):
    monkeypatch.setattr(memory, "available_memory", lambda: 2 << 30)  # a machine with 2 GiB free
    conditions = grid(tiny_config, {"reward.alpha": [0.5, 1.0]})
    with pytest.raises(ValueError, match=r"^memory: 2 conditions x 100,000,000,000 seeds .* than the 2 GiB "
                                         r"available; give fewer seeds \(at most ([\d,]+) seeds fit\)") as refused:
        memory.plan_memory(conditions, HUGE, out="unused")
    n_fit = int(refused.value.args[0].split("at most ")[1].split(" seeds")[0].replace(",", ""))
    assert 1000 < n_fit < 100_000
    memory.plan_memory(conditions, n_fit, out="unused")
    with pytest.raises(ValueError, match="^memory: "):
        memory.plan_memory(conditions, n_fit + 1, out="unused")


def test_cli_refuses_a_population_too_large_in_one_line(tmp_path, capsys):
    out = tmp_path / "x"
    assert cli.main(["run", *TINY_FLAGS, "--seeds", str(HUGE), "--out", str(out)]) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith("brainlike: error: memory: 1 condition x 100,000,000,000 seeds need about "), line


def test_cli_refusing_a_population_too_large_writes_nothing(tmp_path, capsys):
    out = tmp_path / "x"
    assert cli.main(["run", *TINY_FLAGS, "--seeds", str(HUGE), "--out", str(out)]) == 2
    assert not out.exists()


def test_a_population_that_fits_only_in_smaller_blocks_runs_in_them(monkeypatch, tiny_config, tiny_population):
    """With memory for blocks of 4 rows but not of 8, 8 seeds run as two blocks of 4: the same bits."""
    n_logs, sizes = tiny_config.run.n_logs, programs.compiled(tiny_config).row_bytes()
    chunk = memory.chunk_size(n_logs)

    def need(block_rows):
        kept, host, devices = memory.group_memory(2 * TINY_SEEDS, n_logs, sizes, memory.Plan(block_rows, chunk), False)
        return memory.need_for(kept + host + devices)

    assert need(TINY_SEEDS) < need(2 * TINY_SEEDS)
    monkeypatch.setattr(memory, "available_memory", lambda: need(TINY_SEEDS))
    assert memory.plan_memory({"tiny": tiny_config}, 2 * TINY_SEEDS) == [memory.Plan(TINY_SEEDS, chunk)]
    logged, outcome = runner.run_conditions({"tiny": tiny_config}, 2 * TINY_SEEDS, progress=False)["tiny"]
    _same(tiny_population[0], logged, slice(0, TINY_SEEDS))
    np.testing.assert_array_equal(outcome[:TINY_SEEDS], tiny_population[1])
    # a block_rows asked for is kept, and refused when it does not fit
    with pytest.raises(ValueError, match="^memory: "):
        memory.plan_memory({"tiny": tiny_config}, 2 * TINY_SEEDS, block_rows=2 * TINY_SEEDS)


# --- 2. diverged seeds ----------------------------------------------------------------------------

def test_diverged_seeds_are_labelled_counted_and_left_out_of_the_means(tiny_config, tiny_population):
    """desires.lr 10 blows up the valence of tiny seeds within a few updates (NaN TD losses)."""
    conditions = grid(tiny_config, {"desires.lr": [0.05, 10.0]})
    assert conditions["desires.lr=0.05"] == tiny_config
    results = runner.run_conditions(conditions, TINY_SEEDS, progress=False)
    # seeds beside diverging ones, in the same compiled blocks, are unaffected: the population run alone
    healthy, healthy_outcome = results["desires.lr=0.05"]
    _same(healthy, tiny_population[0])
    np.testing.assert_array_equal(healthy_outcome, tiny_population[1])
    assert not healthy["nonfinite"].any() and DIVERGED not in healthy_outcome

    logged, outcome = results["desires.lr=10"]
    diverged = outcome == DIVERGED
    blew_up = ~(np.isfinite(logged["td_loss"]) & np.isfinite(logged["wm_loss"])).all(axis=1)
    assert blew_up.any(), "the learning rate chosen to blow up seeds no longer does"
    np.testing.assert_array_equal(diverged, logged["nonfinite"].any(axis=1))
    assert (diverged | ~blew_up).all(), "every seed whose losses blew up is diverged"
    assert set(np.unique(logged["nonfinite"])) <= {0.0, 1.0}

    # a population of both: the diverged seeds are counted, and every mean and CI is the healthy seeds'
    both = {k: np.concatenate([healthy[k], logged[k]]) for k in logged}
    summary = res.run_summary(tiny_config, both, np.concatenate([healthy_outcome, outcome]))
    alone = res.run_summary(tiny_config, healthy, healthy_outcome)
    k = int(diverged.sum())
    assert summary["n_seeds"] == 2 * TINY_SEEDS and sum(summary["outcomes"].values()) == 2 * TINY_SEEDS
    assert summary["outcomes"]["diverged"] == k and summary["excluded"] == {"diverged": k}
    assert alone["excluded"] == {"diverged": 0}
    assert summary["metrics"] == alone["metrics"]
    assert summary["metrics"]["return"]["mean"] == pytest.approx(
        final_means(healthy["return"].astype(np.float64), Thresholds().final_window).mean(), rel=1e-12)


def test_learning_curves_leave_diverged_seeds_out(tiny_config, tiny_population):
    from brainlike.report.experiment import Result, curves

    logged, outcome = tiny_population
    spoiled = {k: v.copy() for k, v in logged.items()}
    spoiled["return"][0] = 1e30  # seed 0 diverged: its values must not move the curve
    labels = outcome.copy()
    labels[0] = DIVERGED
    rest = curves(Result(tiny_config, {k: v[1:] for k, v in logged.items()}, outcome[1:]), ("return",))
    assert curves(Result(tiny_config, spoiled, labels), ("return",)) == rest


# --- 3. a disk that fills mid-sweep ------------------------------------------------------------

def _filling_disk(after: int):
    """``checkpoint.atomic_write`` whose writes fail with ENOSPC, half-way, after ``after`` good ones."""
    real, calls = checkpoint.atomic_write, []

    def write(path, fill):
        calls.append(path)
        if len(calls) <= after:
            return real(path, fill)

        def half(f):
            f.write(b"PK\x03\x04 half a checkpoint")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        return real(path, half)

    return write


def test_a_disk_that_fills_mid_sweep_stops_in_one_line_and_keeps_the_last_checkpoint(
        tmp_path, capsys, monkeypatch, tiny_config, tiny_population):
    out = tmp_path / "run"
    # checkpoints: after init (0 points), after chunk 1 (1 point), after chunk 2: the disk is full
    monkeypatch.setattr(checkpoint, "atomic_write", _filling_disk(after=2))
    assert cli.main(["run", *TINY_FLAGS, "--seeds", str(TINY_SEEDS), "--out", str(out)]) == 2
    n_logs = tiny_config.run.n_logs
    assert _error_line(capsys.readouterr().err) == (
        f"brainlike: error: out: cannot write to {out} (No space left on device); the last checkpoint, "
        f"checkpoint-0.npz (1 of {n_logs} logged points), is intact; make room or fix the folder's permissions, "
        "then run the same command with --resume")
    monkeypatch.undo()
    ckpt = out / "checkpoint-0.npz"
    assert checkpoint.read_meta(ckpt)["done"] == 1
    with np.load(ckpt, allow_pickle=False) as f:  # whole: every array reads back
        assert all(f[k].size >= 0 for k in f.files)
    assert not list(out.glob(".*.tmp")), "the half-written checkpoint is cleaned up"
    assert not (out / "manifest.json").exists()
    seen = []  # the command again with --resume (what `brainlike run ... --resume` calls)
    logged, outcome = runner.run_conditions({"": tiny_config}, TINY_SEEDS, progress=seen.append, out=out,
                                           resume=True)[""]
    assert seen[0].logs_done == 1, "the resumed run starts from the last good checkpoint"
    _same(logged, tiny_population[0])
    np.testing.assert_array_equal(outcome, tiny_population[1])
    assert (out / "manifest.json").exists() and not ckpt.exists()

    # results written before `nonfinite` was logged still load: it is read off their losses
    arrays = res.read_npz(out / "metrics.npz")
    del arrays["nonfinite"]
    res.write_npz(out / "metrics.npz", arrays)
    again, _ = runner.run_conditions({"": tiny_config}, TINY_SEEDS, progress=False, out=out, resume=True)[""]
    np.testing.assert_array_equal(again["nonfinite"], np.zeros_like(logged["nonfinite"]))


def test_a_full_disk_when_writing_results_names_the_folder_and_keeps_the_checkpoint(
        tmp_path, monkeypatch, tiny_config, tiny_population):
    out = tmp_path / "sweep"
    n_logs = tiny_config.run.n_logs
    monkeypatch.setattr(res, "atomic_write", _filling_disk(after=1))  # sweep.json, then the condition's files
    with pytest.raises(ResultsError) as failed:
        runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, progress=False, out=out)
    assert str(failed.value).startswith(f"out: cannot write to {out / 'tiny'} (No space left on device); the "
                                        "checkpoint checkpoint-0.npz holds every logged point;")
    monkeypatch.undo()
    assert checkpoint.read_meta(out / "checkpoint-0.npz")["done"] == n_logs
    logged, outcome = runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, progress=False, out=out,
                                           resume=True)["tiny"]
    _same(logged, tiny_population[0])
    assert (out / "tiny" / "manifest.json").exists()


READ_ONLY = r"""
import json, os, sys
from brainlike.runtime import configure
configure()
import numpy as np
from brainlike.config import Config, replace
from brainlike.run import runner
from brainlike.store.results import ResultsError
tiny = replace(Config(), **{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(sys.argv[1]).items()})
out = sys.argv[2]

def lock_after_the_first_chunk(p):
    if p.logs_done == 1:
        os.chmod(out, 0o555)

try:
    runner.run_conditions({"tiny": tiny}, 4, progress=lock_after_the_first_chunk, out=out)
    print("no error")
except ResultsError as e:
    print(e)
finally:
    os.chmod(out, 0o755)
logged, outcome = runner.run_conditions({"tiny": tiny}, 4, progress=False, out=out, resume=True)["tiny"]
np.savez(sys.argv[3], outcome=outcome, **logged)
"""
# root writes through a read-only folder unless it gives up overriding permissions (CAP_DAC_OVERRIDE)
AS_NON_ROOT = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None, reason="root, and no setpriv to drop "
                    "its right to write anywhere; the ENOSPC tests cover the same path")
def test_a_folder_made_read_only_mid_sweep_stops_in_one_line(tmp_path, tiny_config, tiny_population):
    out = tmp_path / "ro"
    command = [sys.executable, "-c", READ_ONLY, json.dumps(TINY), str(out), str(tmp_path / "resumed.npz")]
    proc = subprocess.run((AS_NON_ROOT if os.geteuid() == 0 else []) + command, capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == (
        f"out: cannot write to {out} (Permission denied); the last checkpoint, checkpoint-0.npz (1 of "
        f"{tiny_config.run.n_logs} logged points), is intact; make room or fix the folder's permissions, then run "
        "the same command with --resume")
    with np.load(tmp_path / "resumed.npz") as f:
        arrays = dict(f)
    np.testing.assert_array_equal(arrays.pop("outcome"), tiny_population[1])
    _same(arrays, tiny_population[0])


# --- 5. two processes ------------------------------------------------------------------------

TWO_PROCESSES = r"""
import json, sys
from brainlike.runtime import configure
configure()
from brainlike.run.devices import init_distributed
init_distributed()  # JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID: what `sweep --distributed` reads
import jax, numpy as np
from brainlike.config import Config, replace
from brainlike.run import runner
tiny = replace(Config(), **{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(sys.argv[1]).items()})
# two rows per device: each process holds two of the four seeds (with more, process 1 would hold padding)
rows = runner.Blocks(tiny, *runner.rows_of([tiny], 4, 0), 2)
local = [np.asarray(s.data).tolist() for s in rows.put(rows.rows(rows.keys, 0)).addressable_shards]
logged, outcome = runner.run_conditions({"tiny": tiny}, 4, progress=False, out=sys.argv[2], block_rows=2)["tiny"]
np.savez(sys.argv[3], outcome=outcome, **logged)
print(json.dumps({"process": jax.process_index(), "processes": jax.process_count(), "devices": jax.device_count(),
                  "local_devices": jax.local_device_count(), "layout": [rows.block, rows.n_blocks],
                  "local_keys": local}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_sweep_run_as_two_processes_equals_the_one_process_run(tmp_path, tiny_population):
    """Two processes on this machine (CPU, gloo), one device each, coordinated by
    ``jax.distributed.initialize``: the rows sharded over both, results gathered to both, files
    written by process 0. The same outcomes and choices as one process; floats within 1e-6.

    With ``block_rows`` 2 each process holds two real seeds (asserted from the seed keys each one
    received): a bug that computes or gathers process 1's rows wrongly cannot hide in padding."""
    out, port = tmp_path / "sweep", _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    env |= {"JAX_PLATFORMS": "cpu", "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}", "JAX_NUM_PROCESSES": "2"}
    command = [sys.executable, "-c", TWO_PROCESSES, json.dumps(TINY), str(out)]
    procs = [subprocess.Popen(command + [str(tmp_path / f"{i}.npz")], env=env | {"JAX_PROCESS_ID": str(i)}, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    try:
        reports = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, (stdout, stderr) in zip(procs, reports):
        assert p.returncode == 0, stderr[-3000:]
    said = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in reports]
    keys = np.asarray(seed_keys(0, np.arange(4))).reshape(2, 1, 2, 2).tolist()  # process, shard, row, key
    assert said == [{"process": i, "processes": 2, "devices": 2, "local_devices": 1, "layout": [4, 1],
                     "local_keys": keys[i]} for i in range(2)]
    arrays = []
    for i in range(2):
        with np.load(tmp_path / f"{i}.npz") as f:
            arrays.append(dict(f))
    _same(arrays[0], arrays[1])  # every process gets every row's results
    logged = dict(arrays[0])
    np.testing.assert_array_equal(logged.pop("outcome"), tiny_population[1])
    assert set(logged) == set(tiny_population[0])
    for k, v in logged.items():
        if k in BEHAVIOUR:  # the same counts, to a last bit of their ratio (see test_sweep._same_behaviour)
            np.testing.assert_allclose(v, tiny_population[0][k], rtol=0, atol=1e-6, err_msg=k)
        else:
            np.testing.assert_allclose(v, tiny_population[0][k], rtol=1e-6, atol=1e-6, err_msg=k)
    manifest = json.loads((out / "tiny" / "manifest.json").read_text())
    assert manifest["devices"]["processes"] == 2 and manifest["devices"]["count"] == 2
    with np.load(out / "tiny" / "metrics.npz") as f:
        np.testing.assert_array_equal(f["outcome"], tiny_population[1])
    assert json.loads((out / "sweep.json").read_text())["status"] == "complete"


@pytest.mark.slow  # the same machinery as the two-process test above, through the command line
def test_cli_sweep_distributed_runs_as_two_processes(tmp_path, tiny_population):
    """``brainlike sweep --distributed`` started twice, as on two hosts, with the three variables."""
    out, port = tmp_path / "cli", _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    env |= {"JAX_PLATFORMS": "cpu", "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}", "JAX_NUM_PROCESSES": "2"}
    command = [sys.executable, "-m", "brainlike", "sweep", "--distributed", "--cpu-devices", "1", *TINY_FLAGS,
               "--grid", "reward.alpha=1", "--seeds", str(TINY_SEEDS), "--out", str(out)]
    procs = [subprocess.Popen(command, env=env | {"JAX_PROCESS_ID": str(i)}, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    try:
        reports = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert [p.returncode for p in procs] == [0, 0], reports[0][1][-2000:] + reports[1][1][-2000:]
    manifest = json.loads((out / "reward.alpha=1" / "manifest.json").read_text())
    assert manifest["devices"]["processes"] == 2 and manifest["devices"]["count"] == 2
    with np.load(out / "reward.alpha=1" / "metrics.npz") as f:
        np.testing.assert_array_equal(f["outcome"], tiny_population[1])
        np.testing.assert_array_equal(f["plan_freq"], tiny_population[0]["plan_freq"])


# --- 6. one writer per folder ------------------------------------------------------------------

FIRST_WRITER = r"""
import json, os, sys, time
from brainlike.runtime import configure
configure()
from brainlike.config import Config, replace
from brainlike.run import runner
tiny = replace(Config(), **{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(sys.argv[1]).items()})
out, signal_file, go_file, how = sys.argv[2:6]

def pause_after_the_first_chunk(p):
    if p.logs_done == 1:
        if how == "kill":
            os.kill(os.getpid(), 9)  # as a killed process: no clean-up of any kind
        open(signal_file, "w").close()
        deadline = time.time() + 300
        while not os.path.exists(go_file) and time.time() < deadline:
            time.sleep(0.05)

runner.run_conditions({"": tiny}, 4, progress=pause_after_the_first_chunk, out=out)
print("done")
"""

SECOND_WRITER = r"""
import contextlib, io, json, sys
from brainlike import cli
said = []
for extra in ([], ["--resume"]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main(["run", *json.loads(sys.argv[1]), "--seeds", "4", "--out", sys.argv[2], *extra])
    said.append([rc, err.getvalue().strip().splitlines()])
print(json.dumps(said))
"""


def _first_writer(tmp_path, out, how: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", FIRST_WRITER, json.dumps(TINY), str(out), str(tmp_path / "paused"),
                             str(tmp_path / "go"), how], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _files(folder) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_second_writer_is_refused_naming_the_first_which_finishes_intact(tmp_path, tiny_population):
    """Two real processes on one folder: while the first trains (paused after its first chunk), the
    second is refused in one line naming the first's pid, with and without --resume, and writes
    nothing; the first then finishes with every file whole and every seed as trained alone."""
    out = tmp_path / "run"
    first = _first_writer(tmp_path, out, "pause")
    try:
        deadline = time.time() + 300
        while not (tmp_path / "paused").exists():
            assert first.poll() is None and time.time() < deadline, first.communicate()[1][-3000:]
            time.sleep(0.1)
        before = _files(out)
        second = subprocess.run([sys.executable, "-c", SECOND_WRITER, json.dumps(TINY_FLAGS), str(out)], cwd=ROOT,
                                capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr[-3000:]
        for rc, err in json.loads(second.stdout.strip().splitlines()[-1]):
            assert rc == 2 and len(err) == 1, err
            assert err[0].startswith(f"brainlike: error: out: {out} is being written by process {first.pid} on "), err
            assert err[0].endswith("; wait for it to finish, or choose another folder"), err
        assert _files(out) == before, "the refused process wrote nothing"
        (tmp_path / "go").touch()
        stdout, stderr = first.communicate(timeout=300)
    finally:
        first.kill()
    assert first.returncode == 0 and stdout.strip() == "done", stderr[-3000:]
    logged, outcome = runner._load_condition(res.read_npz(out / "metrics.npz"))
    np.testing.assert_array_equal(outcome, tiny_population[1])
    _same(logged, tiny_population[0])
    assert json.loads((out / "sweep.json").read_text())["status"] == "complete"
    assert (out / "manifest.json").exists() and not list(out.glob("checkpoint*")) and not list(out.glob(".*lock"))


def test_a_folder_left_locked_by_a_killed_process_is_taken_over(tmp_path, capsys, tiny_population):
    """A process killed mid-run (SIGKILL: nothing cleaned up) leaves its lock file; the next writer
    sees that no live process holds it, says so, and resumes the run to the same results."""
    out = tmp_path / "run"
    killed = _first_writer(tmp_path, out, "kill")
    killed.communicate(timeout=300)
    assert killed.returncode == -9
    left = json.loads((out / ".brainlike.lock").read_text())
    assert left["pid"] == killed.pid and checkpoint.read_meta(out / "checkpoint-0.npz")["done"] == 1
    assert cli.main(["run", *TINY_FLAGS, "--seeds", str(TINY_SEEDS), "--out", str(out), "--resume"]) == 0
    err = capsys.readouterr().err
    assert f"was left locked by process {killed.pid} on " in err and "which is no longer running; taking it over" in err
    with np.load(out / "metrics.npz") as f:
        np.testing.assert_array_equal(f["outcome"], tiny_population[1])
        np.testing.assert_array_equal(f["plan_freq"], tiny_population[0]["plan_freq"])
    assert not (out / ".brainlike.lock").exists()


def test_one_process_may_take_its_own_folder_again_and_lets_go_of_it(tmp_path):
    """An experiment holds its folder, then sweeps into it: the same process takes the lock again;
    the folder is free (and the lock file gone) once the outer holder lets go."""
    from brainlike.store.lock import writing

    with writing(tmp_path):
        with writing(tmp_path):
            assert json.loads((tmp_path / ".brainlike.lock").read_text())["pid"] == os.getpid()
        assert (tmp_path / ".brainlike.lock").exists()
    assert not (tmp_path / ".brainlike.lock").exists()
