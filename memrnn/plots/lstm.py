"""The figures of the LSTM and of its comparison with the RNN."""

from __future__ import annotations

import numpy as np

from ..information import bits_remembered
from ..results import SweepResult
from ._style import PALETTE, SERIES, thousands
from .gradients import plot_probe_curves
from .sweeps import plot_success_rate, plot_sweep_comparison

__all__ = ["plot_reach_by_optimizer", "plot_bits_by_budget", "plot_gradient_reach", "plot_cell_memory"]


def _subplots(rows, cols, figsize, **kw):
    import matplotlib.pyplot as plt  # deferred: importing memrnn must not pick a backend
    _, axes = plt.subplots(rows, cols, figsize=figsize, layout="constrained", squeeze=False, **kw)
    return axes


def _shifted(result, dx):
    """The same runs drawn ``dx`` to the side, so that the models at one length stay apart."""
    return SweepResult(result.settings, [dict(r, length=r["length"] + dx) for r in result.runs])


def _bits(run) -> float:
    """Bits of x_1 a run remembers; a diverged run counts as 0."""
    if run["diverged"] or run["eval_mse"] is None:
        return 0.0
    return float(bits_remembered(run["eval_mse"]))


def _arms(results, models, optimizers):
    if not results:
        raise ValueError("results is empty: nothing to plot")
    unknown = (sorted({m for m, _ in results} - set(models))
               + sorted({o for _, o in results} - set(optimizers)))
    if unknown:
        raise ValueError(f"results name {unknown}, which models {list(models)} and optimizers "
                         f"{list(optimizers)} do not label")


def plot_reach_by_optimizer(results, models, optimizers, axes=None):
    """Success rate (top) and median bits (bottom) against length, one column per optimizer.

    Parameters
    ----------
    results : dict (model, optimizer) -> SweepResult
        The runs of each arm, judged at one budget.
    models, optimizers : dict key -> label
        The order and names of the series (model ``k`` gets the book's series style ``k``) and
        of the columns.
    axes : 2 x len(optimizers) array of Axes, optional

    Returns
    -------
    ndarray of matplotlib Axes, shape (2, len(optimizers))
    """
    _arms(results, models, optimizers)
    if axes is None:
        axes = _subplots(2, len(optimizers), (5.75 * len(optimizers), 7.6), sharey="row")
    offsets = dict(zip(models, np.linspace(-4.5, 4.5, len(models))))
    lengths = sorted({T for res in results.values() for T in res.by_length()})
    for col, (o, oname) in enumerate(optimizers.items()):
        top, bottom = axes[0, col], axes[1, col]
        here = [m for m in models if (m, o) in results]
        for m in here:
            plot_success_rate(_shifted(results[m, o], offsets[m]), ax=top, label=models[m],
                              style=list(models).index(m))
        # plot_sweep_comparison styles its series in order, so the bottom row matches the top
        # only if the models missing under an optimizer are the last ones.
        if here != list(models)[:len(here)]:
            raise ValueError(f"under {oname} the models {here} are not the first of {list(models)}: "
                             "order models so that those run under every optimizer come first")
        plot_sweep_comparison({models[m]: _shifted(results[m, o], offsets[m]) for m in here}, ax=bottom)
        steps = next(results[m, o].settings.steps for m in here)
        for ax in (top, bottom):
            ax.set_xticks(lengths)
            ax.set_xlim(lengths[0] - 10, lengths[-1] + 10)
        top.set_title(f"{oname}, {thousands()(steps, None)} updates", fontsize="medium")
        if col:
            top.set_ylabel("")
            bottom.set_ylabel("")
    # One bits axis for every column, up to the highest upper quartile drawn.
    q75 = max(np.percentile([_bits(r) for r in runs], 75)
              for res in results.values() for runs in res.by_length().values())
    axes[1, 0].set_ylim(0, 1.1 * max(q75, 1.0))
    return axes


def plot_bits_by_budget(judged, models, optimizers, threshold_bits=1.0, axes=None):
    """Bits remembered by every run after each budget, one panel per length.

    Parameters
    ----------
    judged : dict (model, optimizer, updates) -> SweepResult
        Each arm's runs as they stood after each budget (``SweepResult.at_budget``).
    models, optimizers : dict key -> label
        Colour and marker by model (the book's series in order), line style by optimizer
        (dotted for the first, solid for the second, dashed for a third).
    threshold_bits : float
        The success threshold, drawn dashed.

    Returns
    -------
    ndarray of matplotlib Axes, one per length
    """
    if not judged:
        raise ValueError("judged is empty: nothing to plot")
    _arms({(m, o): None for m, o, _ in judged}, models, optimizers)
    arms = list(dict.fromkeys((m, o) for m, o, _ in judged))
    budgets = sorted({k for _, _, k in judged})
    lengths = sorted({T for res in judged.values() for T in res.by_length()})
    if axes is None:
        axes = _subplots(1, len(lengths), (4.2 * len(lengths), 4.6), sharey=True)[0]
    axes = np.atleast_1d(axes)
    xs = np.arange(len(budgets))
    line_style = dict(zip(optimizers, (":", "-", "--")))
    for ax, T in zip(axes, lengths):
        for j, (m, o) in enumerate(arms):
            colour, marker, _ = SERIES[list(models).index(m) % len(SERIES)]
            dx = 0.06 * (j - (len(arms) - 1) / 2)
            bits = np.array([[_bits(r) for r in judged[m, o, k].by_length()[T]] for k in budgets])
            for b, row in enumerate(bits):
                ax.plot(np.full(row.size, xs[b] + dx), row, ls="none", marker=marker, ms=3.5,
                        color=PALETTE[colour], alpha=0.3)
            ax.plot(xs + dx, np.median(bits, axis=1), color=PALETTE[colour], marker=marker,
                    ls=line_style[o], lw=1.6, ms=6, label=f"{models[m]}, {optimizers[o]}")
        ax.axhline(threshold_bits, color=PALETTE["black"], ls="--", lw=1)
        ax.set_xticks(xs, [thousands()(k, None) for k in budgets])
        ax.set_xlabel("training updates")
        ax.set_title(f"$T = {T}$", fontsize="medium")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("bits of $x_1$ remembered")
    axes[0].set_ylim(bottom=-0.1)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].figure.legend(handles, labels, loc="outside lower center", ncols=4, frameon=False,
                          fontsize="small")
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
