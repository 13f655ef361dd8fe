"""The package's shape: no import cycles, one version, tests that stand on their own."""

from __future__ import annotations

import ast
from importlib import metadata
from pathlib import Path

import tomllib

import memrnn

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "memrnn"


def _imports(path: Path) -> set[str]:
    """The memrnn modules that ``path`` imports, anywhere in the file (functions included)."""
    here = path.stem
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:                      # from . import x / from .x import y
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
            elif node.level == 0 and (node.module or "").startswith("memrnn."):
                found.add(node.module.split(".")[1])
            elif node.level == 0 and node.module == "memrnn":
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("memrnn."):
                    found.add(alias.name.split(".")[1])
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    return {m for m in found if m in modules and m != here}


def import_graph() -> dict[str, set[str]]:
    return {p.stem: _imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}


def find_cycle(graph: dict[str, set[str]]):
    """A cycle of the graph as a list of nodes, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if nxt == "__init__":
                continue
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt, path + [nxt])
                if cycle:
                    return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def test_no_import_cycle_among_memrnn_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a"}}) is None


def test_the_learner_imports_no_plotting_code_at_module_level():
    tree = ast.parse((PACKAGE / "learner.py").read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {a.name for n in top for a in n.names} | {n.module or "" for n in top
                                                      if isinstance(n, ast.ImportFrom)}
    assert not {"plots", "matplotlib"} & {n.split(".")[0] for n in names}, names


def test_the_version_is_written_once():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert memrnn.__version__ == metadata.version("memrnn") == pyproject["project"]["version"]
    assert "__version__ =" not in (PACKAGE / "__init__.py").read_text().replace(
        "__version__ = _metadata", "").replace('__version__ = "0+unknown"', "")


def test_no_test_imports_the_benchmarks():
    for path in (ROOT / "tests").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("benchmarks"), path.name
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("benchmarks") for a in node.names), path.name


def test_every_top_level_name_is_used_by_a_chapter():
    """What ``import memrnn`` offers, a chapter uses: the API page's "Used in" (from the
    chapters' sources, book/_ext/used_in.py) lists at least one chapter for each."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("used_in", ROOT / "book" / "_ext" / "used_in.py")
    used_in = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(used_in)
    code = used_in.chapter_code(ROOT / "book")
    unused = [name for name in memrnn.__all__ if not used_in.users(name, code)]
    assert not unused, unused


def _requirement_closure(dist: str, extras: set[str]) -> set[str]:
    """The installed distributions that ``pip install dist[extras]`` brings, itself included."""
    from packaging.requirements import Requirement

    def norm(name):
        return name.lower().replace("_", "-").replace(".", "-")

    seen, todo = set(), [(dist, frozenset(extras))]
    while todo:
        name, wanted = todo.pop()
        key = (norm(name), wanted)
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue                                  # an optional dependency not installed
        for line in requires:
            req = Requirement(line)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in wanted or {""}):
                todo.append((req.name, frozenset(req.extras)))
    return {name for name, _ in seen}


def _third_party_imports(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    import sys
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("memrnn", "tools")}


def test_the_book_extras_install_what_the_book_build_imports():
    """`bash scripts/build-book.sh` installs only memrnn[book]; what it runs must need no more.

    The chapters, the Sphinx extensions and the tools the build runs (the student edition,
    the PDF printer) may import only what memrnn[book] brings. A fresh clone once built the
    site and then failed at the PDF: Playwright came only with the test extras.
    """
    import jupytext

    sources = [p.read_text(encoding="utf-8") for p in (ROOT / "book" / "_ext").glob("*.py")]
    sources += [(ROOT / "tools" / name).read_text(encoding="utf-8")
                for name in ("print_book.py", "student_edition.py")]
    for page in sorted((ROOT / "book").glob("*.md")):
        nb = jupytext.read(page)
        for cell in nb.cells:
            if cell.cell_type == "code":
                sources.append("\n".join(line for line in cell.source.splitlines()
                                         if not line.lstrip().startswith(("%", "!"))))
    imported = set().union(*(_third_party_imports(s) for s in sources))
    provided = metadata.packages_distributions()
    closure = {d.lower().replace("_", "-") for d in _requirement_closure("memrnn", {"book"})}
    local = {p.stem for p in (ROOT / "book" / "_ext").glob("*.py")}     # the extensions import each other
    missing = {name for name in imported - local
               if not any(d.lower().replace("_", "-") in closure for d in provided.get(name, []))}
    assert "playwright" in imported and "myst_nb" in imported, imported   # it really looked
    assert not missing, f"imported by the book build but not installed by memrnn[book]: {missing}"
