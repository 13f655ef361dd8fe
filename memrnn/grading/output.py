"""Text that reaches the instructor: Markdown and CSV cells that a student's text cannot turn.

A student controls their file name, name, number, the messages their code
raises and some values the checks quote. In ``summary.md`` and the feedback
that text is escaped: one line, capped, no HTML (``<`` and ``&`` become
entities), and no Markdown of its own (links, emphasis, code, tables). In
``grades.csv`` a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return would be read as a formula by a spreadsheet: it gets a leading
``'``, as the OWASP guidance on CSV injection asks.
"""

from __future__ import annotations

import html
import re

__all__: list[str] = []

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def md_text(text, limit: int = 300) -> str:
    """``text`` as one line of Markdown that shows exactly those characters, cut at ``limit``."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(text))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit - 3].rstrip() + "..."
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def csv_cell(value):
    """A value for ``grades.csv``: text a spreadsheet would run as a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_stem(raw: bytes, shown: str, taken: set) -> str:
    """A file-name stem for the outputs of the hand-in named ``raw``, not in ``taken``.

    A name that is safe as it is stays as it is; any other gets the safe
    characters and a hash of its bytes, so that ``alice smith.ipynb`` and
    ``alice_smith.ipynb`` get outputs of their own.
    """
    import hashlib

    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", shown)[:150].lstrip(".") or "submission"
    if stem != shown or stem in taken:
        stem = f"{stem}-{hashlib.sha256(raw).hexdigest()[:10]}"
    n = 1
    base = stem
    while stem in taken:
        n += 1
        stem = f"{base}-{n}"
    taken.add(stem)
    return stem
