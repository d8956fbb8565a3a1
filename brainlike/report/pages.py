"""The gallery as pages: one Markdown page per experiment (``docs/gallery/<name>.md``) whose reading is
written from its summary, and the README's generated block, the gallery's index. Only the text between a
block's markers is written; the rest of a page is prose, kept as it is."""

from __future__ import annotations

import re
from pathlib import Path

from brainlike.store import results as res

def blocks(kind: str) -> re.Pattern:
    """The blocks ``<!-- KIND:NAME -->`` ... ``<!-- /KIND -->``: groups (opening line, NAME, text, closing)."""
    return re.compile(rf"(<!-- {kind}:(\w+) -->\n)(.*?)(<!-- /{kind} -->)", re.S)


READING = blocks("reading")  # on a page: its experiment's reading
GENERATED = blocks("generated")  # in the README: the index


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


def write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all."""
    res.atomic_write(Path(path), lambda f: f.write(text.encode()))
