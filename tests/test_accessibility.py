"""Every page of the built site as axe-core judges it: WCAG 2.1 A and AA, on a desktop and a phone,
in light and in dark mode.

axe-core comes from the npm registry, checksum-pinned, by ``scripts/install-axe.sh`` (run by the
README's test command); only the tests load it, the site does not carry it. It runs in the system's
Chromium on the site that ``test_browser.py`` serves. A serious or critical violation fails the
page; every violation, of any impact, is counted in ``test-artifacts/accessibility/report.json``
(or ``$MEMRNN_ARTIFACTS/accessibility``).

The same page views check what axe cannot see: no equation is cut off (at desktop width none even
needs scrolling), a chapter shows one search box, and no figure's alt text is a file name.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from test_browser import DESKTOP, Tab, browser, site  # noqa: F401 - fixtures

from bookpages import ROOT, toc_files

pytestmark = pytest.mark.book

AXE = ROOT / "tests" / "_vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("MEMRNN_ARTIFACTS", ROOT / "test-artifacts")) / "accessibility"
#: A phone of today's common width; test_browser.py checks the narrower 375 px layout.
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
MODES = ("light", "dark")
#: The rule sets of WCAG 2.1, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("serious", "critical")

CHAPTERS = toc_files()
#: Every page a reader can reach: the chapters, and the pages Sphinx adds.
PAGES = [*CHAPTERS, "genindex", "py-modindex", "search"]
#: Folders of the site that hold assets, not pages.
ASSET_FOLDERS = {"_static", "_sources", "_downloads", "_images", "mathjax", "pyodide"}

REPORT: dict[str, dict] = {}


# ---------------------------------------------------------- the Sphinx extension
def _extension():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import accessibility
    finally:
        sys.path.remove(str(ROOT / "book" / "_ext"))
    return accessibility


def test_a_figure_without_alt_text_gets_its_caption():
    from docutils import nodes

    ext = _extension()
    plain = nodes.image(uri="_images/plot.png")
    named = nodes.image(uri="_images/other.png", alt="_images/other.png")   # myst-nb's stand-in
    own = nodes.image(uri="_images/third.png", alt="What the chapter wrote.")
    caption = nodes.caption("", "", nodes.Text("Loss "), nodes.emphasis(text="against"),
                            nodes.Text("\n  updates."))
    doc = nodes.section("", nodes.figure("", plain, caption), nodes.figure("", named),
                        nodes.figure("", own, nodes.caption(text="Its caption.")),
                        nodes.image(uri="_images/loose.png"))
    doc[1] += nodes.caption(text="Second caption.")
    assert ext.add_alt_from_captions(doc) == 2
    assert plain["alt"] == "Loss against updates."
    assert named["alt"] == "Second caption."
    assert own["alt"] == "What the chapter wrote."
    assert "alt" not in doc[3]            # no caption, nothing to take: the browser test catches it


def test_the_bibliography_items_become_list_items():
    ext = _extension()
    body = ('<div role="list" class="citation-list">\n<div class="citation" id="id4" '
            'role="doc-biblioentry">\n<summary aria-label="Toggle hidden content">\n')
    fixed = ext.fix_body(body)
    assert 'role="listitem"' in fixed and "doc-biblioentry" not in fixed
    assert "<summary>" in fixed and "aria-label" not in fixed


def test_every_page_of_the_site_is_checked(book):
    pages = {str(p.relative_to(book["html"]).with_suffix("")) for p in book["html"].rglob("*.html")
             if not ASSET_FOLDERS & set(p.relative_to(book["html"]).parts)}
    pages.discard("index")   # redirects to the first chapter
    assert pages == set(PAGES)


# --------------------------------------------------------------- in the browser
@pytest.fixture(scope="module")
def axe_source():
    if not AXE.is_file():
        pytest.fail(f"no axe-core at {AXE}: run `bash scripts/install-axe.sh`")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report():
    yield REPORT
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    totals: dict[str, int] = {}
    for view in REPORT.values():
        for impact, count in view["impacts"].items():
            totals[impact] = totals.get(impact, 0) + count
    (ARTIFACTS / "report.json").write_text(json.dumps(
        {"axe": (AXE.parent / "VERSION").read_text().strip() if AXE.is_file() else None,
         "tags": WCAG_TAGS, "views": len(REPORT), "nodes_per_impact": totals, "pages": REPORT},
        indent=1, sort_keys=True))


#: Starts axe on the page and returns at once; the result lands in window.__memrnnAxe. So the four
#: views of a page, each in a browser process of its own, are checked at the same time.
_START_AXE_JS = """tags => {
    window.__memrnnAxe = null;
    axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
        .then(r => { window.__memrnnAxe = r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                                          summary: n.failureSummary}))})); },
              err => { window.__memrnnAxe = [{id: 'axe-error', impact: 'critical', help: String(err),
                                               nodes: [{target: '', html: '', summary: ''}]}]; });
}"""

#: Each equation's typeset box against the boxes around it: "clipped" when a box that hides its
#: overflow cuts it, "scrolls" when only a scrolling box shows all of it.
_EQUATIONS_JS = """() => Array.from(document.querySelectorAll('main article mjx-container')).map(c => {
    const math = c.querySelector('mjx-math') || c;
    let box = math.getBoundingClientRect(), scrolls = false, clipped = false;
    for (let el = c; el && el.tagName !== 'ARTICLE'; el = el.parentElement) {
        const style = getComputedStyle(el), r = el.getBoundingClientRect();
        const beyond = box.right > r.right + 1 || box.left < r.left - 1;
        if (['auto', 'scroll'].includes(style.overflowX)) {
            if (beyond) { scrolls = true; box = r; }
        } else if (['hidden', 'clip'].includes(style.overflowX) && beyond) {
            clipped = true;
        }
    }
    const eq = c.closest('div.math');
    return {display: c.getAttribute('display') === 'true', clipped, scrolls,
            id: eq ? eq.id : '', tex: (c.querySelector('mjx-assistive-mml math')
                                       || {textContent: ''}).textContent.slice(0, 60)};
})"""

_SEARCH_BOXES_JS = """() => Array.from(document.querySelectorAll(
        'button.search-button__button, form.bd-search, input[name="q"]'))
    .filter(el => !el.closest('dialog') && el.getClientRects().length > 0
                  && getComputedStyle(el).visibility !== 'hidden')
    .map(el => el.outerHTML.slice(0, 120))"""

_ALTS_JS = """() => Array.from(document.querySelectorAll('main img')).map(img => [
    img.getAttribute('src'), img.getAttribute('alt')])"""


def _looks_like_a_file(alt):
    text = (alt or "").strip()
    return not text or "_images/" in text or text.lower().endswith((".png", ".svg", ".jpg"))


def _open(browser, site, width, mode, page_name):  # noqa: F811 - pytest fixtures
    tab = Tab(browser, site, WIDTHS[width], mobile=width == "phone")
    # The theme keeps the reader's choice of mode here; a first visit with none logs an error.
    tab.context.add_init_script(
        f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    tab.open(page_name)
    return tab


#: What each page looked like in its four views: {page: {(width, mode): view}}.
_VIEWS: dict[str, dict] = {}


def _views(browser, site, axe_source, page_name):  # noqa: F811 - pytest fixtures
    """The page in every width and mode, checked by axe and by the scripts above (once per page)."""
    if page_name in _VIEWS:
        return _VIEWS[page_name]
    tabs = {}
    try:
        for width in WIDTHS:
            for mode in MODES:
                tab = tabs[width, mode] = _open(browser, site, width, mode, page_name)
                tab.page.add_script_tag(content=axe_source)
                tab.page.evaluate(_START_AXE_JS, WCAG_TAGS)
        views = {}
        for key, tab in tabs.items():
            tab.page.wait_for_function("() => window.__memrnnAxe !== null", polling=250,
                                       timeout=300_000)
            views[key] = {"theme": tab.page.evaluate("() => document.documentElement.dataset.theme"),
                          "violations": tab.page.evaluate("() => window.__memrnnAxe"),
                          "equations": tab.page.evaluate(_EQUATIONS_JS),
                          "search_boxes": tab.page.evaluate(_SEARCH_BOXES_JS),
                          "alts": tab.page.evaluate(_ALTS_JS),
                          "problems": tab.problems}
    finally:
        for tab in tabs.values():
            tab.close()
    _VIEWS[page_name] = views
    return views


@pytest.mark.browser
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("page_name", PAGES)
def test_page_has_no_serious_accessibility_violation(browser, site, axe_source, report,  # noqa: F811 - fixtures
                                                      page_name, width, mode):
    view = _views(browser, site, axe_source, page_name)[width, mode]
    assert view["theme"] == mode, f"the page shows {view['theme']} mode, not {mode}"
    violations, equations = view["violations"], view["equations"]
    impacts: dict[str, int] = {}
    for v in violations:
        impacts[v["impact"]] = impacts.get(v["impact"], 0) + len(v["nodes"])
    report[f"{page_name} {width} {mode}"] = {
        "impacts": impacts, "rules": {v["id"]: len(v["nodes"]) for v in violations},
        "equations": len(equations)}

    failing = [f"{v['impact']} {v['id']} ({v['help']}): {n['target']}\n    {n['html']}\n"
               f"    {n['summary']}"
               for v in violations if v["impact"] in FAILING_IMPACTS for n in v["nodes"][:5]]
    assert not failing, f"{len(failing)} serious or critical:\n" + "\n".join(failing)

    clipped = [e for e in equations if e["clipped"]]
    assert not clipped, f"equations cut off: {clipped}"
    if width == "desktop":
        too_wide = [e for e in equations if e["display"] and e["scrolls"]]
        assert not too_wide, f"display equations wider than the column at {DESKTOP['width']} px: {too_wide}"
    if page_name in CHAPTERS:
        boxes = view["search_boxes"]
        assert len(boxes) == 1, f"{len(boxes)} search boxes: {boxes}"
    assert not [a for a in view["alts"] if _looks_like_a_file(a[1])], (
        f"an image without alt text: {view['alts']}")
    assert not view["problems"], "\n".join(view["problems"])


@pytest.mark.browser
def test_the_checks_catch_what_they_look_for(browser, site, axe_source):  # noqa: F811 - fixtures
    """axe, the equation check and the search-box count each fail a page made to fail them."""
    tab = _open(browser, site, "desktop", "light", CHAPTERS[0])
    try:
        page = tab.page
        page.evaluate("""() => {
            const article = document.querySelector('main article');
            article.insertAdjacentHTML('beforeend',
                '<p style="color: #aaa; background: #fff">pale text</p>'
                + '<div role="list"><a href="#">not an item</a></div>');
            const math = article.querySelector('mjx-container');
            if (math) { math.style.overflow = 'hidden'; math.style.width = '20px'; }
            article.insertAdjacentHTML('afterbegin', '<form class="bd-search"><input name="q"></form>');
        }""")
        page.add_script_tag(content=axe_source)
        page.evaluate(_START_AXE_JS, WCAG_TAGS)
        page.wait_for_function("() => window.__memrnnAxe !== null", polling=250,
                               timeout=300_000)
        violations = page.evaluate("() => window.__memrnnAxe")
        equations = page.evaluate(_EQUATIONS_JS)
        search_boxes = page.evaluate(_SEARCH_BOXES_JS)
    finally:
        tab.close()
    found = {v["id"]: v["impact"] for v in violations}
    assert found.get("color-contrast") == "serious", found
    assert found.get("aria-required-children") == "critical", found
    assert equations and any(e["clipped"] for e in equations), equations
    assert len(search_boxes) >= 2, search_boxes
    assert _looks_like_a_file("../_images/abc.png") and _looks_like_a_file(" ")
    assert not _looks_like_a_file("Loss against updates, on a log scale.")


@pytest.mark.browser
def test_the_mode_button_is_named_by_what_it_shows(browser, site):  # noqa: F811 - fixtures
    """Its name says the mode whose icon it shows, and follows the reader's clicks."""
    tab = _open(browser, site, "desktop", "light", CHAPTERS[0])
    try:
        button = tab.page.locator("button.theme-switch-button:visible").first
        seen = []
        for _ in range(3):
            shown = button.evaluate("""b => {
                const icon = Array.from(b.querySelectorAll('.theme-switch'))
                    .find(i => i.getClientRects().length > 0);
                return icon.getAttribute('title')
                       || (icon.querySelector('title') || {}).textContent || '';
            }""")
            name = button.get_attribute("aria-label")
            assert shown and shown.lower() in name.lower(), (shown, name)
            seen.append(name)
            button.click()
        assert len(set(seen)) == 3, seen
    finally:
        tab.close()
    assert not tab.problems, "\n".join(tab.problems)
