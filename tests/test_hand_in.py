"""The student's loop in a real browser: edit a stub, reload, hand in, and ``memrnn grade`` it.

The session's book build (``conftest.book``) is served on 127.0.0.1 and
visited in the system's headless Chromium as ``test_browser.py`` does, with
every request to another host blocked. Nothing here starts Python in the
page: keeping and handing in work needs no Run.
"""

from __future__ import annotations

import json

import nbclient
import nbformat
import pytest
from test_browser import Tab, browser, site  # noqa: F401 - fixtures

from bookpages import ROOT
from memrnn.grading import batch as grade

GOOD = '''import numpy as np

def my_generate_samples(batch_size, seq_length, seed=None, dtype=np.float64):
    """Mine: time first, and y is the first element."""
    rng = np.random.default_rng(seed)
    while True:
        x = rng.uniform(-1.0, 1.0, size=(seq_length, batch_size, 1)).astype(dtype)
        yield x, x[0]'''

SIZES: dict = {}
AXE = ROOT / "tests" / "_vendor" / "axe-core" / "axe.min.js"      # scripts/install-axe.sh
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def tab(browser, site, book):  # noqa: F811 - pytest fixtures
    page = book["html"] / "book" / "01-data.html"
    if 'id="memrnn-run-data"' not in page.read_text(encoding="utf-8"):
        pytest.fail("the book was built without Run buttons (see its [browser-run] log line), "
                    "so its pages keep no edits")
    t = Tab(browser, site, {"width": 1280, "height": 900})
    yield t
    t.close()


def _exercise(tab):
    cell = tab.page.locator("div.cell[class*='memrnn-cell-']").filter(
        has=tab.page.locator(".memrnn-stub-button"))
    assert cell.count() == 1, f"{cell.count()} exercise cells"
    return cell


def _stub_code(cell):
    return cell.locator("div.memrnn-variant:not([hidden]) pre.memrnn-code")


@pytest.mark.book
@pytest.mark.browser
def test_an_edit_survives_a_reload_and_the_download_grades_as_that_student(tab, tmp_path,
                                                                          monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)   # the kernel draws inline, as a student's
    tab.open("book/01-data")
    cell = _exercise(tab)
    cell.locator(".memrnn-stub-button").click()
    code = _stub_code(cell)
    assert "NotImplementedError" in code.inner_text()
    code.fill(GOOD)
    assert cell.locator(".memrnn-edited-mark").is_visible()

    tab.page.reload()
    tab.settle()
    cell = _exercise(tab)
    code = _stub_code(cell)
    assert code.inner_text().rstrip("\n") == GOOD, "the edit did not survive the reload"
    assert cell.locator(".memrnn-stub-button").get_attribute("aria-pressed") == "true"
    assert cell.locator(".memrnn-edited-mark").is_visible()
    assert tab.page.locator(".memrnn-reset-page-button").is_visible()

    # Hand in: the name and number are asked once, then the download starts.
    tab.page.locator(".memrnn-page-bar .memrnn-download-button").click()
    tab.page.fill("#memrnn-student-name", "Grace Hopper")
    tab.page.fill("#memrnn-student-number", "s1906")
    with tab.page.expect_download() as info:
        tab.page.locator(".memrnn-save-identity").click()
    subs = tmp_path / "subs"
    subs.mkdir()
    target = subs / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name == "01-data-s1906.ipynb"
    SIZES["01-data"] = target.stat().st_size
    nb = nbformat.read(target, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["memrnn_student"]["number"] == "s1906"
    assert "Student number: s1906" in nb.cells[0].source
    # The student edition's empty form, filled in: one identity cell, not two.
    assert [c for c in nb.cells if "student-id" in c.metadata.get("tags", [])] == [nb.cells[0]]
    stub = [c for c in nb.cells if "stub" in c.metadata.get("tags", [])]
    assert [c.source for c in stub] == [GOOD]

    # It runs top to bottom in a fresh kernel, and its self-check reports on the student's code.
    ran = nbformat.read(target, as_version=4)
    nbclient.NotebookClient(ran, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    checks = ["".join(o.get("data", {}).get("text/plain", "")) for c in ran.cells
              if c.cell_type == "code" and "selfcheck.check_" in c.source for o in c.outputs]
    assert checks and "Well done" in checks[0], checks

    # A second download asks nothing: the identity is kept in the browser.
    with tab.page.expect_download():
        tab.page.locator(".memrnn-page-bar .memrnn-download-button").click()

    rows = grade.grade(subs, tmp_path / "out", timeout=120, memory=2**30, progress=False)
    assert [(r.name, r.number, r.status) for r in rows] == [("Grace Hopper", "s1906", "ok")]
    assert rows[0].total() == grade.max_points(grade.EXERCISES["generator"])

    # Reset: the book's stub is back, and stays back after a reload.
    cell.locator(".memrnn-reset-button").click()
    assert "NotImplementedError" in _stub_code(cell).inner_text()
    tab.page.reload()
    tab.settle()
    assert not tab.page.locator(".memrnn-edited-mark:visible").count()
    assert not tab.problems, "\n".join(tab.problems)
    print("download size:", json.dumps(SIZES))


@pytest.mark.book
@pytest.mark.browser
def test_any_cell_keeps_its_edit_and_the_page_resets(tab):
    """An edit of a book cell (here put in storage as the page would) is shown, marked and reset."""
    tab.open("book/01-data")
    data = json.loads(tab.page.locator("#memrnn-run-data").text_content())
    first, second = [c for c in data["cells"] if c["role"] == "code"][:2]
    for c, text in ((first, 'print("mine")'), (second, "x = 1")):
        tab.page.evaluate("([key, text]) => localStorage.setItem(key, text)",
                          [f"memrnn:edit:{data['book']}:{data['page']}:{c['index']}:book", text])
    tab.page.reload()
    tab.settle()
    cell = tab.page.locator(f".memrnn-cell-{first['index']}")
    code = cell.locator(".cell_input div.highlight:not([hidden]) pre").first
    assert code.inner_text().strip() == 'print("mine")'
    assert cell.locator(".memrnn-edited-mark").is_visible()
    tab.page.once("dialog", lambda dialog: dialog.accept())
    tab.page.locator(".memrnn-reset-page-button").click()
    assert code.inner_text().strip() == first["source"].strip()
    assert tab.page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('memrnn:edit:'))") == []
    assert not tab.page.locator(".memrnn-reset-page-button").is_visible()
    assert not tab.problems, "\n".join(tab.problems)


@pytest.mark.book
@pytest.mark.browser
@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}])
def test_the_hand_in_controls_pass_axe(browser, site, book, mode, viewport):  # noqa: F811
    """With a cell edited and the name form open, axe finds no serious or critical violation
    in the controls for keeping and handing in work."""
    if not AXE.is_file():
        pytest.fail(f"no axe-core at {AXE}: run `bash scripts/install-axe.sh`")
    tab = Tab(browser, site, viewport, mobile=viewport["width"] < 500)
    tab.context.add_init_script(
        f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    try:
        tab.open("book/01-data")
        cell = _exercise(tab)
        cell.locator(".memrnn-stub-button").click()
        _stub_code(cell).fill(GOOD)
        tab.page.locator(".memrnn-page-bar .memrnn-download-button").click()
        assert tab.page.locator("#memrnn-student-name").is_visible()
        assert tab.page.locator(".memrnn-reset-page-button").is_visible()
        tab.page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        violations = tab.page.evaluate(
            # The controls this feature adds; the rest of the page is test_accessibility.py's.
            """tags => axe.run({include: [['.memrnn-page-bar'], ['.memrnn-identity-form'],
                                         ['.memrnn-run-bar'], ['.memrnn-variant']]},
                               {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']})
                .then(r => r.violations.map(v => ({id: v.id, impact: v.impact,
                    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)})))""",
            WCAG_TAGS)
    finally:
        tab.close()
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    assert not tab.problems, "\n".join(tab.problems)
