"""Run the chapters' code in the reader's browser: a Run button on every code cell.

The code runs in Pyodide (CPython 3.12 compiled to WebAssembly) inside a Web
Worker, so the page stays responsive, and every file it needs comes from the
site itself: Pyodide and the wheels of numpy, matplotlib and their
dependencies from ``_vendor/pyodide`` (``scripts/install-pyodide.sh``, served
at ``/pyodide/`` through ``html_extra_path``), and a wheel of memrnn built
from the checkout at every build (``pip wheel --no-deps``). No page asks any
other host for anything, so the book's offline rule (``offline_site.py``)
holds with the feature on.

What a page gets (the browser side is ``browser_run_static/memrnn-run/``):

* Every code cell that the page shows gets a bar with a Run button; a cell
  whose input the page hides (``remove-input``) gets "Show the code" too, and
  a solution cell (tag ``solution``) gets "Your turn", which swaps in the
  student edition's stub (``tools/student_edition.py``) so that it can be run.
* Every figure that a hidden cell glued (``{glue:figure}``) gets "Redraw in
  your browser", which runs that hidden cell and puts the new image in place.
* The cells of a page share one interpreter, as in a notebook. Running a cell
  first runs every cell above it that has not run yet, hidden set-up cells
  included: the page carries the source of every code cell of the executed
  notebook as JSON. ``myst_nb.glue`` and ``IPython.display`` are replaced by
  small stand-ins in the worker (``kernel.py``). Hidden cells run with their
  ``assert`` statements compiled out: they are the build's checks of the
  book's own run. Cells tagged ``book-only`` are not run at all.
* What the reader types into a cell is kept in the browser's local storage,
  under the book's version (memrnn's), the page and the cell, and is back
  after a reload; an edited cell is marked and can be reset, and so can the
  page. A chapter with an exercise offers "Download my notebook": its student
  edition (the page's ``{download}`` link) with the reader's code in place of
  the stub and their name and student number in its metadata and first cell,
  which ``memrnn grade`` reads (book appendix "Using this book in a course").
* Stop ends a run by restarting the worker (Python in a browser cannot be
  interrupted without cross-origin isolation headers, which a plain static
  host does not send); the next run starts again from the top of the page.

Heavy cells: per-cell metadata ``browser``
-----------------------------------------
A cell that takes long in the browser says so before it starts, and may offer
a quick setting that keeps it within a minute. In a chapter (MyST)::

    ```{code-cell} ipython3
    ---
    browser:
      seconds: 300          # the cell as the book runs it, in a browser (measured)
      quick:                # what the page runs instead while "quick setting" is on (the default)
        code: |
          settings = sweep.PROFILES["book"].replace(repeats=1, lengths=(5, 10, 20))
          result = sweep.run_sweep(settings, jobs=1, progress=False)
        seconds: 40         # the quick code, in a browser (measured)
        differs: one repetition at three lengths instead of five at eight, so the
          success rates are 0 or 1 and the error bars span most of the plot
    ---
    settings = sweep.PROFILES["book"]
    ...
    ```

or, for a cell that must not run in a browser at all, ``browser: {skip: "why"}``.
All keys are optional; ``quick`` needs ``code`` and ``differs``. The page
shows the estimate before a run starts ("about 40 s in your browser") and the
``differs`` sentence wherever the quick run's output or figures appear. The
quick setting is one switch per page: hidden cells that have a ``quick`` too
(a figure cell that needs other inputs after a smaller run) follow it. A
``browser`` entry that does not follow this format is a build warning, which
the book's ``-W`` build turns into an error.

Leaving it out
--------------
``MEMRNN_BROWSER_RUN=0`` leaves the feature out (``scripts/build-book.sh``
then does not install Pyodide either). Without the Pyodide files, or when the
memrnn wheel cannot be built, the book still builds, without Run buttons, and
the build log says why in one line starting with ``[browser-run]``. The
browser tests (``tests/test_run_in_browser.py``) then fail with that line.
Only the ``html`` builder gets Run buttons (not ``singlehtml``, which the PDF
edition prints). A build without Run buttons also leaves Pyodide out of its
output (``html_extra_path`` would copy it from ``_vendor``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC = HERE / "browser_run_static"
ASSETS = "memrnn-run"                # the folder under _static
PREFIX = "[browser-run]"
BUILDERS = ("html", "dirhtml")
_BROWSER_KEYS = {"seconds", "quick", "skip"}
_QUICK_KEYS = {"code", "seconds", "differs"}


# ------------------------------------------------------------ is it there?
def _pyodide_dir(app) -> Path:
    return Path(app.srcdir) / "_vendor" / "pyodide"


def _why_not(app) -> str | None:
    """None when the Run buttons can be built, else the reason in a few words."""
    if os.environ.get("MEMRNN_BROWSER_RUN", "1").strip() == "0":
        return "left out by MEMRNN_BROWSER_RUN=0"
    error = os.environ.get("MEMRNN_PYODIDE_ERROR", "").strip()
    if error:
        return f"the Pyodide files could not be had: {error}"
    manifest = _pyodide_dir(app) / "manifest.json"
    if not manifest.is_file():
        return (f"no Pyodide in {_pyodide_dir(app)} (run `bash scripts/install-pyodide.sh`, "
                "which scripts/build-book.sh does)")
    try:
        data = json.loads(manifest.read_text())
        files = data["sha256"]
    except (ValueError, KeyError) as err:
        return f"{manifest} is unreadable ({err}); run `bash scripts/install-pyodide.sh`"
    missing = [name for name in files if not (_pyodide_dir(app) / name).is_file()]
    if missing:
        return (f"{len(missing)} Pyodide file(s) missing from {_pyodide_dir(app)} "
                f"({', '.join(missing[:3])}); run `bash scripts/install-pyodide.sh`")
    return None


def _config_inited(app, config):
    app.browser_run = None
    reason = _why_not(app)
    if reason is None:
        app.browser_run = {"manifest": json.loads((_pyodide_dir(app) / "manifest.json").read_text())}
        config.html_static_path = list(config.html_static_path) + [str(STATIC)]
    else:
        app.browser_run_reason = reason


def _build_wheel(app) -> tuple[Path, str]:
    """memrnn's wheel, built from the checkout into a temporary folder (``pip wheel --no-deps``)."""
    root = Path(app.srcdir)
    tmp = Path(tempfile.mkdtemp(prefix="memrnn-wheel-"))
    src = tmp / "src"
    src.mkdir()
    # A copy, so that a build never writes build/ or egg-info into the checkout
    # (other builds may be running from it).
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (root / name).is_file():
            shutil.copyfile(root / name, src / name)
    shutil.copytree(root / "memrnn", src / "memrnn",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
           "--disable-pip-version-check", "--quiet", "-w", str(tmp / "dist"), str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        # Without setuptools in this environment, let pip fetch the build backend.
        cmd.remove("--no-build-isolation")
        proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted((tmp / "dist").glob("memrnn-*.whl"))
    if proc.returncode != 0 or not wheels:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"could not build the memrnn wheel: {tail}")
    wheel = wheels[0]
    return wheel, hashlib.sha256(wheel.read_bytes()).hexdigest()


def _builder_inited(app):
    if app.builder.name not in BUILDERS:
        app.browser_run = None
        return
    if app.browser_run is None:
        logger.info(f"{PREFIX} Run buttons left out: {app.browser_run_reason}")
        return
    try:
        wheel, digest = _build_wheel(app)
    except RuntimeError as err:
        app.browser_run = None
        logger.info(f"{PREFIX} Run buttons left out: {err}")
        return
    manifest = app.browser_run["manifest"]
    # What a reader's first run loads, the same on every page.
    sizes = manifest.get("bytes", {})
    core = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip",
            "pyodide-lock.json")
    app.browser_run.update(
        wheel=wheel, wheel_path=f"{ASSETS}/wheels/{digest[:16]}/{wheel.name}", pages=0,
        sizes={"core": sum(sizes.get(name, 0) for name in core),
               "packages": sum(v for k, v in sizes.items()
                               if k.endswith(".whl") and not k.startswith("extra/")),
               "memrnn": wheel.stat().st_size + sum(sizes.get(w, 0) for w in manifest["wheels"])})
    logger.info(f"{PREFIX} Run buttons on: Pyodide {manifest['version']} from "
                f"{_pyodide_dir(app)}, {wheel.name} built from the checkout")


# ------------------------------------------------------------- the pages
def _mark_cells(app, doctree, docname):
    """Give each code cell's container a class naming its notebook index, for runner.js."""
    if not getattr(app, "browser_run", None):
        return
    for node in doctree.findall(nodes.container):
        if node.get("nb_element") == "cell_code" and node.get("cell_index") is not None:
            node["classes"].append(f"memrnn-cell-{node['cell_index']}")


def _check_browser_meta(meta, pagename, index) -> dict:
    """The cell's ``browser`` metadata, checked; a warning (an error under -W) if malformed."""
    where = f"{pagename}, notebook cell {index}"
    if meta is None:
        return {}
    problems = []
    if not isinstance(meta, dict):
        problems.append(f"must be a mapping, not {meta!r}")
        meta = {}
    for key in set(meta) - _BROWSER_KEYS:
        problems.append(f"unknown key {key!r} (known: {', '.join(sorted(_BROWSER_KEYS))})")
    if "seconds" in meta and not isinstance(meta["seconds"], (int, float)):
        problems.append("seconds must be a number")
    if "skip" in meta and not isinstance(meta["skip"], str):
        problems.append("skip must be a sentence saying why")
    quick = meta.get("quick")
    if quick is not None:
        if not isinstance(quick, dict):
            problems.append("quick must be a mapping with code and differs")
        else:
            for key in set(quick) - _QUICK_KEYS:
                problems.append(f"unknown key quick.{key} (known: {', '.join(sorted(_QUICK_KEYS))})")
            for key in ("code", "differs"):
                if not isinstance(quick.get(key), str) or not quick.get(key).strip():
                    problems.append(f"quick.{key} is required (a string)")
            if "seconds" in quick and not isinstance(quick["seconds"], (int, float)):
                problems.append("quick.seconds must be a number")
    for problem in problems:
        logger.warning(f"{PREFIX} {where}: browser metadata: {problem}", location=pagename)
    return meta if not problems else {}


def _stubs(app, pagename) -> list[str]:
    """The student edition's stub sources for this chapter, in order (empty if none).

    Read from the notebook the page offers for download, which scripts/build-book.sh
    writes into book/_student before the build: the stub in the page is that one.
    """
    path = Path(app.srcdir) / "book" / "_student" / f"{pagename.split('/')[-1]}-student.ipynb"
    if not path.is_file():
        return []
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"]
            if c["cell_type"] == "code" and "stub" in c["metadata"].get("tags", [])]


def _page_data(app, pagename, executed: Path, pathto) -> dict:
    nb = json.loads(executed.read_text(encoding="utf-8"))
    stubs = iter(_stubs(app, pagename))
    cells, by_image = [], {}
    number = 0
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        number += 1
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        meta = cell.get("metadata", {})
        tags = meta.get("tags", [])
        browser = _check_browser_meta(meta.get("browser"), pagename, index)
        if "remove-cell" in tags:
            role = "hidden"
        elif "remove-input" in tags:
            role = "output"
        elif "solution" in tags:
            role = "solution"
        else:
            role = "code"
        entry = {"index": index, "n": number, "role": role, "source": source}
        if "book-only" in tags:
            entry["skip"] = "a check of the book's own solutions"
        elif browser.get("skip"):
            entry["skip"] = browser["skip"]
        if "seconds" in browser:
            entry["seconds"] = browser["seconds"]
        if browser.get("quick"):
            entry["quick"] = browser["quick"]
        if role == "solution":
            stub = next(stubs, None)
            if stub is not None:
                entry["stub"] = stub
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png:
                by_image[hashlib.sha256(base64.b64decode(png)).hexdigest()] = index
        cells.append(entry)

    figures = {}
    glue_file = executed.with_suffix(".glue.json")
    if glue_file.is_file():
        for key, out in json.loads(glue_file.read_text(encoding="utf-8")).items():
            png = out.get("data", {}).get("image/png")
            if not png:
                continue
            digest = hashlib.sha256(base64.b64decode(png)).hexdigest()
            # The cell that glues it: the one that names the key (figures are glued by
            # a literal name), else the one whose output is that image.
            named = [c["index"] for c in cells
                     if f'"{key}"' in c["source"] or f"'{key}'" in c["source"]]
            cell = named[0] if len(named) == 1 else by_image.get(digest)
            if cell is not None:
                figures[key] = {"image": digest, "cell": cell}

    run = app.browser_run
    manifest = run["manifest"]

    def folder(path):
        return pathto(path, 1).rsplit("/", 1)[0] + "/"

    return {
        # What the reader's edits are stored under (runner.js): the book's version
        # (memrnn's, from the wheel built for this site) and the page.
        "book": run["wheel"].name.split("-")[1],
        "page": pagename,
        "chapter": pagename.split("/")[-1],
        "version": manifest["version"],
        "python": manifest.get("python", ""),
        "indexURL": folder("pyodide/pyodide.js"),
        "worker": pathto(f"_static/{ASSETS}/worker.js", 1),
        "kernel": pathto(f"_static/{ASSETS}/kernel.py", 1),
        "packages": manifest["packages"],
        "wheels": [pathto(f"pyodide/{w}", 1) for w in manifest["wheels"]]
                  + [pathto(f"_static/{run['wheel_path']}", 1)],
        "sizes": run["sizes"],
        "cells": cells,
        "figures": figures,
    }


def _add_runner(app, pagename, templatename, context, doctree):
    run = getattr(app, "browser_run", None)
    if not run or doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return   # notebook_download reports a missing executed notebook
    data = _page_data(app, pagename, executed, context["pathto"])
    if not data["figures"] and all(c["role"] == "hidden" or c.get("skip") for c in data["cells"]):
        return   # nothing to run on this page (the introduction's cells are all hidden)
    # JSON inside <script>: no "</script>" or "<!--" can end it early.
    payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    context["body"] = context.get("body", "") + (
        f'\n<script type="application/json" id="memrnn-run-data">{payload}</script>\n')
    app.add_css_file(f"{ASSETS}/runner.css")
    app.add_js_file(f"{ASSETS}/runner.js", loading_method="defer")
    run["pages"] += 1


def _build_finished(app, exception):
    run = getattr(app, "browser_run", None)
    if exception is not None:
        return
    if not run or "wheel" not in run:
        # html_extra_path copied _vendor, Pyodide included: a site without Run
        # buttons (or a single page for the PDF) does not need those 27 MB.
        shutil.rmtree(Path(app.outdir) / "pyodide", ignore_errors=True)
        return
    target = Path(app.outdir) / "_static" / run["wheel_path"]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run["wheel"], target)
    shutil.rmtree(run["wheel"].parent.parent, ignore_errors=True)
    sizes = run["manifest"].get("bytes", {})
    total = sum(sizes.values()) + target.stat().st_size
    logger.info(f"{PREFIX} Run buttons on {run['pages']} pages; a reader's first run loads "
                f"{total / 1e6:.1f} MB from the site")


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-resolved", _mark_cells)
    # Before offline_site (900), which checks every page's scripts.
    app.connect("html-page-context", _add_runner, priority=600)
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
