"""The gallery as pages: one Markdown page per experiment (``docs/gallery/<name>.md``) whose reading is
written from its summary, and the README's generated blocks (the gallery's index, the figures' training
time, the suite's size and time). Only the text between a block's markers is written; the rest of a
page is prose, kept as it is."""

from __future__ import annotations

import re
from pathlib import Path

from brainlike.store import results as res

FIGURES_BUDGET_S = 3600  # every figure at full scale should train within an hour
SUITE_BUDGET_S = 300  # the fast suite should run within five minutes
QUICK_BUDGET_S = 300  # make figures QUICK=1 from a fresh clone should run within five minutes


def blocks(kind: str) -> re.Pattern:
    """The blocks ``<!-- KIND:NAME -->`` ... ``<!-- /KIND -->``: groups (opening line, NAME, text, closing)."""
    return re.compile(rf"(<!-- {kind}:(\w+) -->\n)(.*?)(<!-- /{kind} -->)", re.S)


READING = blocks("reading")  # on a page: its experiment's reading
GENERATED = blocks("generated")  # in the README: the index, the training time, the suite


def render(text: str, written: dict[str, str], kind: str = "reading") -> str:
    """``text`` with each block of ``kind`` replaced by ``written[NAME]`` (others left as they are)."""
    return blocks(kind).sub(lambda m: m[1] + written[m[2]].strip() + "\n" + m[4] if m[2] in written else m[0], text)


def fill(path: Path, text: str, written: dict[str, str], kind: str = "reading") -> str:
    """``render``, refusing a text that lacks one of the blocks to write (``ValueError`` naming ``path``)."""
    missing = sorted(set(written) - {m[2] for m in blocks(kind).finditer(text)})
    if missing:
        raise ValueError(f"{path}: no <!-- {kind}:{missing[0]} --> block to write into")
    return render(text, written, kind)


def title_and_question(description: str) -> tuple[str, str]:
    """An experiment's description, ``"Title: question?"``, as its title and its question."""
    title, _, question = description.partition(": ")
    return (title, question[:1].upper() + question[1:]) if question else (description, "")


def new_page(name: str, description: str) -> str:
    """The page of an experiment that has none yet: title, question, figure, links and an empty reading."""
    title, question = title_and_question(description)
    figures = "../../figures"
    return f"""# {title}

**Question.** {question}
Run it with `make {name}`; every experiment is in the [gallery](../../README.md#gallery).

![{name.replace("_", " ")}]({figures}/{name}.png)

Every seed: [scatter of final recall against deception, by outcome]({figures}/{name}_seeds.png);
every condition: [table]({figures}/{name}.md).

<!-- reading:{name} -->
<!-- /reading -->
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def index(rows: list[tuple[str, str, str, str | None]]) -> str:
    """The gallery as a table: per experiment (name, description, page link, headline) its title linked
    to its page, its question, its answer in one sentence and its make target."""
    out = ["| experiment | question | answer | run |", "|---|---|---|---|"]
    for name, description, link, headline in rows:
        title, question = title_and_question(description)
        out.append(f"| [{_cell(title)}]({link}) | {_cell(question)} | {_cell(headline or 'see its page')} | "
                   f"`make {name}` |")
    return "\n".join(out)


def duration(seconds: float) -> str:
    """``26425`` as ``7 h 20 min``, ``332`` as ``5 min 32 s``, ``3600`` as ``1 h``."""
    s = round(seconds)
    parts = (s // 3600, "h"), (s % 3600 // 60, "min"), (s % 60, "s")
    parts = parts[:2] if s >= 3600 else parts[1:] if s >= 60 else parts[2:]
    return " ".join(f"{k} {unit}" for k, unit in parts if k) or "0 s"


def training_time(summaries: dict[str, dict]) -> str:
    """The figures' training time, in all and per figure, from each summary's ``train_s``."""
    total = sum(s["train_s"] for s in summaries.values())
    rows = []
    for name, s in summaries.items():
        steps = sorted({c["config"]["run"]["steps"] for c in s["conditions"].values()})
        rows.append(f"| `{name}` | {len(s['conditions'])} | {s['n_seeds']} | {', '.join(f'{x:,}' for x in steps)} | "
                    f"{s['train_s']:,.0f} s |")
    within = "within" if total <= FIGURES_BUDGET_S else "over"
    return (f"At full scale the {len(summaries)} figures trained for {total:,.0f} s in all ({duration(total)}, "
            f"{within} the budget of {duration(FIGURES_BUDGET_S)}): the sum of the `train_s` in each "
            "`results/<name>/summary.json` (the training time its manifests record; a resumed run counts from where "
            "it resumed).\n\n"
            "| figure | conditions | seeds | steps | training |\n|---|---:|---:|---:|---:|\n" + "\n".join(rows))


def quick_time(stats: dict, source: str) -> str:
    """``make figures QUICK=1``'s time from a cold and a warm compilation cache, from the file ``make
    quick-time`` writes (``source``)."""
    within = "within" if stats["cold_cache_total_wall_s"] <= QUICK_BUDGET_S else "over"
    jobs = f"{stats['jobs']} processes side by side" if stats["jobs"] > 1 else "one process"
    return (f"As `make quick-time` last measured it ([`{source}`]({source}), each figure's time too): "
            f"`make figures QUICK=1` runs {stats['conditions']:,} conditions of the {stats['figures']} figures, "
            f"{stats['structures']} distinct compiled structures, in {jobs} on {stats['cores']} cores, and the three "
            f"`inspect` plots; it took **{stats['cold_cache_total_wall_s']:,.0f} s from an empty compilation cache**, "
            f"{within} the budget of {duration(QUICK_BUDGET_S)}, and {stats['total_wall_s']:,.0f} s with the cache "
            f"that run filled.")


def suite(stats: dict, source: str) -> str:
    """The fast suite's size and time, from the file ``make suite-stats`` writes (``source``)."""
    kinds = ("passed", "test passed", "tests passed"), ("skipped", "skipped", "skipped"), (
        "xfailed", "expected failure", "expected failures")
    counts = [f"{stats[k]} {one if stats[k] == 1 else many}" for k, one, many in kinds if stats.get(k) or k == "passed"]
    slowest = " and ".join(f"`{t['test']}` ({t['s']:.0f} s)" for t in stats["slowest"])
    within = "within" if stats["wall_s"] <= SUITE_BUDGET_S else "over"
    return (f"As `make suite-stats` last measured it ([`{source}`]({source})): {', '.join(counts)} on "
            f"{stats['cores']} cores in {duration(stats['wall_s'])} with a {stats['cache']} compilation cache, "
            f"{within} the budget of {duration(SUITE_BUDGET_S)}; the slowest were {slowest}.")


def write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all."""
    res.atomic_write(Path(path), lambda f: f.write(text.encode()))
