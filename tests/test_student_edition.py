"""The student edition: the chapters with each solution replaced by a stub, and nothing else."""

import jupytext

from tools import student_edition

ROOT = student_edition.ROOT


def test_student_edition_replaces_each_solution_by_a_stub_and_nothing_else():
    for chapter in student_edition.CHAPTERS:
        book_nb = jupytext.read(ROOT / "book" / f"{chapter}.md")
        student = student_edition.student_notebook(chapter)
        stubs = [c for c in student.cells if "stub" in c.metadata.get("tags", [])]
        solutions = [c for c in book_nb.cells if "solution" in c.metadata.get("tags", [])]
        assert len(stubs) == len(solutions) >= 1, chapter
        for stub in stubs:
            assert "raise NotImplementedError" in stub.source
            compile(stub.source, chapter, "exec")
        assert not [c for c in student.cells if "solution" in c.metadata.get("tags", [])]
        assert not [c for c in student.cells if "book-only" in c.metadata.get("tags", [])]
        # First, the form for the student's name and number that memrnn grade reads.
        assert student.cells[0].source == student_edition.IDENTITY_CELL
        assert [c for c in student.cells if "student-id" in c.metadata.get("tags", [])] == [
            student.cells[0]]
        # No second copy: every other cell is the chapter's own, unchanged.
        kept = [c for c in book_nb.cells if "book-only" not in c.metadata.get("tags", [])]
        assert len(kept) == len(student.cells) - 1
        for a, b in zip(kept, student.cells[1:]):
            if not any(b is stub for stub in stubs):
                assert a.source == b.source


# ------------------------------------------------ the offered edition (book/_ext/plain_notebooks.py)
def _plain():
    import sys

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import plain_notebooks

    return plain_notebooks


def test_hidden_cells_lose_glue_and_asserts_and_keep_the_rest():
    strip = _plain().strip_build_code
    source = ("import numpy as np\nfrom myst_nb import glue\n\n# The build's check.\n"
              "assert np.pi > 3, 'pi'\nx = 2\nfor k, v in {'a': 1}.items():\n    glue(k, v, display=False)\n"
              "if x:\n    glue('x', x)\n    y = x\nelse:\n    assert False\n")
    out = strip(source, hidden=True)
    assert "glue" not in out and "assert" not in out and "build's check" not in out
    assert "x = 2" in out and "y = x" in out and "for k" not in out
    assert "else:\n    pass" in out
    compile(out, "hidden", "exec")
    # A visible cell keeps its asserts (they are the lesson), and loses only glue.
    visible = strip("assert 1 + 1 == 2\nglue('a', 1)\n", hidden=False)
    assert visible == "assert 1 + 1 == 2"
    # A cell with nothing but build machinery is dropped.
    assert strip("from myst_nb import glue\nglue('a', 1)\n", hidden=True) == ""


def test_offered_student_edition_puts_each_chapters_own_stub_in_place():
    """Generic: whatever the stubs hold, the i-th solution cell becomes the i-th stub."""
    import nbformat

    pn = _plain()
    chapter = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("answer = 42", metadata={"tags": ["solution", "hide-input"],
                                                           "jupyter": {"source_hidden": True}}),
        nbformat.v4.new_code_cell("check(answer)")])
    chapter.cells[1].outputs = [nbformat.v4.new_output("stream", text="x")]
    raw = student_edition.student_notebook("01-data")
    stub = next(c for c in raw.cells if "stub" in c.metadata.get("tags", []))
    ours = pn.student_edition(chapter, raw)
    assert ours.cells[0].source == student_edition.IDENTITY_CELL
    assert ours.cells[2].source == stub.source and "stub" in ours.cells[2].metadata["tags"]
    assert not ours.cells[2].metadata.get("jupyter", {}).get("source_hidden")
    assert all(not c.get("outputs") for c in ours.cells if c.cell_type == "code")
    chapter.cells.append(nbformat.v4.new_code_cell("more = 1", metadata={"tags": ["solution"]}))
    try:
        pn.student_edition(chapter, raw)
    except ValueError as err:
        assert "more solution cells than stubs" in str(err)
    else:
        raise AssertionError("a solution cell without a stub went unnoticed")
