"""What the theme and the toolchain leave out for readers who use assistive technology.

- Every image of a captioned figure that has no alt text of its own gets the caption as alt
  text, so a figure added without ``:alt:`` is never silent to a screen reader. An ``:alt:``
  written in the chapter wins: it can describe what the caption takes as seen.
- The bibliography's entries are the items of its list. Docutils marks them
  ``role="doc-biblioentry"``, a role that ARIA has deprecated and that a list does not accept
  as an item.
- The toggle of a hidden code cell is named by the text it shows ("Show code cell source"),
  not by a fixed ``aria-label`` that says something else.
- The theme's search and colour-mode buttons get accessible names that contain what they show
  (``accessibility_static/memrnn-a11y/buttons.js``): the theme fixes their names in its
  templates, while what they show changes with the page's state.

``tests/test_accessibility.py`` runs axe-core on every page of the built site.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx

STATIC = Path(__file__).resolve().parent / "accessibility_static"
ASSETS = "memrnn-a11y"  # the folder under _static

#: Markup the HTML writers produce, and what the pages carry instead.
BODY_FIXES = (
    ('role="doc-biblioentry"', 'role="listitem"'),
    ('<summary aria-label="Toggle hidden content">', "<summary>"),
)


def caption_text(figure: nodes.figure) -> str:
    """The figure's caption as one line of plain text ("" when it has none)."""
    for caption in figure.findall(nodes.caption):
        return " ".join(caption.astext().split())
    return ""


def _lacks_alt(image: nodes.image) -> bool:
    """No alt text, or only the file's name, which some writers put in its place."""
    alt = (image.get("alt") or "").strip()
    uri = image.get("uri") or ""
    return not alt or alt in (uri, uri.rsplit("/", 1)[-1])


def add_alt_from_captions(doctree: nodes.Node) -> int:
    """Give the images of every captioned figure that lack alt text the caption; returns how many."""
    added = 0
    for figure in doctree.findall(nodes.figure):
        text = caption_text(figure)
        if not text:
            continue
        for image in figure.findall(nodes.image):
            if _lacks_alt(image):
                image["alt"] = text
                added += 1
    return added


def fix_body(body: str) -> str:
    """A page's HTML with the roles and names of ``BODY_FIXES`` put right."""
    for old, new in BODY_FIXES:
        body = body.replace(old, new)
    return body


def _config_inited(app: Sphinx, config) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def _doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    # After the post-transforms, so the images of glued outputs are in place.
    add_alt_from_captions(doctree)


def _html_page_context(app: Sphinx, pagename, templatename, context, doctree) -> None:
    if "body" in context:
        context["body"] = fix_body(context["body"])


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _config_inited)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("html-page-context", _html_page_context)
    app.add_js_file(f"{ASSETS}/buttons.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
