"""The figures of a sweep: MSE and success against length, loss curves, comparisons, budgets."""

from __future__ import annotations

import numpy as np

from ..data import TRIVIAL_MSE
from ..information import bits_remembered, mse_for_bits
from ..results import budget_table
from ..stats import wilson_interval
from ._style import PALETTE, SERIES, finish, get_axes, thousands

__all__ = ["plot_sweep_mse", "plot_success_rate", "plot_sweep_curves", "plot_budget",
           "plot_threshold_sensitivity", "plot_clipping"]


def _bits_axis(ax):
    """A right-hand axis that reads an MSE as bits remembered, log4(1 / (3 MSE))."""
    def to_bits(mse):      # unclipped, unlike bits_remembered: an axis must be invertible
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.log(3.0 * np.asarray(mse, dtype=float)) / np.log(4.0)

    def to_mse(bits):
        with np.errstate(over="ignore"):
            return mse_for_bits(bits)

    sec = ax.secondary_yaxis("right", functions=(to_bits, to_mse))
    # The parent's log locator would put decades on the bits axis; bits are linear.
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter
    sec.yaxis.set_major_locator(FixedLocator(np.arange(0.0, 8.5, 0.5)))
    sec.yaxis.set_minor_locator(NullLocator())
    sec.yaxis.set_major_formatter(ScalarFormatter())
    sec.set_ylabel("bits of $x_1$ remembered")
    return sec


def plot_sweep_mse(result, ax=None, diverged_at=0.7):
    """Evaluation MSE against sequence length: every run, the median and quartiles.

    Parameters
    ----------
    result : memrnn.sweep.SweepResult
    ax : matplotlib Axes, optional
    diverged_at : float
        Height (MSE) at which diverged runs are marked with a cross; they have
        no MSE and are never drawn as one.

    Returns
    -------
    matplotlib Axes
        Log-scaled MSE, with the trivial 1/3, the success threshold, and a
        right-hand axis in bits remembered.
    """
    rows = result.summary()
    if not rows:
        raise ValueError("the sweep has no runs to plot")
    lengths = [r["length"] for r in rows]
    spacing = np.min(np.diff(lengths)) if len(lengths) > 1 else 1.0
    ax = get_axes(ax, figsize=(7.0, 4.5))
    reps = max(r["runs"] for r in rows)
    first_run = first_div = True
    for length, runs in result.by_length().items():
        for r in runs:
            dx = 0.3 * spacing * ((r["repeat"] + 0.5) / reps - 0.5)    # deterministic jitter
            if r["diverged"]:
                ax.plot(length + dx, diverged_at, ls="none", marker="x", ms=7, mew=1.5,
                        color=PALETTE["vermillion"],
                        label="diverged run" if first_div else "_nolegend_")
                first_div = False
            else:
                ax.plot(length + dx, r["eval_mse"], ls="none", marker="o", ms=4, alpha=0.45,
                        color=PALETTE["sky"], label="one run" if first_run else "_nolegend_")
                first_run = False
    have = [r for r in rows if r["median_mse"] is not None]
    med = np.array([r["median_mse"] for r in have])
    err = np.array([[r["median_mse"] - r["q25_mse"] for r in have],
                    [r["q75_mse"] - r["median_mse"] for r in have]])
    ax.errorbar([r["length"] for r in have], med, yerr=err, color=PALETTE["blue"], marker="s",
                ms=6, lw=1.8, capsize=4, label="median, quartiles")
    ax.axhline(TRIVIAL_MSE, color=PALETTE["black"], ls="--", lw=1, label="trivial: 1/3 (0 bits)")
    thr = result.settings.threshold_mse
    ax.axhline(thr, color=PALETTE["green"], ls=":", lw=1.5,
               label=f"success threshold ({result.settings.threshold_bits:g} bit)")
    ax.set_yscale("log")
    ax.set_xticks(lengths)
    ax.set_xlabel("sequence length $T$")
    ax.set_ylabel("held-out MSE")
    ax.grid(True, which="major", alpha=0.3)
    _bits_axis(ax)
    ax.legend(loc="lower right", frameon=True, framealpha=0.9, fontsize="small")
    return ax


def plot_success_rate(result, ax=None, label="success rate", style=0, crossing=None):
    """Share of runs that succeed at each length, with 95 % Wilson intervals.

    ``style`` picks a colour, marker and line style from the book's series, so
    that several sweeps (with and without clipping) can share one axes. With
    ``crossing`` (``SweepResult.crossing()``), the logistic fit through all
    runs is drawn too, with the interval in which it crosses its level shaded.
    """
    rows = result.summary()
    if not rows:
        raise ValueError("the sweep has no runs to plot")
    colour, marker, ls = SERIES[style % len(SERIES)]
    ax = get_axes(ax, figsize=(6.0, 3.8))
    x = np.array([r["length"] for r in rows], dtype=float)
    rate = np.array([r["success_rate"] for r in rows])
    err = np.array([rate - [r["rate_low"] for r in rows], [r["rate_high"] for r in rows] - rate])
    ax.errorbar(x + 0.15 * style, 100 * rate, yerr=100 * err, color=PALETTE[colour], marker=marker,
                ls=ls, capsize=4, lw=1.5, label=label)
    if crossing is not None:
        grid = np.linspace(x.min(), x.max(), 200)
        fit = 100 / (1 + np.exp(-(crossing["a"] + crossing["b"] * grid)))
        ax.plot(grid, fit, color=PALETTE["black"], ls="-.", lw=1.2, label="logistic fit, all runs")
        ax.axvspan(crossing["low"], crossing["high"], color=PALETTE["sky"], alpha=0.25, lw=0,
                   label=f"{100 * crossing['level']:.0f} % crossed here (95 % interval)")
    ax.axhline(100 * result.settings.reliable, color=PALETTE["black"], ls=":", lw=1)
    ax.set_ylim(-5, 105)
    ax.set_xticks([r["length"] for r in rows])
    ax.set_xlabel("sequence length $T$")
    ax.set_ylabel("runs that succeed (%)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", frameon=False, fontsize="small")
    return ax


def plot_sweep_curves(result, lengths, axes=None):
    """Loss curves of every run at a few lengths, one panel each.

    Returns
    -------
    ndarray of matplotlib Axes
    """
    groups = result.by_length()
    missing = [T for T in lengths if T not in groups]
    if missing:
        raise ValueError(f"no runs at length(s) {missing}; the sweep has {sorted(groups)}")
    if axes is None:
        import matplotlib.pyplot as plt
        _, axes = plt.subplots(1, len(lengths), figsize=(3.4 * len(lengths), 3.6), sharey=True,
                               layout="constrained", squeeze=False)
        axes = axes[0]
    axes = np.atleast_1d(axes)
    for ax, T in zip(axes, lengths):
        runs = groups[T]
        wins = sum(r["success"] for r in runs)
        for r in runs:
            ok = r["success"]
            ax.plot(r["loss_steps"], r["losses"], lw=0.9, alpha=0.8,
                    color=PALETTE["blue"] if ok else PALETTE["vermillion"],
                    ls="-" if ok else "--")
        ax.axhline(TRIVIAL_MSE, color=PALETTE["black"], ls="--", lw=1)
        ax.axhline(result.settings.threshold_mse, color=PALETTE["green"], ls=":", lw=1.5)
        ax.set_yscale("log")
        ax.set_title(f"T = {T}: {wins} of {len(runs)} succeed", fontsize="medium")
        ax.set_xlabel("training update")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("batch MSE")
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color=PALETTE["blue"], ls="-", label="run that succeeds"),
               Line2D([], [], color=PALETTE["vermillion"], ls="--", label="run that fails"),
               Line2D([], [], color=PALETTE["black"], ls="--", label="1/3"),
               Line2D([], [], color=PALETTE["green"], ls=":", label="threshold")]
    axes[-1].legend(handles=handles, loc="lower left", frameon=True, framealpha=0.9,
                    fontsize="x-small")
    return axes


def plot_sweep_comparison(results, ax=None):
    """Median bits remembered against length for several sweeps, with quartiles.

    Parameters
    ----------
    results : dict str -> memrnn.sweep.SweepResult
        Label -> sweep, for example with and without gradient clipping.
        Diverged runs count as 0 bits.
    """
    if not results:
        raise ValueError("results is empty")
    ax = get_axes(ax, figsize=(6.0, 3.8))
    for k, (label, res) in enumerate(results.items()):
        colour, marker, ls = SERIES[k % len(SERIES)]
        x, med, lo, hi = [], [], [], []
        for length, runs in sorted(res.by_length().items()):
            bits = np.array([0.0 if r["diverged"] else bits_remembered(r["eval_mse"]) for r in runs])
            q25, q50, q75 = np.percentile(bits, [25, 50, 75])
            x.append(length + 0.15 * k)
            med.append(q50)
            lo.append(q50 - q25)
            hi.append(q75 - q50)
        ax.errorbar(x, med, yerr=[lo, hi], color=PALETTE[colour], marker=marker, ls=ls,
                    capsize=4, lw=1.5, label=label)
    first = next(iter(results.values()))
    ax.axhline(first.settings.threshold_bits, color=PALETTE["green"], ls=":", lw=1.5,
               label="success threshold")
    ax.set_xticks(sorted({T for res in results.values() for T in res.by_length()}))
    ax.set_xlabel("sequence length $T$")
    ax.set_ylabel("bits of $x_1$ remembered (median)")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", frameon=False, fontsize="small")
    return ax


def plot_budget(results, ax=None):
    """Share of successful runs against the training budget, per sweep and length.

    Parameters
    ----------
    results : dict str -> SweepResult
        Label -> a sweep whose runs were evaluated at checkpoints
        (``SweepSettings.checkpoints``). One line per (sweep, length), with
        95 % Wilson intervals.
    """
    if not results:
        raise ValueError("results is empty")
    ax = get_axes(ax, figsize=(6.5, 4.2))
    k = 0
    for label, res in results.items():
        for length, row in budget_table(res).items():
            colour, marker, ls = SERIES[k % len(SERIES)]
            k += 1
            budgets = np.array(sorted(row), dtype=float)
            wins = np.array([row[b][0] for b in sorted(row)])
            n = np.array([row[b][1] for b in sorted(row)])
            ci = np.array([wilson_interval(int(w), int(m)) for w, m in zip(wins, n)])
            rate = wins / n
            ax.errorbar(budgets * (1 + 0.03 * (k - 1)), 100 * rate,
                        yerr=100 * np.array([rate - ci[:, 0], ci[:, 1] - rate]),
                        color=PALETTE[colour], marker=marker, ls=ls, capsize=3, lw=1.4,
                        label=f"{label}, T = {length}")
    ax.set_xscale("log")
    ax.set_ylim(-5, 105)
    ax.set_xticks(sorted({b for res in results.values()
                          for b in list(res.settings.checkpoints) + [res.settings.steps]}))
    ax.get_xaxis().set_major_formatter(thousands())
    ax.minorticks_off()
    return finish(ax, "training updates (budget)", "runs that succeed (%)", fontsize="x-small",
                   log=False)


def plot_threshold_sensitivity(rows, ax=None, reference_bits=1.0):
    """The sweep's verdicts against the success threshold.

    ``rows`` is ``results.threshold_sensitivity(result)``: for each threshold
    in bits, the 80 % crossing with its 95 % interval (shaded band) and the
    largest reliably solved length (steps). The book's threshold is marked.
    """
    if not rows:
        raise ValueError("no thresholds to plot: rows is empty")
    ax = get_axes(ax, figsize=(6.4, 3.8))
    b = np.array([r["bits"] for r in rows])
    est = np.array([r["crossing"] for r in rows])
    lo, hi = np.array([r["low"] for r in rows]), np.array([r["high"] for r in rows])
    reach = np.array([r["reach"] or 0 for r in rows], dtype=float)
    ax.fill_between(b, lo, hi, color=PALETTE["sky"], alpha=0.3, lw=0,
                    label="80 % crossing, 95 % interval")
    ax.plot(b, est, color=PALETTE["blue"], marker="o", ms=4, label="80 % crossing (logistic fit)")
    ax.step(b, reach, where="mid", color=PALETTE["vermillion"], ls="--", lw=1.5,
            label="largest reliably solved length")
    ax.axvline(reference_bits, color=PALETTE["black"], ls=":", lw=1)
    ax.annotate("the book's threshold", (reference_bits, ax.get_ylim()[1]), xytext=(4, -12),
                textcoords="offset points", fontsize="x-small")
    return finish(ax, "success threshold (bits remembered)", "sequence length $T$",
                  legend="upper right", log=False)


def plot_clipping(experiment, axes=None):
    """Several sweeps of the same lengths side by side: success rates and median bits.

    ``experiment`` maps a label to a ``SweepResult``; the left panel shows
    each one's success rate with Wilson intervals, the right one
    ``plot_sweep_comparison``.
    """
    if axes is None:
        import matplotlib.pyplot as plt
        _, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    left, right = axes
    for k, (label, res) in enumerate(experiment.items()):
        plot_success_rate(res, ax=left, label=label, style=k)
    plot_sweep_comparison(experiment, ax=right)
    return left
