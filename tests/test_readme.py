"""Every number the README's gallery quotes is written from the committed summaries, and stays so; its
contents reach every section."""

import re

import pytest
from experiments.__main__ import NAMES, load, readings

from brainlike.report.experiment import READING, fill
from conftest import ROOT


def test_every_reading_in_the_readme_is_the_one_its_summary_writes():
    text = (ROOT / "README.md").read_text()
    blocks = {m[2]: m[3].strip() for m in READING.finditer(text)}
    expected = readings(ROOT / "results")
    assert expected, "no experiment has a reading and a committed summary"
    assert set(blocks) == set(expected), f"README readings {sorted(blocks)} != experiments with results {sorted(expected)}"
    for name in expected:
        assert blocks[name] == expected[name].strip(), (
            f"the README's reading of {name} differs from what results/{name}/summary.json gives; "
            f"run `python -m experiments --readme README.md`")


def test_every_experiment_declares_a_reading():
    assert all(load(name).reading for name in NAMES)


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


def test_the_contents_reach_every_section_and_every_gallery_entry():
    """The contents paragraph links every ``##`` section, every gallery entry (``###``) and the command
    line's subsections, by the anchors GitHub gives them."""
    text = (ROOT / "README.md").read_text()
    contents = text[text.index("**Contents:**"):text.index("\n\n", text.index("**Contents:**"))]
    linked = set(re.findall(r"\]\(#([^)]+)\)", contents))
    gallery = text[text.index("\n## Gallery\n"):text.index("\n## Glossary\n")]
    command_line = text[text.index("\n## Command line\n"):text.index("\n## Performance\n")]
    headings = re.findall(r"^## (.+)$", text, flags=re.M) + re.findall(r"^### (.+)$", gallery, flags=re.M)
    headings += [h for h in re.findall(r"^### (.+)$", command_line, flags=re.M) if h != "What is logged"]
    missing = [h for h in headings if _anchor(h) not in linked]
    assert not missing, f"the README's contents do not link: {missing}"
    anchors = {_anchor(h) for h in re.findall(r"^#{2,4} (.+)$", text, flags=re.M)}
    assert linked <= anchors, f"the contents link no section: {sorted(linked - anchors)}"
