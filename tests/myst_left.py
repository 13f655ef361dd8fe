"""MyST syntax left in a notebook's Markdown, found as a plain CommonMark renderer sees it.

Jupyter renders a Markdown cell as CommonMark (plus ``$`` math and the HTML it
allows). Whatever MyST adds to that shows as literal text there: a role
``{ref}`ch-data` `` is the text "{ref}" and a code span, a directive is a code
block whose language is ``{exercise}``, a label ``(ch-data)=`` is a paragraph.
``myst_pieces`` parses the Markdown with markdown-it-py's ``commonmark``
preset, which knows none of that, and returns each piece it finds, so a test
can print them.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark")

#: What each kind of MyST syntax looks like in CommonMark's inline text (a line of it).
_LINE_PATTERNS = {
    "label": re.compile(r"^\s*\([\w:.\-]+\)=\s*$"),
    "numbered equation": re.compile(r"\$\$\s*\([\w:.\-]+\)"),
    "colon fence": re.compile(r"^\s*:{3,}"),
    "cell break": re.compile(r"^\s*\+\+\+"),
    "directive option": re.compile(r"^\s*:[\w\-]+:(\s|$)"),
    "comment": re.compile(r"^%(?!pip|conda|matplotlib|time|timeit|run|load)"),
    "definition": re.compile(r"^:\s+\S"),
}
_TEXT_PATTERNS = {
    "substitution": re.compile(r"\{\{[^}]*\}\}"),
    "footnote": re.compile(r"\[\^[\w\-]+\]"),
    "attribute": re.compile(r"\{#[\w\-]+\}"),
    "glue": re.compile(r"\{glue(:\w+)?\}"),
}
_ROLE_END = re.compile(r"\{[A-Za-z][\w:.+\-]*\}$")
_ROLE_ANY = re.compile(r"\{[A-Za-z][\w.+\-]*(:[\w.+\-]+)*\}`")


def myst_pieces(markdown: str) -> list[str]:
    """The pieces of MyST syntax in ``markdown``, each as a short description."""
    found = []
    tokens = _MD.parse(markdown)
    for tok in tokens:
        if tok.type == "fence" and tok.info.strip().startswith("{"):
            found.append(f"directive {tok.info.strip()}")
        if tok.type in ("html_block",) and _ROLE_ANY.search(tok.content):
            found.append(f"role in HTML: {_ROLE_ANY.search(tok.content).group(0)}")
        if tok.type != "inline":
            continue
        for line in tok.content.splitlines():
            for kind, pattern in _LINE_PATTERNS.items():
                if pattern.search(line):
                    found.append(f"{kind}: {line.strip()[:60]}")
        children = tok.children or []
        for i, child in enumerate(children):
            if child.type != "text":
                continue
            nxt = children[i + 1] if i + 1 < len(children) else None
            text = child.content
            role = _ROLE_END.search(text)
            if nxt is not None and nxt.type == "code_inline" and role:
                found.append(f"role {role.group(0)}`{nxt.content}`")
                text = text[:role.start()]      # counted once, as a role
            for kind, pattern in _TEXT_PATTERNS.items():
                for m in pattern.finditer(text):
                    found.append(f"{kind}: {m.group(0)}")
    return found


def notebook_pieces(nb) -> list[str]:
    """The MyST pieces in every Markdown cell of a notebook, with the cell's number."""
    out = []
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        out += [f"cell {number}: {piece}" for piece in myst_pieces(source)]
    return out
