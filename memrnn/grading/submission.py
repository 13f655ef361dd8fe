"""Read a handed-in notebook as data, never running it: its chapter, the student, the code to grade.

Part of ``memrnn.grading``, whose ``read_submission`` calls ``read_notebook``.
The notebook is JSON from an untrusted source: it is read up to a cap, every
field is checked for its type before use, and a file that is not a chapter of
the student edition, of any shape, gets a ``problem`` instead of an exception.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass

__all__: list[str] = []

MAX_NOTEBOOK = 20 * 2**20       # bytes: a chapter notebook is well under 1 MB


@dataclass
class Submission:
    path: bytes | str
    chapter: str | None = None
    name: str = ""
    number: str = ""
    cells: list | None = None       # the code to run, in order: up to the last check, none of them
    problem: str = ""               # why it is unreadable
    sha256: str = ""                # of the bytes read


_NAME_LINE = re.compile(r"^[\W_]*name\W*[:=]\s*[\"']?(.*?)[\"']?\s*$", re.IGNORECASE)
_NUMBER_LINE = re.compile(r"^[\W_]*student[\s_]*number\W*[:=]\s*[\"']?(.*?)[\"']?\s*$",
                          re.IGNORECASE)


def _text(source) -> str:
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _identity(nb: dict) -> tuple[str, str]:
    """Name and student number: from the notebook's metadata, else from its first cell."""
    meta = _dict(nb.get("metadata")).get("memrnn_student", {})
    meta = _dict(meta)
    # A name is text or a number; anything else is no name.
    name, number = (str(v).strip() if isinstance(v, (str, int, float)) else ""
                    for v in (meta.get("name", ""), meta.get("number", "")))
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

    ``chapters`` holds the chapters that have exercises (``memrnn.grading.exercises.BY_CHAPTER``).
    Whatever the file holds, this returns: a shape it does not expect is a ``problem``.
    """
    try:
        return _read_notebook(path, chapters)
    except Exception as err:           # a shape no branch below foresaw: still unreadable
        sub = Submission(path)
        sub.problem = f"not a readable notebook: {type(err).__name__}"
        return sub


def _read_notebook(path, chapters) -> Submission:
    sub = Submission(path)
    try:
        data = _read_capped(path)
        sub.sha256 = hashlib.sha256(data).hexdigest()
        if len(data) > MAX_NOTEBOOK:
            raise ValueError(f"the file is more than {MAX_NOTEBOOK / 2**20:.0f} MB; a notebook "
                             f"is well under 1 MB")
        nb = json.loads(data.decode("utf-8"))
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("it is JSON, but not a Jupyter notebook (no list of cells)")
        if not all(isinstance(c, dict) for c in nb["cells"]):
            raise ValueError("a cell of the notebook is not a JSON object")
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        sub.problem = f"not a readable notebook: {err}"
        return sub
    if not isinstance(nb.get("metadata", {}), dict):
        sub.problem = "not a readable notebook: its metadata is not a JSON object"
        return sub
    edition = _dict(nb.get("metadata")).get("memrnn_student_edition", {})
    chapter = edition.get("chapter") if isinstance(edition, dict) else None
    if not isinstance(chapter, str) or chapter not in chapters:
        sub.problem = ("not a chapter of the memrnn student edition (its metadata names no "
                       "chapter with an exercise); hand in the notebook downloaded from the book")
        return sub
    sub.chapter = chapter
    sub.name, sub.number = _identity(nb)
    # Every code cell up to the chapter's last check, the checks left out: the grader runs
    # them itself. A chapter with several exercises has a check cell after each; a notebook
    # whose checks were deleted runs whole.
    cells, kept = [], None
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        if "selfcheck.check_" in _text(cell.get("source")):
            kept = len(cells)
            continue
        code = _cell_code(cell)
        if code is not None:
            cells.append(code)
    sub.cells = cells[:kept]
    return sub


def _read_capped(path) -> bytes:
    """The file's bytes, at most MAX_NOTEBOOK + 1 of them; a regular file only."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("it is not a regular file")
        chunks, left = [], MAX_NOTEBOOK + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
