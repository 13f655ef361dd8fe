"""What every figure shares: the palette, the series styles, how an axes is made and finished."""

from __future__ import annotations

import numpy as np

#: Okabe & Ito's colour-blind-safe palette, used across the book.
PALETTE = {
    "blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
    "sky": "#56B4E9", "purple": "#CC79A7", "yellow": "#F0E442", "black": "#000000",
}


SERIES = (("blue", "o", "-"), ("orange", "s", "--"), ("green", "^", "-."),
          ("vermillion", "D", ":"), ("purple", "v", "-"), ("sky", "P", "--"))


def get_axes(ax, figsize=(6.0, 4.0)):
    if ax is None:
        import matplotlib.pyplot as plt  # deferred: importing memrnn must not pick a backend
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def paired(a, b, name_a, name_b):
    """Two equally long, finite 1-D float arrays, or a ValueError naming them."""
    a = np.asarray(a, dtype=float).reshape(-1)
    b = np.asarray(b, dtype=float).reshape(-1)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"{name_a} and {name_b} must be non-empty and of equal length, "
                         f"got {a.size} and {b.size}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError(f"{name_a} or {name_b} holds NaN or infinity: nothing sensible to plot")
    return a, b


def finish(ax, xlabel, ylabel, legend="best", fontsize="small", log=True):
    """Log scale, labels, grid and a frameless legend: how the book's line plots end."""
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc=legend, frameon=False, fontsize=fontsize)
    return ax


def thousands():
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda v, _: f"{v / 1000:g}k" if v >= 1000 else f"{v:g}")
