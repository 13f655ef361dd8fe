"""The figures of the LSTM and of its contest with the RNN."""

from __future__ import annotations

import numpy as np

from ..results import run_bits
from ..stats import wilson_interval
from ._style import PALETTE, SERIES
from .gradients import plot_probe_curves

__all__ = ["plot_contest", "plot_lengths", "plot_gradient_reach", "plot_cell_memory"]


def _subplots(rows, cols, figsize, **kw):
    import matplotlib.pyplot as plt  # deferred: importing memrnn must not pick a backend
    _, axes = plt.subplots(rows, cols, figsize=figsize, layout="constrained", squeeze=False, **kw)
    return axes


def plot_gradient_reach(panels, length, axes=None):
    """The gradient reaching each step, relative to the last, one panel per state.

    Parameters
    ----------
    panels : list of (SweepResult, key, title)
        The runs, the probe to draw (``"hidden_norms"`` or ``"cell_norms"``) and the panel's title.
    length : int
        The sequence length whose probes are drawn.

    Returns
    -------
    ndarray of matplotlib Axes, shape (rows, 2)
    """
    if not panels:
        raise ValueError("panels is empty: nothing to plot")
    rows = (len(panels) + 1) // 2
    if axes is None:
        axes = _subplots(rows, 2, (11.5, 4.1 * rows), sharey=True, sharex=True)
    for ax, (result, key, title) in zip(axes.ravel(), panels):
        plot_probe_curves(result, [length], key=key, relative=True, ax=ax)
        ax.set_title(title, fontsize="medium")
        ax.set_ylabel("")
    for ax in axes[:, 0]:
        ax.set_ylabel("norm relative to $t = T$")
    for ax in axes[:-1].ravel():
        ax.set_xlabel("")
    return axes


def plot_cell_memory(memory, title, f_start, axes=None):
    """Where a trained LSTM keeps x_1, and its storing unit's forget gate and cell state.

    Parameters
    ----------
    memory : dict
        What ``memrnn.lstm_memory.where_x1_is_kept`` returns.
    title : str
        Names the network in the first panel's title.
    f_start : float
        Where the forget gate started, drawn dotted.
    axes : three Axes, optional

    Returns
    -------
    ndarray of three matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if axes is None:
        axes = _subplots(1, 3, (13.5, 4.1))[0]
    corr, unit, x1 = memory["corr"], memory["unit"], memory["x1"]
    T, H = corr.shape
    steps = np.arange(1, T + 1)
    every = max(1, T // 20)
    ax = axes[0]
    for j in range(H):
        if j != unit:
            ax.plot(steps, np.abs(corr[:, j]), color=PALETTE["black"], lw=0.9, alpha=0.35,
                    label="cell state, the other units" if j == (unit + 1) % H else "_nolegend_")
    ax.plot(steps, np.abs(corr[:, unit]), color=PALETTE["green"], lw=2.2, marker="o", ms=3,
            markevery=every, label=f"cell state of unit {unit}")
    ax.plot(steps, np.abs(memory["written"]), color=PALETTE["vermillion"], lw=1.8, ls="--", marker="s",
            ms=3, markevery=every, label=rf"content written, $i_t g_t$, unit {unit}")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(r"$|$correlation with $x_1|$ over sequences")
    ax.set_title(f"{title}: where $x_1$ is kept", fontsize="medium")
    styles, colours = ("-", "--", "-.", ":"), ("vermillion", "orange", "sky", "blue")
    for ax, values, name in ((axes[1], memory["f"], "forget gate $f_t$"),
                             (axes[2], memory["c"], "cell state $c_t$")):
        for k, b in enumerate(memory["show"]):
            ax.plot(steps, values[:, b], ls=styles[k], marker="o", ms=2.5, markevery=every,
                    color=PALETTE[colours[k]], label=f"$x_1 = {x1[b]:+.2f}$")
        ax.set_ylabel(name)
        ax.set_title(f"unit {unit}: {name.split(' $')[0]}", fontsize="medium")
    axes[1].axhline(f_start, color=PALETTE["black"], ls=":", lw=1.2, label="median at initialisation")
    axes[1].set_ylim(-0.02, 1.02)
    for ax in axes:
        ax.set_xlabel("time step $t$")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", frameon=False, fontsize="x-small")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    return axes


def _draw_row(left, right, runs, y, style, spread=0.07, bar=0.12):
    """One arm's row: share solved with its Wilson interval and count (left), every run's bits (right)."""
    marker, face, colour = style
    wins = sum(r["success"] for r in runs)
    share = wins / len(runs)
    low, high = wilson_interval(wins, len(runs))
    left.errorbar(share, y, xerr=[[share - low], [high - share]], marker=marker, mfc=face, color=colour,
                  ms=7, capsize=3, lw=1.4)
    left.annotate(f"{wins}/{len(runs)}", (1.04, y), fontsize="x-small", va="center",
                  xycoords=("axes fraction", "data"), color=colour)
    bits = [run_bits(r) for r in runs]
    right.plot(bits, y + np.linspace(-spread, spread, len(bits)), ls="none", marker=marker, mfc=face,
               color=colour, ms=4, alpha=0.6)
    right.plot([np.median(bits)] * 2, [y - bar, y + bar], color=colour, lw=2.5)


def _finish_rows(left, right, labels, threshold_bits):
    left.set_yticks(range(len(labels)), list(labels)[::-1])
    left.set_xlim(-0.03, 1.03)
    left.set_xlabel(f"share of runs that remember $\\geq$ {threshold_bits:g} bit, 95 % interval")
    right.axvline(threshold_bits, color=PALETTE["black"], ls="--", lw=1)
    right.set_xlabel("bits of $x_1$ remembered (each run; bar: median)")
    for ax in (left, right):
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_ylim(-0.6, len(labels) - 0.4)


def plot_contest(final, models, optimizers, length, threshold_bits=1.0, axes=None):
    """Every arm of a contest at one length: share of runs solved (left) and bits of every run (right).

    Parameters
    ----------
    final : dict (model, optimizer, length) -> SweepResult
        The fresh-seed runs of each arm (``memrnn.contest.load_experiment()["final"]``).
    models, optimizers : dict key -> label
        The rows, top to bottom, and the series: the first optimizer hollow circles, the
        second filled squares.
    length : int
        The sequence length drawn.
    threshold_bits : float
        The success threshold, drawn dashed on the right.

    Returns
    -------
    ndarray of matplotlib Axes, shape (2,)
    """
    arms = [(m, o) for m in models for o in optimizers if (m, o, length) in final]
    if not arms:
        raise ValueError(f"final holds no arm of {list(models)} at T = {length}")
    if axes is None:
        axes = _subplots(1, 2, (11.5, 0.55 * len(models) + 1.8), sharey=True)[0]
    left, right = axes
    styles = dict(zip(optimizers, (("o", "none", PALETTE["blue"]), ("s", PALETTE["vermillion"],
                                                                    PALETTE["vermillion"]))))
    for j, o in enumerate(optimizers):
        marker, face, colour = styles[o]
        dy = 0.18 * (1 - 2 * j)
        for m, _ in [a for a in arms if a[1] == o]:
            y = len(models) - 1 - list(models).index(m) + dy
            _draw_row(left, right, [r for r in final[m, o, length].runs if r["length"] == length], y,
                      styles[o])
        left.plot([], [], marker=marker, mfc=face, color=colour, ls="none", label=optimizers[o])
    _finish_rows(left, right, models.values(), threshold_bits)
    left.figure.legend(loc="outside upper center", ncols=len(optimizers), fontsize="small", frameon=False,
                       title=f"$T = {length}$", title_fontsize="medium")
    return axes


def plot_lengths(final, arms, lengths, threshold_bits=1.0, axes=None):
    """Some arms of a contest at several lengths: share of runs solved (left), bits of every run (right).

    Parameters
    ----------
    final : dict (model, optimizer, length) -> SweepResult
        The fresh-seed runs (``memrnn.contest.load_experiment()["final"]``).
    arms : dict (model, optimizer) -> label
        The rows, top to bottom.
    lengths : sequence of int
        The series, one colour and marker each; a length an arm did not run is left out of its row.
    threshold_bits : float
        The success threshold, drawn dashed on the right.

    Returns
    -------
    ndarray of matplotlib Axes, shape (2,)
    """
    lengths = [T for T in lengths if any(a + (T,) in final for a in arms)]
    if not lengths:
        raise ValueError(f"final holds none of the arms {list(arms)} at any of the lengths asked for")
    if axes is None:
        axes = _subplots(1, 2, (11.5, 0.9 * len(arms) + 1.8), sharey=True)[0]
    left, right = axes
    # Colours whose count labels keep their contrast on white (not SERIES' orange).
    styles = [("o", "blue"), ("s", "vermillion"), ("^", "black")] + [(m, c) for c, m, _ in SERIES[3:]]
    for j, T in enumerate(lengths):
        marker, colour = styles[j][0], PALETTE[styles[j][1]]
        dy = 0.22 * ((len(lengths) - 1) / 2 - j)
        for i, arm in enumerate(arms):
            if arm + (T,) in final:
                _draw_row(left, right, [r for r in final[arm + (T,)].runs if r["length"] == T],
                          len(arms) - 1 - i + dy, (marker, colour, colour), spread=0.06, bar=0.1)
        left.plot([], [], marker=marker, color=colour, ls="none", label=f"$T = {T}$")
    _finish_rows(left, right, arms.values(), threshold_bits)
    left.figure.legend(loc="outside upper center", ncols=len(lengths), fontsize="small", frameon=False)
    return axes
