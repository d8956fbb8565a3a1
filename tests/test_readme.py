"""Every number the README's gallery quotes is written from the committed summaries, and stays so."""

from experiments.__main__ import NAMES, load, readings

from brainlike.report.experiment import READING
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
