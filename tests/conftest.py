import gc
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # tests draw figures but never open a window

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D

#: Legend entries checked by _close_figures, over the whole session, and the
#: figure tests that ran.
LEGEND_ENTRIES_CHECKED = [0]
PLOT_TESTS_RUN = [0]


def _grey(color):
    """Luminance in [0, 1] (Rec. 709 weights): what a reader sees in grey scale."""
    r, g, b = to_rgb(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _looks(handle):
    marker = handle.get_marker()
    marker = None if marker in (None, "", "None", " ") else marker
    style = handle.get_linestyle() if handle.get_linewidth() > 0 else "None"
    return marker, style, _grey(handle.get_color())


def _confusable(a, b):
    """Legend entries that differ by hue alone: same marker, same line style, same grey."""
    return a[:2] == b[:2] and abs(a[2] - b[2]) < 0.15


def _check_legends() -> int:
    """No two legend entries of any open figure differ by hue alone; returns how many were checked.

    So every figure the package draws stays readable in grey scale and for
    colour-blind readers: the palette is Okabe-Ito's, and series also differ
    by marker or line style.
    """
    checked = 0
    for num in plt.get_fignums():
        for ax in plt.figure(num).axes:
            legend = ax.get_legend()
            if legend is None:
                continue
            entries = [(text.get_text(), _looks(handle))
                       for text, handle in zip(legend.get_texts(), legend.legend_handles)
                       if isinstance(handle, Line2D)]
            LEGEND_ENTRIES_CHECKED[0] += len(entries)
            checked += len(entries)
            for i, (name_a, a) in enumerate(entries):
                for name_b, b in entries[i + 1:]:
                    assert not _confusable(a, b), (
                        f"{ax.get_title() or ax.get_ylabel()!r}: {name_a!r} and {name_b!r} "
                        f"differ by colour alone")
    return checked


@pytest.fixture(autouse=True)
def _close_figures(request):
    """After every test: the figures it drew pass the legend check, then close."""
    yield
    if request.node.path.name == "test_plots.py":
        PLOT_TESTS_RUN[0] += 1
    try:
        _check_legends()
    finally:
        plt.close("all")


@pytest.fixture(scope="module", autouse=True)
def _collect_garbage():
    """After each test module, collect its garbage.

    A socket or file a module left unclosed then fails that module's last test, by name,
    rather than the whole session when pytest collects the garbage at exit.
    """
    yield
    gc.collect()


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    """The book, built once per test session with the README command into a fresh folder.

    MEMRNN_BUILT_BOOK=DIR reuses a build made by `bash scripts/build-book.sh DIR`
    instead, to iterate on the page and browser tests; the test command never sets it.
    """
    from bookpages import build_book, built_book

    if os.environ.get("MEMRNN_BUILT_BOOK"):
        return built_book(Path(os.environ["MEMRNN_BUILT_BOOK"]))
    try:
        return build_book(tmp_path_factory.mktemp("book"))
    except RuntimeError as err:
        pytest.fail(str(err))


def pytest_sessionfinish(session, exitstatus):
    """The legend check must have checked something whenever the figure tests ran.

    Otherwise a change that hid every legend from it (a new kind of handle,
    say) would let every figure pass unchecked.
    """
    if PLOT_TESTS_RUN[0] and exitstatus == 0 and LEGEND_ENTRIES_CHECKED[0] == 0:
        session.exitstatus = 1
        print("\nconftest: the figure tests ran, but the grey-scale legend check checked "
              "no legend entry at all")


def pytest_terminal_summary(terminalreporter):
    """Say which robustness variants ran the training chapters, and how long each took."""
    try:
        from test_robustness import ROBUSTNESS_LOG
    except ImportError:
        return
    if not ROBUSTNESS_LOG:
        return
    terminalreporter.section("robustness: the training chapters under other seeds and SIMD kernels")
    for e in ROBUSTNESS_LOG:
        extra = (f"  weights {e['weights_sha']} (published {e['published_weights_sha']})"
                 if "weights_sha" in e else "")
        terminalreporter.write_line(f"{e['variant']:9s} {e['page']:20s} {e['seconds']:7.1f} s  "
                                    f"{e['env']}{extra}")
