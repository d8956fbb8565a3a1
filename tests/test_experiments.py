"""Each experiment runs end to end at a tiny scale; verdicts are computed from the data."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import assert_png

from brainlike.config import Config, replace
from brainlike.report.experiment import Result, run_experiment
from brainlike.schema import OUTCOMES
from experiments import (attention, channels, comparator_controls, discovered_routing, drift_control, hill_climb,
                         loop_closure, monitor_transfer, oversight, phase_diagram, placebo, pooling, preexisting_b,
                         probe_refresh, robustness, tpr_cliff)

TINY = {"run.steps": 480, "run.log_every": 10, "probe.n_thoughts": 32}


def tiny(config: Config) -> Config:
    """A condition at a tiny scale; pretraining, and the step the alarm enters the reward at, shrink in
    proportion, so conditions stay distinct."""
    alarm_from = config.reward.alarm_from * TINY["run.steps"] // config.run.steps
    return replace(config, **TINY, **{"beliefs.pretrain_updates": max(1, config.beliefs.pretrain_updates // 15),
                                      "reward.alarm_from": alarm_from})


# those compiling many structures (about 75 s each from a cold cache), and four more of about 20 s warm, run in
# `make test-all`: every hypothesis's verdict is checked on synthetic data in the default suite (test_verdicts)
SLOW = [pytest.param(m, marks=pytest.mark.slow) for m in (hill_climb, pooling, phase_diagram, comparator_controls,
                                                            discovered_routing, channels, drift_control, oversight,
                                                            placebo, probe_refresh, robustness, attention,
                                                            monitor_transfer)]


@pytest.mark.parametrize("module", [loop_closure, preexisting_b, tpr_cliff] + SLOW)
def test_experiment_writes_summary_and_figure(module, tmp_path):
    exp = module.EXPERIMENT
    summary = run_experiment(exp, True, tmp_path / "results", tmp_path / "figures", seeds=3,
                             adjust=tiny, progress=False)
    on_disk = json.loads((tmp_path / "results" / exp.name / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(summary))
    assert set(on_disk["conditions"]) == set(exp.conditions(True))
    for block in on_disk["conditions"].values():
        assert block["n_seeds"] == 3 and sum(block["outcomes"].values()) == 3
        lo, hi = block["metrics"]["deception_rate"]["ci95"]
        assert lo <= block["metrics"]["deception_rate"]["mean"] <= hi
        assert len(block["curves"]["step"]) == len(block["curves"]["deception_rate"]["mean"])
    assert len(on_disk["hypotheses"]) == len(exp.hypotheses)
    assert all(h["verdict"] in ("supported", "contradicted", "inconclusive") for h in on_disk["hypotheses"])
    # a reading quotes the full grid's conditions (test_readme checks it on the committed summaries), so only an
    # experiment whose quick grid is its full grid is read here; a tiny run may leave a statistic without data
    if set(exp.conditions(True)) == set(exp.conditions(False)) and all(h["mean"] is not None
                                                                        for h in on_disk["hypotheses"]):
        text = exp.reading(on_disk)
        assert all(f"**{h['verdict']}**" in text for h in on_disk["hypotheses"])
    png = tmp_path / "figures" / f"{exp.name}.png"
    assert_png(png)
    condition = next(iter(on_disk["conditions"]))
    assert (tmp_path / "results" / exp.name / condition / "metrics.npz").exists()


def synthetic(config: Config, n_seeds: int, label: str = "honest", **final) -> Result:
    """A condition whose every logged point holds the given values (defaults: a faithful probe)."""
    values = {"deception_rate": 0.0, "evasion_rate": 0.0, "probe_recall_frozen": 1.0,
              "probe_auroc_frozen": 1.0, "probe_auroc_refit": 1.0} | final
    rng = np.random.default_rng(0)
    logged = {k: np.clip(v + 0.01 * rng.standard_normal((n_seeds, 10)), 0, 1) for k, v in values.items()}
    return Result(config, logged, np.full(n_seeds, OUTCOMES.index(label)))


def test_killed_experiment_resumes_to_the_same_summary(tmp_path):
    """Killed after its first chunk, run again: the summary equals an uninterrupted run's."""
    exp = drift_control.EXPERIMENT

    class Killed(Exception):
        pass

    def kill_after_first_chunk(p):
        if p.logs_done > 0:
            raise Killed

    with pytest.raises(Killed):
        run_experiment(exp, True, tmp_path / "a", tmp_path / "fa", seeds=2, adjust=tiny, progress=kill_after_first_chunk)
    assert list((tmp_path / "a" / exp.name).glob("checkpoint-*.npz"))
    resumed = run_experiment(exp, True, tmp_path / "a", tmp_path / "fa", seeds=2, adjust=tiny, progress=False)
    whole = run_experiment(exp, True, tmp_path / "b", tmp_path / "fb", seeds=2, adjust=tiny, progress=False)
    no_wall = lambda blocks: {n: {k: v for k, v in b.items() if k != "wall_s"} for n, b in blocks.items()}  # noqa: E731
    assert no_wall(resumed["conditions"]) == no_wall(whole["conditions"])
    assert resumed["hypotheses"] == whole["hypotheses"]


def test_every_committed_figure_redraws_from_committed_files_alone(tmp_path):
    """``make redraw`` needs nothing git ignores: each summary draws its figure, and the inspect
    example's seed is told from its own small file, without the run's metrics.npz."""
    import shutil
    import subprocess

    from brainlike.report.experiment import draw
    from brainlike.report.story import inspect
    from brainlike.store.results import read_json
    from conftest import ROOT
    from experiments.__main__ import NAMES, load

    tracked = subprocess.run(["git", "ls-files", "results"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    for path in tracked:  # a clone holds exactly these
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    committed = [name for name in NAMES if (tmp_path / "results" / name / "summary.json").exists()]
    assert {"loop_closure", "preexisting_b", "drift_control", "tpr_cliff"} <= set(committed)
    for name in committed:
        png = draw(load(name), read_json(tmp_path / "results" / name / "summary.json"), tmp_path / "figures")
        assert_png(png)
    # every seed story `make redraw` tells (the Makefile's INSPECT* lines), from its own small file
    stories = re.findall(r"^INSPECT\w* := inspect \$\(word 1,\$\(OUT_DIRS\)\)/(\S+) --condition (\S+) --seed (\d+)$",
                         (ROOT / "Makefile").read_text(), re.M)
    assert len(stories) >= 2
    for experiment, condition, seed in stories:
        text, png = inspect(tmp_path / "results" / experiment, condition, int(seed),
                            tmp_path / "figures" / f"inspect_{experiment}.png")
        assert "outcome:" in text
        assert_png(png)


def test_solid_anchor_points_are_the_ones_the_tpr_cliff_docstring_cites():
    doc = " ".join(tpr_cliff.__doc__.split())
    for tpr, rate in tpr_cliff.SOLID_GRPO:
        assert f"about {round(100 * rate)}% at TPR {tpr:g}" in doc, (tpr, rate)
    assert f"DPO stays below {round(100 * tpr_cliff.SOLID_DPO_CEILING)}%" in doc
    assert "arXiv:2505.13787" in doc


def test_atlas_anchor_is_the_one_the_phase_diagram_docstring_cites():
    doc = " ".join(phase_diagram.__doc__.split())
    alpha, beta = phase_diagram.ATLAS_PUBLISHED_HONEST
    assert f"honest at alpha >= {alpha:g} with beta = {beta:.0e}".replace("e-0", "e-") in doc
    assert f"deceptive at beta = {phase_diagram.ATLAS_PUBLISHED_DECEPTIVE_BETA:.0e}".replace("e-0", "e-") in doc
    assert "arXiv:2602.15515" in doc


def test_a_hypothesis_on_a_condition_the_grid_left_out_is_inconclusive():
    """A quick grid may leave out a condition the full grid's hypotheses read: no verdict, p 1. A
    statistic that fails on a condition the grid has still raises."""
    from brainlike.report.experiment import Hypothesis, mean_of
    results = {"a": synthetic(Config(), 4)}
    h = Hypothesis("q", "m", mean_of("b", "deception_rate"), "below", 0.5).evaluate(results)
    assert h["verdict"] == "inconclusive" and h["mean"] is None and h["p"] == 1.0
    with pytest.raises(KeyError):
        Hypothesis("q", "m", lambda r: r["a"].logged["no_such_metric"], "below", 0.5).evaluate(results)


def test_a_run_prints_a_hypothesis_without_data():
    from experiments.__main__ import describe
    from brainlike.report.experiment import Hypothesis, mean_of
    h = Hypothesis("q?", "m", mean_of("b", "deception_rate"), "below", 0.5).evaluate({"a": synthetic(Config(), 4)})
    assert "no data in this grid" in describe(h) and "inconclusive" in describe(h)
    h = Hypothesis("q?", "m", mean_of("a", "deception_rate"), "below", 0.5).evaluate({"a": synthetic(Config(), 4)})
    assert "supported" in describe(h) and "(predicted below 0.5)" in describe(h)


# --- labels are analysis: thresholds relabel stored runs, never make them stale --------------

def test_other_thresholds_relabel_the_stored_runs_and_train_nothing(tmp_path, tiny_config):
    """An experiment declared again with other thresholds keeps its stored run (``forget_stale``
    clears nothing, nothing trains, its config, manifest and logged points stay as they were) and
    labels its seeds anew from the logged points."""
    import dataclasses

    from conftest import TINY_SEEDS

    from brainlike.report.experiment import Experiment
    from brainlike.store import outcomes
    from brainlike.store.results import read_npz

    def run(thresholds, progress=False):
        exp = Experiment("relabel", "labels are analysis", lambda quick: {"tiny": tiny_config}, (),
                         lambda summary, path: None, thresholds=thresholds)
        return run_experiment(exp, True, tmp_path / "results", tmp_path / "figures", seeds=TINY_SEEDS,
                              progress=progress)

    first = run(outcomes.Thresholds())
    out = tmp_path / "results" / "relabel"
    kept = {p: p.read_bytes() for p in (out / "sweep.json", out / "tiny" / "config.json", out / "tiny" / "manifest.json")}
    logged = {k: v for k, v in read_npz(out / "tiny" / "metrics.npz").items() if k != "outcome"}
    other, trained = outcomes.Thresholds(deceive_min=0.0), []  # no bar for deceiving: no seed is honest
    second = run(other, trained.append)
    assert trained == [], "a stored run is relabelled, not trained again"
    assert {p: p.read_bytes() for p in kept} == kept
    stored = read_npz(out / "tiny" / "metrics.npz")
    for k, v in logged.items():
        np.testing.assert_array_equal(stored[k], v, err_msg=k)
    labels = [OUTCOMES[i] for i in outcomes.label(tiny_config, logged, other)]
    block = second["conditions"]["tiny"]
    assert block["per_seed"]["outcome"] == labels != first["conditions"]["tiny"]["per_seed"]["outcome"]
    assert "honest" not in labels and [OUTCOMES[i] for i in stored["outcome"]] == labels
    assert block["thresholds"] == dataclasses.asdict(other) == json.loads((out / "tiny" / "summary.json").read_text())[
        "thresholds"]


def test_a_sweep_stored_with_labelling_thresholds_is_not_stale(tmp_path):
    """Conditions stored while configs held their labelling thresholds (``outcome``) are the same
    conditions: ``forget_stale`` clears none of them."""
    from brainlike.config import to_dict
    from brainlike.report.experiment import forget_stale
    from brainlike.store.results import write_json

    config = replace(Config(), **TINY)
    stored = to_dict(config) | {"outcome": {"final_window": 0.2, "caught_min": 0.9}}
    write_json(tmp_path / "sweep.json", {"conditions": {"a": stored}, "n_seeds": 3})
    (tmp_path / "a").mkdir()
    write_json(tmp_path / "a" / "manifest.json", {"config": stored})
    forget_stale(tmp_path, {"a": config}, 3)
    assert (tmp_path / "a" / "manifest.json").exists()
    assert json.loads((tmp_path / "sweep.json").read_text())["conditions"] == {"a": json.loads(json.dumps(to_dict(config)))}


def test_jobs_share_the_experiments_by_compiled_structures():
    from brainlike.run.grid import group_by_structure
    from experiments.__main__ import NAMES, load, shares

    split = shares(NAMES, 2, True)
    assert sorted(n for share in split for n in share) == sorted(NAMES)
    cost = {n: len(group_by_structure(load(n).conditions(True))) for n in NAMES}
    loads = [sum(cost[n] for n in share) for share in split]
    assert max(loads) - min(loads) <= max(cost.values())
    assert shares(NAMES[:1], 4, True) == [[NAMES[0]]]  # never an idle process


def test_a_parallel_run_gives_each_process_its_share_and_every_option(monkeypatch):
    """``--jobs 2``: two ``python -m experiments`` children, each with its share of the names and the
    same options, and the worst exit status."""
    import experiments.__main__ as cli

    started = []

    class Child:
        def __init__(self, argv, env):
            started.append(argv)
            self.rc = len(started) - 1  # the second child fails

        def wait(self):
            return self.rc

    monkeypatch.setattr(cli.subprocess, "Popen", Child)
    names = ["loop_closure", "placebo", "tpr_cliff"]
    rc = cli.main([*names, "--quick", "--jobs", "2", "--seeds", "3", "--results", "r", "--figures", "f",
                   "--log", "tensorboard:tb"])
    assert rc == 1 and len(started) == 2
    assert sorted(n for argv in started for n in argv[3:] if n in names) == sorted(names)
    for argv in started:
        assert argv[1:3] == ["-m", "experiments"]
        assert argv[-9:] == ["--quick", "--seeds", "3", "--results", "r", "--figures", "f", "--log", "tensorboard:tb"]
    with pytest.raises(SystemExit):
        cli.main(["placebo", "--jobs", "0"])
