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


def test_every_public_function_names_its_chapter():
    import inspect

    missing = []
    for name in memrnn.__all__:
        obj = getattr(memrnn, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            doc = inspect.getdoc(obj) or ""
            if "chapter" not in doc.lower() and "making it fast" not in doc.lower():
                missing.append(name)
    assert not missing, missing
