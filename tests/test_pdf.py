"""The PDF edition: the whole book in one file, as the site offers it.

``scripts/build-book.sh`` prints it after the HTML build (``scripts/build-pdf.sh``),
so the session's book build (``conftest.book``) holds it in ``_build/pdf/``.
These tests read it with poppler-utils, as a reader's PDF viewer would show it:
every chapter is there and the contents point at it, every figure is embedded
and drawn, no equation is left as TeX, and the build executed no chapter twice.
The last test downloads it from the site in Chromium.

Set-up: ``scripts/install-browser.sh`` (run by the README's test command)
installs poppler-utils and Chromium from the system's package manager.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from bookpages import EXPECTED_FIGURES, PAGES, ROOT, toc_files

pytestmark = pytest.mark.book

POPPLER = ("pdftotext", "pdfinfo", "pdfimages", "pdftoppm")
PDF_NAME = "memrnn.pdf"
#: What MathJax should have turned into typeset equations, had any been missed.
RAW_TEX = ("$$", "\\frac", "\\begin{", "\\(", "\\[")


def _run(*cmd) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def chapter_titles() -> dict[str, str]:
    """Each page of _toc.yml and the title of its source: the first `# ` heading."""
    titles = {}
    for page in toc_files():
        lines = (ROOT / f"{page}.md").read_text(encoding="utf-8").splitlines()
        if lines and lines[0].strip() == "---":  # front matter
            lines = lines[lines.index("---", 1) + 1:]
        fence = None
        for line in lines:
            marker = re.match(r"^(`{3,}|:{3,})", line)
            if marker and fence is None:
                fence = marker.group(1)
            elif marker and line.strip() == fence:
                fence = None
            elif fence is None and line.startswith("# "):
                titles[page] = line[2:].strip()
                break
        assert page in titles, f"{page}.md has no `# ` title"
    return titles


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def pdf(book) -> Path:
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: run `bash scripts/install-browser.sh`, "
                    "which installs poppler-utils")
    path = book["out"] / "_build" / "pdf" / PDF_NAME
    assert path.is_file(), (f"the book build made no PDF at {path}; "
                            "scripts/build-book.sh makes it unless given --no-pdf")
    return path


@pytest.fixture(scope="module")
def pages(pdf) -> list[str]:
    """The text of every page, first page first."""
    text = _run("pdftotext", "-enc", "UTF-8", str(pdf), "-")
    return text.split("\f")[:-1]


@pytest.fixture(scope="module")
def images(pdf) -> list[dict]:
    """The images embedded in the PDF (``pdfimages -list``), soft masks left out."""
    rows = _run("pdfimages", "-list", str(pdf)).splitlines()
    header = rows[0].split()
    found = [dict(zip(header, row.split())) for row in rows[2:]]
    return [im for im in found if im["type"] == "image"]


@pytest.fixture(scope="module")
def contents(pdf, pages) -> dict[str, int]:
    """The printed table of contents: each chapter's title and the page it gives."""
    titles = chapter_titles()
    layout = _run("pdftotext", "-layout", "-f", "1", "-l", "6", str(pdf), "-")
    lines = [_words(line) for line in layout.splitlines()]
    found = {}
    for page, title in titles.items():
        for line in lines:
            match = re.fullmatch(re.escape(title) + r"[ .]*(\d+)", line)
            if match:
                found[page] = int(match.group(1))
                break
    missing = [titles[p] for p in titles if p not in found]
    assert not missing, f"chapters missing from the printed contents: {missing}"
    return found


# ------------------------------------------------------------------- tests
def test_every_chapter_is_in_the_pdf_where_the_contents_say(pages, contents):
    titles = chapter_titles()
    text = _words(" ".join(pages))
    for page, title in titles.items():
        assert title in text, f"{title!r} ({page}) is not in the PDF"
    # Each chapter starts a page, with its title on top (after a part's name),
    # and the contents give that page.
    starts = [contents[page] for page in titles]
    assert starts == sorted(starts) and len(set(starts)) == len(starts), contents
    for page, title in titles.items():
        top = _words(pages[contents[page] - 1])[:len(title) + 60]
        assert title in top, f"page {contents[page]} does not start with {title!r}: {top!r}"
    assert not any("QQPDFMARK" in p for p in pages), "a page-number marker was left in"


def test_page_count_is_plausible_and_every_page_numbered(pdf, pages, contents):
    info = dict(line.split(":", 1) for line in _run("pdfinfo", str(pdf)).splitlines()
                if ":" in line)
    count = int(info["Pages"])
    assert count == len(pages)
    # 137 pages with chapter 7 and "Making it fast": a title page, the contents, then every
    # chapter on pages of its own. Far fewer means chapters were lost, far
    # more that the layout broke (a figure per page, text one word wide).
    assert 3 * len(contents) + 2 <= count <= 300, f"{count} pages"
    assert "A4" in info["Page size"], info["Page size"]
    for number, text in enumerate(pages, start=1):
        assert re.search(rf"\b{number} / {count}\b", text), f"page {number} has no page number"
    assert b"/Outlines" in pdf.read_bytes(), "the PDF has no bookmarks"


def test_every_figure_is_embedded_in_its_chapter(images, contents):
    assert len(images) >= sum(EXPECTED_FIGURES.values()), images
    for im in images:  # a figure, not a stray icon
        assert int(im["width"]) >= 200 and int(im["height"]) >= 100, im
    # Chapter by chapter: the images on the pages from its first to the next one's.
    starts = [contents[page] for page in PAGES]
    for i, page in enumerate(PAGES):
        end = starts[i + 1] if i + 1 < len(starts) else 10**6
        inside = [im for im in images if starts[i] <= int(im["page"]) < end]
        assert len(inside) >= EXPECTED_FIGURES[page], (
            f"{page}: {len(inside)} images on pages {starts[i]} to {end - 1}, "
            f"expected {EXPECTED_FIGURES[page]}")


class _CodeText(HTMLParser):
    """The text inside <pre> blocks: code listings, where TeX may stand as written."""

    def __init__(self):
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.depth += tag == "pre"

    def handle_endtag(self, tag):
        self.depth -= tag == "pre" and self.depth > 0

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def test_no_equation_is_left_as_tex(book, pages):
    # The PDF may show TeX only where the book shows code: a docstring's
    # :math: role, say. Count each pattern in the single page's code blocks; the
    # PDF must hold no more. MathJax's misses would add the hundreds of
    # equations of the book to the count.
    root = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["root"]
    single = book["out"] / "_build" / "singlehtml" / f"{root}.html"
    parser = _CodeText()
    parser.feed(single.read_text(encoding="utf-8"))
    code = "".join(parser.parts)
    text = "\n".join(pages)
    for pattern in RAW_TEX:
        assert text.count(pattern) <= code.count(pattern), (
            f"{pattern!r} is in the PDF's text {text.count(pattern)} times, "
            f"in code listings only {code.count(pattern)} times")
    assert "\\frac" in single.read_text(encoding="utf-8"), "the book has no fraction to typeset?"


def test_a_figure_is_drawn_where_it_stands(pdf, images, tmp_path):
    """The first figure's page, rendered: ink above its caption, "Fig. 1"."""
    first = images[0]
    number = int(first["page"])
    # Word boxes of that page, in points from the top left.
    boxes = _run("pdftotext", "-bbox", "-f", str(number), "-l", str(number), str(pdf), "-")
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                       r'yMax="([\d.]+)">([^<]*)</word>', boxes)
    caption = next((float(w[1]) for w, nxt in zip(words, words[1:])
                    if w[4] == "Fig." and nxt[4] == "1"), None)
    assert caption is not None, f"no caption 'Fig. 1' on page {number}"
    # The image's printed height, from its pixels and resolution.
    height = int(first["height"]) / int(first["y-ppi"]) * 72
    base = tmp_path / "page"
    # At 72 dpi one pixel is one point, the unit of pdftotext's boxes.
    subprocess.run(["pdftoppm", "-r", "72", "-gray", "-f", str(number), "-l", str(number),
                    "-singlefile", str(pdf), str(base)], check=True)
    width, rows, pixels = _read_pgm(base.with_suffix(".pgm"))

    def ink(top, bottom):
        """The share of pixels that are not white between two heights of the page."""
        region = pixels[max(0, int(top)) * width:min(rows, int(bottom)) * width]
        return sum(v < 250 for v in region) / max(1, len(region))

    figure = ink(caption - height, caption - 2)
    assert figure > 0.05, f"page {number}: only {figure:.1%} ink above 'Fig. 1'"
    # The measure itself: the top margin, where nothing is printed, is blank.
    assert ink(0, 30) < 0.005, "the page's top margin is not white"


def _read_pgm(path: Path):
    data = path.read_bytes()
    magic, width, height, maxval, rest = re.match(rb"(P5)\s+(\d+)\s+(\d+)\s+(\d+)\s(.*)",
                                                  data, re.S).groups()
    assert int(maxval) == 255
    return int(width), int(height), rest


def test_pdf_was_printed_from_the_html_build(book):
    """The single page reused the HTML build's environment: no chapter ran again."""
    log = (book["out"] / "_build" / "pdf" / "build.log").read_text(encoding="utf-8")
    clean = re.sub(r"\x1b\[[0-9;]*m", "", log)
    assert "build succeeded" in clean
    assert "Executing notebook" not in clean, "the PDF build executed notebooks again"
    assert "updating environment: 0 added, 0 changed, 0 removed" in clean


# ------------------------------------------------------------- on the site
def test_every_page_links_to_the_pdf(book, pdf):
    served = book["html"] / PDF_NAME
    assert served.is_file() and served.read_bytes() == pdf.read_bytes()
    for page in PAGES:
        source = (book["html"] / f"{page}.html").read_text(encoding="utf-8")
        links = re.findall(r'<a href="([^"]*)"[^>]*class="[^"]*btn-download-book-pdf-button', source)
        assert len(links) == 1, f"{page}: {len(links)} links to the PDF in the download menu"
        target = (book["html"] / page).parent / links[0]
        assert target.resolve() == served.resolve(), (page, links[0])


@pytest.mark.browser
def test_download_menu_saves_the_pdf(book, pdf, tmp_path):
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("MEMRNN_CHROMIUM", "/usr/bin/chromium")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Quiet, directory=str(book["html"])))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"])
            try:
                page = browser.new_page(accept_downloads=True)
                page.goto(f"http://127.0.0.1:{server.server_port}/{PAGES[1]}.html")
                page.locator(".dropdown-download-buttons button").first.click()
                link = page.locator(".dropdown-download-buttons a.btn-download-book-pdf-button")
                assert link.inner_text().strip() == "book .pdf"
                with page.expect_download() as info:
                    link.click()
                saved = tmp_path / info.value.suggested_filename
                info.value.save_as(saved)
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert saved.name == PDF_NAME
    assert saved.read_bytes() == pdf.read_bytes()
