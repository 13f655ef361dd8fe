"""The built site in a real browser, as readers meet it, with no network.

The session's book build (``conftest.book``) is served by a small HTTP server
on 127.0.0.1, and Debian's headless Chromium, driven by Playwright, visits
every page. Each browser context blocks (and records) every request that is
not for that server, so the site must carry everything it shows, MathJax
included. Screenshots of every page, at desktop and at phone width, and a
JSON report of what was checked go to ``test-artifacts/browser/`` (or
``$MEMRNN_ARTIFACTS/browser``).

Set-up: ``scripts/install-browser.sh`` (run by the README's test command)
installs Chromium from the system's package manager; Playwright comes with the
``test`` extra and uses that browser, never one of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
from playwright.sync_api import sync_playwright

from bookpages import EXPECTED_FIGURES, NOTEBOOK_PAGES, PAGES, ROOT, student_pages

STUDENT_PAGES = student_pages()

pytestmark = [pytest.mark.book, pytest.mark.browser]

CHROMIUM = os.environ.get("MEMRNN_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("MEMRNN_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}

#: For each chapter, a word of its own text that the site's search must find it by.
SEARCH_WORDS = {
    "book/intro": "experiment",
    "book/01-data": "generator",
    "book/02-loss": "derive",
    "book/03-gradcheck": "Taylor",
    "book/04-learner": "scatter",
    "book/05-sweep": "Wilson",
    "book/06-vanishing": "clipping",
    "book/07-lstm": "carousel",
    "book/08-gating": "budget",
    "book/fast": "ablation",
}

#: Chapters that derive formulas: they must show typeset display equations.
DERIVATION_PAGES = ("book/02-loss", "book/03-gradcheck", "book/05-sweep", "book/06-vanishing",
                    "book/07-lstm")

#: What the tests saw, written to report.json at the end of the session.
REPORT = {"pages": {}, "phone": {}, "requests": {}, "blocked": [], "downloads": []}


# ---------------------------------------------------------------- the server
class _Quiet(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".ipynb": "application/x-ipynb+json"}

    def log_message(self, *args):  # the test reports failures itself
        pass


@pytest.fixture(scope="module")
def site(book):
    """The built HTML served on 127.0.0.1 at a free port; yields its base URL."""
    handler = partial(_Quiet, directory=str(book["html"]))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    (ARTIFACTS / "desktop").mkdir(parents=True)
    (ARTIFACTS / "phone").mkdir(parents=True)
    yield ARTIFACTS
    (ARTIFACTS / "report.json").write_text(json.dumps(REPORT, indent=1, sort_keys=True))


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `bash scripts/install-browser.sh` "
                    "(or set MEMRNN_CHROMIUM to the browser's executable)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-quic",
                  # Belt and braces: a name other than the local server's does
                  # not even resolve, whatever the routes below let through.
                  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"])
        yield browser
        browser.close()


class Tab:
    """One browser context and page, recording every problem the page meets."""

    def __init__(self, browser, site, viewport, mobile=False):
        self.site = site
        self.host = urlsplit(site).netloc
        self.problems: list[str] = []
        self.context = browser.new_context(
            viewport=viewport, is_mobile=mobile, has_touch=mobile,
            device_scale_factor=2 if mobile else 1, accept_downloads=True,
            service_workers="block")
        self.context.set_default_timeout(30_000)
        # A closure, not a default argument: Playwright passes (route, request).
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        self.page.on("requestfailed", lambda req: self.problems.append(
            f"request failed: {req.url} ({req.failure})"))
        self.page.on("response", self._response)

    def _route(self, route, request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https") and parts.netloc != self.host:
            REPORT["blocked"].append(request.url)
            self.problems.append(f"non-local request blocked: {request.url}")
            route.abort("blockedbyclient")
            return
        REPORT["requests"][parts.netloc or parts.scheme] = (
            REPORT["requests"].get(parts.netloc or parts.scheme, 0) + 1)
        route.continue_()

    def _console(self, msg):
        if msg.type in ("error", "warning"):
            self.problems.append(f"console {msg.type}: {msg.text}")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def open(self, page_name):
        self.page.goto(f"{self.site}/{page_name}.html", wait_until="load")
        self.settle()

    def settle(self):
        """Wait until the page is loaded and MathJax, if the page has any math, has finished."""
        self.page.wait_for_load_state("load")
        if self.page.evaluate("() => document.querySelector('.math') !== null"):
            self.page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            self.page.evaluate("() => MathJax.startup.promise.then(() => true)")

    @property
    def path(self):
        return urlsplit(self.page.url).path

    def close(self):
        self.context.close()


@pytest.fixture
def desktop(browser, site):
    tab = Tab(browser, site, DESKTOP)
    yield tab
    tab.close()


@pytest.fixture
def phone(browser, site):
    tab = Tab(browser, site, PHONE, mobile=True)
    yield tab
    tab.close()


# ------------------------------------------------------------ what is checked
_FIGURES_JS = """() => Array.from(document.querySelectorAll('main img')).map(img => {
    const box = img.getBoundingClientRect();
    const style = getComputedStyle(img);
    return {src: img.getAttribute('src'), alt: img.getAttribute('alt') || '',
            complete: img.complete, naturalWidth: img.naturalWidth,
            width: box.width, height: box.height,
            visible: style.visibility !== 'hidden' && style.display !== 'none'
                     && box.width > 0 && box.height > 0};
})"""

_MATH_JS = """() => {
    const maths = Array.from(document.querySelectorAll('main .math'));
    const raw = main => {
        const copy = main.cloneNode(true);
        copy.querySelectorAll('pre, code, script, style, mjx-container, mjx-assistive-mml')
            .forEach(el => el.remove());
        return copy.textContent;
    };
    return {total: maths.length,
            display: maths.filter(m => m.tagName === 'DIV').length,
            typeset: maths.filter(m => m.querySelector('mjx-container')).length,
            errors: document.querySelectorAll('main mjx-merror, main [data-mjx-error]').length,
            leftover: ['$$', '\\\\(', '\\\\[', '\\\\begin{'].filter(s =>
                raw(document.querySelector('main')).includes(s)),
            mathjax: Array.from(document.scripts).map(s => s.src)
                          .filter(src => src.includes('tex-mml-chtml'))};
}"""

_HEADINGS_JS = """() => Array.from(document.querySelectorAll(
    'main article h1, main article h2, main article h3, main article h4, main article h5, '
    + 'main article h6')).map(h => [Number(h.tagName[1]), h.textContent.trim()])"""


def _screenshots(tab, folder, page_name):
    """The top of the page as a reader first sees it, and the whole page."""
    name = page_name.split("/")[1]
    tab.page.evaluate("() => window.scrollTo(0, 0)")
    tab.page.screenshot(path=folder / f"{name}.png")
    tab.page.screenshot(path=folder / f"{name}-full.png", full_page=True)


def _heading_problems(headings):
    problems = []
    if not headings or headings[0][0] != 1:
        problems.append(f"the first heading is not an h1: {headings[:1]}")
    if sum(level == 1 for level, _ in headings) != 1:
        problems.append("not exactly one h1: "
                        + str([text for level, text in headings if level == 1]))
    for (before, _), (level, text) in zip(headings, headings[1:]):
        if level > before + 1:
            problems.append(f"h{before} is followed by h{level} ({text!r}): a level skipped")
    return problems


@pytest.mark.parametrize("page_name", PAGES)
def test_page_in_the_browser(desktop, artifacts, page_name):
    """Loads cleanly; every figure displayed, every equation typeset, headings in order."""
    desktop.open(page_name)
    figures = desktop.page.evaluate(_FIGURES_JS)
    content = [f for f in figures if "_images/" in (f["src"] or "")
               or (f["src"] or "").startswith("data:image/png")]
    assert len(content) == EXPECTED_FIGURES[page_name], figures
    for index in range(len(figures)):
        desktop.page.locator("main img").nth(index).scroll_into_view_if_needed()
    figures = desktop.page.evaluate(_FIGURES_JS)
    for fig in figures:
        assert fig["complete"] and fig["naturalWidth"] > 0, f"not displayed: {fig}"
        assert fig["visible"], f"hidden: {fig}"
        assert fig["alt"].strip(), f"no alt text: {fig}"

    math = desktop.page.evaluate(_MATH_JS)
    assert math["typeset"] == math["total"], f"untypeset math: {math}"
    assert not math["errors"], f"MathJax reported {math['errors']} TeX errors"
    assert not math["leftover"], f"raw TeX left in the text: {math['leftover']}"
    if page_name in DERIVATION_PAGES:  # so that the checks above cannot pass vacuously
        assert math["display"] > 0, f"{page_name} shows no display equation"
    if math["total"]:
        assert all(urlsplit(src).netloc == desktop.host for src in math["mathjax"]), math
        assert math["mathjax"], "MathJax is not loaded from the site"

    headings = desktop.page.evaluate(_HEADINGS_JS)
    assert not _heading_problems(headings), _heading_problems(headings)

    _screenshots(desktop, artifacts / "desktop", page_name)
    assert not desktop.problems, "\n".join(desktop.problems)
    REPORT["pages"][page_name] = {"figures": len(figures), "equations": math["total"],
                                  "display_equations": math["display"],
                                  "headings": len(headings)}


def test_headings_check_catches_a_skipped_level():
    assert not _heading_problems([(1, "t"), (2, "a"), (3, "b"), (2, "c")])
    assert _heading_problems([(1, "t"), (3, "b")])
    assert _heading_problems([(2, "a")])
    assert _heading_problems([(1, "t"), (2, "a"), (1, "again")])


@pytest.mark.parametrize("page_name", PAGES)
def test_page_fits_a_phone(phone, artifacts, page_name):
    """At 375 px the body does not scroll sideways, and the figures still show."""
    phone.open(page_name)
    widths = phone.page.evaluate("""() => ({
        viewport: window.innerWidth,
        document: document.documentElement.scrollWidth,
        body: document.body.scrollWidth})""")
    assert widths["viewport"] == PHONE["width"], widths
    assert widths["document"] <= widths["viewport"], f"scrolls sideways: {widths}"
    assert widths["body"] <= widths["viewport"], f"scrolls sideways: {widths}"
    for fig in phone.page.evaluate(_FIGURES_JS):
        assert fig["naturalWidth"] > 0 and fig["width"] <= PHONE["width"], fig
    _screenshots(phone, artifacts / "phone", page_name)
    assert not phone.problems, "\n".join(phone.problems)
    REPORT["phone"][page_name] = widths


def test_next_and_previous_links_walk_the_book_in_order(desktop):
    # The site's root redirects to the first page.
    desktop.page.goto(f"{desktop.site}/index.html")
    desktop.page.wait_for_url(f"**/{PAGES[0]}.html")
    desktop.settle()
    for expected in PAGES[1:]:
        desktop.page.locator("a.right-next").first.click()
        desktop.page.wait_for_url(f"**/{expected}.html")
        desktop.settle()
    assert desktop.page.locator("a.right-next").count() == 0, "a next link after the last page"
    for expected in reversed(PAGES[:-1]):
        desktop.page.locator("a.left-prev").first.click()
        desktop.page.wait_for_url(f"**/{expected}.html")
        desktop.settle()
    assert not desktop.problems, "\n".join(desktop.problems)


def test_table_of_contents_reaches_every_page(desktop):
    desktop.open(PAGES[0])
    for page_name in PAGES[1:] + PAGES[:1]:
        link = desktop.page.locator(f"nav.bd-docs-nav a[href$='{page_name.split('/')[1]}.html']")
        assert link.count() == 1, f"the sidebar has {link.count()} links to {page_name}"
        title = link.inner_text().strip()
        link.click()
        desktop.page.wait_for_url(f"**/{page_name}.html")
        desktop.settle()
        h1 = desktop.page.locator("main article h1").first.inner_text()
        assert title.split()[-1].lower() in h1.lower(), (title, h1)
    assert not desktop.problems, "\n".join(desktop.problems)


@pytest.mark.parametrize("page_name", list(SEARCH_WORDS))
def test_search_finds_the_chapter_by_a_word_of_its_text(desktop, page_name):
    word = SEARCH_WORDS[page_name]
    desktop.open(page_name)
    text = desktop.page.locator("main article").inner_text()
    assert word.lower() in text.lower(), f"{word!r} is not in {page_name}'s text"
    # As a reader does: open the search box, type, press Enter.
    desktop.page.locator("button.search-button__button, .search-button-field").first.click()
    box = desktop.page.locator("input[name='q']:visible").first
    box.fill(word)
    box.press("Enter")
    desktop.page.wait_for_url("**/search.html?q=*")
    # Sphinx lists the hits one at a time; the summary line comes when all are listed.
    desktop.page.locator("#search-results .search-summary", has_text="Search finished").wait_for()
    results = desktop.page.locator("#search-results ul.search li a")
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any(f"{page_name}.html" in h for h in hrefs), f"{word!r} found only {hrefs}"
    assert not desktop.problems, "\n".join(desktop.problems)


@pytest.mark.parametrize("page_name", NOTEBOOK_PAGES)
def test_download_button_gives_the_executed_notebook(desktop, page_name, tmp_path):
    desktop.open(page_name)
    desktop.page.locator(".dropdown-download-buttons button").first.click()
    link = desktop.page.locator(".dropdown-download-buttons a[href$='.ipynb']")
    assert link.count() == 1, "no .ipynb in the download menu"
    with desktop.page.expect_download() as info:
        link.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    nb = nbformat.read(target, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code), "the download is not executed"
    # A figure the text refers to is an image attached to that text (the plain notebook); the
    # others are the outputs of the cells that draw them.
    pictures = (sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
                + sum(any(m.startswith("image/") for m in a) for c in nb.cells
                      if c.cell_type == "markdown" for a in c.get("attachments", {}).values()))
    assert pictures >= EXPECTED_FIGURES[page_name], f"{pictures} figures in the download"
    REPORT["downloads"].append(f"{page_name}: {target.name}, {len(code)} code cells")

    if page_name in STUDENT_PAGES:
        student = desktop.page.locator("main a.download[href$='-student.ipynb']")
        assert student.count() >= 1, "no student notebook link"
        with desktop.page.expect_download() as info:
            student.first.click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        nb = nbformat.read(target, as_version=4)
        assert any("NotImplementedError" in c.source for c in nb.cells
                   if c.cell_type == "code"), "the student notebook has no stub"
        REPORT["downloads"].append(f"{page_name}: {target.name}")
    assert not desktop.problems, "\n".join(desktop.problems)


def test_no_request_left_the_machine():
    """Runs last in this module: every request of every test above went to 127.0.0.1."""
    if not REPORT["pages"]:
        pytest.skip("sums up the page tests, which were not selected")
    assert not REPORT["blocked"], REPORT["blocked"]
    assert all(host.startswith("127.0.0.1:") or host in ("data", "blob")
               for host in REPORT["requests"]), REPORT["requests"]
