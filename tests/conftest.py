import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # tests draw figures but never open a window

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

#: Legend entries checked by _close_figures, over the whole session.
LEGEND_ENTRIES_CHECKED = [0]


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


def _check_legends():
    """No two legend entries of any open figure differ by hue alone.

    So every figure the package draws stays readable in grey scale and for
    colour-blind readers: the palette is Okabe-Ito's, and series also differ
    by marker or line style.
    """
    for num in plt.get_fignums():
        for ax in plt.figure(num).axes:
            legend = ax.get_legend()
            if legend is None:
                continue
            entries = [(text.get_text(), _looks(handle))
                       for text, handle in zip(legend.get_texts(), legend.legend_handles)
                       if isinstance(handle, Line2D)]
            LEGEND_ENTRIES_CHECKED[0] += len(entries)
            for i, (name_a, a) in enumerate(entries):
                for name_b, b in entries[i + 1:]:
                    assert not _confusable(a, b), (
                        f"{ax.get_title() or ax.get_ylabel()!r}: {name_a!r} and {name_b!r} "
                        f"differ by colour alone")


@pytest.fixture(autouse=True)
def _close_figures():
    """After every test: the figures it drew pass the legend check, then close."""
    yield
    try:
        _check_legends()
    finally:
        plt.close("all")


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
