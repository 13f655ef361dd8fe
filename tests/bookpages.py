"""What the book's tests know about the book: its pages, their figures, how to build it.

Shared by ``test_book.py`` (the built files) and ``test_browser.py`` (the site
in a real browser), which both use the one build made by the session fixture
``book`` in ``conftest.py``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]

#: Pages of the book, in reading order, and the figures each must show. A
#: chapter that loses a figure, or gains one nobody captioned, fails here.
EXPECTED_FIGURES = {
    "book/intro": 0,
    "book/01-data": 1,
    "book/02-loss": 1,
    "book/03-gradcheck": 1,
    "book/04-learner": 2,
    "book/05-sweep": 6,
    "book/06-vanishing": 6,
    "book/07-lstm": 0,
    "book/08-gating": 4,
    "book/fast": 2,
    "book/course": 0,
    "book/api": 0,
    "book/references": 0,
}
PAGES = list(EXPECTED_FIGURES)
NOTEBOOK_PAGES = [p for p in PAGES if p not in ("book/api", "book/references")]
#: The pages that teach with exercises: every notebook page but the introduction and the
#: instructors' appendix.
EXERCISE_PAGES = [p for p in NOTEBOOK_PAGES if p not in ("book/intro", "book/course")]
#: The chapters that train networks: their claims are about random runs, so the
#: robustness tests execute them again under other seeds and other SIMD kernels.
TRAINING_PAGES = ["book/04-learner", "book/05-sweep", "book/06-vanishing", "book/08-gating"]


def student_pages() -> list[str]:
    """The chapters with a "Your turn" exercise, and so a student edition."""
    from tools.student_edition import CHAPTERS

    return [f"book/{c}" for c in CHAPTERS]


def toc_files():
    """The pages named in _toc.yml, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [ch["file"] for ch in part["chapters"]]
    return files


def build_book(out: Path) -> dict:
    """Build the book with the README's command into ``out``.

    Returns the paths and the build log; raises RuntimeError with the log's
    tail when the build fails.
    """
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "build-book.sh"), str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-80:])
        raise RuntimeError(f"the book build failed (exit {proc.returncode}):\n{tail}")
    return built_book(out)


def built_book(out: Path) -> dict:
    """The paths of a book built into ``out``, and its build log."""
    # The build's own log, without the set-up's pip chatter.
    return {"out": out, "html": out / "_build" / "html",
            "log": (out / "_build" / "build.log").read_text(encoding="utf-8"),
            "executed": out / "_build" / "jupyter_execute"}


def student_notebook(book, chapter):
    """The student notebook a chapter page offers for download."""
    name = chapter.split("/")[1]
    hits = list((book["html"] / "_downloads").glob(f"*/{name}-student.ipynb"))
    assert len(hits) == 1, hits
    return nbformat.read(hits[0], as_version=4)


def assert_reports_the_stub(ran):
    """No cell raised, and the check cell ran the stub and explained what it found."""
    texts = []
    for cell in ran.cells:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
        texts += ["".join(o.get("data", {}).get("text/plain", "")) for o in cell.outputs]
    assert any("NotImplementedError" in t and "FAIL" in t for t in texts), texts[-5:]
