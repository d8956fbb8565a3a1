"""Watching training where researchers watch: TensorBoard and W&B curves as blocks arrive.

TensorBoard is read back from its event files, W&B from its offline run file; each skips where
its optional extra is not installed. What every place is given (the per-block means and
intervals, the runs' names and configs) is checked without either.
"""

import contextlib
import io
import json
import struct
import sys

import numpy as np
import pytest
from conftest import TINY, TINY_SEEDS, cli_flags

from brainlike import cli
from brainlike.config import to_dict
from brainlike.report.watch import Watch, points
from brainlike.run import runner
from brainlike.store.results import logged_steps, read_npz
from brainlike.store.stats import band

TINY_FLAGS = ["--env", "plan_market", "--routing", "brainlike", *cli_flags(TINY)]


class Recorder:
    """A place that keeps what it is given."""

    def __init__(self):
        self.opened, self.logged, self.calls = {}, {}, []

    def open(self, run, group, config):
        self.opened[run] = (group, config)
        self.logged[run] = []

    def log(self, run, step, values):
        self.logged[run].append((step, values))

    def close(self):
        self.calls.append("close")


def _expected(logged: dict, metric: str, kind: int | None = None):
    x = np.asarray(logged[metric], np.float64)
    return band(x if kind is None else x[..., kind])


def test_each_block_arrives_as_its_mean_and_interval_over_seeds_chunk_by_chunk(tiny_config, tiny_population):
    """A condition's every logged block reaches the place once, in order, as its chunk arrives: the
    steps, each metric's mean and 95% band over seeds (as the learning curves draw them), by kind too."""
    place, seen = Recorder(), []
    watch = Watch([place], "sweep", seed=0)

    def progress(p):
        seen.append(len(place.logged.get("sweep/tiny", [])))

    n_logs = tiny_config.run.n_logs
    with watch:
        runner.run_conditions({"tiny": tiny_config}, TINY_SEEDS, progress=progress, chunk_logs=5, watch=watch)
    assert place.calls == ["close"]
    assert seen == [0, 0] + list(range(5, n_logs + 1, 5)), "each chunk is logged as it arrives"
    group, config = place.opened["sweep/tiny"]
    assert group == "sweep" and config["condition"] == "sweep/tiny" and config["n_seeds"] == TINY_SEEDS
    assert config["reward"] == to_dict(tiny_config)["reward"]
    steps, values = zip(*place.logged["sweep/tiny"])
    assert list(steps) == logged_steps(tiny_config).tolist()
    logged = tiny_population[0]
    for tag, (metric, kind) in {"deception_rate": ("deception_rate", None), "plan_freq/B": ("plan_freq", 2),
                                "probe_recall_frozen": ("probe_recall_frozen", None)}.items():
        mean, lo, hi = _expected(logged, metric, kind)
        for key, want in (("mean", mean), ("ci95_lo", lo), ("ci95_hi", hi)):
            np.testing.assert_allclose([v[f"{tag}/{key}"] for v in values], want, rtol=1e-12, err_msg=tag)
    assert all(v["seeds"] == TINY_SEEDS for v in values) and "nonfinite/mean" not in values[0]


def test_a_diverged_seed_leaves_the_curves_from_then_on():
    """The interval is over the seeds that have not diverged so far."""
    from brainlike.config import Config

    config = Config()
    n = config.run.n_logs
    logged = {"return": np.ones((3, n)), "nonfinite": np.zeros((3, n))}
    logged["return"][2] = 100.0
    logged["nonfinite"][2, 1] = 1.0
    shown = points(config, logged, 0)
    assert shown[0][1]["seeds"] == 2 and shown[0][1]["return/mean"] == 1.0


def test_an_experiments_runs_are_named_as_its_result_folders(tmp_path, tiny_config):
    """``run_experiment(..., watch=...)``: one run per condition, ``<experiment>/<condition>``, as
    ``results/<experiment>/<condition>`` holds it."""
    from brainlike.config import replace
    from brainlike.report.experiment import Experiment, run_experiment

    conditions = {f"alpha{a:g}": replace(tiny_config, **{"reward.alpha": a}) for a in (0.5, 1.0)}
    exp = Experiment("watched", "two tiny conditions", lambda quick: conditions, (), lambda summary, path: None)
    place = Recorder()
    with Watch([place], exp.name) as watch:
        run_experiment(exp, False, tmp_path / "results", tmp_path / "figures", seeds=2, progress=False, watch=watch)
    assert sorted(place.opened) == ["watched/alpha0.5", "watched/alpha1"]
    assert all((tmp_path / "results" / run).is_dir() for run in place.opened)
    assert all(len(v) == tiny_config.run.n_logs for v in place.logged.values())


# --- without the extra -------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["run", "sweep", "experiments"])
@pytest.mark.parametrize("place", ["tensorboard", "wandb"])
def test_the_flag_without_its_extra_fails_at_once_in_one_line(tmp_path, monkeypatch, capsys, command, place):
    """As if the extra were not installed: one line naming what to install, nothing trained or written."""
    from experiments.__main__ import main as experiments

    monkeypatch.setitem(sys.modules, place, None)  # `import tensorboard` now raises ImportError
    out = tmp_path / "out"
    spec = f"{place}:{tmp_path / 'logs'}" if place == "tensorboard" else f"{place}:brainlike-test"
    if command == "experiments":
        rc = experiments(["loop_closure", "--log", spec, "--results", str(out), "--figures", str(tmp_path / "f")])
    else:
        grid = ["--grid", "reward.alpha=0.5,1"] if command == "sweep" else []
        rc = cli.main([command, *TINY_FLAGS, *grid, "--log", spec, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert f"log: {spec} needs the {place} package" in err[0] and f"pip install 'brainlike[{place}]'" in err[0], err
    assert not out.exists() and not (tmp_path / "logs").exists()


def test_an_unknown_place_is_one_line_naming_the_allowed_ones(tmp_path, capsys):
    assert cli.main(["run", "--log", "mlflow:x", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["brainlike: error: log: 'mlflow:x' is not a place to log to; allowed: tensorboard:DIR, "
                   "wandb:PROJECT"], err


# --- TensorBoard, read back ------------------------------------------------------------------

def _events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    return events


def test_tensorboard_event_files_hold_the_logged_scalars_and_the_config(tmp_path, capsys, tiny_population):
    """``brainlike run --log tensorboard:DIR``: DIR/<run folder> holds each block's mean and interval,
    the config as hparams and text, and the layout that draws each mean in its interval."""
    pytest.importorskip("tensorboard")
    out, logs = tmp_path / "demo", tmp_path / "tb"
    assert cli.main(["run", *TINY_FLAGS, "--seeds", str(TINY_SEEDS), "--log", f"tensorboard:{logs}",
                     "--out", str(out)]) == 0
    events = _events(logs / "demo")
    arrays = read_npz(out / "metrics.npz")
    for tag, metric in (("deception_rate", "deception_rate"), ("return", "return")):
        mean, lo, hi = band(np.asarray(arrays[metric], np.float64))
        for key, want in (("mean", mean), ("ci95_lo", lo), ("ci95_hi", hi)):
            scalars = events.Scalars(f"{tag}/{key}")
            assert [s.step for s in scalars] == arrays["step"].tolist()
            np.testing.assert_allclose([s.value for s in scalars], want, rtol=1e-6, atol=1e-7, err_msg=tag)
    config = json.loads(events.Tensors("config")[0].tensor_proto.string_val[0].decode().strip("`\n"))
    assert config["reward"] == json.loads((out / "config.json").read_text())["reward"]
    hparams = events.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
    assert b"reward.alpha" in hparams and b"probe.coverage" in hparams
    assert "custom_scalars__config__" in events.Tags()["tensors"]


def test_tensorboard_runs_of_a_sweep_are_named_as_its_condition_folders(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    out, logs = tmp_path / "sweep", tmp_path / "tb"
    assert cli.main(["sweep", *TINY_FLAGS, "--grid", "reward.alpha=0.5,1", "--seeds", "2", "--log",
                     f"tensorboard:{logs}", "--out", str(out)]) == 0
    for condition in ("reward.alpha=0.5", "reward.alpha=1"):
        assert (out / condition / "summary.json").exists()
        steps = [s.step for s in _events(logs / "sweep" / condition).Scalars("deception_rate/mean")]
        assert steps == read_npz(out / condition / "metrics.npz")["step"].tolist()


# --- W&B, offline, read back -----------------------------------------------------------------

def _wandb_records(path):
    """Every record of a W&B run file (a LevelDB-style log of 32 KiB blocks after a 7-byte header)."""
    from wandb.proto import wandb_internal_pb2

    data, records, chunks = path.read_bytes(), [], b""
    assert data[:4] == b":W&B"
    pos, block = 7, 32768
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a header is padding
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        chunks += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a whole record, or the last piece of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunks)
            records.append(record)
            chunks = b""
        elif kind == 0:
            break
    return records


def test_wandb_offline_run_holds_the_config_and_the_curves(tmp_path, monkeypatch, tiny_population):
    """``brainlike run --log wandb:PROJECT`` with W&B offline: one run named as the run folder, its
    config the condition's, its history each block's mean and interval at its step."""
    pytest.importorskip("wandb")
    for name, value in {"WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true"}.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "demo"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["run", *TINY_FLAGS, "--seeds", str(TINY_SEEDS), "--log", "wandb:brainlike-test",
                         "--out", str(out)]) == 0
    (run_file,) = (tmp_path / "wandb").glob("offline-run-*/run-*.wandb")
    records = _wandb_records(run_file)
    run = next(r.run for r in records if r.WhichOneof("record_type") == "run")
    assert run.display_name == "demo" and run.project == "brainlike-test"
    config = {item.key: json.loads(item.value_json) for r in records if r.WhichOneof("record_type") in ("run", "config")
              for item in (r.run.config if r.WhichOneof("record_type") == "run" else r.config).update}
    stored = json.loads((out / "config.json").read_text())
    assert config["routing"] == "brainlike" and config["reward"] == stored["reward"] and config["n_seeds"] == TINY_SEEDS
    history = [{(item.key or "/".join(item.nested_key)): json.loads(item.value_json) for item in r.history.item}
               for r in records if r.WhichOneof("record_type") == "history"]
    arrays = read_npz(out / "metrics.npz")
    assert [h["_step"] for h in history] == arrays["step"].tolist()
    mean, lo, hi = band(np.asarray(arrays["deception_rate"], np.float64))
    np.testing.assert_allclose([h["deception_rate/mean"] for h in history], mean, rtol=1e-6)
    np.testing.assert_allclose([h["deception_rate/ci95_hi"] for h in history], hi, rtol=1e-6)
