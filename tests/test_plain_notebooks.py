"""The notebooks the site offers read like the page and run outside the repository.

Every offered notebook (each chapter's download, each student edition) is
written by ``book/_ext/plain_notebooks.py`` from the resolved chapter. These
tests hold it to what a student sees and does:

- its Markdown, rendered by a plain CommonMark parser, holds no MyST syntax
  (``tests/myst_left.py``): no role, directive, label, colon fence or glue;
- no code cell holds a ``glue`` call or the ``myst_nb`` import, and no hidden
  cell an ``assert`` (the build's checks of its own run);
- the numbers the page glued into its prose are in the notebook's text;
- executed from an empty folder by a kernel of a fresh venv that holds only
  the memrnn wheel the site ships (and ``ipykernel``), each chapter notebook
  runs top to bottom, and each student edition raises nothing but its stub's
  ``NotImplementedError``, which the check cell reports.

The venv is made once per session. The chapters that train reuse the build's
results through ``MEMRNN_BOOK_CACHE``, as the build does between chapters 5
and 6 (``test_robustness.py`` trains them again, under other seeds). How long
each notebook took is written to ``test-artifacts/outside.json``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import nbclient
import nbformat
import pytest
from myst_left import myst_pieces, notebook_pieces

from bookpages import NOTEBOOK_PAGES, PAGES, ROOT, student_pages

pytestmark = pytest.mark.book

#: Each notebook run outside: ok or not, and its seconds (test-artifacts/outside.json).
OUTSIDE_LOG: list[dict] = []
STUDENT_PAGES = student_pages()


def offered(book, page: str, student: bool = False):
    """The notebook the page offers: its download button's, or its student edition."""
    name = page.split("/")[1]
    if not student:
        return nbformat.read(book["html"] / "_sources" / f"{page}.ipynb", as_version=4)
    hits = list((book["html"] / "_downloads").glob(f"*/{name}-student.ipynb"))
    assert len(hits) == 1, hits
    return nbformat.read(hits[0], as_version=4)


def all_offered():
    return ([(p, False) for p in NOTEBOOK_PAGES] + [(p, True) for p in STUDENT_PAGES])


def _id(case):
    page, student = case
    return page.split("/")[1] + ("-student" if student else "")


# ------------------------------------------------------------ the checker
@pytest.mark.parametrize("text, kind", [
    ("See {ref}`ch-data`.", "role"),
    ("Over {glue:text}`big_n:,` numbers.", "role"),
    ("```{literalinclude} ../memrnn/data.py\n:pyobject: x\n```", "directive"),
    ("(ch-data)=\n# Data", "label"),
    ("$$\nx\n$$ (eq-task)", "numbered equation"),
    (":::{admonition} In this chapter\n:class: tip\nText\n:::", "colon fence"),
    ("+++", "cell break"),
    ("A term\n: its definition", "definition"),
])
def test_the_checker_finds_each_kind_of_myst(text, kind):
    assert any(p.startswith(kind) for p in myst_pieces(text)), (text, myst_pieces(text))


def test_the_checker_passes_plain_markdown():
    plain = ("# Data\n\nSee Chapter 1 and (2.1), $x_{t}$ and `code`.\n\n```python\nx = 1\n```\n\n"
             "> **Note**\n>\n> text\n\n<details>\n<summary>Solution</summary>\n\nIt is `y`.\n\n"
             "</details>\n\n$$\nL = \\frac{1}{N} \\tag{2.1}\n$$\n")
    assert myst_pieces(plain) == []


# ------------------------------------------------------------ the Markdown
@pytest.mark.parametrize("case", all_offered(), ids=_id)
def test_offered_notebook_is_plain_jupyter(book, case):
    page, student = case
    nb = offered(book, page, student)
    nbformat.validate(nb)
    assert notebook_pieces(nb) == []
    # It says how to install memrnn, by the wheel's file name, which the site ships.
    wheels = sorted(p.name for p in book["html"].glob("memrnn-*-py3-none-any.whl"))
    assert len(wheels) == 1, wheels
    first = nb.cells[1 if student and nb.cells[0].metadata.get("tags") == ["student-id"] else 0]
    assert first.cell_type == "markdown" and wheels[0] in first.source, first.source[:300]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for name in re.findall(r"\(attachment:([^)\s]+)\)", cell.source):
                assert name in cell.get("attachments", {}), (page, name)
            continue
        tree = ast.parse(cell.source)
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and getattr(n.func, "id", getattr(n.func, "attr", "")) == "glue"]
        assert not calls, cell.source
        assert "myst_nb" not in cell.source, cell.source
        if "remove-cell" in cell.metadata.get("tags", []):
            # Hidden as on the page: folded, no output, none of the build's checks.
            assert cell.metadata.get("jupyter", {}).get("source_hidden"), cell.source
            assert not cell.get("outputs"), cell.source
            assert not [n for n in ast.walk(tree) if isinstance(n, ast.Assert)], cell.source
        assert "book-only" not in cell.metadata.get("tags", []), cell.source
    raw = json.dumps(nb)
    for path in {str(ROOT), str(book["out"])}:
        assert path not in raw, f"absolute path {path} in {_id(case)}"


def _glued_texts(book, page) -> list[str]:
    data = json.loads((book["executed"] / f"{page}.glue.json").read_text(encoding="utf-8"))
    texts = []
    for out in data.values():
        plain = next((v for k, v in out.get("data", {}).items() if k.endswith("text/plain")), None)
        if isinstance(plain, str) and re.fullmatch(r"'?[-+]?\d+(\.\d+)?'?", plain.strip()):
            texts.append(plain.strip("'"))
    return texts


@pytest.mark.parametrize("page", [p for p in NOTEBOOK_PAGES if p != "book/intro"])
def test_the_pages_numbers_are_in_the_notebook(book, page):
    """Each glued integer the page shows is in the notebook's text."""
    nb = offered(book, page)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    html = (book["html"] / f"{page}.html").read_text(encoding="utf-8")
    integers = [t for t in _glued_texts(book, page) if re.fullmatch(r"\d{2,}", t) and t in html]
    missing = [t for t in integers if t not in text]
    assert not missing, missing


@pytest.mark.parametrize("page", [p for p in NOTEBOOK_PAGES if p != "book/intro"])
def test_numbers_of_equations_figures_and_exercises_are_the_pages(book, page):
    """Every equation, figure and exercise number the page shows, the notebook shows too."""
    nb = offered(book, page)
    text = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    html = (book["html"] / f"{page}.html").read_text(encoding="utf-8")
    for number in re.findall(r'class="eqno">\((\d+(?:\.\d+)*)\)', html):
        assert f"\\tag{{{number}}}" in text, number
    for caption in re.findall(r'class="caption-number">((?:Fig\.|Exercise) \d+(?:\.\d+)*)', html):
        assert caption in text, caption
    # Solutions fold away, as on the page.
    assert text.count("<details>") == html.count('class="solution dropdown admonition"')


def test_a_chapter_reads_like_its_page(book):
    """Chapter 4: its code listing, its exercise, its figure, its citations."""
    nb = offered(book, "book/04-learner")
    text = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "def train_step(self" in text and "```python" in text   # literalinclude
    assert "> **Exercise" in text
    assert "(attachment:" in text
    assert re.search(r"[A-Z]\w+( \*et al\.\*)? \(\d{4}\)", text)      # Author (year)
    assert not re.search(r"\\\[\d{4}\\\]", text)                      # not Author [year]
    assert nb.cells[-1].source.startswith("## References")


# ------------------------------------------------------------ the download menu
class _DownloadMenu(HTMLParser):
    """The entries of a page's download menu, the theme's ``dropdown-download-buttons``.

    ``entries`` holds (the entry's ``btn-download-...`` class, its ``href`` or None for a
    button) for each, in order.
    """

    def __init__(self):
        super().__init__()
        self.depth, self.menus, self.entries = 0, 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if not self.depth:
            if tag == "div" and "dropdown-download-buttons" in classes:
                self.depth, self.menus = 1, self.menus + 1
            return
        if tag == "div":
            self.depth += 1
        kind = next((c for c in classes if c.startswith("btn-download-")), None)
        if kind and tag in ("a", "button"):
            self.entries.append((kind, attrs.get("href")))

    def handle_endtag(self, tag):
        if self.depth and tag == "div":
            self.depth -= 1


def download_menu(html_file: Path) -> _DownloadMenu:
    menu = _DownloadMenu()
    menu.feed(html_file.read_text(encoding="utf-8"))
    return menu


def test_the_menu_reader_finds_the_entries():
    menu = _DownloadMenu()
    menu.feed('<div class="dropdown dropdown-download-buttons"><ul><li><a href="a.ipynb" '
              'class="btn btn-download-notebook-button">.ipynb</a></li><li><div><a href="b.md" '
              'class="btn btn-download-source-button">.md</a></div></li><li><button '
              'class="btn btn-download-pdf-button">.pdf</button></li></ul></div>'
              '<a class="btn-download-x" href="after.md">not in the menu</a>')
    assert menu.menus == 1
    assert menu.entries == [("btn-download-notebook-button", "a.ipynb"),
                            ("btn-download-source-button", "b.md"), ("btn-download-pdf-button", None)]


#: What a page's download menu may offer: the plain notebook, a print of the page, the book's PDF.
MENU_ENTRIES = {"btn-download-notebook-button", "btn-download-pdf-button",
                "btn-download-book-pdf-button"}


def test_no_download_menu_offers_the_myst_source(book):
    pages = sorted(book["html"].rglob("*.html"))
    menus = {p.relative_to(book["html"]).with_suffix("").as_posix(): download_menu(p) for p in pages}
    for page in PAGES:                     # each page of the book has its menu (the check bites)
        assert menus[page].menus == 1 and menus[page].entries, page
    for page, menu in menus.items():
        kinds = {kind for kind, _ in menu.entries}
        assert kinds <= MENU_ENTRIES, (page, kinds - MENU_ENTRIES)
        links = [href for _, href in menu.entries if href]
        assert not [h for h in links if h.split("#")[0].split("?")[0].endswith(".md")], (page, links)
    # Nor does the site hold the .md sources for anyone who guesses the address.
    assert not sorted(book["html"].rglob("*.md")), sorted(book["html"].rglob("*.md"))[:5]


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_the_menus_notebook_is_the_plain_notebook(book, page):
    html_file = book["html"] / f"{page}.html"
    links = [href for kind, href in download_menu(html_file).entries
             if kind == "btn-download-notebook-button"]
    assert len(links) == 1 and links[0].endswith(".ipynb"), links
    target = (html_file.parent / links[0]).resolve()
    assert target.is_file() and book["html"].resolve() in target.parents, links[0]
    plain = book["out"] / "_build" / "notebooks" / f"{page.split('/')[1]}.ipynb"
    assert target.read_bytes() == plain.read_bytes(), f"{links[0]} is not {plain.name} as written"
    nb = nbformat.read(target, as_version=4)
    assert notebook_pieces(nb) == []
    assert nb.cells[0].id == "memrnn-install"          # the plain notebook's first cell


# ------------------------------------------------------------ outside the repository
@pytest.fixture(scope="session")
def outside_kernel(book, tmp_path_factory):
    """A kernel in a fresh venv that holds only the site's memrnn wheel and ipykernel."""
    wheels = sorted(book["html"].glob("memrnn-*-py3-none-any.whl"))
    assert len(wheels) == 1, wheels
    venv = tmp_path_factory.mktemp("outside") / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(wheels[0]), "ipykernel"], check=True, timeout=900)
    name = "memrnn-outside"
    subprocess.run([str(py), "-m", "ipykernel", "install", "--prefix", str(venv), "--name", name],
                   check=True, capture_output=True)
    # Nothing of the repository: memrnn is the wheel's, not the checkout's.
    probe = subprocess.run([str(py), "-c", "import memrnn, sys; print(memrnn.__file__)"],
                           capture_output=True, text=True, cwd=venv, check=True)
    assert str(venv) in probe.stdout and str(ROOT) not in probe.stdout, probe.stdout
    return {"name": name, "jupyter_path": str(venv / "share" / "jupyter"), "venv": venv}


def _run_outside(nb, kernel, folder: Path, monkeypatch, book):
    monkeypatch.setenv("JUPYTER_PATH", kernel["jupyter_path"])
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.delenv("MEMRNN_SEED", raising=False)
    monkeypatch.setenv("MEMRNN_BOOK_CACHE", str(book["out"] / "_build" / "cache"))
    folder.mkdir(parents=True, exist_ok=True)
    assert not list(folder.iterdir())
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name=kernel["name"],
                                     allow_errors=True,
                                     resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def _errors(nb) -> list[tuple[str, str]]:
    return [(o.get("ename", ""), o.get("evalue", "")) for c in nb.cells if c.cell_type == "code"
            for o in c.outputs if o.output_type == "error"]


def _log(entry):
    OUTSIDE_LOG.append(entry)
    out = Path(os.environ.get("MEMRNN_ARTIFACTS", ROOT / "test-artifacts"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "outside.json").write_text(json.dumps(OUTSIDE_LOG, indent=2) + "\n")


@pytest.mark.parametrize("case", all_offered(), ids=_id)
def test_offered_notebook_runs_outside_the_repository(book, case, outside_kernel, tmp_path,
                                                      monkeypatch):
    page, student = case
    nb, seconds = _run_outside(offered(book, page, student), outside_kernel, tmp_path / "empty",
                               monkeypatch, book)
    errors = _errors(nb)
    _log({"notebook": _id(case), "ok": not errors, "seconds": round(seconds, 1),
          "errors": errors})
    if not student:
        assert not errors, errors
    else:
        # Nothing fails but the stub, whose check cell reports it.
        assert not [e for e in errors if e[0] != "NotImplementedError"], errors
        texts = ["".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                 for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert any("NotImplementedError" in t and "FAIL" in t for t in texts), texts[-5:]
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not [o for o in cell.outputs if o.get("name") == "stderr"], cell.source
