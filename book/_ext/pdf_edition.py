"""The PDF edition in the site: the link to it, and the single page it is printed from.

The PDF edition (CONTRIBUTING.md, "The PDF edition") is the whole book rendered as one
HTML page by Sphinx's ``singlehtml`` builder and printed by the system's
Chromium (``tools/print_book.py``); ``scripts/build-pdf.sh`` does both, and
``scripts/build-book.sh`` calls it after building the site. The single page is
built on the HTML build's Sphinx environment, so no chapter runs twice.
Jupyter Book's own ``pdfhtml`` builder cannot be used here: it wants a browser
downloaded by pyppeteer, and its LaTeX route a TeX installation of some 330 MB.

This extension does two things:

* In the HTML site, when ``MEMRNN_PDF_EDITION`` names the file (the build
  script sets it), every page's download menu gets a "book .pdf" entry next to
  the theme's own ones. It points at that file at the site's root and saves it.
* For the ``singlehtml`` builder it takes the HTML translator's handlers for
  the nodes that extensions registered for ``html`` only (myst-nb's folded
  code cells, for one). Sphinx looks the handlers up by builder name and falls
  back to the format only when the name has none at all, so without this the
  single page fails with "unknown node type: HideCodeCellNode".
"""

from __future__ import annotations

import os

#: The environment variable that turns the site's link to the PDF on, and names the file.
LINK_ENV = "MEMRNN_PDF_EDITION"


def _singlehtml_handlers(app):
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    html = handlers.get("html", {})
    single = handlers.setdefault("singlehtml", {})
    for name, pair in html.items():
        single.setdefault(name, pair)


def _add_pdf_link(app, pagename, templatename, context, doctree):
    filename = os.environ.get(LINK_ENV, "").strip()
    if app.builder.name != "html" or not filename:
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].append({
                "type": "link",
                "url": context["pathto"](filename, 1),
                "text": "book .pdf",
                "tooltip": "Download the whole book as a PDF",
                "icon": "fas fa-book",
                "label": "download-book-pdf-button",
            })


#: The theme opens links in a new tab; the PDF is saved instead, under its own name.
_SAVE_NOT_SHOW = """document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll("a.btn-download-book-pdf-button")) {
    link.setAttribute("download", link.getAttribute("href").split("/").pop());
    link.removeAttribute("target");
  }
});"""


def setup(app):
    app.connect("builder-inited", _singlehtml_handlers)
    # After the theme's add_header_buttons (priority 501), which makes the menu.
    app.connect("html-page-context", _add_pdf_link, priority=502)
    if os.environ.get(LINK_ENV, "").strip():
        app.add_js_file(None, body=_SAVE_NOT_SHOW)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

