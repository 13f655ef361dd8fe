"""The Python side of the book's Run buttons. It runs in Pyodide, inside a Web Worker.

``worker.js`` writes this file into Pyodide's file system, imports it and
calls ``setup`` with a function that posts a JSON string to the page. Every
cell of a page then runs through ``run`` in one namespace, as in a notebook
kernel. What a cell shows goes to the page as messages:

* ``stream``: text written to stdout or stderr, as it is written;
* ``display``: a MIME bundle (``image/png`` as base64, ``text/html``,
  ``text/markdown``, ``text/plain``), for the cell's last expression, for
  ``display(...)``, and for every matplotlib figure still open when the cell
  ends (what IPython's inline backend does);
* ``glue``: a figure glued with ``myst_nb.glue``, so that the page can redraw
  the figure that the book shows under that name.

``myst_nb.glue`` and ``IPython.display`` do not exist in Pyodide; small
stand-ins with the same names are installed in ``sys.modules``. Cells that the
book hides run with their ``assert`` statements compiled out: those are the
build's checks of the book's own run, and a reader who changes a setting (or
runs the quick setting) still gets the figures.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import linecache
import os
import sys
import time
import traceback
import types

os.environ["MPLBACKEND"] = "Agg"   # no DOM in a worker: draw into PNGs

_post = None
GLUED: dict = {}
NAMESPACE: dict = {"__name__": "__main__", "__builtins__": __builtins__}


def _send(kind: str, **data) -> None:
    data["kind"] = kind
    _post(json.dumps(data))


class _Stream(io.TextIOBase):
    """stdout or stderr, forwarded to the page as it is written."""

    def __init__(self, name: str):
        self.name = name

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text) -> int:
        if text:
            _send("stream", name=self.name, text=str(text))
        return len(text)

    def flush(self) -> None:
        pass


# ------------------------------------------------------------ rich output
def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _is_figure(obj) -> bool:
    from matplotlib.figure import Figure
    return isinstance(obj, Figure)


def mime_bundle(obj) -> dict:
    """What the page shows for ``obj``, as Jupyter's display system would."""
    if _is_figure(obj):
        return {"image/png": _png(obj), "text/plain": repr(obj)}
    bundle = {"text/plain": repr(obj)}
    for method, mime in (("_repr_html_", "text/html"), ("_repr_markdown_", "text/markdown"),
                         ("_repr_png_", "image/png")):
        fn = getattr(obj, method, None)
        if callable(fn):
            try:
                value = fn()
            except Exception:                     # a broken repr must not hide the output
                continue
            if value is None:
                continue
            if isinstance(value, bytes):
                value = base64.b64encode(value).decode("ascii")
            bundle[mime] = value
    return bundle


def display(*objs, **_ignored) -> None:
    """``IPython.display.display``: show each object under the running cell."""
    for obj in objs:
        _send("display", data=mime_bundle(obj))
        if _is_figure(obj):
            import matplotlib.pyplot as plt
            plt.close(obj)


class _Text:
    _mime = "text/plain"

    def __init__(self, data=None, **_ignored):
        self.data = "" if data is None else str(data)

    def __repr__(self) -> str:
        return self.data


class Markdown(_Text):
    def _repr_markdown_(self):
        return self.data


class HTML(_Text):
    def _repr_html_(self):
        return self.data


class Latex(_Text):
    pass


def glue(name: str, variable, display: bool = True) -> None:
    """``myst_nb.glue``: keep the value; a figure also goes to the page under its name."""
    GLUED[name] = variable
    if _is_figure(variable):
        _send("glue", name=name, data={"image/png": _png(variable)})
    if display:
        _send("display", data=mime_bundle(variable))
    if _is_figure(variable):
        import matplotlib.pyplot as plt
        plt.close(variable)


def _install_shims() -> None:
    ipython = types.ModuleType("IPython")
    ipython_display = types.ModuleType("IPython.display")
    for name, value in {"display": display, "Markdown": Markdown, "HTML": HTML,
                        "Latex": Latex}.items():
        setattr(ipython_display, name, value)
    ipython.display = ipython_display
    ipython.get_ipython = lambda: None
    myst_nb = types.ModuleType("myst_nb")
    myst_nb.glue = glue
    sys.modules.setdefault("IPython", ipython)
    sys.modules.setdefault("IPython.display", ipython_display)
    sys.modules.setdefault("myst_nb", myst_nb)


def _flush_figures() -> None:
    """Show every figure still open at the end of a cell, then close it (the inline backend)."""
    import matplotlib.pyplot as plt
    for num in plt.get_fignums():
        fig = plt.figure(num)
        _send("display", data=mime_bundle(fig))
    plt.close("all")


# ------------------------------------------------------------------ running
def _traceback(exc: BaseException) -> str:
    """The error as Python prints it, without this module's own frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def run(source: str, name: str, hidden: bool = False) -> str:
    """Run one cell's ``source`` in the page's namespace; return a JSON summary.

    ``name`` labels the cell in tracebacks ("cell 3"). With ``hidden``, the
    cell's ``assert`` statements are compiled out.
    """
    filename = f"<{name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    start = time.perf_counter()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Stream("stdout"), _Stream("stderr")
    try:
        tree = ast.parse(source, filename)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        optimize = 1 if hidden else -1
        exec(compile(tree, filename, "exec", optimize=optimize), NAMESPACE)
        if last is not None:
            value = eval(compile(last, filename, "eval", optimize=optimize), NAMESPACE)
            if value is not None:
                NAMESPACE["_"] = value
                display(value)
        _flush_figures()
        ok, error = True, None
    except BaseException as exc:
        try:
            _flush_figures()
        except Exception:
            pass
        ok, error = False, {"name": type(exc).__name__, "text": _traceback(exc)}
    finally:
        sys.stdout.flush()
        sys.stdout, sys.stderr = old
    return json.dumps({"ok": ok, "error": error, "seconds": time.perf_counter() - start})


def setup(post) -> str:
    """Called once by the worker: keep the channel to the page, import what the book uses."""
    global _post
    _post = post
    _install_shims()
    start = time.perf_counter()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot
    import numpy  # noqa: F401  (loaded now, so that the first cell does not wait for it)
    import tqdm
    tqdm.tqdm.monitor_interval = 0     # its monitor is a thread, and a worker has none

    import memrnn
    return json.dumps({"memrnn": memrnn.__version__, "python": sys.version.split()[0],
                       "import_seconds": time.perf_counter() - start})
