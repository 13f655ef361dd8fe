"""memrnn's public names: each module declares them, there are at most 130, the API page
documents them, and a chapter's visible code uses no other.

**The definition.** Following PEP 8, a module's public interface is its ``__all__``. A
*public module* is ``memrnn`` or any module or package below it whose dotted name has no part
starting with an underscore (``memrnn.grading.batch`` is one, ``memrnn.plots._style`` and
``memrnn.__main__`` are not). The *public names* are the entries of the ``__all__`` of every
public module, and the *count* is the number of distinct objects they name, each counted once
however often it is re-exported:

* a function, a class or a module counts once, whatever name and module list it
  (``memrnn.RNN`` and ``memrnn.rnn.RNN`` are one; so is an alias under another name);
* any other value (a number, a string, a tuple, a dict) counts once per name: the same object
  under the same name in two lists is one (``memrnn.TRIVIAL_MSE``, ``memrnn.data.TRIVIAL_MSE``),
  while two names for equal constants are two, because Python shares small numbers and
  strings between unrelated constants.

Modules listed in an ``__all__`` (``memrnn.__all__`` lists its submodules) are objects and count.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import types
from pathlib import Path

import jupytext
import pytest

import memrnn

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 130
#: Cells whose code the page does not show: glue and build guards.
HIDDEN_TAGS = {"remove-cell", "remove-input"}


def public_modules() -> dict:
    """Dotted name -> module, for memrnn and every public module below it."""
    found = {"memrnn": memrnn}
    for info in pkgutil.walk_packages(memrnn.__path__, "memrnn."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found[info.name] = importlib.import_module(info.name)
    return found


def key(name: str, obj) -> tuple:
    """What makes two ``__all__`` entries the same public name (see the module's docstring)."""
    if callable(obj) or isinstance(obj, types.ModuleType):
        return ("object", id(obj))
    return ("value", name, id(obj))


def public_names(modules: dict) -> dict:
    """key -> the dotted names under which the object is listed."""
    out: dict = {}
    for modname, module in modules.items():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            out.setdefault(key(name, obj), []).append(f"{modname}.{name}")
    return out


MODULES = public_modules()


# --- (a) every public module declares its names, and they exist ----------------------------

@pytest.mark.parametrize("modname", sorted(MODULES))
def test_every_public_module_declares_all_and_each_entry_exists(modname):
    module = MODULES[modname]
    assert hasattr(module, "__all__"), f"{modname} has no __all__"
    names = module.__all__
    assert isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names), names
    assert len(set(names)) == len(names), f"{modname}.__all__ lists a name twice"
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"{modname}.__all__ names what the module lacks: {missing}"


def test_the_walk_finds_the_public_modules_and_skips_the_private_ones():
    assert {"memrnn", "memrnn.rnn", "memrnn.stats", "memrnn.grading", "memrnn.grading.batch",
            "memrnn.plots.speed", "memrnn.selfcheck.basics"} <= set(MODULES)
    assert not [m for m in MODULES if "._" in m]
    assert "memrnn.plots._style" not in MODULES and "memrnn.__main__" not in MODULES


# --- (b) at most LIMIT of them ----------------------------------------------------------------

def test_the_count_merges_reexports_and_keeps_distinct_constants_apart():
    def f():
        pass

    shared = float("0.5")
    a = types.ModuleType("a")
    a.f, a.alias, a.X, a.Y, a.Z, a.__all__ = f, f, shared, "numpy", "numpy", ["f", "alias", "X", "Y", "Z"]
    b = types.ModuleType("b")
    b.f, b.X, b.__all__ = f, shared, ["f", "X"]
    names = public_names({"a": a, "b": b})
    # f once (three listings), X once (same object, same name), Y and Z twice though equal.
    assert len(names) == 4, names
    assert sorted(map(sorted, names.values()))[0] == ["a.X", "b.X"]


def test_there_are_at_most_130_public_names(capsys):
    names = public_names(MODULES)
    with capsys.disabled():
        print(f"\nmemrnn public names: {len(names)} distinct objects "
              f"in the __all__ of {len(MODULES)} public modules (limit {LIMIT})")
    assert len(names) <= LIMIT, sorted(v[0] for v in names.values())
    # The students' API is among them.
    listed = {n for names_ in names.values() for n in names_}
    for name in ("memrnn.generate_samples", "memrnn.MSELoss", "memrnn.RNN", "memrnn.Learner"):
        assert name in listed, name


# --- (c) the API page documents exactly them --------------------------------------------------

_DIRECTIVE = re.compile(r"^\.\. (automodule|autofunction|autoclass|autodata|autoexception):: *(\S+)"
                        r"((?:\n {3}:[^\n]*)*)", re.M)


def api_page_documents(text: str, modules: dict) -> tuple[set, set, list]:
    """(keys documented, modules with a section, names documented that are not public)."""
    documented, sections, not_public = set(), set(), []
    for kind, target, options in _DIRECTIVE.findall(text):
        if kind == "automodule":
            if target not in modules:
                not_public.append(target)
                continue
            module = modules[target]
            sections.add(target)
            members = re.search(r":members:(.*)", options)
            if members is None:
                continue
            listed = [n.strip() for n in members[1].split(",") if n.strip()] or list(module.__all__)
        else:
            target, name = target.rsplit(".", 1)
            module, listed = modules.get(target), [name]
            if module is None:
                not_public.append(f"{target}.{name}")
                continue
        for name in listed:
            if name not in module.__all__:
                not_public.append(f"{target}.{name}")
            elif kind != "automodule" or _autodoc_shows(target, name, getattr(module, name)):
                documented.add(key(name, getattr(module, name)))
    return documented, sections, not_public


def _autodoc_shows(modname: str, name: str, obj) -> bool:
    """Does ``automodule`` with ``:members:`` (and no ``:undoc-members:``) show this member?

    As Sphinx decides: a function or class needs a docstring of its own; any other value
    needs a ``#:`` comment at its assignment in the module the directive documents (a
    constant re-exported into a package shows nothing there).
    """
    if callable(obj):
        own = obj.__doc__ if isinstance(obj, type) else getattr(obj, "__doc__", None)
        return bool(own and own.strip())
    from sphinx.pycode import ModuleAnalyzer

    return ("", name) in ModuleAnalyzer.for_module(modname).find_attr_docs()


def test_the_api_page_documents_every_public_name_and_no_other():
    text = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    documented, sections, not_public = api_page_documents(text, MODULES)
    assert not not_public, f"the API page documents names outside every __all__: {not_public}"
    names = public_names(MODULES)
    undocumented = sorted(v[0] for k, v in names.items()
                          if k not in documented and not isinstance(_object(v[0]), types.ModuleType))
    assert not undocumented, f"public names the API page does not document: {undocumented}"
    # A module listed as a public name has a section of its own.
    listed_modules = {_object(v[0]).__name__ for v in names.values()
                      if isinstance(_object(v[0]), types.ModuleType)}
    assert listed_modules <= sections, sorted(listed_modules - sections)


def test_the_api_page_check_bites():
    page = (".. automodule:: memrnn.fast\n   :members: FastRNN, TANH_FLOAT64\n\n"
            ".. automodule:: memrnn.rnn\n   :members: RNN, PARAM_NAMES\n")
    documented, sections, not_public = api_page_documents(page, MODULES)
    assert not_public == ["memrnn.rnn.PARAM_NAMES"]          # not public: flagged
    assert key("choose_tanh", memrnn.fast.choose_tanh) not in documented    # left out: not covered
    assert key("RNN", memrnn.RNN) in documented and sections == {"memrnn.fast", "memrnn.rnn"}
    # A bare :members: documents the module's __all__.
    documented, _, _ = api_page_documents(".. automodule:: memrnn.data\n   :members:\n", MODULES)
    assert documented == {key(n, getattr(memrnn.data, n)) for n in memrnn.data.__all__}
    # A constant documented through a package that re-exports it shows nothing: autodoc finds
    # its #: comment only in the module that assigns it.
    documented, _, _ = api_page_documents(".. automodule:: memrnn.grading\n   :members: STATUSES\n",
                                          MODULES)
    assert documented == set()
    documented, _, _ = api_page_documents(".. automodule:: memrnn.grading.batch\n   :members: STATUSES\n",
                                          MODULES)
    assert documented == {key("STATUSES", memrnn.grading.STATUSES)}


def _object(dotted: str):
    modname, name = dotted.rsplit(".", 1)
    return getattr(MODULES[modname], name)


# --- (d) a chapter's visible code uses only public names --------------------------------------

def _code(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))


def visible_uses(notebook) -> list[tuple[str, str]]:
    """(module, name) for every memrnn name a shown code cell reaches.

    Names are followed through imports made in any cell, hidden ones included, so a name
    imported in a hidden cell and used in a shown one counts. A chain ``memrnn.a.b.c`` is
    followed module by module until it reaches an object that is not a module.
    """
    aliases: dict[str, tuple] = {}      # local name -> ("module", dotted) or ("name", module, name)
    uses = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(_code(cell.source))
        shown = not set(cell.metadata.get("tags", [])) & HIDDEN_TAGS
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "memrnn":
                        dotted = alias.name if alias.asname else "memrnn"
                        aliases[alias.asname or "memrnn"] = ("module", dotted)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and \
                    (node.module or "").split(".")[0] == "memrnn":
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    local = alias.asname or alias.name
                    aliases[local] = ("module", sub) if sub in MODULES else ("name", node.module, alias.name)
                    if shown and sub not in MODULES:
                        uses.append((node.module, alias.name))
        if not shown:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):          # inner links of a chain repeat the outer ones
                chain, base = [], node
                while isinstance(base, ast.Attribute):
                    chain.append(base.attr)
                    base = base.value
                if isinstance(base, ast.Name) and aliases.get(base.id, ("",))[0] == "module":
                    module = aliases[base.id][1]
                    for attr in reversed(chain):
                        if f"{module}.{attr}" in MODULES:
                            module = f"{module}.{attr}"
                            continue
                        uses.append((module, attr))
                        break
            elif isinstance(node, ast.Name) and aliases.get(node.id, ("",))[0] == "name":
                uses.append(aliases[node.id][1:])
    return uses


def _not_public(uses) -> list[str]:
    return sorted({f"{m}.{n}" for m, n in uses
                   if m not in MODULES or n not in MODULES[m].__all__})


CHAPTERS = sorted((ROOT / "book").glob("*.md"))


@pytest.mark.parametrize("page", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_a_chapters_visible_code_uses_only_public_names(page):
    """Hidden glue cells may reach anything; what the reader sees, they can look up."""
    uses = visible_uses(jupytext.read(page))
    assert not _not_public(uses), f"{page.name} shows code using non-public names: {_not_public(uses)}"


def test_the_visible_code_check_follows_the_chapters_and_bites():
    everything = [u for page in CHAPTERS for u in visible_uses(jupytext.read(page))]
    assert ("memrnn", "RNN") in everything and ("memrnn.selfcheck", "check_learner") in everything
    assert len(set(everything)) > 40, len(set(everything))
    page = """---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
```{code-cell} ipython3
:tags: [remove-cell]
import memrnn
from memrnn.results import clipping_counts
from memrnn import report
x = memrnn.rnn.PARAM_NAMES
```

```{code-cell} ipython3
y = clipping_counts(memrnn.fast.TANH_FLOAT32) + report.own_sweep
z = memrnn.plots.speed.cpu_ms, memrnn.RNN(1, 2, 1).forward
```
"""
    uses = visible_uses(jupytext.reads(page, fmt="md:myst"))
    # Hidden use of PARAM_NAMES is allowed; the shown cell's three private names are not.
    assert _not_public(uses) == ["memrnn.fast.TANH_FLOAT32", "memrnn.report.own_sweep",
                                 "memrnn.results.clipping_counts"]
    assert ("memrnn.plots.speed", "cpu_ms") in uses and ("memrnn", "RNN") in uses
