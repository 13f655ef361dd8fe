"""The API page's "Used in" comes from the chapters' sources (book/_ext/used_in.py); no docstring
names a chapter by hand, where it would go stale when the chapters move."""

import ast
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("used_in", ROOT / "book" / "_ext" / "used_in.py")
used_in = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(used_in)

#: The grader's exercise titles name the chapter of each exercise on purpose.
NOT_DOCSTRINGS = {"exercises.py"}


def test_used_in_finds_the_chapters_whose_code_names_an_object():
    code = used_in.chapter_code(ROOT / "book")
    assert {"ch-data", "ch-learner", "ch-vanishing"} <= set(code)
    assert "ch-data" in used_in.users("generate_samples", code)
    assert "ch-gradcheck" in used_in.users("check_rnn", code)
    assert "ch-gradcheck" not in used_in.users("check_model", code)
    assert "ch-vanishing" in used_in.users("_guard", code)      # from a literalinclude
    assert used_in.users("no_such_object_anywhere", code) == []
    # A whole word: "check_model" does not count as a use of "model".
    assert used_in.users("heck_mode", code) == []


def test_no_docstring_names_a_chapter_by_number():
    tag = re.compile(r"\((?:chapters? \d[^)]*|\"?Making it fast\"?)\)")
    found = []
    for path in sorted((ROOT / "memrnn").rglob("*.py")):
        if path.name in NOT_DOCSTRINGS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)):
                doc = ast.get_docstring(node) or ""
                found += [f"{path.relative_to(ROOT)}: {getattr(node, 'name', 'module')}: {m}"
                          for m in tag.findall(doc)]
    assert not found, "\n".join(found)
