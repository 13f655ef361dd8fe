"""``literalinclude`` with a ``:no-docstring:`` option: the code of a package object without its docstrings.

The chapters show the package's own code, which carries NumPy-style docstrings
written for the API page and for ``help()``. On a chapter page most of a
docstring repeats what the text around the code says, so a chapter can ask
for the logic alone::

    ```{literalinclude} ../memrnn/data.py
    :pyobject: _stream
    :no-docstring:
    ```

Every docstring inside the included code goes (a class's and its methods'),
and nothing else: comments, blank lines and the code stay as in the file. The
API page keeps the docstrings, since autodoc reads them from the objects.
"""

from __future__ import annotations

import ast
import textwrap

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.directives.code import LiteralInclude
from sphinx.errors import ExtensionError


def docstring_lines(source: str) -> set[int]:
    """The line numbers (from 1) of every docstring of a function or class in ``source``."""
    tree = ast.parse(textwrap.dedent(source))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                if len(node.body) == 1:
                    raise ValueError(f"{node.name} is nothing but its docstring: showing it "
                                     f"without one would show no code")
                found.update(range(first.lineno, first.end_lineno + 1))
    return found


def without_docstrings(source: str) -> str:
    """``source`` with every docstring line taken out, and a blank line that followed one."""
    drop = docstring_lines(source)
    lines = source.splitlines(keepends=True)
    kept = []
    for number, line in enumerate(lines, start=1):
        if number in drop:
            continue
        if number - 1 in drop and not line.strip():
            continue                     # the blank line that set a class docstring apart
        kept.append(line)
    return "".join(kept)


class CodeOnlyLiteralInclude(LiteralInclude):
    """Sphinx's ``literalinclude``, plus ``:no-docstring:``."""

    option_spec = {**LiteralInclude.option_spec, "no-docstring": directives.flag}

    def run(self) -> list[nodes.Node]:
        strip = "no-docstring" in self.options
        if strip and "lineno-match" in self.options:
            raise ExtensionError("literalinclude: :no-docstring: and :lineno-match: do not mix: "
                                 "the lines shown would not be the file's")
        result = super().run()
        if strip:
            for block in (n for root in result for n in root.findall(nodes.literal_block)):
                try:
                    text = without_docstrings(block.astext())
                except (SyntaxError, ValueError) as err:
                    raise ExtensionError(f"literalinclude {self.arguments[0]} "
                                         f"({self.options.get('pyobject', 'whole file')}): "
                                         f":no-docstring: needs Python code: {err}") from err
                block.rawsource = text
                block.children = [nodes.Text(text)]
        return result


def setup(app):
    app.add_directive("literalinclude", CodeOnlyLiteralInclude, override=True)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
