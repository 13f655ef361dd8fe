"""The training chapters' claims hold for other runs, not only for the published ones.

A float64 training run ends in different places on different CPUs: NumPy picks
its SIMD kernels for exp and tanh by CPU, and after thousands of SGD updates
near the cliff the last bits decide where a run goes. So every hidden assertion
of a chapter that trains must hold for the distribution of runs, not for one.
These tests execute the training chapters' notebooks again (as the build executed
them, hidden checks included), in fresh kernels:

- with two other base seeds (``MEMRNN_SEED``; the book uses 0), so every run
  is a different run; with seed 2 it is the chapter's *student* notebook, where
  there is one, that runs, whose hidden checks are the chapter's own and whose stub must be
  reported by its check cell;
- with NumPy's SIMD dispatch switched off for every target the CPU runs
  (``NPY_DISABLE_CPU_FEATURES``; see ``simd_targets``), which changes float64
  exp and tanh and float32 tanh, so the same runs are computed with other last
  bits, as on another CPU. A hash of chapter 4's trained weights shows that
  the numbers really changed.

Every hidden assertion must pass in each variant. OPENBLAS_CORETYPE is left as
the machine sets it. Which variants ran, and how long each chapter took, is
printed at the end of the test session and written to
test-artifacts/robustness.json.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import nbclient
import nbformat
import pytest

from bookpages import ROOT, TRAINING_PAGES, assert_reports_the_stub, student_pages
from memrnn import run
from tools import student_edition

pytestmark = pytest.mark.book

#: What the session's terminal summary prints (conftest.py).
ROBUSTNESS_LOG: list[dict] = []


def simd_targets() -> list[str]:
    """The dispatch targets the SIMD variant switches off: every one this CPU runs.

    NumPy then runs its baseline kernels (SSE on x86-64): float64 exp and tanh,
    float32 tanh and FastRNN's choice of tanh all change, as on an older CPU.
    """
    return run.machine_info()["numpy_simd"]


VARIANTS = {
    "seed-1": {"MEMRNN_SEED": "1"},
    "seed-2": {"MEMRNN_SEED": "2"},
    "simd-off": {"NPY_DISABLE_CPU_FEATURES": " ".join(simd_targets())},
}


def _text(out) -> str:
    """The text/plain value of a glue output, whatever prefix its mime type has."""
    return next(v for k, v in out["data"].items() if k.endswith("text/plain")).strip("'\"")


def glued(nb, name: str):
    """The value a freshly executed notebook glued under ``name`` (myst_nb.glue), as text."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("metadata", {}).get("scrapbook", {}).get("name") == name:
                return _text(out)
    raise KeyError(f"nothing glued as {name!r}")


def published_glue(book, page: str, name: str):
    """What the book build glued under ``name``: myst-nb keeps it beside the executed notebook."""
    data = json.loads((book["executed"] / f"{page}.glue.json").read_text(encoding="utf-8"))
    return _text(data[name])


@pytest.fixture(scope="module")
def variant_caches(tmp_path_factory):
    """One cache folder per variant, so that chapter 6 reuses chapter 5's sweep of the same variant."""
    return {name: tmp_path_factory.mktemp(f"cache-{name}") for name in VARIANTS}


@pytest.mark.parametrize("page", TRAINING_PAGES)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_training_chapter_holds_in_variant(book, variant, page, variant_caches, tmp_path,
                                           monkeypatch):
    env = VARIANTS[variant]
    if variant == "simd-off" and not env["NPY_DISABLE_CPU_FEATURES"]:
        pytest.skip("this CPU runs no NumPy SIMD dispatch target that could be switched off")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.delenv("MEMRNN_SEED", raising=False)
    monkeypatch.setenv("MEMRNN_BOOK_CACHE", str(variant_caches[variant]))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # The notebooks with the chapter's hidden checks: the one the build executed, and the
    # student edition made from the same source. (The site offers them without those
    # checks, as plain Jupyter: test_plain_notebooks.py runs those.)
    source = book["executed"] / f"{page}.ipynb"
    student = variant == "seed-2" and page in student_pages()      # chapter 8 has no student edition
    nb = (student_edition.student_notebook(page.split("/")[1]) if student
          else nbformat.read(source, as_version=4))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    start = time.perf_counter()
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        pytest.fail(f"{page} fails under {variant} ({env}): {err}")
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not [o for o in cell.outputs if o.get("name") == "stderr"], cell.source
    if student:
        assert_reports_the_stub(nb)
    entry = {"variant": variant, "env": env, "page": page, "seconds": round(seconds, 1),
             "notebook": "student" if student else "downloaded"}
    if page == "book/04-learner":
        # The variant really computed other numbers: chapter 4's trained weights differ.
        entry["weights_sha"] = glued(nb, "weights_sha")
        entry["published_weights_sha"] = published_glue(book, page, "weights_sha")
        assert entry["weights_sha"] != entry["published_weights_sha"], (
            f"{variant} trained the same weights as the published build: it changed nothing")
    ROBUSTNESS_LOG.append(entry)
    out = Path(os.environ.get("MEMRNN_ARTIFACTS", ROOT / "test-artifacts"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "robustness.json").write_text(json.dumps(ROBUSTNESS_LOG, indent=2) + "\n")
