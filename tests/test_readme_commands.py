"""The README's "Command line" section works as typed: every line of its ``sh`` blocks runs, with
the venv's ``bin`` on PATH, from the repository root, rewritten only to tiny seed and step
counts and to output folders under a temporary folder (the gallery's pages and the README it
rewrites, copied there first)."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, assert_png

SEEDS = "4"  # the section inspects seed 3
STEPS = "200"
TINY = {"--beliefs.pretrain_updates": "10", "--probe.n_thoughts": "16", "--run.log_every": "5"}
EXPERIMENT_SEEDS = "2"


def section(text: str, title: str = "## Command line") -> str:
    start = text.index(title + "\n")
    end = text.find("\n## ", start + len(title))
    return text[start:end if end >= 0 else None]


def commands(text: str) -> list[str]:
    """Every command of the section's ``sh`` blocks, continuation lines joined."""
    blocks = re.findall(r"^```sh\n(.*?)^```", section(text), flags=re.S | re.M)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def rewrite(line: str, tmp: Path) -> list[str]:
    """The command as tokens: tiny seeds and steps, ``runs/...`` under ``tmp``."""
    words = shlex.split(line, comments=True)
    out = []
    for i, w in enumerate(words):
        prev = words[i - 1] if i else ""
        if prev == "--seeds":
            w = EXPERIMENT_SEEDS if words[:3] == ["python", "-m", "experiments"] else SEEDS
        elif prev in ("--steps", "--run.steps"):
            w = STEPS
        elif w == "runs" or w.startswith("runs/"):
            w = str(tmp / w)
        elif prev in ("--pages", "--readme"):
            w = copied(w, tmp)
        out.append(w)
    if out[0] == "brainlike" and out[1] in ("run", "sweep"):
        out += [a for k, v in TINY.items() if k not in out for a in (k, v)]
    if "--pages" in out and "--readme" not in out:
        out += ["--readme", copied("README.md", tmp)]
    if trains_an_experiment(out) and "--seeds" not in out:
        out += ["--seeds", EXPERIMENT_SEEDS]
    return out


def copied(path: str, tmp: Path) -> str:
    """A copy under ``tmp`` of a file or folder of the checkout, for a command to rewrite."""
    source, target = ROOT / path, tmp / path
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    return str(target)


def trains_an_experiment(words: list[str]) -> bool:
    return words[:3] == ["python", "-m", "experiments"] and not {"--redraw", "--pages"} & set(words)


def run(words: list[str]) -> subprocess.CompletedProcess:
    venv_bin = ROOT / ".venv" / "bin"
    path = os.pathsep.join([str(venv_bin if venv_bin.is_dir() else Path(sys.executable).parent),
                            os.environ.get("PATH", "")])
    env = dict(os.environ, PATH=path, BRAINLIKE_CACHE=str(ROOT / ".jax_cache"))
    return subprocess.run(words, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _run_all(tmp_path, keep) -> list[str]:
    ran = []
    for line in commands((ROOT / "README.md").read_text()):
        words = rewrite(line, tmp_path)
        if not keep(words):
            continue
        proc = run(words)
        assert proc.returncode == 0, (f"README command failed (exit {proc.returncode}): {line}\n"
                                      f"ran: {shlex.join(words)}\n{proc.stderr[-3000:]}")
        ran.append(words[1] if words[0] == "brainlike" else " ".join(words[:4]))
    return ran


def test_the_section_names_its_one_setup_and_uses_the_installed_commands():
    text = section((ROOT / "README.md").read_text())
    assert "make install" in text and ". .venv/bin/activate" in text
    lines = commands((ROOT / "README.md").read_text())
    assert lines and all(line.startswith(("brainlike ", "python -m experiments ")) for line in lines), lines
    assert {"run", "inspect", "sweep", "export", "compare", "plot", "bench"} <= {line.split()[1] for line in lines
                                                                        if line.startswith("brainlike ")}


def test_rewrite_touches_only_seeds_steps_and_output_folders(tmp_path):
    words = rewrite("brainlike run --env coin --seeds 64 --steps 20000 --seed 3 --out runs/demo  # note", tmp_path)
    assert words[:9] == ["brainlike", "run", "--env", "coin", "--seeds", SEEDS, "--steps", STEPS, "--seed"]
    assert words[9:12] == ["3", "--out", str(tmp_path / "runs/demo")]
    words = rewrite("python -m experiments --pages docs/gallery", tmp_path)
    assert words == ["python", "-m", "experiments", "--pages", str(tmp_path / "docs/gallery"),
                     "--readme", str(tmp_path / "README.md")]
    assert (tmp_path / "README.md").read_text() == (ROOT / "README.md").read_text()
    assert {p.name for p in (tmp_path / "docs/gallery").iterdir()} == {p.name for p in (ROOT / "docs/gallery").iterdir()}


def test_readme_commands_run_as_typed(tmp_path):
    """Every line but ``bench`` (minutes of measurement by design) and training a whole
    experiment (``test_readme_experiment_commands_run_as_typed``, slow)."""
    ran = _run_all(tmp_path, lambda w: w[:2] != ["brainlike", "bench"] and not trains_an_experiment(w))
    assert {"run", "inspect", "sweep", "export", "compare", "plot"} <= set(ran), ran
    assert (tmp_path / "runs" / "sweep.csv").read_text().count("\n") == 4 * int(SEEDS) + 1
    assert_png(tmp_path / "runs" / "sweep_outcomes.png")
    plots = list((tmp_path / "runs" / "sweep").glob("plot-*.png"))
    assert plots
    for png in plots:
        assert_png(png)


@pytest.mark.slow
def test_readme_experiment_commands_run_as_typed(tmp_path):
    ran = _run_all(tmp_path, trains_an_experiment)
    assert ran, "the section trains no experiment"


def test_readme_run_and_save_snippet_runs_and_returns_labels(tmp_path):
    """The "Write your own environment" snippet, at the tiny scale, saves a run and gets its labels."""
    text = section((ROOT / "README.md").read_text(), "## Write your own environment")
    code = next(b for b in re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M) if "run_and_save" in b)
    tiny = '"run.steps": 200, "beliefs.pretrain_updates": 10, "probe.n_thoughts": 16, "run.log_every": 5'
    code = re.sub(r'"run\.steps": \d+', tiny, code)
    code = re.sub(r"n_seeds=\d+", f"n_seeds={SEEDS}", code)
    code = re.sub(r'out="runs/', f'out="{tmp_path}/runs/', code)
    assert tiny in code and str(tmp_path) in code
    code += "\nfrom brainlike.schema import OUTCOMES\nassert len(labels) == %s and set(labels) <= set(OUTCOMES)\n" \
            "print(labels)\n" % SEEDS
    proc = run([sys.executable, "-c", code])
    assert proc.returncode == 0, proc.stderr[-3000:]
    folder = next((tmp_path / "runs").iterdir())
    assert {"config.json", "metrics.npz", "summary.json", "manifest.json"} <= {p.name for p in folder.iterdir()}
