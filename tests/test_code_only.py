"""The chapters show package code without docstrings (book/_ext/code_only.py), and only that goes."""

import ast
import importlib.util
import inspect
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("code_only", ROOT / "book" / "_ext" / "code_only.py")
code_only = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(code_only)

INCLUDE = re.compile(r"```\{literalinclude\} \.\./(?P<file>memrnn/\S+\.py)\n(?P<options>(?::[^\n]*\n)+)```")


def _includes():
    for chapter in sorted((ROOT / "book").glob("*.md")):
        for m in INCLUDE.finditer(chapter.read_text(encoding="utf-8")):
            options = dict(re.findall(r"^:([\w-]+):\s*(.*)$", m["options"], flags=re.M))
            yield chapter.stem, m["file"], options


def _source(file, dotted):
    module = importlib.import_module(file[:-3].replace("/", "."))
    obj = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return inspect.getsource(obj)


INCLUDES = [i for i in _includes() if "pyobject" in i[2]]


def test_the_chapters_include_package_code():
    assert len(INCLUDES) >= 20, INCLUDES


@pytest.mark.parametrize("chapter, file, options", INCLUDES,
                         ids=[f"{c}:{o['pyobject']}" for c, _, o in INCLUDES])
def test_an_include_without_docstrings_is_the_code_less_its_docstrings(chapter, file, options):
    source = _source(file, options["pyobject"])
    shown = code_only.without_docstrings(source) if "no-docstring" in options else source
    tree = ast.parse(textwrap.dedent(shown))             # still Python
    if "no-docstring" in options:
        assert all(ast.get_docstring(n) is None for n in ast.walk(tree)
                   if isinstance(n, (ast.FunctionDef, ast.ClassDef))), (chapter, options)
    # Nothing but docstrings went: the code compiles to the same statements.
    def body(text):
        def strip(node):
            for n in ast.walk(node):
                if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(n) is not None:
                    n.body = n.body[1:]
            return ast.dump(node)
        return strip(ast.parse(textwrap.dedent(text)))
    assert body(shown) == body(source)


def test_a_class_loses_its_docstring_and_its_methods_but_keeps_comments():
    source = ('class A:\n    """Doc.\n\n    More.\n    """\n\n    def f(self):\n'
              '        """Say f."""\n        return 1  # why\n')
    assert code_only.without_docstrings(source) == "class A:\n    def f(self):\n        return 1  # why\n"
    with pytest.raises(ValueError, match="nothing but its docstring"):
        code_only.without_docstrings('def g():\n    """Only this."""\n')
