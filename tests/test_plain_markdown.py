"""book/_ext/plain_notebooks.py writes docutils nodes as the Markdown Jupyter renders.

Small trees built by hand, so that each rule is checked without a book build
(tests/test_plain_notebooks.py checks the notebooks of a real build).
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from docutils import nodes
from markdown_it import MarkdownIt
from myst_left import myst_pieces

from bookpages import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import plain_notebooks as pn

sys.path.remove(str(ROOT / "book" / "_ext"))


def _writer(baseurl="", fignumbers=None):
    class Std:
        def get_enumerable_node_type(self, node):
            return {nodes.figure: "figure", nodes.table: "table"}.get(type(node))

    env = SimpleNamespace(toc_fignumbers={"book/x": fignumbers or {}},
                          get_domain=lambda name: Std())
    config = SimpleNamespace(html_baseurl=baseurl, numfig_format={"figure": "Fig. %s"})
    return pn.MarkdownWriter(SimpleNamespace(env=env, config=config, srcdir=str(ROOT)), "book/x")


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


def test_text_is_escaped_so_that_it_shows_as_written():
    para = nodes.paragraph("", "", nodes.Text("costs $5 * 2 for a_b and _x_ <b> [1]"))
    md = _writer().block(para)
    html = _html(md)
    assert "costs $5 * 2 for a_b and _x_ &lt;b&gt; [1]" in html, (md, html)
    assert "<em>" not in html and "<b>" not in html


def test_inline_markup_math_and_code():
    para = nodes.paragraph("", "", nodes.Text("See "), nodes.emphasis("", "this"), nodes.Text(", "),
                           nodes.math("", r"x_{t}"), nodes.Text(" and "),
                           nodes.literal("", "a `b`"))
    assert _writer().block(para) == r"See *this*, $x_{t}$ and `` a `b` ``"


@pytest.mark.parametrize("baseurl, expected", [
    ("", "Chapter 3"),
    ("https://example.org/book", "[Chapter 3](<https://example.org/book/book/03-gradcheck.html#ch>)"),
])
def test_a_cross_reference_reads_as_the_page_shows_it(baseurl, expected):
    ref = nodes.reference("", "", nodes.inline("", "Chapter 3"), internal=True,
                          refuri="03-gradcheck.html#ch")
    assert _writer(baseurl).block(nodes.paragraph("", "", ref)) == expected


def test_a_numbered_equation_carries_its_tag():
    block = nodes.math_block("", "L = \\frac{1}{N}", ids=["equation-eq-x"], number=4, label="eq-x")
    md = _writer(fignumbers={"displaymath": {"equation-eq-x": (4,)}}).block(block)
    assert md == "$$\nL = \\frac{1}{N} \\tag{4}\n$$"
    assert myst_pieces(md) == []


def test_an_admonition_is_a_block_quote_and_a_dropdown_a_details_element():
    note = nodes.admonition("", nodes.title("", "Pitfall"), nodes.paragraph("", "Mind the copy."))
    assert _writer().block(note) == "> **Pitfall**\n>\n> Mind the copy."
    drop = nodes.admonition("", nodes.title("", "Solution to Exercise 2"),
                            nodes.paragraph("", "", nodes.literal("", "y = x[0]")),
                            classes=["dropdown"])
    md = _writer().block(drop)
    assert md.startswith("<details>\n<summary>Solution to Exercise 2</summary>\n\n")
    assert "`y = x[0]`" in md and md.endswith("</details>")
    assert "<code>y = x[0]</code>" in _html(md)      # Markdown inside is rendered


def test_a_literal_block_is_fenced_with_a_fence_longer_than_any_inside():
    block = nodes.literal_block("", "x = 1\n```\ny = 2", language="python")
    md = _writer().block(block)
    assert md.startswith("````python\n") and md.endswith("\n````")


def test_an_unknown_block_fails_loudly():
    class strange(nodes.Element):
        pass

    with pytest.raises(pn.UnknownNode):
        _writer().block(strange("", nodes.paragraph("", "x")))
