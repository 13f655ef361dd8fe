"""Code sized for the lesson: hidden cells hold glue and a few build guards.

Counted as tools/code_counts.py counts: non-blank code lines, hidden when the page does not show
the cell's input (remove-cell, remove-input, hide-input, hide-cell).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.code_counts import chapter_counts

ROOT = Path(__file__).resolve().parents[1]

#: Chapters held to the budget: no hidden cell longer than about 25 lines, and at most three
#: hidden lines for each one shown.
AT_BUDGET = ["01-data", "02-loss", "03-gradcheck", "04-learner", "07-lstm"]
#: Chapters held to the cell length so far; their hidden share is larger.
SHORT_CELLS = AT_BUDGET + ["05-sweep", "06-vanishing", "08-gating", "fast"]


@pytest.mark.parametrize("chapter", SHORT_CELLS)
def test_no_hidden_cell_is_longer_than_about_25_lines(chapter):
    assert chapter_counts(ROOT / "book" / f"{chapter}.md")["longest_hidden"] <= 26


@pytest.mark.parametrize("chapter", AT_BUDGET)
def test_hidden_code_is_at_most_three_times_the_shown(chapter):
    counts = chapter_counts(ROOT / "book" / f"{chapter}.md")
    assert counts["hidden"] <= 3 * counts["visible"], counts


def test_over_the_book_hidden_code_is_at_most_three_times_the_shown():
    pages = sorted((ROOT / "book").glob("*.md"))
    counts = [chapter_counts(page) for page in pages]
    hidden, visible = sum(c["hidden"] for c in counts), sum(c["visible"] for c in counts)
    assert visible > 0 and hidden <= 3 * visible, (hidden, visible)


def test_the_count_tells_shown_from_hidden(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("---\njupytext:\n  text_representation: {extension: .md, format_name: myst}\n"
                    "kernelspec: {display_name: Python 3, language: python, name: python3}\n---\n"
                    "# A page\n\n```{code-cell} ipython3\nx = 1\n\ny = 2\n```\n\n"
                    "```{code-cell} ipython3\n:tags: [remove-cell]\nassert x == 1\n```\n\n"
                    "```{code-cell} ipython3\n:tags: [hide-input]\nz = 3\nw = 4\n```\n")
    assert chapter_counts(page) == {"visible": 2, "hidden": 3, "removed": 1, "longest_hidden": 2,
                                    "cells": 3}


def _visible_names_undefined(path: Path) -> list[str]:
    """Names that a shown code cell reads but no shown cell before it (or itself) defines.

    Cells tagged ``solution`` count as shown: they are the student's part of the notebook.
    """
    import ast
    import builtins

    import jupytext

    hidden = {"remove-cell", "remove-input", "hide-input", "hide-cell"}
    defined, missing = set(dir(builtins)), []
    for cell in jupytext.read(path).cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type != "code" or (tags & hidden and "solution" not in tags):
            continue
        tree = ast.parse(cell.source)
        local = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                local |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                local.add(node.name)
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                local.add(node.id)
            elif isinstance(node, ast.arg):
                local.add(node.arg)
        missing += [node.id for node in ast.walk(tree)
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                    and node.id not in defined | local]
        defined |= local
    return sorted(set(missing))


@pytest.mark.parametrize("chapter", ["02-loss", "03-gradcheck", "04-learner", "07-lstm"])
def test_shown_cells_use_only_names_that_shown_cells_define(chapter):
    assert _visible_names_undefined(ROOT / "book" / f"{chapter}.md") == []


def test_the_name_check_sees_a_name_from_a_hidden_cell(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("---\njupytext:\n  text_representation: {extension: .md, format_name: myst}\n"
                    "kernelspec: {display_name: Python 3, language: python, name: python3}\n---\n"
                    "# A page\n\n```{code-cell} ipython3\n:tags: [remove-cell]\nimport numpy as np\n```\n\n"
                    "```{code-cell} ipython3\nimport math\nx = np.zeros(3) + math.pi\nprint(x)\n```\n")
    assert _visible_names_undefined(page) == ["np"]
