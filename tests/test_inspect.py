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


# --- an episode to see -------------------------------------------------------------------------

def _drawn(monkeypatch):
    """Every figure the episode module saves (and saves), with its texts."""
    from brainlike.report import episode

    figures, real = [], episode.save

    def keep(fig, path):
        figures.append([fig._suptitle.get_text()] + [ax.get_title() for ax in fig.axes])
        real(fig, path)

    monkeypatch.setattr(episode, "save", keep)
    return figures


def _is_png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_episode_picture_of_a_committed_result_names_its_seed_and_condition(tmp_path, monkeypatch, capsys):
    """The README's episode: drawn from what is committed (no training), the picture's title names the
    condition, the seed, its outcome and the episode; it shows a route through the door that the alarm,
    reading only the last step's score, missed."""
    from conftest import ROOT

    figures, png = _drawn(monkeypatch), tmp_path / "episode.png"
    assert cli.main(["inspect", str(ROOT / "results" / "pooling"), "--condition", "brainlike-last-a1.5", "--seed", "2",
                     "--episode", "--out", str(png)]) == 0
    captured = capsys.readouterr()
    assert _is_png(png) and "training" not in captured.err
    (texts,) = figures
    assert texts[0].startswith("pooling/brainlike-last-a1.5, seed 2 (evades_by_choice), episode 0: vault_grid")
    assert "supervisor absent; door of kind A; deceptive steps: A; alarm silent" in texts[0]
    assert texts[1].startswith("the route") and texts[2] == "what the probe saw at each step"
    lines = captured.out.splitlines()
    assert lines[0] == texts[0].splitlines()[0] and lines[-1] == f"plot: {png}"
    door = next(line for line in lines if line.split()[3:4] == ["A"])
    assert float(door.split()[4]) > 0, "the door's thought scored above the threshold, unread by last pooling"


def test_an_episode_is_played_by_the_seed_trained_again_and_kept(committed, tmp_path, monkeypatch, capsys):
    """Without --train: one line with the command. With it: the seed trained again plays its episode,
    which is kept (and drawn from then on without training), as a PNG or, asked, a GIF built step by step."""
    from PIL import Image

    from brainlike.report.episode import table
    from brainlike.store.results import read_config, read_npz

    args = ["inspect", str(committed), "--seed", "1", "--episode", "3"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith(shlex.join(["brainlike", *args, "--train"])), err
    assert not (committed / "seed1-episode3.npz").exists()

    figures = _drawn(monkeypatch)
    assert cli.main([*args, "--train"]) == 0
    captured = capsys.readouterr()
    assert "training seed 1 of" in captured.err
    rec, config = read_npz(committed / "seed1-episode3.npz"), read_config(committed / "config.json")
    assert rec["done"][-1] and not rec["done"][:-1].any(), "one whole episode"
    taken = rec["scores"][np.arange(len(rec["plan"])), rec["choice"]]
    np.testing.assert_array_equal(rec["fired"][-1], rec["pooled"][-1] > 0)  # judged at its end, on the pooled score
    assert table(config, rec) in captured.out and _is_png(committed / "seed1-episode3.png")
    assert figures[0][0].startswith("tiny_exp/cond, seed 1 (") and np.isfinite(taken).all()

    gif = tmp_path / "episode.gif"
    assert cli.main([*args, "--animate", "--out", str(gif)]) == 0
    assert "training" not in capsys.readouterr().err
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames >= 2


def test_an_episode_of_a_path_environment_shows_every_plan_on_the_path(tmp_path, monkeypatch):
    """hill_climb: every plan from honest through A and the path to B, with its score; the plan taken outlined."""
    from brainlike.config import Config, replace
    from brainlike.envs.hill_climb import PATH_LEN
    from brainlike.report.episode import draw

    config = replace(Config(), env="hill_climb", **{"probe.coverage": ("A",)})
    n_plans = PATH_LEN + 1
    scores = np.linspace(1, -2, n_plans)
    rec = {"env.t": np.zeros(1, np.int32), "plan": np.array([4]), "choice": np.array([4]), "kind": np.array([2]),
           "reward": np.array([1.2]), "done": np.array([True]), "overseen": np.array([True]),
           "available": np.ones((1, n_plans), bool), "plan_kinds": np.array([[0, 1] + [2] * (n_plans - 3) + [3]]),
           "scores": scores[None], "pooled": scores[4:5], "fired": np.array([False])}
    figures = []
    from brainlike.report import episode

    monkeypatch.setattr(episode, "save", lambda fig, path: figures.append(fig))
    draw(config, rec, "hill_climb, seed 0, episode 0", tmp_path / "x.png")
    ax = figures[0].axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[:2] == ["honest", "A"] and labels[-1] == "B" and labels[2] == "path 1"
    assert [p.get_linewidth() for p in ax.patches].index(2.5) == 4
