"""Every number the gallery's pages and the README's generated blocks quote is written from the committed
files, and stays so; every experiment with results has its page; the README's contents reach every
section and every page; every relative link resolves."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.__main__ import NAMES, committed, load, main, readme_blocks, reading, summaries

from brainlike.report.experiment import fill
from brainlike.report.pages import GENERATED, READING, duration, quick_time, suite
from conftest import ROOT

PAGES = ROOT / "docs" / "gallery"
REWRITE = "run `python -m experiments --pages docs/gallery`"


def test_every_page_exists_and_its_reading_is_the_one_its_summary_writes():
    written = summaries(ROOT / "results", committed(ROOT / "results"))
    assert written, "no experiment has a committed summary"
    assert {p.stem for p in PAGES.glob("*.md")} == set(written), "a page per experiment with results, and no other"
    for name, summary in written.items():
        text = (PAGES / f"{name}.md").read_text()
        blocks = {m[2]: m[3].strip() for m in READING.finditer(text)}
        assert list(blocks) == [name], f"docs/gallery/{name}.md holds the readings {list(blocks)}"
        assert blocks[name] == reading(name, summary).strip(), (
            f"the reading on docs/gallery/{name}.md differs from what results/{name}/summary.json gives; {REWRITE}")


def test_the_readmes_generated_blocks_are_what_the_results_write():
    text = (ROOT / "README.md").read_text()
    blocks = {m[2]: m[3].strip() for m in GENERATED.finditer(text)}
    expected = readme_blocks(ROOT / "results", "docs/gallery", "results")
    assert set(blocks) == set(expected), f"README blocks {sorted(blocks)} != {sorted(expected)}"
    for name in expected:
        assert blocks[name] == expected[name].strip(), f"the README's {name} block differs from the results; {REWRITE}"


def test_the_index_links_every_page_with_its_question_and_a_headline():
    index = readme_blocks(ROOT / "results", "docs/gallery", "results")["gallery"]
    for name in committed(ROOT / "results"):
        row = next(line for line in index.splitlines() if f"(docs/gallery/{name}.md)" in line)
        assert row.endswith(f"| `make {name}` |") and "see its page" not in row, row
        assert load(name).description.split(": ", 1)[1][1:] in row


def test_every_experiment_declares_a_reading_and_a_headline():
    assert all(load(name).reading and load(name).headline for name in NAMES)


def test_the_pages_command_writes_a_missing_page_and_fails_on_a_missing_summary(tmp_path, capsys):
    """A new experiment's page is started from its declaration; a missing summary, or a quick run's, fails in
    one line naming the file and writes nothing (not even the pages it could have written)."""
    results, pages, readme = tmp_path / "results", tmp_path / "docs" / "gallery", tmp_path / "README.md"
    for name in ("loop_closure", "placebo"):
        (results / name).mkdir(parents=True)
        (results / name / "summary.json").write_bytes((ROOT / "results" / name / "summary.json").read_bytes())
    for timed in ("suite.json", "figures_time.json"):
        (results / timed).write_bytes((ROOT / "results" / timed).read_bytes())
    readme.write_text("# r\n\n<!-- generated:gallery -->\n<!-- /generated -->\n<!-- generated:training_time -->\n"
                      "<!-- /generated -->\n<!-- generated:suite -->\n<!-- /generated -->\n"
                      "<!-- generated:quick_time -->\n<!-- /generated -->\n")
    before = readme.read_text()
    args = ["--pages", str(pages), "--readme", str(readme), "--results", str(results)]
    assert main(["loop_closure", "drift_control", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"experiments: error: {results / 'drift_control' / 'summary.json'}: missing results file"]
    assert readme.read_text() == before and not pages.exists()

    assert main(["loop_closure", *args]) == 0
    page = (pages / "loop_closure.md").read_text()
    assert page.startswith("# Loop closure\n") and reading("loop_closure", json.loads(
        (results / "loop_closure" / "summary.json").read_text())).strip() in page
    text = readme.read_text()
    assert "(docs/gallery/loop_closure.md)" in text and "(docs/gallery/placebo.md)" in text  # every one with results
    assert "[`results/suite.json`](results/suite.json)" in text
    assert "[`results/figures_time.json`](results/figures_time.json)" in text

    quick = json.loads((results / "placebo" / "summary.json").read_text()) | {"quick": True}
    (results / "placebo" / "summary.json").write_text(json.dumps(quick))
    assert main(["loop_closure", *args]) == 2 and readme.read_text() == text
    assert capsys.readouterr().err.strip() == (f"experiments: error: {results / 'placebo' / 'summary.json'}: a --quick "
                                               "run's summary; the gallery quotes full-scale results")


def test_a_page_without_its_reading_block_is_refused(tmp_path, capsys):
    pages, readme = tmp_path / "gallery", tmp_path / "README.md"
    pages.mkdir()
    (pages / "loop_closure.md").write_text("# Loop closure\n\nprose only\n")
    readme.write_bytes((ROOT / "README.md").read_bytes())
    assert main(["loop_closure", "--pages", str(pages), "--readme", str(readme)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"experiments: error: {pages / 'loop_closure.md'}: no <!-- reading:loop_closure --> block to write into")
    assert (pages / "loop_closure.md").read_text() == "# Loop closure\n\nprose only\n"


def test_readme_without_pages_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--readme", "README.md"])
    assert "--readme names the README that --pages rewrites" in capsys.readouterr().err


def test_the_quick_time_sentence_reads_its_file():
    stats = {"cores": 2, "jobs": 2, "figures": 16, "conditions": 70, "structures": 18,
             "cold_cache_total_wall_s": 301.4, "total_wall_s": 115.3}
    text = quick_time(stats, "results/figures_time.json")
    assert "70 conditions of the 16 figures, 18 distinct compiled structures, in 2 processes side by side" in text
    assert "**301 s from an empty compilation cache**, over the budget of 5 min, and 115 s" in text
    assert "in one process on 2 cores" in quick_time(stats | {"jobs": 1, "cold_cache_total_wall_s": 299}, "f")
    assert "within the budget" in quick_time(stats | {"cold_cache_total_wall_s": 299}, "f")


def test_the_suite_sentence_reads_its_file():
    stats = {"passed": 716, "skipped": 3, "xfailed": 1, "wall_s": 332.0, "cores": 2, "cache": "warm",
             "slowest": [{"test": "tests/a.py::t", "s": 64.2}]}
    assert suite(stats, "results/suite.json") == (
        "As `make suite-stats` last measured it ([`results/suite.json`](results/suite.json)): 716 tests passed, "
        "3 skipped, 1 expected failure on 2 cores in 5 min 32 s with a warm compilation cache, over the budget of "
        "5 min; the slowest were `tests/a.py::t` (64 s).")
    assert [duration(s) for s in (26425.3, 656, 3600, 42)] == ["7 h 20 min", "10 min 56 s", "1 h", "42 s"]


def test_a_passing_run_writes_the_suite_stats(tmp_path):
    """``make suite-stats``: a run that passes writes its counts, wall time and slowest tests, as the README's
    sentence reads them."""
    path, test = tmp_path / "suite.json", "tests/test_readme.py::test_the_suite_sentence_reads_its_file"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", test],
                          cwd=ROOT, env=dict(os.environ, BRAINLIKE_SUITE_STATS=str(path)), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    stats = json.loads(path.read_text())
    assert (stats["passed"], stats["skipped"], stats["xfailed"], stats["slowest"][0]["test"]) == (1, 0, 0, test)
    assert stats["cache"] in ("warm", "cold") and stats["wall_s"] > 0 and stats["cores"] >= 1
    assert "): 1 test passed on " in suite(stats, "results/suite.json")


def test_a_reading_template_takes_every_slot_it_names_and_no_other(tmp_path):
    template = tmp_path / "reading.md"
    template.write_text("$held of ${seeds} seeds held, for $$1.\n")
    assert fill(template, held="3", seeds=256) == "3 of 256 seeds held, for $1."
    with pytest.raises(ValueError, match=r"not given \['seeds'\]"):
        fill(template, held="3")
    with pytest.raises(ValueError, match=r"not in the text \['hold'\]"):
        fill(template, held="3", seeds=256, hold="3")


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


@pytest.mark.parametrize("name, index", [("loop_closure", 3), ("preexisting_b", 2), ("discovered_routing", 1)])
def test_a_reading_whose_text_argues_from_a_verdict_refuses_a_summary_that_changed_it(name, index):
    """Where a reading's argument rests on a verdict (not only its slot), a rerun that flips it makes the
    page fail to build, naming the template, instead of printing the old argument beside the new verdict."""
    from brainlike.report.experiment import StaleReading

    summary = json.loads((ROOT / "results" / name / "summary.json").read_text())
    summary["hypotheses"][index]["verdict"] = "supported"
    with pytest.raises(StaleReading, match=f"{name}.md: its text argues from hypothesis {index + 1} "):
        load(name).reading(summary)


def test_the_contents_reach_every_section_and_every_gallery_page():
    """The contents paragraph links every ``##`` section, every experiment's page and the command line's
    subsections, the sections by the anchors GitHub gives them."""
    text = (ROOT / "README.md").read_text()
    contents = text[text.index("**Contents:**"):text.index("\n\n", text.index("**Contents:**"))]
    linked = set(re.findall(r"\]\(#([^)]+)\)", contents))
    command_line = text[text.index("\n## Command line\n"):text.index("\n## Performance\n")]
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    headings += [h for h in re.findall(r"^### (.+)$", command_line, flags=re.M) if h != "What is logged"]
    missing = [h for h in headings if _anchor(h) not in linked]
    assert not missing, f"the README's contents do not link: {missing}"
    anchors = {_anchor(h) for h in re.findall(r"^#{2,4} (.+)$", text, flags=re.M)}
    assert linked <= anchors, f"the contents link no section: {sorted(linked - anchors)}"
    pages = set(re.findall(r"\]\(docs/gallery/(\w+)\.md\)", contents))
    assert pages == set(committed(ROOT / "results")), f"the contents link the pages {sorted(pages)}"


def _links(path: Path) -> list[str]:
    """The relative links and images of a Markdown file, anchors and code spans left out."""
    text = re.sub(r"```.*?```|`[^`\n]*`", "", path.read_text(), flags=re.S)
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t.split("#")[0] for t in targets if not re.match(r"\w+:", t) and not t.startswith("#")]


@pytest.mark.parametrize("path", [ROOT / "README.md", *sorted(PAGES.glob("*.md"))], ids=lambda p: p.name)
def test_every_relative_link_resolves(path):
    links = _links(path)
    missing = [t for t in links if not (path.parent / t).exists()]
    assert not missing, f"{path.relative_to(ROOT)} links to files that do not exist: {missing}"
    if path.parent == PAGES:
        assert "../../README.md" in links and f"../../figures/{path.stem}.png" in links
