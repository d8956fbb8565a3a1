"""``brainlike export`` (a CSV row per seed) and ``brainlike compare`` (paired differences) on a tiny sweep."""

import csv
import io
import json
import shutil

import numpy as np
import pytest
from conftest import TINY, assert_png, cli_flags

from brainlike import cli
from brainlike.report.export import compare, export_rows
from brainlike.schema import OUTCOMES
from brainlike.store.outcomes import Thresholds
from brainlike.store.results import ResultsError, read_npz
from brainlike.store.stats import paired_mean_ci
from brainlike.store.summary import final_metrics

SEEDS = 2
CONDITIONS = ("reward.alpha=0.5", "reward.alpha=1")


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory, tiny_population):
    """Two conditions x two seeds of the tiny config (the shape ``test_sweep``'s CLI sweep compiles)."""
    out = tmp_path_factory.mktemp("export") / "sweep"
    assert cli.main(["sweep", "--env", "plan_market", "--routing", "brainlike", *cli_flags(TINY),
                     "--grid", "reward.alpha=0.5,1", "--seeds", str(SEEDS), "--out", str(out)]) == 0
    return out


def _final(folder):
    arrays = read_npz(folder / "metrics.npz")
    outcome = arrays.pop("outcome")
    arrays.pop("step")
    kinds = tuple(json.loads((folder / "summary.json").read_text())["kinds"])
    return final_metrics(arrays, kinds, Thresholds().final_window), outcome


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_writes_one_row_per_seed_with_varying_fields_metrics_and_label(tiny_sweep, tmp_path, capsys):
    target = tmp_path / "tables" / "sweep.csv"
    assert cli.main(["export", str(tiny_sweep), "--out", str(target)]) == 0
    rows = _csv(target.read_text())
    assert [(r["condition"], r["seed"]) for r in rows] == [(c, str(i)) for c in CONDITIONS for i in range(SEEDS)]
    header = list(rows[0])
    assert "reward.alpha" in header and "routing" not in header and "run.steps" not in header  # only what varies
    assert header[-1] == "outcome"
    assert [r["reward.alpha"] for r in rows] == ["0.5", "0.5", "1", "1"]
    for condition in CONDITIONS:
        final, outcome = _final(tiny_sweep / condition)
        mine = [r for r in rows if r["condition"] == condition]
        assert [r["outcome"] for r in mine] == [OUTCOMES[int(i)] for i in outcome]
        assert set(final) <= set(header)
        for name, values in final.items():
            for r, v in zip(mine, values):
                assert (r[name] == "") if np.isnan(v) else np.isclose(float(r[name]), v, rtol=1e-7), (name, r[name], v)
    assert cli.main(["export", str(tiny_sweep)]) == 0  # to stdout: the same table
    assert _csv(capsys.readouterr().out) == rows


def test_export_of_one_run_folder_has_no_varying_fields(tiny_sweep):
    header, rows = export_rows(tiny_sweep / CONDITIONS[0])
    assert header[:2] == ["condition", "seed"] and "reward.alpha" not in header
    assert [r[0] for r in rows] == [CONDITIONS[0]] * SEEDS


def test_export_of_a_folder_without_runs_is_one_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["export", str(tmp_path / "empty"), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no run folders" in err[0], err
    assert not (tmp_path / "x.csv").exists()


def test_compare_gives_paired_differences_b_minus_a(tiny_sweep, capsys):
    a, b = tiny_sweep / CONDITIONS[0], tiny_sweep / CONDITIONS[1]
    result = compare(a, b, ["alarm_rate", "plan_freq/A"])
    fa, fb = _final(a)[0], _final(b)[0]
    for row in result["metrics"]:
        assert row["b_minus_a"] == paired_mean_ci(fb[row["metric"]], fa[row["metric"]]), row
    assert result["fields"] == {"reward.alpha": ("0.5", "1")}
    assert cli.main(["compare", str(a), str(b), "--metric", "alarm_rate"]) == 0
    printed = capsys.readouterr().out
    d = result["metrics"][0]["b_minus_a"]
    assert "alarm_rate" in printed and f"{d['mean']:+.3f}" in printed and "reward.alpha 0.5 -> 1" in printed


def _copy(src, dst, seed=None, n_seeds=None):
    shutil.copytree(src, dst)
    if seed is not None:
        for name in ("summary.json", "manifest.json"):
            d = json.loads((dst / name).read_text())
            (dst / name).write_text(json.dumps(d | {"seed": seed}))
    if n_seeds is not None:
        arrays = {k: (v if k == "step" else v[:n_seeds]) for k, v in read_npz(dst / "metrics.npz").items()}
        np.savez_compressed(dst / "metrics.npz", **arrays)
    return dst


@pytest.mark.parametrize("change, named", [({"seed": 7}, "base seed"), ({"n_seeds": 1}, "seeds")])
def test_compare_refuses_runs_whose_seeds_do_not_pair(tiny_sweep, tmp_path, capsys, change, named):
    a = tiny_sweep / CONDITIONS[0]
    b = _copy(tiny_sweep / CONDITIONS[1], tmp_path / "b", **change)
    with pytest.raises(ResultsError, match=named):
        compare(a, b, ["return"])
    assert cli.main(["compare", str(a), str(b)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("brainlike: error: compare:") and named in err[0], err


@pytest.mark.parametrize("args, named", [
    (["--metric", "retrun"], "did you mean return?"),
    (["--sweep-root"], "holds 2 conditions"),
])
def test_compare_errors_name_the_problem(tiny_sweep, capsys, args, named):
    a, b = str(tiny_sweep / CONDITIONS[0]), str(tiny_sweep / CONDITIONS[1])
    if args == ["--sweep-root"]:
        a, args = str(tiny_sweep), []
    assert cli.main(["compare", a, b, *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0], err


# --- damaged or foreign result files: one line naming the file, for every command that reads them ----

DAMAGES = {
    "truncated": ("metrics.npz", lambda data: data[:len(data) // 2], "truncated or damaged .npz"),
    "empty": ("metrics.npz", lambda data: b"", "empty file"),
    "text": ("metrics.npz", lambda data: b"seed,return\n0,1.5\n", "not a NumPy .npz archive"),
    "broken_json": ("config.json", lambda data: data[:len(data) // 2], "damaged JSON"),
}


def _damaged(tiny_sweep, tmp_path, damage: str):
    """A copy of the tiny sweep with one file of its first condition damaged; (sweep, condition, file)."""
    sweep = tmp_path / "sweep"
    shutil.copytree(tiny_sweep, sweep)
    name, spoil, _ = DAMAGES[damage]
    path = sweep / CONDITIONS[0] / name
    path.write_bytes(spoil(path.read_bytes()))
    return sweep, sweep / CONDITIONS[0], path


@pytest.mark.parametrize("command", ["inspect", "export", "compare"])
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_results_file_is_one_line_naming_it(tiny_sweep, tmp_path, capsys, command, damage):
    sweep, condition, path = _damaged(tiny_sweep, tmp_path, damage)
    argv = {"inspect": ["inspect", str(condition), "--out", str(tmp_path / "seed.png")],
            "export": ["export", str(sweep), "--out", str(tmp_path / "rows.csv")],
            "compare": ["compare", str(condition), str(sweep / CONDITIONS[1])]}[command]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and DAMAGES[damage][2] in err[0], err
    assert captured.out == "" and not (tmp_path / "rows.csv").exists() and not (tmp_path / "seed.png").exists()


@pytest.mark.parametrize("name, text, what", [("summary.json", "", "empty file"),
                                              ("config.json", "[1, 2]", "not a results file")])
def test_plot_refuses_a_damaged_summary_or_config_naming_it(tiny_sweep, tmp_path, capsys, name, text, what):
    sweep = tmp_path / "sweep"
    shutil.copytree(tiny_sweep, sweep)
    (sweep / CONDITIONS[1] / name).write_text(text)
    assert cli.main(["plot", str(sweep), "--x", "reward.alpha", "--metric", "return"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(sweep / CONDITIONS[1] / name) in err[0] and what in err[0], err


# --- brainlike plot: a sweep's metric against its axes, from its result files ---------------

@pytest.mark.parametrize("metric", ["deception_rate", "plan_freq/B", "outcomes"])
def test_plot_draws_a_sweep_against_its_axis(tiny_sweep, tmp_path, capsys, metric):
    png = tmp_path / "plots" / "sweep.png"
    assert cli.main(["plot", str(tiny_sweep), "--x", "reward.alpha", "--metric", metric, "--out", str(png)]) == 0
    assert_png(png)
    assert str(png) in capsys.readouterr().out


def _two_axes(tiny_sweep, tmp_path):
    """The tiny sweep copied, each condition twice: once more with reward.oversight 0.5 (files only)."""
    sweep = tmp_path / "two"
    for name in CONDITIONS:
        shutil.copytree(tiny_sweep / name, sweep / name)
        other = shutil.copytree(tiny_sweep / name, sweep / f"{name},reward.oversight=0.5")
        config = json.loads((other / "config.json").read_text())
        config["reward"]["oversight"] = 0.5
        (other / "config.json").write_text(json.dumps(config))
    return sweep


def _drawn(monkeypatch) -> list:
    """The figures ``brainlike plot`` saves from now on (each still written as it would be)."""
    from brainlike.report import sweep_plot

    figures, save = [], sweep_plot.save
    monkeypatch.setattr(sweep_plot, "save", lambda fig, path: (figures.append(fig), save(fig, path)))
    return figures


def test_plot_draws_one_line_per_value_of_by_and_refuses_a_hidden_axis(tiny_sweep, tmp_path, capsys, monkeypatch):
    """One line per value of ``--by`` (counted in the figure drawn, each through its cells' means as
    summary.json has them), one panel per value for ``outcomes``; a third field that varies but is
    neither axis is refused."""
    from matplotlib.container import ErrorbarContainer

    sweep, figures = _two_axes(tiny_sweep, tmp_path), _drawn(monkeypatch)
    assert cli.main(["plot", str(sweep), "--x", "reward.alpha", "--metric", "return", "--by", "reward.oversight"]) == 0
    assert_png(sweep / "plot-return-vs-reward.alpha-by-reward.oversight.png")
    lines = {c.get_label(): c.lines[0].get_xydata() for c in figures[0].axes[0].containers
             if isinstance(c, ErrorbarContainer)}
    assert sorted(lines) == ["reward.oversight=0.5", "reward.oversight=1"]
    for label, points in lines.items():
        suffix = ",reward.oversight=0.5" if label.endswith("0.5") else ""
        means = [json.loads((sweep / f"{name}{suffix}" / "summary.json").read_text())["metrics"]["return"]["mean"]
                 for name in CONDITIONS]
        np.testing.assert_allclose(points, [[0.5, means[0]], [1.0, means[1]]], rtol=1e-6, err_msg=label)
    assert cli.main(["plot", str(sweep), "--x", "reward.oversight", "--metric", "outcomes",
                     "--by", "reward.alpha"]) == 0
    panels = [ax.get_title() for ax in figures[1].axes]
    assert panels == ["reward.alpha=0.5", "reward.alpha=1"], panels
    capsys.readouterr()
    assert cli.main(["plot", str(sweep), "--x", "reward.alpha", "--metric", "return"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "give reward.oversight as --by" in err[0], err


@pytest.mark.parametrize("args, named", [
    (["--x", "reward.alpha", "--metric", "deceptoin_rate"], "metric: 'deceptoin_rate' is not a metric of this sweep; "
                                                           "did you mean deception_rate?"),
    (["--x", "reward.alpha", "--metric", "nothing_like_it"], "allowed: outcomes, return,"),
    (["--x", "reward.oversight", "--metric", "return"], "x: 'reward.oversight' does not vary in this sweep; allowed: "
                                                       "reward.alpha"),
    (["--x", "reward.alpha", "--by", "routing", "--metric", "return"], "by: 'routing' does not vary"),
])
def test_plot_refuses_a_bad_field_or_metric_naming_what_is_allowed(tiny_sweep, tmp_path, capsys, args, named):
    assert cli.main(["plot", str(tiny_sweep), *args, "--out", str(tmp_path / "x.png")]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and named in err[0], err
    assert captured.out == "" and not (tmp_path / "x.png").exists()


def test_inspect_leaves_out_the_columns_of_a_kind_never_on_offer(tiny_sweep):
    from brainlike.report.story import load_seed, story

    config, one, steps, label = load_seed(tiny_sweep / CONDITIONS[0], 0)
    one = dict(one, offer_rate=np.asarray(one["offer_rate"]).copy())
    one["offer_rate"][:, 2] = 0.0  # kind B never came to mind: its valence and score are NaN
    for name in ("valence_by_kind", "probe_score_by_kind"):
        one[name] = np.asarray(one[name]).copy()
        one[name][:, 2] = np.nan
    text = story(config, one, steps, label)
    assert "nan" not in text and "V(B)" not in text and "s(B)" not in text and "P(B)" in text
    assert "never on offer, so no valence or score: B." in text


def _category_sweep(folder):
    """Result files of a sweep over routings x alpha, with made-up summaries (nothing trained)."""
    from brainlike.config import Config, replace, to_dict

    for i, routing in enumerate(("brainlike", "end_to_end", "through_probe")):
        for alpha in (0.5, 1.0):
            condition = folder / f"routing={routing},reward.alpha={alpha:g}"
            condition.mkdir(parents=True)
            (condition / "config.json").write_text(json.dumps(to_dict(replace(Config(), routing=routing,
                                                                              **{"reward.alpha": alpha}))))
            mean = 0.1 * i + alpha / 10
            (condition / "summary.json").write_text(json.dumps({
                "n_seeds": 4, "metrics": {"return": {"mean": mean, "ci95": [mean - 0.05, mean + 0.05]}},
                "outcomes": {"honest": 4}}))
    return folder


@pytest.mark.parametrize("x, by, joined", [("routing", "reward.alpha", False), ("reward.alpha", "routing", True)])
def test_plot_joins_numbers_with_lines_and_draws_categories_as_points(tmp_path, monkeypatch, x, by, joined):
    """Routings are categories: nothing lies between brainlike and end_to_end, so their means are points
    with intervals, never joined by a line; a numeric axis (alpha) keeps its lines."""
    from brainlike.report import sweep_plot

    figures = []
    monkeypatch.setattr(sweep_plot, "save", lambda fig, path: figures.append(fig))
    sweep_plot.plot_sweep(_category_sweep(tmp_path / "sweep"), x, "return", by)
    (ax,) = figures[0].axes
    drawn = [line for line in ax.lines if line.get_marker() == "o"]  # the means (not the caps of their intervals)
    assert len(drawn) == (2 if x == "routing" else 3)
    assert all((line.get_linestyle() not in ("None", "none", "")) == joined for line in drawn)
    if not joined:
        assert [t.get_text() for t in ax.get_xticklabels()] == ["brainlike", "end_to_end", "through_probe"]
