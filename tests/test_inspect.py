"""``brainlike inspect``: any committed seed's story (trained again on request), and an episode to see."""

import json
import shlex

import numpy as np
import pytest
from conftest import TINY_SEEDS

from brainlike import cli
from brainlike.report.experiment import Result, per_seed
from brainlike.report.story import story
from brainlike.schema import OUTCOMES
from brainlike.store import results as res


@pytest.fixture
def committed(tmp_path, tiny_config, tiny_population):
    """An experiment's folder as a clone holds it: a condition's config and summary, no metrics, and
    the experiment's summary with each seed's final values (``per_seed``)."""
    logged, outcome = tiny_population
    folder = tmp_path / "results" / "tiny_exp" / "cond"
    folder.mkdir(parents=True)
    res.write_run(folder, tiny_config, logged, outcome, seed=0)
    (folder / "metrics.npz").unlink()
    blocks = {"cond": {"per_seed": per_seed(Result(tiny_config, logged, outcome))}}
    res.write_json(folder.parent / "summary.json", {"name": "tiny_exp", "conditions": blocks})
    return folder


def test_an_uncommitted_seed_is_refused_with_the_exact_command_that_trains_it(committed, capsys):
    """Without --train, one line: why the seed is not there, and the command to run; nothing written."""
    before = sorted(p.name for p in committed.iterdir())
    assert cli.main(["inspect", str(committed.parent), "--condition", "cond", "--seed", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    command = shlex.join(["brainlike", "inspect", str(committed.parent), "--condition", "cond", "--seed", "2",
                          "--train"])
    assert len(err) == 1 and err[0].endswith(f"so train it again (one seed: 2,000 RL steps) with: {command}"), err
    assert f"seed 2 of {committed} is not on disk" in err[0]
    assert sorted(p.name for p in committed.iterdir()) == before


def test_inspect_trains_an_uncommitted_seed_again_equal_to_it_in_a_larger_population(
        committed, capsys, tiny_config, tiny_population):
    """``--train``: seed 2 trained alone from the committed config.json gives the story of seed 2 of
    the 4-seed population, bit for bit; it says so, shows progress, and keeps the curves, so that
    the next inspect reads them without training."""
    assert cli.main(["inspect", str(committed.parent), "--condition", "cond", "--seed", "2", "--train"]) == 0
    captured = capsys.readouterr()
    logged, outcome = tiny_population
    label = OUTCOMES[int(outcome[2])]
    assert f"training seed 2 of {committed} again from its config.json" in captured.err
    assert "[1/1 conditions] seed 2 of cond" in captured.err and "RL done" in captured.err
    assert f"as committed: {label}" in captured.err
    with np.load(committed / "seed2.npz") as f:
        kept = dict(f)
    assert int(kept.pop("outcome")) == outcome[2]
    np.testing.assert_array_equal(kept.pop("step"), res.logged_steps(tiny_config))
    assert set(kept) == set(logged)
    for k, v in kept.items():
        np.testing.assert_array_equal(v, logged[k][2], err_msg=k)
    one = {k: v[2] for k, v in logged.items()}
    told = story(tiny_config, one, res.logged_steps(tiny_config), label)
    assert captured.out.startswith(told + "\n")
    assert cli.main(["inspect", str(committed.parent), "--condition", "cond", "--seed", "2"]) == 0
    again = capsys.readouterr()
    assert again.out == captured.out and "training" not in again.err


def test_a_seed_outside_the_committed_population_is_refused(committed, capsys):
    assert cli.main(["inspect", str(committed), "--seed", str(TINY_SEEDS), "--train"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"brainlike: error: seed: {TINY_SEEDS} is out of range; {committed} has seeds 0..{TINY_SEEDS - 1}"]


def test_the_committed_seeds_of_the_readme_are_still_told_from_their_files(tmp_path, capsys):
    """The seed files committed for the README's stories still serve without training."""
    from conftest import ROOT

    folder = ROOT / "results" / "loop_closure"
    assert cli.main(["inspect", str(folder), "--condition", "brainlike-noB-alpha0.3-rl_lr0.003", "--seed", "0",
                     "--out", str(tmp_path / "story.png")]) == 0
    assert "outcome: evades_by_shift" in capsys.readouterr().out
