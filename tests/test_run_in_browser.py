"""The chapters' Run buttons (book/_ext/browser_run.py): Python runs in the page, offline.

The session's book build (``conftest.book``) is served on 127.0.0.1 and
visited in the system's headless Chromium exactly as ``test_browser.py`` does
(same launch flags, every request to another host blocked and recorded). On
chapters 1, 2, 4 and 7, as a reader would, the tests click Run on a cell that
prints (and compare with what the book printed), redraw a figure from the
hidden cell that glued it (the new image must be decoded), switch a solution
to the student edition's stub and run it into its ``NotImplementedError``
(traceback, and the self-check's report), and stop a run. Load and run times
go to ``test-artifacts/browser/run-in-browser.json``.

A build without Run buttons fails these tests with the reason the build log
gives (its ``[browser-run]`` line): they never pass or skip silently.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_browser import ARTIFACTS, Tab, browser, site  # noqa: F401 - fixtures

from bookpages import ROOT

#: What each tested chapter runs: a cell that prints (found by a snippet of its
#: code; an optional edit keeps it short), the figure to redraw, and a call of
#: the stub that must raise.
CASES = {
    "book/01-data": {
        "prints": 'print("x:", x.shape',
        "figure": "fig-batch",
        "call": "next(my_generate_samples(batch_size=2, seq_length=3))",
        "raises_in": "my_generate_samples",
    },
    "book/02-loss": {
        "prints": 'print("L ="',
        "figure": "fig-constant",
        "call": "MyMSELoss().forward(np.zeros((2, 1)), np.ones((2, 1)))",
        "raises_in": "forward",
    },
    "book/04-learner": {
        # 1000 updates instead of 5000: enough for the hidden cell that draws
        # the loss curve (it reads the loss at update 500), 5 times quicker.
        "prints": "learner.train(",
        "edit": (r"iter_steps=\d+", "iter_steps=1000"),
        "expect": r"held-out MSE after 1000 updates: 0\.\d+",
        "figure": "fig-loss",
        "call": ("MyLearner(memrnn.RNN(1, 4, 1, seed=0), memrnn.MSELoss(),\n"
                 "          memrnn.generate_samples(8, 3, seed=0)).train(iter_steps=1, lr=0.01, "
                 "progress=False)"),
        "raises_in": "train_step",
        "stop": True,
    },
    "book/07-lstm": {
        # The chapter trains nothing; its first printing cell counts the parameters.
        "prints": "n_parameters()} parameters",
        "expect": r"H = 10: 491 parameters",
        "call": "my_lstm_cell_backward(*(np.zeros((2, 3)),) * 4, np.full((2, 12), 0.5))",
        "raises_in": "my_lstm_cell_backward",
    },
}

LOAD_TIMEOUT = 180_000     # ms: the first run loads Pyodide (about 27 MB) on a busy machine
RUN_TIMEOUT = 120_000

REPORT: dict = {"pages": {}, "blocked": []}


@pytest.fixture(scope="module")
def runnable(book):
    """The built site, which must have Run buttons; if not, fail with the build log's reason."""
    page = book["html"] / "book" / "01-data.html"
    if page.is_file() and 'id="memrnn-run-data"' in page.read_text(encoding="utf-8"):
        return book
    lines = [line for line in book["log"].splitlines() if "[browser-run]" in line]
    if lines:
        pytest.fail("the book was built without Run buttons: " + lines[-1].strip())
    pytest.fail("the book was built without Run buttons, and its build log has no "
                "[browser-run] line: is browser_run in _config.yml's local_extensions?")


@pytest.fixture(scope="module")
def report():
    yield REPORT
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "run-in-browser.json").write_text(json.dumps(REPORT, indent=1, sort_keys=True))


@pytest.fixture(scope="module")
def tab(browser, site, runnable):  # noqa: F811 - pytest fixtures
    """One tab for all chapters, as a reader moving through the book (the browser caches)."""
    t = Tab(browser, site, {"width": 1280, "height": 900})
    t.context.set_default_timeout(RUN_TIMEOUT)
    yield t
    t.close()


def _state(bar) -> str:
    return bar.get_attribute("data-state") or ""


def _wait_done(tab, bar, timeout=RUN_TIMEOUT):
    """Wait until the bar's run has finished; return its state."""
    handle = bar.element_handle()
    tab.page.wait_for_function(
        "bar => ['done', 'error', 'stopped'].includes(bar.dataset.state)", arg=handle,
        timeout=timeout)
    return _state(bar)


def _code_cell(tab, snippet):
    cell = tab.page.locator("div.cell[class*='memrnn-cell-']").filter(has_text=snippet)
    assert cell.count() == 1, f"{cell.count()} code cells contain {snippet!r}"
    return cell


def _visible_code(cell):
    return cell.locator(".cell_input div.highlight:not([hidden]) pre").first


def _click_run(tab, bar, timeout=RUN_TIMEOUT):
    bar.evaluate("bar => { bar.dataset.state = 'clicked'; }")
    start = time.perf_counter()
    bar.locator(".memrnn-run-button").click()
    state = _wait_done(tab, bar, timeout)
    return state, round(time.perf_counter() - start, 2)


@pytest.mark.book
@pytest.mark.browser
@pytest.mark.parametrize("page_name", list(CASES))
def test_cells_run_in_the_page(tab, report, page_name):
    case = CASES[page_name]
    seen = report["pages"].setdefault(page_name, {})
    tab.open(page_name)
    bars = tab.page.locator(".memrnn-run-bar")
    data = json.loads(tab.page.locator("#memrnn-run-data").text_content())
    shown = [c for c in data["cells"] if c["role"] in ("code", "solution", "output")
             and not c.get("skip")]
    assert bars.count() >= len(shown), f"{bars.count()} Run bars for {len(shown)} shown cells"
    seen["hidden_cells_carried"] = sum(c["role"] == "hidden" for c in data["cells"])

    # A cell that prints. The first run loads Python: a loading indicator says what.
    cell = _code_cell(tab, case["prints"])
    bar = cell.locator(".memrnn-run-bar")
    book_output = cell.locator(".cell_output").inner_text().strip()
    if case.get("stop"):
        _stop_a_run(tab, cell, bar, seen)
    if case.get("edit"):
        # The first Run (stopped above) made the code editable; this run loads Python again.
        code = _visible_code(cell)
        assert code.get_attribute("contenteditable") in ("plaintext-only", "true")
        pattern, replacement = case["edit"]
        text = code.inner_text()
        assert re.search(pattern, text), f"{pattern!r} not in the cell's code:\n{text}"
        code.fill(re.sub(pattern, replacement, text))
        state, wall = _click_run(tab, bar, LOAD_TIMEOUT)
    else:
        start = time.perf_counter()
        bar.locator(".memrnn-run-button").click()
        loading = cell.locator(".memrnn-run-loading")
        if "load" not in seen:
            loading.wait_for(state="visible", timeout=10_000)
            seen["loading_text"] = loading.inner_text()
            assert "Python" in seen["loading_text"], seen["loading_text"]
        state = _wait_done(tab, bar, LOAD_TIMEOUT)
        wall = round(time.perf_counter() - start, 2)
    output = cell.locator(".memrnn-run-output")
    assert state == "done", output.inner_text()
    printed = output.inner_text().strip()
    if case.get("expect"):
        assert re.search(case["expect"], printed), printed
    else:
        assert " ".join(printed.split()) == " ".join(book_output.split()), (
            f"the browser printed\n{printed}\nthe book printed\n{book_output}")
    assert not cell.locator(".cell_output").is_visible(), "the book's output is still shown"
    load = tab.page.evaluate("window.memrnnRun.load")
    seen.setdefault("load", {k: round(v, 2) for k, v in load.items()
                             if isinstance(v, (int, float))})
    seen["prints"] = {"wall_seconds": wall, "printed": printed[:300]}

    # A figure, redrawn by the hidden cell that glued it (chapter 7 draws none of its own).
    if case.get("figure"):
        figure = tab.page.locator(f"figure#{case['figure']}")
        fig_bar = figure.locator(".memrnn-run-bar")
        assert fig_bar.count() == 1, f"{case['figure']} has no Redraw button"
        before = figure.locator("img").first.get_attribute("src")
        state, wall = _click_run(tab, fig_bar)
        assert state == "done", figure.locator(".memrnn-run-output").inner_text()
        img = figure.locator("img").first
        img.scroll_into_view_if_needed()
        shown_img = img.evaluate("i => ({src: i.src.slice(0, 22), complete: i.complete, "
                                 "naturalWidth: i.naturalWidth, width: i.getBoundingClientRect().width})")
        assert shown_img["src"] == "data:image/png;base64,", shown_img
        assert img.get_attribute("src") != before
        assert shown_img["complete"] and shown_img["naturalWidth"] > 0 and shown_img["width"] > 0, (
            shown_img)
        assert "Drawn in your browser" in figure.locator(".memrnn-redrawn").inner_text()
        seen["figure"] = {"wall_seconds": wall, "naturalWidth": shown_img["naturalWidth"]}

    # The student edition's stub: run into its NotImplementedError, with a traceback.
    solution = tab.page.locator("div.cell:has(.memrnn-stub-button)")
    assert solution.count() == 1, "no solution cell offers the student edition's stub"
    solution.locator(".memrnn-stub-button").click()
    code = _visible_code(solution)
    stub = code.inner_text()
    message = f"exercise: write {case['raises_in']} yourself"
    assert message in stub and "NotImplementedError" in stub, stub
    code.fill(stub.rstrip() + "\n\n" + case["call"] + "\n")
    sol_bar = solution.locator(".memrnn-run-bar")
    state, wall = _click_run(tab, sol_bar)
    trace = solution.locator(".memrnn-run-output pre.memrnn-error")
    assert state == "error" and trace.count() == 1, solution.inner_text()
    text = trace.inner_text()
    assert text.startswith("Traceback (most recent call last):"), text
    assert f"NotImplementedError: {message}" in text, text
    assert re.search(r'File "<cell \d+>", line \d+', text), text
    assert "memrnn_run_kernel" not in text, f"the runner's own frames leak:\n{text}"
    seen["raises"] = {"wall_seconds": wall, "traceback": text.splitlines()[-1]}

    # Its check cell (the next one) reports the stub's error in words.
    code.fill(stub)
    state, _ = _click_run(tab, sol_bar)
    assert state == "done", solution.inner_text()
    check = _code_cell(tab, "selfcheck.check_")
    state, wall = _click_run(tab, check.locator(".memrnn-run-bar"))
    report_text = check.locator(".memrnn-run-output").inner_text()
    assert state == "done" and f"NotImplementedError: {message}" in report_text, report_text
    seen["check"] = {"wall_seconds": wall, "report": report_text.strip().splitlines()[0]}
    seen["timings"] = tab.page.evaluate("window.memrnnRun.timings")

    shot = ARTIFACTS / "run-in-browser"
    shot.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=shot / f"{page_name.split('/')[1]}.png", full_page=True)
    REPORT["blocked"] = [p for p in tab.problems if "non-local" in p]
    assert not tab.problems, "\n".join(tab.problems)


def _stop_a_run(tab, cell, bar, seen):
    """Start the long cell as it is, stop it after a few seconds: Python restarts."""
    bar.locator(".memrnn-run-button").click()
    note = bar.locator(".memrnn-run-note").inner_text()
    tab.page.wait_for_function(
        "bar => bar.dataset.state === 'running' && window.memrnnRun.load", arg=bar.element_handle(),
        timeout=LOAD_TIMEOUT)
    estimate = cell.locator(".memrnn-run-estimate")
    seen["estimate"] = estimate.inner_text() if estimate.count() else None
    seen["estimate_note"] = note
    time.sleep(2)
    stop = bar.locator(".memrnn-stop-button")
    assert stop.is_visible()
    stop.click()
    assert _wait_done(tab, bar, 30_000) == "stopped"
    assert "Python was restarted" in cell.locator(".memrnn-run-output").inner_text()
    assert not stop.is_visible()


# ----------------------------------------------- without a browser: the pieces
def test_install_script_names_the_missing_file(tmp_path):
    """From a local folder short of one wheel, and no registry: the error names that file."""
    vendored = ROOT / "_vendor" / "pyodide"
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "install-pyodide.sh")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((vendored / "manifest.json").read_text())
    local = tmp_path / "local"
    local.mkdir()
    wheels = sorted(name for name in manifest["sha256"] if name.endswith(".whl"))
    left_out = next(name for name in wheels if name.startswith("numpy-"))
    for name in manifest["sha256"]:
        if name != left_out and name != "manifest.json":
            shutil.copyfile(vendored / name, local / Path(name).name)
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copyfile(ROOT / "scripts" / "install-pyodide.sh", repo / "scripts" / "install-pyodide.sh")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "npm").write_text("#!/bin/sh\nexit 1\n")
    (fake_bin / "npm").chmod(0o755)
    env = {**os.environ, "MEMRNN_PYODIDE_DIR": str(local), "PYTHON": sys.executable,
           "PATH": f"{fake_bin}:{os.environ['PATH']}",
           # No registry: pip finds nothing anywhere.
           "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": ""}
    proc = subprocess.run(["bash", str(repo / "scripts" / "install-pyodide.sh")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("install-pyodide: ") and left_out in last, proc.stderr
    assert "MEMRNN_PYODIDE_DIR" in last, last
    assert manifest["sha256"][left_out] in proc.stderr, "the error does not give the sha256"
    assert not (repo / "_vendor" / "pyodide").exists(), "a partial install was left in place"

    # With the file there too, the same folder is enough.
    shutil.copyfile(vendored / left_out, local / left_out)
    proc = subprocess.run(["bash", str(repo / "scripts" / "install-pyodide.sh")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    installed = json.loads((repo / "_vendor" / "pyodide" / "manifest.json").read_text())
    assert installed["sha256"] == manifest["sha256"]


def test_extension_says_why_it_is_left_out(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import browser_run
    finally:
        sys.path.remove(str(ROOT / "book" / "_ext"))

    class App:
        srcdir = str(tmp_path)

    monkeypatch.delenv("MEMRNN_PYODIDE_ERROR", raising=False)
    monkeypatch.setenv("MEMRNN_BROWSER_RUN", "0")
    assert "MEMRNN_BROWSER_RUN=0" in browser_run._why_not(App())
    monkeypatch.setenv("MEMRNN_BROWSER_RUN", "1")
    assert "scripts/install-pyodide.sh" in browser_run._why_not(App())
    monkeypatch.setenv("MEMRNN_PYODIDE_ERROR", "install-pyodide: numpy-2.0.2.whl missing")
    assert "numpy-2.0.2.whl missing" in browser_run._why_not(App())


_CONF = '''
import hashlib, sys, tempfile
from pathlib import Path
sys.path.insert(0, {ext!r})
import browser_run

def _wheel(app):
    # The switch is under test here, not the wheel (test_run_in_browser's book build makes one).
    wheel = Path(tempfile.mkdtemp(prefix="memrnn-test-wheel-")) / "dist" / "memrnn-0.0.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"a stand-in")
    return wheel, hashlib.sha256(b"a stand-in").hexdigest()

browser_run._build_wheel = _wheel
extensions = ["myst_nb", "browser_run"]
nb_execution_mode = "off"
'''
_PAGE = '''---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
# A page

```{code-cell} ipython3
print("hello")
```
'''


@pytest.mark.parametrize("switch", ["0", "1"])
def test_memrnn_browser_run_0_leaves_runner_and_controls_out_of_the_pages(switch, tmp_path):
    """A one-page Sphinx build with this extension and a complete (stand-in) Pyodide folder:
    with MEMRNN_BROWSER_RUN=0 the page loads no runner.js and carries nothing runner.js reads,
    so it has no Run, "Your turn" or "Download my notebook" controls; with 1 it has them."""
    pytest.importorskip("myst_nb", reason="needs the book's tools (memrnn[book])")
    src = tmp_path / "src"
    (src / "_vendor" / "pyodide").mkdir(parents=True)
    (src / "_vendor" / "pyodide" / "manifest.json").write_text(json.dumps(
        {"version": "0.0", "sha256": {}, "bytes": {}, "wheels": [], "packages": []}))
    (src / "conf.py").write_text(_CONF.format(ext=str(ROOT / "book" / "_ext")))
    (src / "index.md").write_text(_PAGE)
    env = {**os.environ, "MEMRNN_BROWSER_RUN": switch}
    env.pop("MEMRNN_PYODIDE_ERROR", None)
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", str(src),
                           str(tmp_path / "site" / "html")], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (tmp_path / "site" / "html" / "index.html").read_text(encoding="utf-8")
    assert "hello" in html
    runner = ("memrnn-run/runner.js", 'id="memrnn-run-data"', "memrnn-cell-")
    if switch == "0":
        assert "[browser-run] Run buttons left out: left out by MEMRNN_BROWSER_RUN=0" in proc.stdout
        assert [s for s in runner if s in html] == []
        assert "Download my notebook" not in html and "memrnn-download" not in html
        assert not (tmp_path / "site" / "html" / "_static" / "memrnn-run").exists()
    else:
        assert "[browser-run] Run buttons on" in proc.stdout, proc.stdout
        assert [s for s in runner if s in html] == list(runner)
        assert (tmp_path / "site" / "html" / "_static" / "memrnn-run" / "runner.js").is_file()
