"""On the API page, under each object: the chapters that use it, found in their sources at build time.

A chapter named by hand in a docstring goes stale as soon as the chapters
move; this list cannot. A chapter *uses* an object when its source names it
in code: in a code cell, in inline code, or in a ``literalinclude``. Only the
objects a module defines at its top level get the line (``memrnn.data.
generate_samples``, not a method of a class).
"""

from __future__ import annotations

import re
from pathlib import Path

_LABEL = re.compile(r"^\((ch-[\w-]+)\)=\s*$", re.M)
_CODE = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```|^:pyobject: *(\S+)|`([^`\n]+)`", re.M | re.S)


def chapter_code(book: Path) -> dict[str, str]:
    """Chapter label -> the code its source holds (cells, inline code, included objects)."""
    out = {}
    for path in sorted(book.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        label = _LABEL.search(text)
        if label:
            out[label[1]] = "\n".join(filter(None, (g for m in _CODE.finditer(text) for g in m.groups())))
    return out


def users(name: str, code: dict[str, str]) -> list[str]:
    """The labels of the chapters whose code names ``name`` (a whole word)."""
    pattern = re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")
    return [label for label, text in code.items() if pattern.search(text)]


def _add_used_in(app, what, name, obj, options, lines):
    parts = name.split(".")
    if what not in ("function", "class", "exception", "data") or len(parts) != 3:
        return
    labels = users(parts[-1], app.env.memrnn_chapter_code)
    if labels:
        lines.extend(["", "*Used in:* " + ", ".join(f":ref:`{label}`" for label in labels)])


def _read_chapters(app, env, docnames):
    env.memrnn_chapter_code = chapter_code(Path(app.srcdir) / "book")


def setup(app):
    app.connect("env-before-read-docs", _read_chapters)
    app.connect("autodoc-process-docstring", _add_used_in)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
