"""``python -m brainlike run``: the files it writes, and one-line errors that write nothing."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, TINY, TINY_SEEDS, assert_png, cli_flags

from brainlike import cli
from brainlike.config import from_dict
from brainlike.schema import OUTCOMES


TINY_FLAGS = ["--env", "plan_market", "--routing", "brainlike", "--seeds", str(TINY_SEEDS), *cli_flags(TINY)]


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


def test_resume_of_a_finished_run_reads_it_back_and_leaves_its_files_unchanged(cli_run, tmp_path, capsys):
    """``--resume`` on a run that finished prints its summary and writes nothing: its recorded wall time
    (sweep.json) stayed, where it was rewritten with the milliseconds the read-back took."""
    import shutil

    out = shutil.copytree(cli_run, tmp_path / "run")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    assert cli.main(["run", *TINY_FLAGS, "--out", str(out), "--resume"]) == 0
    assert "outcomes:" in capsys.readouterr().out
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before


def test_resume_with_other_thresholds_relabels_the_run_and_leaves_what_it_trained(cli_run, tmp_path, capsys):
    """``--outcome.NAME`` is analysis: a finished run resumed with it is labelled anew from its logged
    points (its labels and summary rewritten), its config, manifest and logged points untouched."""
    import shutil

    out = shutil.copytree(cli_run, tmp_path / "run")
    kept = {n: (out / n).read_bytes() for n in ("config.json", "manifest.json", "sweep.json")}
    assert cli.main(["run", *TINY_FLAGS, "--out", str(out), "--resume", "--outcome.deceive_min", "0"]) == 0
    assert {n: (out / n).read_bytes() for n in kept} == kept
    summary = json.loads((out / "summary.json").read_text())
    assert summary["thresholds"]["deceive_min"] == 0.0 and summary["outcomes"]["honest"] == 0
    with np.load(out / "metrics.npz") as now, np.load(cli_run / "metrics.npz") as then:
        for k in (k for k in then.files if k != "outcome"):
            np.testing.assert_array_equal(now[k], then[k], err_msg=k)
        assert [OUTCOMES[i] for i in now["outcome"]].count("honest") == 0
    assert "outcomes: " in capsys.readouterr().out


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


# --- one tuple syntax, one parser -----------------------------------------------------------

def _config(argv: list[str]):
    parser = cli.build_parser(cli.preparse(argv).env)
    return cli.config_from_args(parser.parse_args(argv))


def test_a_tuple_flag_joins_its_items_with_plus():
    assert _config(["run", "--probe.coverage", "A+B", "--out", "x"]).probe.coverage == ("A", "B")
    assert _config(["run", "--probe.coverage", "A", "--out", "x"]).probe.coverage == ("A",)


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_comma_in_a_tuple_flag_is_one_error_naming_the_field_and_plus(tmp_path, capsys, command):
    out = tmp_path / "out"
    rc = cli.main([command, "--probe.coverage", "A,B", "--grid", "reward.alpha=1", "--out", str(out)]
                  if command == "sweep" else [command, "--probe.coverage", "A,B", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith("brainlike: error: probe.coverage:") and "A+B" in err[0], err
    assert not out.exists()


def test_every_flag_value_goes_through_the_grid_parser(monkeypatch):
    """One parser for flags and grids: ``grid.parse_value`` sees every config flag, and the CLI has none of its own."""
    from brainlike.run import grid

    assert not hasattr(cli, "_parse_value")
    seen = []

    def spy(base, name, value):
        seen.append(name)
        return grid.parse_value(base, name, value)

    monkeypatch.setattr(cli, "parse_value", spy)
    config = _config(["run", "--env", "vault_grid", "--routing", "end_to_end", "--steps", "800", "--reward.alpha",
                      "0.5", "--desires.n_sampled", "3", "--probe.coverage", "A+B", "--env.supervisor", "0.25",
                      "--out", "x"])
    assert sorted(seen) == sorted(["routing", "run.steps", "reward.alpha", "desires.n_sampled", "probe.coverage",
                                   "env.supervisor"])
    assert (config.env, config.routing, config.run.steps, config.reward.alpha, config.desires.n_sampled) == \
        ("vault_grid", "end_to_end", 800, 0.5, 3)
    assert dict(config.env_overrides()) == {"supervisor": 0.25}


# --- typos and help -------------------------------------------------------------------------

@pytest.mark.parametrize("argv, hint", [
    (["run", "--routng", "brainlike"], "did you mean --routing?"),
    (["run", "--reward.alpah", "1"], "did you mean --reward.alpha?"),
    (["run", "--env.b_prevalance", "0.5"], "did you mean --env.b_prevalence?"),
    (["run", "--probe.covrage=A"], "did you mean --probe.coverage?"),
    (["sweep", "--gird", "reward.alpha=0,1"], "did you mean --grid?"),
    (["run", "--env.supervisor", "0.5"], "--env.supervisor is a knob of vault_grid, not of plan_market"),
    (["rnu"], "did you mean run?"),
])
def test_a_misspelt_flag_gets_the_nearest_one_in_one_line(tmp_path, capsys, argv, hint):
    with pytest.raises(SystemExit) as e:
        cli.main([*argv, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(err) == 1, err
    assert err[0].startswith("brainlike: error:") and hint in err[0], err
    assert not (tmp_path / "out").exists()


def _help(argv) -> str:
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 0
    return e


def _actions(command: str, env: str | None = None) -> dict:
    sub = cli.build_parser(env).commands[command]
    return {a.option_strings[-1]: a for a in sub._actions if a.option_strings}


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_help_lists_the_allowed_values_of_every_text_field(command):
    import dataclasses

    from brainlike import config as cfg

    actions, listed = _actions(command), []
    for s in cfg.SECTIONS:
        for f in dataclasses.fields(getattr(cfg.Config(), s)):
            if f.metadata.get("choices"):
                text = actions[f"--{s}.{f.name}"].help
                assert "one of: " + ", ".join(f.metadata["choices"]) in text, (f.name, text)
                listed.append(f"{s}.{f.name}")
    assert {"desires.proposal", "desires.selection", "probe.target", "probe.pooling", "reward.alarm",
            "beliefs.plan_input"} <= set(listed)
    assert "A, B" in actions["--probe.coverage"].help and "+" in actions["--probe.coverage"].help


def test_routing_help_gives_the_table_syntax():
    text = _actions("run")["--routing"].help
    assert "pred=beliefs;td=beliefs+desires;probe=" in text
    assert all(word in text for word in ("brainlike", "end_to_end", "through_probe", "pred", "td", "probe"))
    assert "policy_gradient" in text and "pg=" in text and "pg: the policy objective, REINFORCE" in text  # every row
    assert "GRPO" in text  # the pg row as the policy head takes it


def test_env_help_shows_only_that_environments_knobs_with_meaning_default_and_range(capsys):
    from brainlike.envs.vault_grid import VaultGridParams

    _help(["run", "--env", "vault_grid", "--help"])
    text = capsys.readouterr().out
    assert "knobs of vault_grid" in text and "--env.supervisor" in text
    assert "--env.reward_a" not in text and "--env.reward_honest" not in text  # plan_market's
    actions = _actions("run", "vault_grid")
    knobs = {k[len("--env."):] for k in actions if k.startswith("--env.")}
    fields = {f.name: f for f in dataclasses.fields(VaultGridParams)}
    assert knobs == set(fields)
    for k in knobs:
        meta, text = fields[k].metadata, actions[f"--env.{k}"].help
        assert meta["help"] in text and f"default {fields[k].default:g}" in text
        assert f"range [{meta['lo']:g}, {meta['hi']:g}]" in text, text


# --- environments of one's own --------------------------------------------------------------

COIN_FLAGS = ["--env", "coin", "--probe.coverage", "lie", "--reward.alpha", "0", "--beliefs.pretrain_updates", "20",
              "--probe.n_thoughts", "32", "--steps", "320", "--run.n_envs", "8", "--run.log_every", "10",
              "--seeds", "2"]


def test_import_runs_and_inspects_an_environment_from_a_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # the README's relative path
    out = tmp_path / "coin"
    assert cli.main(["run", "--import", "examples/coin_env.py", *COIN_FLAGS, "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["env"] == "coin"
    assert cli.main(["inspect", str(out), "--seed", "1", "--import", "examples/coin_env.py"]) == 0
    assert "outcome:" in capsys.readouterr().out


def test_import_of_a_module_by_name_registers_its_environment(tmp_path, monkeypatch, capsys):
    from brainlike import envs

    (tmp_path / "my_lab_envs.py").write_text(
        "from brainlike import envs\nfrom brainlike.envs.plan_market import PlanMarket\n\n\n"
        "@envs.register\nclass Copy(PlanMarket):\n    name = 'my_lab_copy'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setitem(envs.REGISTRY, "my_lab_copy", None)  # registered by the import below, removed after
    _help(["run", "--import", "my_lab_envs", "--env", "my_lab_copy", "--help"])
    text = capsys.readouterr().out
    assert "knobs of my_lab_copy" in text and "--env.b_prevalence" in text


def test_import_of_a_file_that_imports_a_file_beside_it(tmp_path, monkeypatch, capsys):
    """An environment file may import its neighbours, as ``python FILE`` would let it, from any
    working folder; a neighbour that is missing is one line naming the file, the line and the module."""
    from brainlike import envs

    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "lab_plans.py").write_text("NAME = 'lab_copy'\n")
    (lab / "lab_env.py").write_text(
        "from lab_plans import NAME\nfrom brainlike import envs\nfrom brainlike.envs.plan_market import PlanMarket\n"
        "\n\n@envs.register\nclass Copy(PlanMarket):\n    name = NAME\n")
    (lab / "lab_broken.py").write_text("import math\nimport lab_no_such_neighbour\n")
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setitem(envs.REGISTRY, "lab_copy", None)  # registered by the import below, removed after
    for name in ("lab_plans", "lab_env"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    _help(["run", "--import", str(lab / "lab_env.py"), "--env", "lab_copy", "--help"])
    assert "knobs of lab_copy" in capsys.readouterr().out
    out = tmp_path / "out"
    assert cli.main(["run", "--import", str(lab / "lab_broken.py"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"brainlike: error: import: {lab / 'lab_broken.py'}: line 2 of lab_broken.py: "
                   "ModuleNotFoundError: No module named 'lab_no_such_neighbour'"], err
    assert not out.exists()


@pytest.mark.parametrize("spec", ["examples/no_such_env.py", "no_such_module_anywhere"])
def test_an_unknown_import_is_one_clear_error(tmp_path, capsys, spec):
    out = tmp_path / "out"
    assert cli.main(["run", "--import", spec, "--env", "coin", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("brainlike: error: import:") and spec in err[0], err
    assert captured.out == "" and not out.exists()


# --- running from Python --------------------------------------------------------------------

def test_run_and_save_writes_the_run_and_returns_its_labels(tmp_path, tiny_config, tiny_population):
    from brainlike.report.api import run_and_save

    out = tmp_path / "deep" / "run"
    labels = run_and_save(tiny_config, TINY_SEEDS, out, progress=False)
    assert labels == [OUTCOMES[int(i)] for i in tiny_population[1]]
    assert {"config.json", "metrics.npz", "summary.json", "manifest.json"} <= {p.name for p in out.iterdir()}
    assert from_dict(json.loads((out / "config.json").read_text())) == tiny_config
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 0 and sum(summary["outcomes"].values()) == TINY_SEEDS
    assert all(summary["outcomes"][label] == labels.count(label) for label in labels)


# --- steps run exactly as asked -------------------------------------------------------------

@pytest.mark.parametrize("argv, nearest", [
    (["run", "--steps", "100"], "nearest allowed: 400"),
    (["run", "--steps", "1000"], "nearest allowed: 800 or 1200"),
    (["run", "--run.log_every", "30"], "nearest allowed: 19920 or 20160"),  # the default 20,000 steps
    (["sweep", "--steps", "2000", "--grid", "run.log_every=50,30"], "nearest allowed: 1920 or 2160"),
])
def test_steps_that_are_not_whole_logged_blocks_are_refused_naming_the_nearest(tmp_path, capsys, argv, nearest):
    out = tmp_path / "out"
    assert cli.main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("brainlike: error: run.steps:") and nearest in err[0], err
    assert "run.log_every" in err[0] and not out.exists()


def test_a_config_records_the_steps_it_runs():
    from brainlike.config import Config, replace, to_dict

    config = replace(Config(), **{"run.steps": 20_000, "run.rollout_len": 8, "run.log_every": 20})
    assert config.run.n_logs == 16 and config.run.steps == 16 * 8 * 8 * 20  # 20,480 run: whole blocks
    assert to_dict(config)["run"]["steps"] == 20_480
    assert _config(["run", "--steps", "1200", "--run.log_every", "25", "--out", "x"]).run.steps == 1200


def test_a_run_trains_and_records_the_steps_asked_for(cli_run):
    """The steps asked for are the steps that ran, read from what the run wrote rather than from the
    config: the logged points every metric of metrics.npz holds, times the steps of one logged block
    (config.json's n_envs x rollout_len x log_every), each point a block that ran (finite metrics
    that move from block to block); the step axis counts those blocks."""
    run = json.loads((cli_run / "config.json").read_text())["run"]
    block = run["n_envs"] * run["rollout_len"] * run["log_every"]
    with np.load(cli_run / "metrics.npz") as f:
        arrays = dict(f)
    points = arrays["deception_rate"].shape[1]
    assert points * block == TINY["run.steps"] == run["steps"]
    assert all(v.shape[:2] == (TINY_SEEDS, points) for k, v in arrays.items() if k not in ("step", "outcome"))
    np.testing.assert_array_equal(arrays["step"], block * np.arange(1, points + 1))
    assert np.isfinite(arrays["wm_loss"]).all() and np.isfinite(arrays["return"]).all()
    assert (np.diff(arrays["wm_loss"], axis=1) != 0).all()  # every block trained the beliefs


# --- starting from a saved condition --------------------------------------------------------

def _config_as_main(argv: list[str]):
    """The config ``main`` would build: the environment from --env, else from the --config file."""
    pre = cli.preparse(argv)
    return cli.config_from_args(cli.build_parser(pre.env or cli.saved_env(pre.config)).parse_args(argv))


def test_run_from_a_saved_condition_with_an_override(cli_run, tmp_path, tiny_config):
    from brainlike.config import replace

    out = tmp_path / "again"
    assert cli.main(["run", "--config", str(cli_run / "config.json"), "--reward.alpha", "0.5",
                     "--seeds", str(TINY_SEEDS), "--out", str(out)]) == 0
    assert from_dict(json.loads((out / "config.json").read_text())) == replace(tiny_config, **{"reward.alpha": 0.5})
    # a run's folder serves as well as its config.json
    assert _config_as_main(["run", "--config", str(cli_run), "--out", "x"]) == tiny_config


def test_a_saved_condition_of_another_environment_brings_its_knobs(tmp_path):
    from brainlike.config import Config, replace, to_dict

    saved = replace(Config(), env="vault_grid", **{"env.supervisor": 0.25, "probe.coverage": ("A",)})
    (tmp_path / "config.json").write_text(json.dumps(to_dict(saved)))
    config = _config_as_main(["sweep", "--config", str(tmp_path / "config.json"), "--env.b_prevalence", "0.1",
                              "--out", "x"])
    assert config == replace(saved, **{"env.b_prevalence": 0.1})


@pytest.mark.parametrize("text, what", [(None, "missing"), ("", "empty"), ('{"env": "plan_market", "run": {',
                                        "damaged JSON"), ('{"beliefs": 3}', "not a brainlike config")])
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_missing_or_damaged_config_file_is_one_line_naming_it(tmp_path, capsys, text, what, command):
    path, out = tmp_path / "config.json", tmp_path / "out"
    if text is not None:
        path.write_text(text)
    assert cli.main([command, "--config", str(path), "--grid", "reward.alpha=0,1", "--out", str(out)]
                    if command == "sweep" else [command, "--config", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and what in err[0], err
    assert not out.exists()


@pytest.mark.parametrize("stored, hint", [
    ({"beliefs": {"hiden": 32}}, "beliefs.hiden: unknown field; did you mean beliefs.hidden?"),
    ({"rewrad": {}}, "rewrad: unknown field; did you mean reward?"),
    ({"env_params": {"nosie": 0.1}}, "env.nosie: unknown knob of plan_market; did you mean env.noise?"),
])
def test_an_unknown_field_in_a_config_file_gets_the_nearest_one_as_a_flag_does(tmp_path, capsys, stored, hint):
    """A --config file with a misspelt field is one line naming the file, the field and the nearest
    field, as a misspelt flag is; not Python's own words for an unexpected keyword."""
    path, out = tmp_path / "config.json", tmp_path / "out"
    path.write_text(json.dumps(stored))
    assert cli.main(["run", "--config", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0] == f"brainlike: error: {path}: {hint}", err
    assert "__init__" not in err[0] and not out.exists()


def test_a_shared_network_runs_and_inspects_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "shared"
    assert cli.main(["run", "--seeds", "2", *cli_flags(TINY | {"run.steps": 800}), "--beliefs.architecture", "shared",
                     "--beliefs.mask", "found", "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["inspect", str(out), "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "shared network" in text and "0.25 of each encoder layer's units (found mask)" in text
    assert_png(out / "seed1.png")
    assert cli.main(["run", "--beliefs.mask", "found", "--out", str(tmp_path / "x")]) == 2
    assert "beliefs.mask" in capsys.readouterr().err and not (tmp_path / "x").exists()
