"""The stubs of the student edition, and the raw edition the book build starts from.

A chapter marks each code cell that solves an exercise with the tag
``solution`` and a ``stub`` entry in the cell's metadata: the name the student
defines and, under ``"of"``, the object in ``memrnn.selfcheck._stubs`` whose
signature and docstring say exactly what the exercise asks::

    ```{code-cell} ipython3
    :tags: [solution]
    :stub: {"name": "my_generate_samples", "of": "memrnn.selfcheck._stubs.generate_samples"}
    my_generate_samples = memrnn.generate_samples
    ```

``make_stub`` turns such a specification into the stub's source: a function
with that name, signature and docstring whose body raises
``NotImplementedError``. For a class it stubs the methods listed under
``"methods"`` (every public method the class defines when none are listed);
with ``"base"``, the stub subclasses that class and inherits the rest.

``student_notebook`` is one chapter with every solution cell replaced by its
stub (tag ``stub``), the ``book-only`` cells (hidden asserts that the book's
own solutions pass) left out, and, in a chapter with an exercise, one cell
more at the top, ``IDENTITY_CELL``, where the student writes their name and
student number for ``memrnn grade``. Everything else, text and check cells, is
the chapter's own source, MyST and hidden build cells included, so there is no
second copy to drift.

    python tools/student_edition.py OUTPUT_DIR      # one .ipynb per chapter

``scripts/build-book.sh`` writes these into ``book/_student`` before the
build. The page's "Your turn" button runs their stubs
(``book/_ext/browser_run.py``), and the student edition the site offers is
written from them by the build (``book/_ext/plain_notebooks.py``,
``student_edition``): the resolved chapter as plain Jupyter, with these stubs in
place of the solution cells, one for one and in order. The tests use
``student_notebook`` for the grader's hand-ins and to run the edition under
another seed.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
#: The first cell of a chapter with an exercise: the student writes after the colons.
IDENTITY_CELL = ("**Handed in by**: write your name and student number after the colons, then save "
                 "the notebook and hand in this file.\n\n- Name: \n- Student number: \n")
IDENTITY_ID = "memrnn-student-id"
CHAPTERS = ["01-data", "02-loss", "03-gradcheck", "04-learner", "05-sweep", "06-vanishing",
            "07-lstm", "fast"]


def _resolve(dotted: str):
    module, _, attr = dotted.rpartition(".")
    try:
        obj = importlib.import_module(module)
        return getattr(obj, attr)
    except (ImportError, AttributeError):
        # A method, e.g. memrnn.learner.Learner.train_step
        owner = _resolve(module)
        return getattr(owner, attr)


def _doc(obj, indent: str, doc=None) -> str:
    doc = doc or inspect.getdoc(obj) or "Implement me."
    body = textwrap.indent(doc, indent)
    # A raw string, since the docstrings hold LaTeX such as \hat.
    prefix = "r" if "\\" in doc else ""
    return f'{indent}{prefix}"""{body.lstrip()}\n{indent}"""\n'


class _Source:
    """A default value shown as source text (``np.float64``, not ``<class ...>``)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def _default(value):
    if inspect.isclass(value) and value.__module__.startswith("numpy"):
        return _Source(f"np.{value.__name__}")
    return value


def _signature(obj) -> str:
    sig = inspect.signature(obj)
    # Annotations would name package-internal types; the docstring gives the shapes.
    params = [p.replace(annotation=inspect.Parameter.empty,
                        default=p.default if p.default is inspect.Parameter.empty
                        else _default(p.default))
              for p in sig.parameters.values()]
    text = str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))
    compile(f"def f{text}: pass", "<stub signature>", "exec")     # fail here, not in a notebook
    return text


def _function_stub(name: str, obj, indent: str = "") -> str:
    inner = indent + "    "
    return (f"{indent}def {name}{_signature(obj)}:\n" + _doc(obj, inner)
            + f'{inner}raise NotImplementedError("exercise: write {name} yourself")\n')


def make_stub(spec: dict) -> str:
    """The source of the stub cell for one ``stub`` specification."""
    name, obj = spec["name"], _resolve(spec["of"])
    if inspect.isclass(obj):
        methods = spec.get("methods") or [m for m, v in vars(obj).items()
                                          if inspect.isfunction(v) and not m.startswith("_")]
        base = spec.get("base")
        head = f"class {name}({base}):\n" if base else f"class {name}:\n"
        doc = (f"{obj.__name__} with the methods below written by you; everything else is "
               f"inherited from {base}.") if base else None
        parts = [head + _doc(obj, "    ", doc)]
        for m in methods:
            parts.append("\n" + _function_stub(m, getattr(obj, m), "    "))
        return "".join(parts)
    return _function_stub(name, obj)


def student_notebook(chapter: str):
    """The student edition of one chapter, as an nbformat notebook."""
    nb = jupytext.read(ROOT / "book" / f"{chapter}.md")
    # Cells tagged book-only assert that the book's own solutions pass; a student's
    # notebook has stubs there instead.
    nb.cells = [c for c in nb.cells if "book-only" not in c.metadata.get("tags", [])]
    stubs = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or "solution" not in cell.metadata.get("tags", []):
            continue
        spec = cell.metadata.get("stub")
        if not isinstance(spec, dict) or "name" not in spec or "of" not in spec:
            raise ValueError(f"{chapter}: a solution cell needs metadata "
                             f'stub: {{"name": ..., "of": ...}}, got {spec!r}')
        cell.source = ("# Your turn: replace the NotImplementedError with your code, then run\n"
                       "# the check cell below.\n" + make_stub(spec))
        cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != "solution"] + ["stub"]
        stubs += 1
    nb.metadata["memrnn_student_edition"] = {"chapter": chapter, "stubs": stubs}
    if stubs:
        # memrnn grade reads these two lines (memrnn.grading.submission._identity) when the notebook's
        # metadata has no name: a notebook filled in and saved in JupyterLab is handed in too.
        # The page's "Download my notebook" fills this same cell.
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(IDENTITY_CELL, id=IDENTITY_ID,
                                                         metadata={"tags": ["student-id"]}))
    return nb


def write_edition(out_dir) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in CHAPTERS:
        path = out / f"{chapter}-student.ipynb"
        nbformat.write(student_notebook(chapter), path)
        written.append(path)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/student_edition.py OUTPUT_DIR")
    for p in write_edition(sys.argv[1]):
        print(p)
