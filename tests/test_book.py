"""The book: it builds from scratch with no warning, and its pages and notebooks are sound.

The build runs the README's own command, ``scripts/build-book.sh``, into a
temporary folder. The build itself fails on any Sphinx warning (-W), broken
reference (-n), cell error or stderr output; these tests then read what it
produced, page by page, and run each chapter's notebook again in a fresh kernel.
"""

from __future__ import annotations

import base64
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

# The book's tools come with the test command's set-up (scripts/setup.sh
# test,book). Missing, they fail the run rather than skip it.
import jupytext
import nbclient
import nbformat
import pytest

from bookpages import (
    EXERCISE_PAGES,
    EXPECTED_FIGURES,
    NOTEBOOK_PAGES,
    ROOT,
    student_pages,
    toc_files,
)

STUDENT_PAGES = student_pages()

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.book


def test_toc_and_expected_pages_agree():
    assert toc_files() == list(EXPECTED_FIGURES)
    for page in EXPECTED_FIGURES:
        assert (ROOT / f"{page}.md").is_file(), page


# ----------------------------------------------------------------------- build
# The book fixture (conftest.py) builds it once per session with the README command.


def test_build_log_has_no_warning(book):
    # -W already turns every Sphinx warning into a failure; this also catches
    # anything logged as a warning that -W does not see. The kernel's own
    # start-up line ("running over TCP without encryption") is a log message
    # of ipykernel, not of the book.
    clean = re.sub(r"\x1b\[[0-9;]*m", "", book["log"])
    bad = [ln for ln in clean.splitlines()
           if re.search(r"WARNING|ERROR|Traceback", ln) and not ln.startswith("[IPKernelApp]")]
    assert not bad, "\n".join(bad)
    assert "build succeeded" in clean


class _Page(HTMLParser):
    """Collects the <img> tags and the visible text of one page."""

    def __init__(self):
        super().__init__()
        self.images, self.text, self.links = [], [], []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "img":
            self.images.append(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.raw = path.read_text(encoding="utf-8")
    return page


def _figures(page: _Page, html_file: Path):
    """The page's content figures (not the theme's logo or icons), with their PNG bytes."""
    figures = []
    for img in page.images:
        src = img.get("src", "")
        if src.startswith("data:image/png;base64,"):
            data = base64.b64decode(src.split(",", 1)[1])
        elif "_images/" in src:
            data = (html_file.parent / src).resolve().read_bytes()
        else:
            continue
        figures.append((img, data))
    return figures


@pytest.mark.parametrize("page_name", list(EXPECTED_FIGURES))
def test_page_exists_with_its_figures(book, page_name):
    html_file = book["html"] / f"{page_name}.html"
    assert html_file.is_file(), f"{page_name}.html was not built"
    page = _parse(html_file)
    figures = _figures(page, html_file)
    assert len(figures) == EXPECTED_FIGURES[page_name], [img.get("src") for img, _ in figures]
    for img, data in figures:
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, img.get("src")
        assert img.get("alt", "").strip(), f"figure without alt text: {img.get('src')}"
    # A figure that failed to render as an image shows as its text repr instead.
    assert "&lt;Figure size" not in page.raw and "<Figure size" not in "".join(page.text)


@pytest.mark.parametrize("page_name", list(EXPECTED_FIGURES))
def test_page_is_clean(book, page_name):
    html_file = book["html"] / f"{page_name}.html"
    page = _parse(html_file)
    raw, text = page.raw, "".join(page.text)
    # "exercise: write" is the message of a student-edition stub: no stub may run in the book.
    for needle in ("Traceback", "HBox(", "IntProgress", "FloatProgress", "Warning:",
                   "exercise: write", "[FAIL]", "check(s) failed", "nan%"):
        assert needle not in text, f"{needle!r} in {page_name}"
    # stderr output cells would carry this class.
    assert "output stderr" not in raw and 'class="output traceback' not in raw
    # No absolute path of the build machine: the checkout, the output folder,
    # the virtual environment or the home folder.
    for path in {str(ROOT), str(book["out"]), sys.prefix, str(Path.home())}:
        if path not in ("/", ""):
            assert path not in raw, f"absolute path {path} in {page_name}"


def test_equations_are_numbered_and_referenced(book):
    html = {p: (book["html"] / f"{p}.html").read_text(encoding="utf-8") for p in EXPECTED_FIGURES}
    for page, labels in {
        "book/intro": ["eq-rnn-step", "eq-rnn-out"],
        "book/02-loss": ["eq-mse", "eq-mse-grad", "eq-readout-grad", "eq-constant-mse"],
        "book/03-gradcheck": ["eq-central-diff", "eq-fd-error", "eq-rel-error",
                              "eq-bptt-delta", "eq-bptt-weights"],
        "book/04-learner": ["eq-sgd"],
        "book/05-sweep": ["eq-bits"],
        "book/06-vanishing": ["eq-jacobian-product", "eq-pascanu-bound", "eq-clipping"],
        "book/07-lstm": ["eq-lstm-gates", "eq-lstm-cell", "eq-lstm-out", "eq-lstm-dc",
                         "eq-lstm-dgates", "eq-lstm-dh", "eq-lstm-weights", "eq-carousel"],
        "book/08-gating": ["eq-adam"],
    }.items():
        for label in labels:
            assert f'id="equation-{label}"' in html[page], (page, label)
    # MathJax is loaded to typeset them, and the TeX is there for it.
    assert "mathjax" in html["book/02-loss"].lower()
    assert r"\frac{2}{N}" in html["book/02-loss"]


def test_figures_are_numbered_and_cross_referenced(book):
    html = (book["html"] / "book/04-learner.html").read_text(encoding="utf-8")
    assert 'id="fig-loss"' in html and 'id="fig-scatter"' in html
    assert re.search(r'href="#fig-loss"><span class="std std-numref">Fig\. \d+', html)


def test_references_are_cited_and_listed(book):
    refs = (book["html"] / "book/references.html").read_text(encoding="utf-8")
    cited = "".join((book["html"] / f"{p}.html").read_text(encoding="utf-8")
                    for p in NOTEBOOK_PAGES)
    for author, year in (("Hochreiter", "1991"), ("Bengio", "1994"), ("Schmidhuber", "1997"),
                         ("Pascanu", "2013"), ("Jaitly", "2015")):
        assert re.search(rf"{author}[^<]*{year}", refs) or (author in refs and year in refs)
        # Cited in a chapter, as a link into the reference list.
        assert re.search(rf'href="references\.html#id\d+" title="[^"]*{author}[^"]*{year}',
                         cited), (author, year)


def test_api_reference_documents_the_public_names(book):
    text = "".join(_parse(book["html"] / "book/api.html").text)
    for name in ("generate_samples", "MSELoss", "RNN", "Learner", "TrainingDiverged",
                 "numerical_gradient", "check_model", "plot_success_rate", "Used in"):
        assert name in text, name


def test_exercises_have_folded_solutions(book):
    for page in EXERCISE_PAGES:
        raw = (book["html"] / f"{page}.html").read_text(encoding="utf-8")
        exercises = raw.count('<div class="exercise admonition"')
        # A chapter has its "Your turn" and at least one more; every other page at least one.
        assert exercises >= (2 if page in STUDENT_PAGES else 1), page
        assert raw.count('<div class="solution dropdown admonition"') == exercises, page


# ------------------------------------------------------------------ notebooks
@pytest.mark.parametrize("page_name", NOTEBOOK_PAGES)
def test_page_offers_its_executed_notebook(book, page_name):
    html_file = book["html"] / f"{page_name}.html"
    page = _parse(html_file)
    links = [a["href"] for a in page.links if a["href"].endswith(".ipynb")]
    assert links, f"no .ipynb download on {page_name}"
    nb_file = (html_file.parent / links[0]).resolve()
    assert nb_file.is_file(), links[0]
    nb = nbformat.read(nb_file, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code), "the download is not executed"
    # Hidden cells too: nothing on stderr, no error output.
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error" and out.get("name") != "stderr", (cell.source, out)
    raw = nb_file.read_text(encoding="utf-8")
    for path in {str(ROOT), str(book["out"])}:
        assert path not in raw, f"absolute path {path} in the downloadable {page_name}.ipynb"


def _execute(nb, cwd, timeout=600):
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


@pytest.fixture
def kernel_env(monkeypatch):
    # The kernel inherits this process's environment; it must draw with the
    # inline backend, as a student's would.
    monkeypatch.delenv("MPLBACKEND", raising=False)


@pytest.mark.parametrize("page_name", NOTEBOOK_PAGES)
def test_the_md_holds_the_code_the_build_executed(book, page_name):
    """The .md that jupytext opens as a notebook holds the code the build executed, in order.

    What a student does with the download (put it anywhere, run all cells) is
    test_plain_notebooks.py's: it runs every offered notebook, and every student
    edition, in a fresh venv that holds only the memrnn wheel. The chapters that train
    run again under other seeds and SIMD kernels in test_robustness.py.
    """
    md = jupytext.read(ROOT / f"{page_name}.md")
    executed = nbformat.read(book["executed"] / f"{page_name}.ipynb", as_version=4)
    assert [c.source for c in md.cells if c.cell_type == "code"] == \
           [c.source for c in executed.cells if c.cell_type == "code"]


# ------------------------------------------------------- a broken backward pass
def test_a_broken_backward_pass_fails_the_gradient_checking_chapter(tmp_path, kernel_env,
                                                                    monkeypatch):
    """Plant a sign flip in RNN.backward: chapter 3's hidden checks must stop the build."""
    pkg = tmp_path / "mutant" / "memrnn"
    shutil.copytree(ROOT / "memrnn", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    src = (pkg / "rnn.py").read_text()
    line = "delta = d_a[t] * (1.0 - A[t] ** 2)"
    assert src.count(line) == 1, "the mutation's target line moved; update this test"
    (pkg / "rnn.py").write_text(src.replace(line, "delta = d_a[t] * (A[t] ** 2 - 1.0)"))
    monkeypatch.setenv("PYTHONPATH", str(pkg.parent))

    nb = jupytext.read(ROOT / "book" / "03-gradcheck.md")
    probe = nbformat.v4.new_code_cell(
        f"import memrnn; assert memrnn.__file__.startswith({str(pkg)!r}), memrnn.__file__")
    nb.cells.insert(0, probe)
    with pytest.raises(nbclient.exceptions.CellExecutionError) as info:
        _execute(nb, cwd=ROOT / "book")
    # A hidden check fails; which one comes first does not matter (with this
    # mutation the step-size sweep, which compares against RNN.backward, already does).
    assert "AssertionError" in str(info.value)


# -------------------------------------------------------- the student edition
# A student's notebook runs top to bottom, and its check cell reports the stub:
# test_plain_notebooks.py, outside the repository, for every chapter.


@pytest.mark.parametrize("page_name", STUDENT_PAGES)
def test_book_check_cells_pass_with_the_reference_solutions(book, page_name):
    nb = nbformat.read(book["html"] / "_sources" / f"{page_name}.ipynb", as_version=4)
    outputs = ["".join(o.get("data", {}).get("text/plain", ""))
               for c in nb.cells if c.cell_type == "code" and "selfcheck" in c.source
               for o in c.outputs]
    assert outputs and all("Well done" in t for t in outputs if "checks passed" in t), outputs
    assert any("Well done" in t for t in outputs)
    # The page links the student edition of the chapter.
    html = (book["html"] / f"{page_name}.html").read_text(encoding="utf-8")
    assert f"{page_name.split('/')[1]}-student.ipynb" in html
