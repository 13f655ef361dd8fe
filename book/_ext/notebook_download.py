"""Offer each executed chapter as an ``.ipynb`` in the theme's download menu.

sphinx-book-theme lists an ``.ipynb`` download only when the page context
holds ``ipynb_source``, and it fills that in for MyST-markdown notebooks only
when launch buttons (Binder, Colab) are configured. This book has no launch
service, so this extension does that one step itself: it copies the page's
plain notebook (``plain_notebooks.py``: the executed chapter written as plain
Jupyter, ``<build>/notebooks/<chapter>.ipynb``) next to the page sources and
points the theme's button at it, and makes the button save the file rather
than open it in a tab. Before that it reads the notebook that myst-nb executed
(``<build>/jupyter_execute/<page>.ipynb``), whose every cell, hidden ones
included, must have kept stderr empty.

The theme also lists the page's source file, the chapter's MyST ``.md``, which
opened in JupyterLab, VS Code or Colab shows roles and directives where the
page shows numbers and code. That entry is taken out of every page's menu, so
the menu offers the plain notebook and the PDFs only; ``html_copy_source:
false`` in ``_config.yml`` keeps the ``.md`` files out of the site altogether.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import plain_notebooks
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _add_ipynb_download(app, pagename, templatename, context, doctree):
    if doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return  # not a notebook page: nothing was executed
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        raise ExtensionError(f"notebook_download: no executed notebook for {pagename!r} "
                             f"at {executed}; is execute_notebooks off?")
    _warn_about_stderr(executed, pagename)
    plain = plain_notebooks.plain_path(app, pagename)
    if not plain.is_file():
        raise ExtensionError(f"notebook_download: no plain notebook for {pagename!r} at {plain}")
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(plain, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


#: The theme's entry for the page's source file (``.md``) in its download menu.
SOURCE_BUTTON = "download-source-button"


def _drop_source_download(app, pagename, templatename, context, doctree):
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"] = [b for b in group["buttons"] if b.get("label") != SOURCE_BUTTON]


def _warn_about_stderr(executed: Path, pagename: str) -> None:
    # myst-nb checks stderr only in the outputs it renders, so a warning
    # printed by a hidden (remove-cell) cell would pass unseen. The download
    # holds every cell; with -W this warning fails the build.
    cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = "".join(out.get("text", "")).strip().splitlines()
                logger.warning("%s: code cell %d wrote to stderr: %s", pagename, index,
                               text[0] if text else "(empty)", location=pagename)


#: The theme opens the notebook in a new tab. Served as application/x-ipynb+json
#: (what most static hosts say for .ipynb), a browser then shows the JSON
#: instead of saving it. The download attribute makes the link save the file,
#: whatever the host's content type.
_SAVE_NOT_SHOW = """document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll("a.btn-download-notebook-button")) {
    link.setAttribute("download", link.getAttribute("href").split("/").pop());
    link.removeAttribute("target");
  }
});"""


def setup(app):
    app.add_js_file(None, body=_SAVE_NOT_SHOW)
    # Priority 500 runs before the theme's add_header_buttons (501), which
    # reads ipynb_source.
    app.connect("html-page-context", _add_ipynb_download, priority=500)
    # After add_header_buttons (501), which makes the menu.
    app.connect("html-page-context", _drop_source_download, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
