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
