"""The notebooks the site offers, written from the resolved chapters as plain Jupyter.

A chapter is a MyST notebook: its Markdown holds roles (``{glue:text}``,
``{ref}``, ``{eq}``, ``{cite:t}``), directives (``literalinclude``,
``exercise``, ``glue:figure``) and labels that only Sphinx understands. Opened
as it is in JupyterLab, VS Code or Colab, a reader would see that syntax where
the page shows numbers, code and text. So the site does not offer the source.
After Sphinx has resolved a chapter (event ``doctree-resolved``), this
extension walks its docutils tree and writes each piece of it as the
Markdown, math and HTML that Jupyter renders:

* a glued value is the number this build computed (it is already text in the
  resolved tree); a ``literalinclude`` is the lines the page shows, in a fenced
  Python block; a cross-reference is the text the page shows ("Chapter 3",
  "(4.1)"), and a link to the site where ``html_baseurl`` is set;
* a numbered equation carries ``\\tag{n}``; an admonition or an exercise is a
  block quote with its title in bold; a solution or a dropdown is a
  ``<details>`` element; a figure is the image, attached to the cell, with its
  caption; a citation reads "Author (year)" and the notebook ends with a
  references cell.

The code cells are those of the executed notebook, in order, with the outputs
the page shows. Hidden cells stay (a later cell may need what they define),
folded in JupyterLab (``jupyter.source_hidden``) and without outputs (the
figures they draw are in the text, where it refers to them), and without the
build's own machinery:
``glue`` calls and the ``myst_nb`` import are taken out, and so is every
``assert`` statement of a hidden cell (those are the build's checks of its own
run), and cells tagged ``book-only`` are left out altogether. A cell with
nothing left is dropped.

Three notebooks per chapter come from this: the chapter's notebook (the
download button's ``.ipynb``, ``_sources/<page>.ipynb``), its student edition
(the page's ``{download}`` link, ``_downloads/.../<chapter>-student.ipynb``,
which "Download my notebook" also starts from), whose solution cells are the
stubs that ``tools/student_edition.py`` wrote into ``book/_student`` before the
build, without outputs; and a copy of each under ``_build/notebooks/``, for
JupyterLab (README). The first cell of each says how to install ``memrnn`` from
the wheel the site ships: ``memrnn-<version>-py3-none-any.whl``, at the site's
root. It is built from the checkout (``browser_run._build_wheel``, the same
wheel the Run buttons load).

The conversion fails the build (a warning, an error under ``-W``) on a node it
does not know, so a new kind of content is converted on purpose, not by chance.
"""

from __future__ import annotations

import ast
import base64
import copy
import mimetypes
import posixpath
import re
import shutil
from pathlib import Path

import nbformat
from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

PREFIX = "[plain-notebooks]"
BUILDERS = ("html", "dirhtml")
INSTALL_ID = "memrnn-install"
REFERENCES_ID = "memrnn-references"


# ================================================================ code cells
def _is_glue_stmt(stmt: ast.stmt) -> bool:
    """``glue(...)`` as a statement, or ``from myst_nb import glue`` / ``import myst_nb``."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        return name == "glue"
    if isinstance(stmt, ast.ImportFrom):
        return (stmt.module or "").split(".")[0] == "myst_nb"
    if isinstance(stmt, ast.Import):
        return all(a.name.split(".")[0] == "myst_nb" for a in stmt.names)
    return False


def _removable(stmt: ast.stmt, asserts: bool) -> bool:
    if _is_glue_stmt(stmt) or (asserts and isinstance(stmt, ast.Assert)):
        return True
    if isinstance(stmt, (ast.For, ast.While, ast.If, ast.With)):
        # A block that only glues (``for key, value in ...: glue(key, value)``) goes whole.
        body = list(stmt.body) + list(getattr(stmt, "orelse", []))
        return all(_removable(s, asserts) for s in body)
    return False


def _spans(body: list[ast.stmt], asserts: bool) -> list[tuple[int, int, int | None]]:
    """Line spans (first, last, indent of a block left empty) to take out of ``body``."""
    out = []
    for stmt in body:
        if _removable(stmt, asserts):
            out.append((stmt.lineno, stmt.end_lineno, None))
        elif isinstance(stmt, (ast.For, ast.While, ast.If, ast.With, ast.FunctionDef,
                               ast.ClassDef, ast.Try)):
            for field in ("body", "orelse", "finalbody"):
                block = getattr(stmt, field, None) or []
                inner = _spans(block, asserts)
                if block and len([s for s in inner if s[2] is None]) == len(block) and \
                        all(_removable(s, asserts) for s in block):
                    # The block would be empty: keep it, as ``pass``.
                    inner = [(block[0].lineno, block[-1].end_lineno, block[0].col_offset)]
                out += inner
    return out


def strip_build_code(source: str, hidden: bool) -> str:
    """``source`` without glue (always) and without assert statements (in a hidden cell)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source   # IPython syntax (%magic): left as it is
    spans = _spans(tree.body, asserts=hidden)
    if not spans:
        return source
    lines = source.splitlines()
    drop, passes = set(), {}
    for first, last, indent in spans:
        drop.update(range(first - 1, last))
        if indent is not None:
            passes[first - 1] = " " * indent + "pass"
        # A comment just above a statement taken out went with it ("# Hidden check: ...").
        k = first - 2
        while k >= 0 and lines[k].strip().startswith("#") and k not in drop:
            drop.add(k)
            k -= 1
    kept = []
    for i, line in enumerate(lines):
        if i in passes:
            kept.append(passes[i])
        elif i not in drop:
            kept.append(line)
    text = "\n".join(kept)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    # Nothing but comments left: nothing to run.
    if not any(ln.strip() and not ln.strip().startswith("#") for ln in text.splitlines()):
        return ""
    return text


def _is_glue_output(out) -> bool:
    return "scrapbook" in out.get("metadata", {}) or any(
        k.startswith("application/papermill.record/") for k in out.get("data", {}))


def plain_code_cell(cell, keep_outputs: bool = True):
    """The offered copy of one executed code cell, or None if nothing is left to run."""
    tags = list(cell.metadata.get("tags", []))
    if "book-only" in tags:
        return None
    hidden = "remove-cell" in tags
    source = strip_build_code(cell.source, hidden=hidden)
    if not source.strip():
        return None
    new = nbformat.v4.new_code_cell(source)
    meta = {k: copy.deepcopy(v) for k, v in cell.metadata.items()
            if k not in ("execution",)}
    jupyter = dict(meta.get("jupyter", {}))
    if hidden or "remove-input" in tags or "hide-input" in tags:
        jupyter["source_hidden"] = True
    if "hide-output" in tags:
        jupyter["outputs_hidden"] = True
    if jupyter:
        meta["jupyter"] = jupyter
    new.metadata = nbformat.from_dict(meta)
    if keep_outputs:
        # What the page does not show (a hidden cell's figures, which the text shows where
        # it refers to them), the notebook does not either, until the cell runs again.
        shown = not (hidden or "remove-output" in tags)
        new.outputs = [copy.deepcopy(o) for o in cell.get("outputs", [])
                       if shown and not _is_glue_output(o)]
        new.execution_count = cell.get("execution_count")
    return new


# ================================================================ Markdown
class UnknownNode(Exception):
    pass


_INLINE_ESCAPE = re.compile(r"([\\`*\[\]<>$|])")


def _escape(text: str) -> str:
    text = _INLINE_ESCAPE.sub(r"\\\1", text)
    # An underscore only where it could open or close emphasis.
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    text = text.replace("&", "&amp;") if re.search(r"&\w+;", text) else text
    return text


def _code_span(text: str) -> str:
    text = text.replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fence(text: str, lang: str = "") -> str:
    longest = max((len(m) for m in re.findall(r"^`{3,}", text, re.M)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def _indent(text: str, prefix: str, first: str | None = None) -> str:
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        p = first if (i == 0 and first is not None) else prefix
        out.append((p + line) if line.strip() else p.rstrip())
    return "\n".join(out)


class MarkdownWriter:
    """Markdown for the nodes of one resolved page."""

    def __init__(self, app, docname: str):
        self.app = app
        self.env = app.env
        self.docname = docname
        self.baseurl = (app.config.html_baseurl or "").rstrip("/")
        self.attachments: dict[str, dict] = {}
        self.citations: list[str] = []         # anchors on the bibliography page, in order
        self.fignumbers = self.env.toc_fignumbers.get(docname, {})

    # ---------------------------------------------------------------- links
    def _site_url(self, node) -> str | None:
        """The page's link as an absolute URL on the site, or None where there is none."""
        if not self.baseurl:
            return None
        if node.get("refid"):
            target = f"{self.docname}.html#{node['refid']}"
        else:
            uri = node.get("refuri", "")
            if not uri or "://" in uri or uri.startswith("mailto:"):
                return None
            base = posixpath.dirname(self.docname)
            path, _, anchor = uri.partition("#")
            target = posixpath.normpath(posixpath.join(base, path)) if path else f"{self.docname}.html"
            if anchor:
                target += "#" + anchor
        return f"{self.baseurl}/{target}"

    def _bib_anchor(self, node) -> str | None:
        uri = node.get("refuri", "")
        path, _, anchor = uri.partition("#")
        if not anchor or not path:
            return None
        target = posixpath.normpath(posixpath.join(posixpath.dirname(self.docname), path))
        return anchor if target.endswith("references.html") else None

    # ---------------------------------------------------------------- inline
    def inline(self, node) -> str:
        return "".join(self._inline(child) for child in node.children)

    def _inline(self, node) -> str:
        if isinstance(node, nodes.Text):
            return _escape(node.astext())
        if isinstance(node, nodes.emphasis):
            inner = self.inline(node).strip()
            return f"*{inner}*" if inner else ""
        if isinstance(node, nodes.strong):
            inner = self.inline(node).strip()
            return f"**{inner}**" if inner else ""
        if isinstance(node, nodes.literal):
            return _code_span(node.astext())
        if isinstance(node, nodes.math):
            return f"${node.astext().strip()}$"
        if isinstance(node, addnodes.download_reference):
            # The page shows the text as a link that saves the file; here, the file's name.
            text = _escape(node.astext())
            filename = node.get("filename", "")
            if self.baseurl and filename:
                return f"[{text}](<{self.baseurl}/_downloads/{filename}>)"
            return f"{text} ({_code_span(filename.split('/')[-1])})" if filename else text
        if isinstance(node, nodes.reference):
            text = self.inline(node)
            uri = node.get("refuri", "")
            if "://" in uri or uri.startswith("mailto:"):
                url = uri
            else:
                anchor = self._bib_anchor(node)
                if anchor and anchor not in self.citations:
                    self.citations.append(anchor)
                url = self._site_url(node)
            return f"[{text}](<{url}>)" if url and text.strip() else text
        if isinstance(node, nodes.inline) and "bibtex-citation" in node.get("classes", []):
            # "Hochreiter [1997]" on the page; "Author (year)" in a notebook.
            return self.inline(node).replace("\\[", "(").replace("\\]", ")")
        if isinstance(node, nodes.footnote_reference):
            return f"[{node.astext()}]"
        if isinstance(node, nodes.image):
            return self._image(node)
        if isinstance(node, nodes.raw):
            return node.astext() if "html" in node.get("format", "").split() else ""
        if isinstance(node, (nodes.target, nodes.comment, nodes.substitution_definition,
                             addnodes.index)):
            return ""
        if isinstance(node, (nodes.inline, nodes.abbreviation, nodes.title_reference,
                             nodes.subscript, nodes.superscript, addnodes.pending_xref,
                             nodes.number_reference if hasattr(nodes, "number_reference")
                             else nodes.inline, addnodes.number_reference,
                             addnodes.literal_emphasis, addnodes.literal_strong)):
            return self.inline(node)
        if isinstance(node, nodes.TextElement):
            return self.inline(node)
        raise UnknownNode(f"inline {node.__class__.__name__}: {node.astext()[:60]!r}")

    # ---------------------------------------------------------------- blocks
    def blocks(self, node) -> str:
        parts = [self.block(child) for child in node.children]
        return "\n\n".join(p for p in parts if p and p.strip())

    def block(self, node) -> str:
        name = node.__class__.__name__
        if isinstance(node, nodes.paragraph):
            return self.inline(node).strip()
        if isinstance(node, nodes.title):
            return f"**{self.inline(node).strip()}**"
        if isinstance(node, nodes.rubric):
            return f"**{self.inline(node).strip()}**"
        if isinstance(node, nodes.bullet_list):
            return "\n".join(_indent(self.blocks(item), "  ", "- ") for item in node.children)
        if isinstance(node, nodes.enumerated_list):
            start = node.get("start", 1)
            items = []
            for i, item in enumerate(node.children):
                marker = f"{start + i}. "
                items.append(_indent(self.blocks(item), " " * len(marker), marker))
            return "\n".join(items)
        if isinstance(node, nodes.definition_list):
            items = []
            for item in node.children:
                term = " ".join(self.inline(t).strip() for t in item.findall(nodes.term))
                definition = next(iter(item.findall(nodes.definition)), None)
                body = self.blocks(definition) if definition is not None else ""
                items.append(_indent(f"**{term}**" + (f"\n\n{body}" if body else ""), "  ", "- "))
            return "\n".join(items)
        if isinstance(node, nodes.literal_block):
            lang = node.get("language", "")
            if lang in ("default", "none", "text") or not lang:
                lang = "python" if node.get("source", "").endswith(".py") else ""
            if lang in ("ipython3", "ipython"):
                lang = "python"
            return _fence(node.astext(), lang)
        if isinstance(node, nodes.doctest_block):
            return _fence(node.astext(), "python")
        if isinstance(node, nodes.math_block):
            return self._math_block(node)
        if isinstance(node, nodes.figure):
            return self._figure(node)
        if isinstance(node, nodes.image):
            return self._image(node)
        if isinstance(node, nodes.table):
            return self._table(node)
        if name in ("solution_node",) or (isinstance(node, nodes.Admonition)
                                         and "dropdown" in node.get("classes", [])):
            return self._details(node)
        if isinstance(node, nodes.Admonition) or name.startswith("exercise"):
            return self._admonition(node)
        if isinstance(node, (nodes.block_quote, nodes.topic, nodes.sidebar, nodes.line_block)):
            return _indent(self.blocks(node), "> ")
        if isinstance(node, nodes.line):
            return self.inline(node)
        if isinstance(node, nodes.transition):
            return "---"
        if isinstance(node, nodes.raw):
            return node.astext() if "html" in node.get("format", "").split() else ""
        if isinstance(node, nodes.footnote):
            label = node.children[0].astext() if node.children else ""
            return f"[{label}] " + self.blocks(node[1:] if False else _without_label(node))
        if isinstance(node, (nodes.target, nodes.comment, nodes.substitution_definition,
                             addnodes.index, addnodes.toctree, nodes.system_message)):
            return ""
        if isinstance(node, nodes.caption):
            return f"*{self.inline(node).strip()}*"
        if isinstance(node, (nodes.container, nodes.compound, nodes.section, nodes.legend,
                             addnodes.compact_paragraph, nodes.definition, nodes.list_item,
                             nodes.field_body)):
            if node.get("nb_element") == "cell_code":
                raise UnknownNode("a code cell inside a block")
            return self.blocks(node)
        if isinstance(node, nodes.field_list):
            return "\n".join(
                _indent(f"**{self.inline(f[0]).strip()}**: " + self.blocks(f[1]), "  ", "- ")
                for f in node.children)
        if isinstance(node, nodes.TextElement):
            return self.inline(node)
        if isinstance(node, nodes.Element) and not isinstance(node, nodes.Inline):
            raise UnknownNode(f"block {name}: {node.astext()[:60]!r}")
        return self._inline(node)

    def _number(self, node) -> str | None:
        """"Fig. 4", "Exercise 2": the number the page shows before a numbered node, or None."""
        figtype = self.env.get_domain("std").get_enumerable_node_type(node)
        if not figtype or not node.get("ids"):
            return None
        numbers = self.fignumbers.get(figtype, {}).get(node["ids"][0])
        if not numbers:
            return None
        fmt = self.app.config.numfig_format.get(figtype, "%s")
        return fmt % ".".join(map(str, numbers))

    def _title_and_body(self, node) -> tuple[str, list]:
        titles = [c for c in node.children if isinstance(c, nodes.title)]
        body = [c for c in node.children if not isinstance(c, nodes.title)]
        number = self._number(node)
        if titles:
            title = self.inline(titles[0]).strip()
            if number:
                title = f"{number} {title}".strip()
        elif number:
            title = number
        else:
            kind = node.__class__.__name__
            title = {"seealso": "See also"}.get(kind, kind.replace("_", " ").capitalize())
        return title, body

    def _body(self, children) -> str:
        parts = [self.block(c) for c in children]
        return "\n\n".join(p for p in parts if p and p.strip())

    def _admonition(self, node) -> str:
        title, body = self._title_and_body(node)
        text = f"**{title}**" + (f"\n\n{self._body(body)}" if body else "")
        return _indent(text, "> ")

    def _details(self, node) -> str:
        title, body = self._title_and_body(node)
        # The summary is HTML: Markdown inside it is not rendered.
        summary = _html_text(title)
        return f"<details>\n<summary>{summary}</summary>\n\n{self._body(body)}\n\n</details>"

    def _math_block(self, node) -> str:
        latex = node.astext().strip()
        tag = ""
        if node.get("ids") and node.get("number") is not None:
            numbers = self.fignumbers.get("displaymath", {}).get(node["ids"][0])
            if numbers:
                tag = ".".join(map(str, numbers))
            else:
                tag = str(node["number"])
        if node.get("nowrap") or re.match(r"\\begin\{(align|equation|gather|multline)", latex):
            body = latex
        elif "\\\\" in latex:
            body = "\\begin{split}" + latex + "\\end{split}"
        else:
            body = latex
        if tag:
            body += f" \\tag{{{tag}}}"
        return f"$$\n{body}\n$$"

    def _image(self, node) -> str:
        uri = node.get("uri", "")
        candidates = node.get("candidates", {})
        path = None
        for cand in [candidates.get(k) for k in ("image/png", "image/jpeg", "image/svg+xml", "*")] + [uri]:
            if not cand:
                continue
            p = Path(cand)
            if not p.is_absolute():
                p = Path(self.app.srcdir) / cand
            if p.is_file():
                path = p
                break
        alt = node.get("alt", "") or "figure"
        if path is None:
            if "://" in uri:
                return f"![{_escape(alt)}]({uri})"
            raise UnknownNode(f"image {uri!r}: no file")
        mime = mimetypes.guess_type(path.name)[0] or "image/png"
        name = f"{len(self.attachments) + 1}-{path.name}"
        if mime == "image/svg+xml":
            data = path.read_text(encoding="utf-8")
        else:
            data = base64.b64encode(path.read_bytes()).decode("ascii")
        self.attachments[name] = {mime: data}
        return f"![{_escape(alt)}](attachment:{name})"

    def _figure(self, node) -> str:
        parts = []
        number = self._number(node)
        for child in node.children:
            if isinstance(child, nodes.caption):
                caption = self.inline(child).strip()
                prefix = f"{number} " if number else ""
                parts.append(f"*{prefix}{caption}*" if caption else "")
            else:
                parts.append(self.block(child))
        return "\n\n".join(p for p in parts if p)

    def _table(self, node) -> str:
        title = next((self.inline(c).strip() for c in node.children if isinstance(c, nodes.title)), "")
        rows, header = [], 0
        for group in node.findall(nodes.tgroup):
            for part in group.children:
                if isinstance(part, (nodes.thead, nodes.tbody)):
                    for row in part.children:
                        cells = [" ".join(self.blocks(e).split("\n")).replace("|", "\\|").strip()
                                 for e in row.children]
                        rows.append(cells)
                    if isinstance(part, nodes.thead):
                        header = len(rows)
        if not rows:
            return ""
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        if not header:
            rows.insert(0, [""] * width)
            header = 1
        lines = ["| " + " | ".join(r) + " |" for r in rows[:header]]
        lines.append("|" + "|".join(["---"] * width) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in rows[header:]]
        table = "\n".join(lines)
        return (f"*{title}*\n\n" + table) if title else table


def _without_label(node):
    copy_ = node.deepcopy()
    copy_.children = [c for c in copy_.children if not isinstance(c, nodes.label)]
    return copy_


def _html_text(markdown: str) -> str:
    """A title written as Markdown, as HTML for a ``<summary>``."""
    text = re.sub(r"\\(.)", r"\1", markdown)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return text


# ================================================================ one page
def _source_map(app, docname) -> list[int]:
    """The first line (1-based, in the .md) of each notebook cell."""
    from myst_nb.core.read import read_myst_markdown_notebook

    path = Path(app.env.doc2path(docname))
    nb = read_myst_markdown_notebook(path.read_text(encoding="utf-8"), add_source_map=True,
                                     path=str(path))
    return list(nb.metadata["source_map"])


def _first_line(node) -> int | None:
    for n in node.findall(nodes.Element):
        if n.line:
            return n.line
    return None


def _cell_at(source_map: list[int], line: int) -> int:
    index = 0
    for i, start in enumerate(source_map):
        if start + 1 <= line:
            index = i
    return index


def page_items(app, docname: str, doctree, executed) -> tuple[list, MarkdownWriter]:
    """The page as a list of ("md", text) and ("code", cell index) in reading order."""
    writer = MarkdownWriter(app, docname)
    source_map = _source_map(app, docname)
    code_indices = [i for i, c in enumerate(executed.cells) if c.cell_type == "code"]
    pending = list(code_indices)   # code cells not placed yet (hidden ones are not in the tree)
    items: list = []

    def flush(before: int):
        while pending and pending[0] < before:
            items.append(("code", pending.pop(0)))

    def walk(node, level):
        for child in node.children:
            if isinstance(child, nodes.container) and child.get("nb_element") == "cell_code":
                index = int(child["cell_index"])
                flush(index)
                if pending and pending[0] == index:
                    items.append(("code", pending.pop(0)))
                continue
            line = _first_line(child)
            if line is not None:
                flush(_cell_at(source_map, line))
            if isinstance(child, nodes.section):
                title = next((c for c in child.children if isinstance(c, nodes.title)), None)
                if title is not None:
                    items.append(("heading", "#" * level + " " + writer.inline(title).strip()))
                walk(nodes.Element("", *[c for c in child.children if c is not title])
                     if False else _SectionBody(child, title), level + 1)
                continue
            text = writer.block(child)
            if text and text.strip():
                items.append(("md", text))

    walk(doctree, 1)
    flush(len(executed.cells) + 1)
    return items, writer


class _SectionBody:
    """A section's children without its title, walkable like a node."""

    def __init__(self, section, title):
        self.children = [c for c in section.children if c is not title]


def wheel_requires(wheel: Path) -> list[str]:
    """The names of the packages a wheel requires (its METADATA's Requires-Dist, no extras)."""
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        lines = zf.read(meta).decode("utf-8").splitlines()
    names = []
    for line in lines:
        if line.startswith("Requires-Dist:") and "extra ==" not in line:
            names.append(re.split(r"[\s<>=!~;\[(]", line.split(":", 1)[1].strip())[0])
    return names


def install_cell(wheel: str | None, baseurl: str, requires: list[str] = ()) -> str:
    if wheel:
        where = f"{baseurl}/{wheel}" if baseurl else wheel
        place = (f"[`{wheel}`](<{where}>)" if baseurl else
                 f"`{wheel}`, at the root of the book's site (the folder of its `index.html`)")
        pip = (f"pip install {where}" if baseurl else f"pip install {wheel}")
    else:
        place = "a wheel of `memrnn` built from the book's repository (`pip wheel --no-deps .`)"
        pip = "pip install memrnn-*.whl"
    return ("**Before you run this notebook**, install the `memrnn` package in the environment of "
            f"its kernel. It comes as the wheel {place}; download it next to this notebook and "
            "run, in a terminal,\n\n"
            f"```\n{pip}\n```\n\n"
            f"or `%pip install {pip.split()[-1]}` in a cell of this notebook. pip fetches "
            f"what it needs with it ({', '.join(f'`{r}`' for r in requires) or 'nothing more'}). "
            "The notebook needs nothing else: every "
            "number in its text and every figure comes from the build of the book that wrote it.")


def _markdown_cell(text: str, attachments: dict | None = None, **meta):
    cell = nbformat.v4.new_markdown_cell(text)
    if meta:
        cell.metadata = nbformat.from_dict(meta)
    if attachments:
        cell.attachments = nbformat.from_dict(attachments)
    return cell


def plain_notebook(app, docname, doctree, executed, wheel: str | None):
    """The chapter's notebook, plain Jupyter, and the writer (for its citations)."""
    items, writer = page_items(app, docname, doctree, executed)
    state = getattr(app, "plain_notebooks", {})
    requires = state.get("requires", [])
    cells = [_markdown_cell(install_cell(wheel, writer.baseurl, requires), id=INSTALL_ID)]
    cells[0].id = INSTALL_ID
    buffer: list[str] = []
    used: set[str] = set()

    def close():
        if buffer:
            text = "\n\n".join(buffer)
            names = set(re.findall(r"\(attachment:([^)\s]+)\)", text))
            attach = {n: writer.attachments[n] for n in sorted(names)}
            used.update(names)
            cells.append(_markdown_cell(text, attach))
            buffer.clear()

    for kind, value in items:
        if kind == "heading":
            close()
            buffer.append(value)
        elif kind == "md":
            buffer.append(value)
        else:
            cell = plain_code_cell(executed.cells[value])
            if cell is None:
                continue
            close()
            cells.append(cell)
    close()
    if writer.citations:
        cells.append(_markdown_cell(_references(app, writer), id=REFERENCES_ID))
        cells[-1].id = REFERENCES_ID
    nb = nbformat.v4.new_notebook()
    nb.metadata = nbformat.from_dict({
        k: v for k, v in executed.metadata.items() if k in ("kernelspec", "language_info")})
    nb.metadata["memrnn_page"] = docname
    nb.cells = cells
    return nb


_BIB_CACHE: dict = {}


def _references(app, writer) -> str:
    """The bibliography entries the page cites, from the references page."""
    key = "book/references"
    if key not in _BIB_CACHE:
        tree = app.env.get_and_resolve_doctree(key, app.builder)
        entries = {}
        for node in tree.findall(nodes.citation):
            for anchor in node.get("ids", []):
                entries[anchor] = node
        _BIB_CACHE[key] = entries
    entries = _BIB_CACHE[key]
    lines = ["## References", ""]
    for anchor in writer.citations:
        node = entries.get(anchor)
        if node is None:
            continue
        lines.append("- " + writer.blocks(_without_label(node)).replace("\n\n", " "))
    return "\n".join(lines)


def student_edition(chapter_nb, raw_student):
    """The student edition from the plain chapter: stubs for solutions, no outputs."""
    stubs = iter([c for c in raw_student.cells
                  if c.cell_type == "code" and "stub" in c.metadata.get("tags", [])])
    identity = [c for c in raw_student.cells if "student-id" in c.metadata.get("tags", [])]
    nb = copy.deepcopy(chapter_nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        if "solution" in cell.metadata.get("tags", []):
            stub = next(stubs, None)
            if stub is None:
                raise ValueError("more solution cells than stubs")
            cell.source = stub.source
            cell.metadata = copy.deepcopy(stub.metadata)
    if next(stubs, None) is not None:
        raise ValueError("more stubs than solution cells")
    nb.metadata["memrnn_student_edition"] = copy.deepcopy(
        raw_student.metadata.get("memrnn_student_edition", {}))
    if identity:
        # memrnn grade reads the name and number from the first cell; the page's
        # "Download my notebook" fills in that same cell.
        nb.cells.insert(0, copy.deepcopy(identity[0]))
    return nb


# ================================================================ Sphinx
def _executed_path(app, docname) -> Path:
    return Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"


def _on_doctree_resolved(app, doctree, docname):
    if app.builder.name not in BUILDERS or "kernelspec" not in app.env.metadata.get(docname, {}):
        return
    executed = _executed_path(app, docname)
    if not executed.is_file():
        return   # notebook_download reports it
    nb_exec = nbformat.read(executed, as_version=4)
    try:
        nb = plain_notebook(app, docname, doctree, nb_exec, app.plain_notebooks["wheel_name"])
    except UnknownNode as err:
        logger.warning(f"{PREFIX} {docname}: cannot write as plain Markdown: {err}",
                       location=docname)
        return
    nbformat.validate(nb)
    app.plain_notebooks["pages"][docname] = nb


def plain_path(app, docname) -> Path:
    """Where the plain notebook of a page is written (``notebook_download`` offers it)."""
    return Path(app.outdir).parent / "notebooks" / f"{docname.split('/')[-1]}.ipynb"


def _builder_inited(app):
    app.plain_notebooks = {"pages": {}, "wheel": None, "wheel_name": None}
    if app.builder.name not in BUILDERS:
        return
    folder = Path(app.outdir).parent / "notebooks"
    shutil.rmtree(folder, ignore_errors=True)
    run = getattr(app, "browser_run", None)
    if run and run.get("wheel"):
        wheel = run["wheel"]
    else:
        import browser_run
        try:
            wheel, _ = browser_run._build_wheel(app)
        except RuntimeError as err:
            logger.warning(f"{PREFIX} {err}")
            return
    # Beside the notebooks (browser_run deletes its own copy at the end of the build).
    folder.mkdir(parents=True)
    app.plain_notebooks["wheel"] = Path(shutil.copy(wheel, folder / wheel.name))
    app.plain_notebooks["wheel_name"] = wheel.name
    app.plain_notebooks["requires"] = wheel_requires(wheel)


def _write_page(app, pagename, templatename, context, doctree):
    """Before notebook_download (500): write the page's plain notebook where it looks."""
    nb = getattr(app, "plain_notebooks", {}).get("pages", {}).get(pagename)
    if nb is None:
        return
    target = plain_path(app, pagename)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    nbformat.write(nb, tmp)
    tmp.replace(target)


def _build_finished(app, exception):
    state = getattr(app, "plain_notebooks", None)
    if exception is not None or not state or app.builder.name not in BUILDERS:
        return
    if state.get("wheel"):
        shutil.copyfile(state["wheel"], Path(app.outdir) / state["wheel"].name)
    # The student editions: the {download} copies of book/_student/*, rewritten.
    notebooks = Path(app.outdir).parent / "notebooks"
    for source, (_docnames, dest) in app.env.dlfiles.items():
        if not source.endswith("-student.ipynb"):
            continue
        chapter = Path(source).name[: -len("-student.ipynb")]
        page = next((d for d in state["pages"] if d.split("/")[-1] == chapter), None)
        if page is None:
            logger.warning(f"{PREFIX} no chapter notebook for the student edition {source}")
            continue
        raw = nbformat.read(Path(app.srcdir) / source, as_version=4)
        nb = student_edition(state["pages"][page], raw)
        nbformat.validate(nb)
        for target in (Path(app.outdir) / "_downloads" / dest, notebooks / f"{chapter}-student.ipynb"):
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
    logger.info(f"{PREFIX} {len(state['pages'])} chapter notebooks and their student editions "
                f"written as plain Jupyter into {notebooks}")


def setup(app):
    app.connect("builder-inited", _builder_inited, priority=600)   # after browser_run (500)
    app.connect("doctree-resolved", _on_doctree_resolved)
    app.connect("html-page-context", _write_page, priority=400)
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
