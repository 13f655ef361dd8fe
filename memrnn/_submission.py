"""Read a handed-in notebook as data, never running it: its chapter, the student, the code to grade.

Part of ``memrnn.grade``, whose ``read_submission`` calls ``read_notebook``. The
notebook is JSON from an untrusted source: every field is checked for its type
before use, and a file that is not a chapter of the student edition gets a
``problem`` instead of an exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_NOTEBOOK", "Submission", "read_notebook"]

MAX_NOTEBOOK = 20 * 2**20       # bytes: a chapter notebook is well under 1 MB


@dataclass
class Submission:
    path: Path
    chapter: str | None = None
    name: str = ""
    number: str = ""
    cells: list | None = None       # the code to run, in order
    problem: str = ""               # why it is unreadable


_NAME_LINE = re.compile(r"^[\W_]*name\W*[:=]\s*[\"']?(.*?)[\"']?\s*$", re.IGNORECASE)
_NUMBER_LINE = re.compile(r"^[\W_]*student[\s_]*number\W*[:=]\s*[\"']?(.*?)[\"']?\s*$",
                          re.IGNORECASE)


def _text(source) -> str:
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _identity(nb: dict) -> tuple[str, str]:
    """Name and student number: from the notebook's metadata, else from its first cell."""
    meta = nb.get("metadata", {}).get("memrnn_student", {})
    name = str(meta.get("name", "")).strip() if isinstance(meta, dict) else ""
    number = str(meta.get("number", "")).strip() if isinstance(meta, dict) else ""
    cells = nb.get("cells") or [{}]
    if (not name or not number) and isinstance(cells[0], dict):
        for line in _text(cells[0].get("source")).splitlines():
            m_number = _NUMBER_LINE.match(line)
            m_name = _NAME_LINE.match(line)
            if m_number and not number:
                number = m_number.group(1).strip()
            elif m_name and not name and "number" not in line.lower():
                name = m_name.group(1).strip()
    return name[:200], number[:100]


def _cell_code(cell: dict) -> str | None:
    """What a code cell runs when graded: its code, the quick code for the browser, or nothing."""
    meta = cell.get("metadata", {}) if isinstance(cell.get("metadata"), dict) else {}
    tags = meta.get("tags", []) if isinstance(meta.get("tags"), list) else []
    browser = meta.get("browser") if isinstance(meta.get("browser"), dict) else {}
    if "book-only" in tags or browser.get("skip"):
        return None
    quick = browser.get("quick")
    if isinstance(quick, dict) and isinstance(quick.get("code"), str):
        return quick["code"]        # what the page runs too: a heavy cell, made short
    return _text(cell.get("source"))


def read_notebook(path, chapters) -> Submission:
    """Read a submission as data; ``problem`` says why it cannot be graded, if it cannot.

    ``chapters`` holds the chapters that have an exercise (``memrnn.grade.BY_CHAPTER``).
    """
    sub = Submission(Path(path))
    try:
        size = sub.path.stat().st_size
        if size > MAX_NOTEBOOK:
            raise ValueError(f"the file is {size / 2**20:.0f} MB; a notebook is well under 1 MB")
        nb = json.loads(sub.path.read_bytes().decode("utf-8"))
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("it is JSON, but not a Jupyter notebook (no list of cells)")
        if not all(isinstance(c, dict) for c in nb["cells"]):
            raise ValueError("a cell of the notebook is not a JSON object")
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        sub.problem = f"not a readable notebook: {err}"
        return sub
    edition = nb.get("metadata", {}).get("memrnn_student_edition", {})
    chapter = edition.get("chapter") if isinstance(edition, dict) else None
    if chapter not in chapters:
        sub.problem = ("not a chapter of the memrnn student edition (its metadata names no "
                       "chapter with an exercise); hand in the notebook downloaded from the book")
        return sub
    sub.chapter = chapter
    sub.name, sub.number = _identity(nb)
    cells = []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        code = _cell_code(cell)
        if "selfcheck.check_" in _text(cell.get("source")):
            break               # the chapter's check: the grader runs it, not the notebook
        if code is not None:
            cells.append(code)
    sub.cells = cells
    return sub
