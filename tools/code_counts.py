"""Count the code lines of each chapter: shown on the page, hidden from it, and in the student notebook.

A code line is a non-blank line of a code cell's source (comments count: a reader meets them).

- **visible**: code cells whose input the page shows, including cells whose output only is hidden.
- **hidden**: code cells whose input the page does not show: tagged ``remove-cell`` or
  ``remove-input`` (gone from the page), or ``hide-input`` / ``hide-cell`` (folded away behind a
  toggle). The ``removed`` column is the first kind alone.
- **student**: the code lines of the chapter's student notebook, as ``tools/student_edition.py``
  writes it (``book-only`` cells dropped, solutions replaced by stubs; for a chapter without a
  "Your turn" exercise, the chapter itself), also counted with blank lines, and its code cells.
  The notebook that the page's download button offers is the executed chapter itself, with every
  cell, so its code lines are visible + hidden.

    python tools/code_counts.py                  # the chapters in this working tree
    python tools/code_counts.py --root DIR       # another checkout, e.g. one from `git archive`
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import jupytext
import yaml

HIDDEN = {"remove-cell", "remove-input", "hide-input", "hide-cell"}
REMOVED = {"remove-cell", "remove-input"}


def _lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip())


def chapter_counts(path: Path) -> dict:
    """Visible, hidden and removed code lines of one MyST chapter, and its longest hidden cell."""
    nb = jupytext.read(path)
    counts = {"visible": 0, "hidden": 0, "removed": 0, "longest_hidden": 0, "cells": 0}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = set(cell.metadata.get("tags", []))
        n = _lines(cell.source)
        counts["cells"] += 1
        if tags & HIDDEN:
            counts["hidden"] += n
            counts["longest_hidden"] = max(counts["longest_hidden"], n)
            if tags & REMOVED:
                counts["removed"] += n
        else:
            counts["visible"] += n
    return counts


def _student_module(root: Path):
    """tools/student_edition.py of ``root``, loaded with ``root`` first on the import path."""
    sys.path.insert(0, str(root))
    spec = importlib.util.spec_from_file_location("_student_edition", root / "tools" / "student_edition.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    root = args.root.resolve()
    student = _student_module(root)
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    pages = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    chapters = [p.split("/", 1)[1] for p in pages if (root / f"{p}.md").is_file()
                and "code-cell" in (root / f"{p}.md").read_text(encoding="utf-8")]
    print(f"{'chapter':14s} {'visible':>7s} {'hidden':>7s} {'removed':>7s} {'ratio':>6s} "
          f"{'longest':>7s} {'student':>7s} {'(all)':>5s} {'cells':>5s}")
    total = {"visible": 0, "hidden": 0, "removed": 0, "student": 0}
    for chapter in chapters:
        c = chapter_counts(root / "book" / f"{chapter}.md")
        if chapter in student.CHAPTERS:
            try:
                nb = student.student_notebook(chapter)
            except (AttributeError, ImportError, ValueError) as err:     # a stub names a lost object
                print(f"{chapter}: no student edition ({err!r})", file=sys.stderr)
                nb = None
        else:                                   # no exercise to stub: the student gets the chapter
            nb = jupytext.read(root / "book" / f"{chapter}.md")
        code = [cell for cell in nb.cells if cell.cell_type == "code"] if nb else []
        s = sum(_lines(cell.source) for cell in code)
        s_all = sum(len(cell.source.splitlines()) for cell in code)
        ratio = c["hidden"] / c["visible"] if c["visible"] else float("inf")
        print(f"{chapter:14s} {c['visible']:7d} {c['hidden']:7d} {c['removed']:7d} {ratio:6.1f} "
              f"{c['longest_hidden']:7d} {s:7d} {s_all:5d} {len(code):5d}")
        for key in ("visible", "hidden", "removed"):
            total[key] += c[key]
        total["student"] += s
    print(f"{'all':14s} {total['visible']:7d} {total['hidden']:7d} {total['removed']:7d} "
          f"{total['hidden'] / max(total['visible'], 1):6.1f} {'':7s} {total['student']:7d}")
    print("\nvisible/hidden/removed: non-blank code lines shown / not shown (remove-cell, remove-input,"
          "\nhide-input, hide-cell) / removed (remove-*) on the page; longest: the longest hidden cell;"
          "\nstudent: non-blank code lines of the student notebook (tools/student_edition.py), (all): its"
          "\ncode lines blank ones included, cells: its code cells.")


if __name__ == "__main__":
    main()
