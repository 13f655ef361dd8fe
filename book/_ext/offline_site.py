"""Keep the site self-contained: no script or stylesheet from the network.

The book is read offline, on a laptop in a lecture hall or from a folder of
HTML, so every page must carry what it shows. Two things in the toolchain
reach out by default, and this extension deals with both:

* sphinx-thebe, which Jupyter Book 1 always loads, adds a "launch a live
  kernel" script that points at a CDN (unpkg) and at a Binder example
  repository. This book has no Binder set-up (students run the chapters
  locally, see the README), and the script was also added twice to every
  page, which made the browser report "Identifier 'THEBE_JS_URL' has already
  been declared". The extension takes thebe's scripts, stylesheet and
  configuration nodes out of every page.
* MathJax comes from a CDN unless ``mathjax_path`` says otherwise;
  ``_config.yml`` points it at the copy in ``_vendor/`` (see
  ``scripts/install-mathjax.sh``).

After that, any script or stylesheet that a page would still load from
another host is logged as a warning, which the book's ``-W`` build turns into
a failure. The browser tests (``tests/test_browser.py``) check the same thing
from the other side, by blocking every request that is not for 127.0.0.1.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _is_thebe(asset) -> bool:
    filename = str(getattr(asset, "filename", asset) or "")
    body = getattr(asset, "attributes", {}).get("body", "")
    return "thebe" in filename.lower() or "THEBE" in body


def _remote(asset) -> str | None:
    filename = str(getattr(asset, "filename", asset) or "")
    return filename if "://" in filename or filename.startswith("//") else None


def _drop_thebe_nodes(app, doctree, docname):
    # sphinx-thebe appends its configuration as raw HTML at the end of each page.
    for node in list(doctree.findall(nodes.raw)):
        text = node.astext()
        if "x-thebe-config" in text or "kernelName =" in text:
            node.parent.remove(node)


def _check_assets(app, pagename, templatename, context, doctree):
    for key in ("script_files", "css_files"):
        if key not in context:
            continue
        context[key] = [asset for asset in context[key] if not _is_thebe(asset)]
        for asset in context[key]:
            url = _remote(asset)
            if url:
                logger.warning("offline_site: %s loads %s from the network; serve it "
                               "from the site instead", pagename, url, location=pagename)


def setup(app):
    # After sphinx-thebe's own handlers (priority 500).
    app.connect("doctree-resolved", _drop_thebe_nodes, priority=900)
    app.connect("html-page-context", _check_assets, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
