"""The book's figures, shared with the learner and the command line (chapters 1-7).

Every function takes an optional matplotlib ``ax`` (a new figure is made when
it is ``None``) and returns that ``Axes``; ``ax.figure`` is the figure. Series
differ by marker or line style as well as colour, and colours come from the
Okabe-Ito palette, which stays distinguishable for colour-blind readers.
"""

from __future__ import annotations

import numpy as np

from .data import TRIVIAL_MSE
from .information import bits_remembered, mse_for_bits, wilson_interval

__all__ = ["PALETTE", "plot_sequences", "plot_constant_predictor", "plot_eps_sweep",
           "plot_loss_curve", "plot_predictions", "plot_sweep_mse", "plot_success_rate",
           "plot_sweep_curves", "plot_sweep_comparison", "plot_grad_norms_over_time", "plot_jacobian_decay",
           "plot_gradient_ratio", "plot_probe_curves", "plot_cliff", "run_outcome",
           "budget_table", "plot_budget", "plot_ablation", "plot_kernel_times",
           "plot_gradient_heatmap", "plot_training_series"]

#: Okabe & Ito's colour-blind-safe palette, used across the book.
PALETTE = {
    "blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
    "sky": "#56B4E9", "purple": "#CC79A7", "yellow": "#F0E442", "black": "#000000",
}


def _axes(ax, figsize=(6.0, 4.0)):
    if ax is None:
        import matplotlib.pyplot as plt  # deferred: importing memrnn must not pick a backend
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _paired(a, b, name_a, name_b):
    """Two equally long, finite 1-D float arrays, or a ValueError naming them."""
    a = np.asarray(a, dtype=float).reshape(-1)
    b = np.asarray(b, dtype=float).reshape(-1)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"{name_a} and {name_b} must be non-empty and of equal length, "
                         f"got {a.size} and {b.size}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError(f"{name_a} or {name_b} holds NaN or infinity: nothing sensible to plot")
    return a, b


def plot_loss_curve(loss_values, ax=None, label="training loss", color=None, trivial=True):
    """Plot logged training losses against the update count (chapter 4).

    Parameters
    ----------
    loss_values : mapping int -> float
        Update count -> batch MSE, as in ``Learner.loss_values``.
    ax : matplotlib Axes, optional
    label, color : str
        Legend label and colour of the curve.
    trivial : bool
        Draw the trivial predictor's MSE of 1/3 as a dashed reference line.

    Returns
    -------
    matplotlib Axes
        With a log-scaled y axis, since the loss spans decades.
    """
    if not loss_values:
        raise ValueError("loss_values is empty: train for at least one update first")
    steps = np.fromiter(loss_values.keys(), dtype=float)
    losses = np.fromiter(loss_values.values(), dtype=float)
    if not np.all(np.isfinite(losses)) or np.any(losses < 0):
        raise ValueError("loss_values holds NaN, infinite or negative losses; "
                         "a diverged run cannot be plotted as a loss curve")
    ax = _axes(ax)
    ax.plot(steps, losses, color=color or PALETTE["blue"], lw=1.5, label=label)
    if trivial:
        ax.axhline(TRIVIAL_MSE, color=PALETTE["black"], ls="--", lw=1,
                   label="trivial predictor (always 0): 1/3")
    ax.set_yscale("log")
    ax.set_xlabel("training update")
    ax.set_ylabel("mean squared error (batch)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", frameon=False)
    return ax


def plot_predictions(y_true, y_hat, ax=None, max_points=3000, seed=0):
    """Scatter predictions against targets, with y = x and the trivial level (chapter 4).

    Parameters
    ----------
    y_true, y_hat : array_like, shape (N, 1) or (N,)
        Targets (the first element of each sequence) and predictions.
    ax : matplotlib Axes, optional
    max_points : int
        Plot at most this many points, a fixed random subset, so that the
        figure stays readable and small; the MSE in the legend uses them all.
    seed : int
        Chooses that subset.

    Returns
    -------
    matplotlib Axes
    """
    y_true, y_hat = _paired(y_true, y_hat, "y_true", "y_hat")
    mse = float(np.mean((y_hat - y_true) ** 2))
    idx = np.arange(y_true.size)
    if y_true.size > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(y_true.size, max_points, replace=False))

    ax = _axes(ax, figsize=(4.8, 4.5))
    ax.scatter(y_true[idx], y_hat[idx], s=6, alpha=0.35, color=PALETTE["blue"], marker="o",
               linewidths=0, label=f"sequences (MSE {mse:.3g})")
    lim = 1.1 * max(1.0, float(np.max(np.abs(y_hat[idx]))))
    ax.plot([-1, 1], [-1, 1], color=PALETTE["vermillion"], ls="-", lw=1.2,
            label="perfect memory: $\\hat y = x_1$")
    ax.axhline(0.0, color=PALETTE["black"], ls="--", lw=1, label="trivial predictor: $\\hat y = 0$")
    ax.set_xlim(-1.1, 1.1)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("target: first element $x_1$")
    ax.set_ylabel("prediction $\\hat y$")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", frameon=False, fontsize="small")
    return ax


_SERIES = (("blue", "o", "-"), ("orange", "s", "--"), ("green", "^", "-."),
           ("vermillion", "D", ":"), ("purple", "v", "-"), ("sky", "P", "--"))


def plot_sequences(x, y, n_show=3, ax=None):
    """Draw a few input sequences and mark the target each one asks for (chapter 1).

    Parameters
    ----------
    x : array_like, shape (T, B, 1)
        A batch from ``generate_samples``.
    y : array_like, shape (B, 1)
        Its targets.
    n_show : int
        How many of the ``B`` sequences to draw (at most 6, to stay readable).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        Time step t = 1..T on the x axis; after the last step, a large marker
        at the height of the target, joined to the first element by a dotted line.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 3 or x.shape[2] != 1:
        raise ValueError(f"x must have shape (T, B, 1), got {x.shape}")
    T, B = x.shape[:2]
    if y.shape != (B, 1):
        raise ValueError(f"y must have shape ({B}, 1) to match x, got {y.shape}")
    if not isinstance(n_show, (int, np.integer)) or not 1 <= n_show <= min(B, len(_SERIES)):
        raise ValueError(f"n_show must be an int from 1 to {min(B, len(_SERIES))}, got {n_show!r}")
    ax = _axes(ax, figsize=(7.0, 3.8))
    t = np.arange(1, T + 1)
    for j in range(n_show):
        colour, marker, style = _SERIES[j]
        c = PALETTE[colour]
        ax.plot(t, x[:, j, 0], color=c, ls=style, marker=marker, ms=4, lw=1.2,
                label=f"sequence {j + 1}")
        ax.plot([1, T + 1], [x[0, j, 0], y[j, 0]], color=c, ls=":", lw=0.8)
        ax.plot([T + 1], [y[j, 0]], color=c, marker=marker, ms=11, mfc="white", mew=2, ls="none")
    ax.axvline(T + 0.5, color=PALETTE["black"], lw=0.8)
    ax.set_xticks(list(t) + [T + 1], [str(k) for k in t] + ["target"])
    ax.set_xlim(0.5, T + 1.5)
    ax.set_ylim(-1.15, 1.15)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("input $x_t$ / target $y$")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", frameon=False, fontsize="small", ncols=min(n_show, 3))
    return ax


def plot_constant_predictor(c, mse, ax=None):
    """Measured MSE of always answering ``c``, against the exact 1/3 + c^2 (chapter 2).

    Parameters
    ----------
    c : array_like, shape (K,)
        The constant predictions tried.
    mse : array_like, shape (K,)
        The MSE measured for each on sampled targets.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    c, mse = _paired(c, mse, "c", "mse")
    ax = _axes(ax, figsize=(5.5, 3.8))
    grid = np.linspace(min(c.min(), -1.0), max(c.max(), 1.0), 201)
    ax.plot(grid, TRIVIAL_MSE + grid ** 2, color=PALETTE["blue"], ls="-", lw=1.5,
            label="exact: $1/3 + c^2$")
    ax.plot(c, mse, color=PALETTE["vermillion"], marker="o", ls="none", ms=5,
            label="measured on sampled targets")
    ax.axhline(TRIVIAL_MSE, color=PALETTE["black"], ls="--", lw=1, label="1/3")
    ax.set_xlabel("constant prediction $c$")
    ax.set_ylabel("mean squared error")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper center", frameon=False)
    return ax


def plot_eps_sweep(sweep, ax=None):
    """Finite-difference error against step size, both schemes, log-log (chapter 3).

    Parameters
    ----------
    sweep : dict
        The output of ``memrnn.gradcheck.eps_sweep``: arrays ``"eps"``,
        ``"central"`` and ``"forward"``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    try:
        eps, central, forward = (np.asarray(sweep[k], dtype=float) for k in ("eps", "central", "forward"))
    except (KeyError, TypeError):
        raise TypeError("sweep must be the dict returned by memrnn.gradcheck.eps_sweep, "
                        "with keys 'eps', 'central' and 'forward'") from None
    if not (eps.shape == central.shape == forward.shape) or eps.ndim != 1 or eps.size == 0:
        raise ValueError("sweep['eps'], ['central'] and ['forward'] must be 1-D arrays of one length")
    ax = _axes(ax, figsize=(6.0, 4.2))
    ax.loglog(eps, forward, color=PALETTE["orange"], marker="s", ls="--", ms=4,
              label="one-sided $(f(x+\\epsilon)-f(x))/\\epsilon$")
    ax.loglog(eps, central, color=PALETTE["blue"], marker="o", ls="-", ms=4,
              label="two-sided $(f(x+\\epsilon)-f(x-\\epsilon))/2\\epsilon$")
    ax.set_xlabel("step size $\\epsilon$")
    ax.set_ylabel("relative error of the gradient")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper center", frameon=False, fontsize="small")
    return ax


# ------------------------------------------------------------ chapter 5: sweep
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
    """Evaluation MSE against sequence length: every run, the median and quartiles (chapter 5).

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
    ax = _axes(ax, figsize=(7.0, 4.5))
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
    """Share of runs that succeed at each length, with 95 % Wilson intervals (chapter 5).

    ``style`` picks a colour, marker and line style from the book's series, so
    that several sweeps (with and without clipping) can share one axes. With
    ``crossing`` (``SweepResult.crossing()``), the logistic fit through all
    runs is drawn too, with the interval in which it crosses its level shaded.
    """
    rows = result.summary()
    if not rows:
        raise ValueError("the sweep has no runs to plot")
    colour, marker, ls = _SERIES[style % len(_SERIES)]
    ax = _axes(ax, figsize=(6.0, 3.8))
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
    """Loss curves of every run at a few lengths, one panel each (chapter 5).

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
    """Median bits remembered against length for several sweeps, with quartiles (chapters 5, 6).

    Parameters
    ----------
    results : dict str -> memrnn.sweep.SweepResult
        Label -> sweep, for example with and without gradient clipping.
        Diverged runs count as 0 bits.
    """
    if not results:
        raise ValueError("results is empty")
    ax = _axes(ax, figsize=(6.0, 3.8))
    for k, (label, res) in enumerate(results.items()):
        colour, marker, ls = _SERIES[k % len(_SERIES)]
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


# -------------------------------------------------- chapter 6: vanishing gradient
def _finish(ax, xlabel, ylabel, legend="best", fontsize="small", log=True):
    """Log scale, labels, grid and a frameless legend: how the book's line plots end."""
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc=legend, frameon=False, fontsize=fontsize)
    return ax


def plot_grad_norms_over_time(curves, ax=None):
    """Norm of dL/da_t against the time step t, one line per case, log scale (chapter 6).

    Parameters
    ----------
    curves : dict str -> array_like (T,)
        Label -> ``vanishing.hidden_grad_norms(model)``. Lengths may differ.
    """
    if not curves:
        raise ValueError("curves is empty")
    ax = _axes(ax, figsize=(6.5, 4.2))
    for k, (label, norms) in enumerate(curves.items()):
        norms = np.asarray(norms, dtype=float)
        if norms.ndim != 1 or not np.all(np.isfinite(norms)) or np.any(norms < 0):
            raise ValueError(f"curve {label!r} must be finite non-negative norms, shape (T,)")
        colour, marker, ls = _SERIES[k % len(_SERIES)]
        t = np.arange(1, norms.size + 1)
        ax.plot(t, norms, color=PALETTE[colour], marker=marker, ls=ls, ms=3.5,
                markevery=max(1, norms.size // 12), lw=1.4, label=label)
    return _finish(ax, "time step $t$", r"$\|\partial L / \partial a_t\|$")


def plot_jacobian_decay(cases, ax=None):
    """Largest singular value of da_T/da_t against the distance T - t, with the bound (chapter 6).

    Parameters
    ----------
    cases : dict str -> (sv, bound)
        Label -> the outputs of ``vanishing.jacobian_products`` (T, n, H) and
        ``vanishing.jacobian_bound`` (T, n). The median over sequences is drawn:
        solid with markers for the largest singular value, thin dotted for the bound.
    """
    if not cases:
        raise ValueError("cases is empty")
    ax = _axes(ax, figsize=(6.5, 4.2))
    for k, (label, (sv, bound)) in enumerate(cases.items()):
        sv, bound = np.asarray(sv, dtype=float), np.asarray(bound, dtype=float)
        if sv.ndim != 3 or bound.shape != sv.shape[:2]:
            raise ValueError(f"case {label!r}: sv must be (T, n, H) and bound (T, n)")
        colour, marker, ls = _SERIES[k % len(_SERIES)]
        T = sv.shape[0]
        dist = T - np.arange(1, T + 1)
        ax.plot(dist, np.median(sv[:, :, 0], axis=1), color=PALETTE[colour], marker=marker, ls=ls,
                ms=3.5, markevery=max(1, T // 12), lw=1.5, label=f"{label}: largest singular value")
        ax.plot(dist, np.median(bound, axis=1), color=PALETTE[colour], ls=":", lw=1.2,
                label=f"{label}: bound")
    return _finish(ax, "steps back from the end, $T - t$",
                   r"$\|\partial a_T / \partial a_t\|_2$ (median over sequences)",
                   legend="lower left", fontsize="x-small")


#: How a run ended, for the figures over many runs: (label, colour, marker).
_OUTCOMES = {"success": ("remembers 1 bit or more", "blue", "o"),
             "partial": ("remembers less than 1 bit", "green", "^"),
             "fell back": ("learned, then fell back to 1/3", "vermillion", "X"),
             "failed": ("never learned", "orange", "s")}


def run_outcome(run, threshold_mse, trivial=TRIVIAL_MSE) -> str:
    """How one run ended: "success", "partial", "fell back" or "failed" (chapters 5 and 6).

    A run that misses the threshold is *partial* if it still ends clearly
    below 1/3 (under 80 % of it): it remembers something, less than asked.
    One that ends near 1/3 *fell back* if its batch loss had once gone below
    three quarters of 1/3, as learning runs do, and *failed* if it never did.
    """
    mse = run["eval_mse"]
    if mse is not None and not run["diverged"]:
        if mse <= threshold_mse:
            return "success"
        if mse < 0.8 * trivial:
            return "partial"
    return "fell back" if min(run["losses"]) < 0.75 * trivial else "failed"


def _jitter(result):
    """A deterministic sideways offset per repetition, so that runs at one length do not overlap."""
    lengths = sorted(result.by_length())
    spacing = np.min(np.diff(lengths)) if len(lengths) > 1 else 1.0
    reps = max(len(v) for v in result.by_length().values())
    return lambda r: r["length"] + 0.5 * spacing * ((r["repeat"] + 0.5) / reps - 0.5)


def plot_gradient_ratio(result, ax=None):
    """How much of the gradient reaches the first step, at initialisation and after training (chapter 6).

    For every run of a sweep that kept its ``probe``: the ratio
    ``||dL/da_1|| / ||dL/da_T||`` on held-out sequences, at initialisation
    (small grey dots) and after training (by outcome), against the length,
    with the median of each as a line.
    """
    runs = [r for r in result.runs if r.get("probe") and r["probe"].get("init")]
    if not runs:
        raise ValueError("no run of this sweep kept its probe diagnostics")
    ax = _axes(ax, figsize=(7.0, 4.4))
    x = _jitter(result)
    thr = result.settings.threshold_mse

    def ratio(summary):
        h = summary["hidden_norms"]
        return h[0] / h[-1] if h[-1] > 0 else np.nan

    seen = set()
    for r in runs:
        ax.plot(x(r), ratio(r["probe"]["init"]), ls="none", marker=".", ms=5,
                color=PALETTE["black"], alpha=0.35,
                label="at initialisation" if "init" not in seen else "_nolegend_")
        seen.add("init")
        if r["probe"].get("final"):
            kind = run_outcome(r, thr)
            text, colour, marker = _OUTCOMES[kind]
            ax.plot(x(r), ratio(r["probe"]["final"]), ls="none", marker=marker, ms=5,
                    color=PALETTE[colour], alpha=0.75,
                    label=f"after training: {text}" if kind not in seen else "_nolegend_")
            seen.add(kind)
    for key, style, text in (("init", ":", "median at initialisation"),
                             ("final", "-", "median after training")):
        lengths, meds = [], []
        for length, group in sorted(result.by_length().items()):
            vals = [ratio(r["probe"][key]) for r in group if r.get("probe") and r["probe"].get(key)]
            if vals:
                lengths.append(length)
                meds.append(np.nanmedian(vals))
        ax.plot(lengths, meds, color=PALETTE["black"], ls=style, lw=1.3, label=text)
    ax.set_xticks(sorted(result.by_length()))
    return _finish(ax, "sequence length $T$",
                   r"$\|\partial L/\partial a_1\| \,/\, \|\partial L/\partial a_T\|$",
                   legend="lower left", fontsize="x-small")


def plot_probe_curves(result, lengths, key="sv_median", relative=False, ax=None):
    """A probe diagnostic against the distance to the end, median and quartiles over runs (chapters 6, 7).

    Parameters
    ----------
    result : SweepResult
        Runs that kept their ``probe``.
    lengths : sequence of int
        One pair of curves (initialisation, after training) per length.
    key : str
        ``"sv_median"`` (largest singular value of ``P_t``, with its bound
        dotted), ``"hidden_norms"`` or ``"cell_norms"``.
    relative : bool
        Divide each run's curve by its value at the last step first.
    """
    groups = result.by_length()
    missing = [T for T in lengths if T not in groups]
    if missing:
        raise ValueError(f"no runs at length(s) {missing}; the sweep has {sorted(groups)}")
    ax = _axes(ax, figsize=(6.8, 4.4))
    k = 0
    for T in lengths:
        for stage, text in (("init", "initialisation"), ("final", "after training")):
            curves = np.array([r["probe"][stage][key] for r in groups[T]
                               if r.get("probe") and r["probe"].get(stage)], dtype=float)
            if curves.size == 0:
                continue
            if relative:
                curves = curves / curves[:, -1:]
            colour, marker, ls = _SERIES[k % len(_SERIES)]
            k += 1
            dist = T - np.arange(1, curves.shape[1] + 1)
            q25, med, q75 = np.percentile(curves, [25, 50, 75], axis=0)
            ax.plot(dist, med, color=PALETTE[colour], marker=marker, ls=ls, ms=3.5,
                    markevery=max(1, T // 10), lw=1.5, label=f"T = {T}, {text}")
            ax.fill_between(dist, q25, q75, color=PALETTE[colour], alpha=0.18, lw=0)
            if key == "sv_median":
                bound = np.array([r["probe"][stage]["bound_median"] for r in groups[T]
                                  if r.get("probe") and r["probe"].get(stage)], dtype=float)
                ax.plot(dist, np.median(bound, axis=0), color=PALETTE[colour], ls=(0, (1, 2)),
                        lw=1.0, label=f"T = {T}, {text}: bound")
    ylabel = {"sv_median": r"$\|\partial a_T/\partial a_t\|_2$",
              "hidden_norms": r"$\|\partial L/\partial a_t\|$",
              "cell_norms": r"$\|\partial L/\partial c_t\|$"}.get(key, key)
    if relative:
        ylabel += " (relative to $t = T$)"
    return _finish(ax, "steps back from the end, $T - t$", ylabel + ", median and quartiles",
                   legend="lower left", fontsize="x-small")


def plot_cliff(result, ax=None):
    """The largest gradient of every run, relative to its typical one, by outcome (chapter 6).

    For each run: ``max_grad_norm / median_grad_norm`` over its updates,
    against the length. Runs that learned and then fell back to 1/3 are the
    ones thrown by an exploding step.
    """
    runs = [r for r in result.runs if r.get("median_grad_norm")]
    if not runs:
        raise ValueError("no run of this sweep recorded its gradient norms")
    ax = _axes(ax, figsize=(7.0, 4.4))
    x = _jitter(result)
    thr = result.settings.threshold_mse
    seen = set()
    for r in runs:
        kind = run_outcome(r, thr)
        text, colour, marker = _OUTCOMES[kind]
        ax.plot(x(r), r["max_grad_norm"] / r["median_grad_norm"], ls="none", marker=marker, ms=6,
                color=PALETTE[colour], alpha=0.75, label=text if kind not in seen else "_nolegend_")
        seen.add(kind)
    ax.set_xticks(sorted(result.by_length()))
    return _finish(ax, "sequence length $T$",
                   "largest gradient norm / median gradient norm", legend="upper left",
                   fontsize="x-small")


def budget_table(result, threshold_mse=None) -> dict:
    """Successes by training budget, from runs evaluated at checkpoints (chapters 5 and 7).

    Returns
    -------
    dict
        ``{length: {updates: (successes, runs)}}`` for every checkpoint of
        ``result.settings`` and for its final budget. A run that diverged
        before a checkpoint counts as a failure there.
    """
    thr = result.settings.threshold_mse if threshold_mse is None else threshold_mse
    budgets = list(result.settings.checkpoints) + [result.settings.steps]
    table = {}
    for length, runs in sorted(result.by_length().items()):
        row = {}
        for k in budgets:
            wins = 0
            for r in runs:
                if k == result.settings.steps:
                    mse = r["eval_mse"]
                else:
                    mse = dict((int(a), b) for a, b in r.get("checkpoints", [])).get(k)
                wins += mse is not None and mse <= thr
            row[k] = (wins, len(runs))
        table[length] = row
    return table


def plot_budget(results, ax=None):
    """Share of successful runs against the training budget, per sweep and length (chapters 5, 7).

    Parameters
    ----------
    results : dict str -> SweepResult
        Label -> a sweep whose runs were evaluated at checkpoints
        (``SweepSettings.checkpoints``). One line per (sweep, length), with
        95 % Wilson intervals.
    """
    if not results:
        raise ValueError("results is empty")
    ax = _axes(ax, figsize=(6.5, 4.2))
    k = 0
    for label, res in results.items():
        for length, row in budget_table(res).items():
            colour, marker, ls = _SERIES[k % len(_SERIES)]
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
    ax.get_xaxis().set_major_formatter(_thousands())
    ax.minorticks_off()
    return _finish(ax, "training updates (budget)", "runs that succeed (%)", fontsize="x-small",
                   log=False)


def _thousands():
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda v, _: f"{v / 1000:g}k" if v >= 1000 else f"{v:g}")


# ----------------------------------------------------------- Making it fast
def plot_ablation(panels, rungs, axes=None):
    """Speed-up against the plain RNN as each change of FastRNN is added ("Making it fast").

    Parameters
    ----------
    panels : dict str -> dict int -> sequence of float
        Panel title (a NumPy dispatch path) -> sequence length T -> the
        speed-up after each rung, in the order of ``rungs``.
    rungs : sequence of str
        The names of the rungs, from the plain model (speed-up 1) down.

    Returns
    -------
    ndarray of matplotlib Axes, one per panel, sharing the rungs.
    """
    if not panels:
        raise ValueError("panels is empty")
    for title, lines in panels.items():
        for T, values in lines.items():
            if len(values) != len(rungs):
                raise ValueError(f"panel {title!r}, T = {T}: {len(values)} speed-ups for "
                                 f"{len(rungs)} rungs")
    if axes is None:
        import matplotlib.pyplot as plt
        _, axes = plt.subplots(1, len(panels), figsize=(4.0 * len(panels), 4.2), sharey=True,
                               layout="constrained", squeeze=False)
        axes = axes[0]
    axes = np.atleast_1d(axes)
    ypos = np.arange(len(rungs))[::-1]
    for ax, (title, lines) in zip(axes, panels.items()):
        for k, (T, values) in enumerate(lines.items()):
            colour, marker, ls = _SERIES[k % len(_SERIES)]
            ax.plot(values, ypos, color=PALETTE[colour], marker=marker, ls=ls, label=f"T = {T}")
        ax.axvline(1.0, color=PALETTE["black"], lw=1, ls=":")
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("speed-up against the plain RNN (×)")
        ax.grid(True, axis="x", alpha=0.3)
    axes[0].set_yticks(ypos, list(rungs), fontsize="small")
    axes[-1].legend(loc="lower right", frameon=False, fontsize="small")
    return axes


def plot_kernel_times(series, operations, ax=None):
    """Time per call of a few NumPy operations, one bar per series ("Making it fast").

    Parameters
    ----------
    series : dict str -> sequence of float
        Label (a NumPy dispatch path) -> microseconds per call of each operation.
    operations : sequence of str
        The operations' labels, in the order of each series.
    """
    if not series:
        raise ValueError("series is empty")
    for label, values in series.items():
        if len(values) != len(operations):
            raise ValueError(f"series {label!r} has {len(values)} times for "
                             f"{len(operations)} operations")
    ax = _axes(ax, figsize=(7.0, 4.2))
    y = np.arange(len(operations))[::-1]
    h = 0.8 / len(series)
    hatches = (None, "//", "..", "xx")
    for i, (label, values) in enumerate(series.items()):
        colour = _SERIES[i % len(_SERIES)][0]
        ax.barh(y + (len(series) / 2 - 0.5 - i) * h, values, height=h, color=PALETTE[colour],
                hatch=hatches[i % len(hatches)], edgecolor=PALETTE["black"], linewidth=0.5,
                label=label)
    ax.set_yticks(y, list(operations), fontsize="small")
    ax.set_xlabel("time per call on a (1024, 10) array (µs)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="lower right", frameon=False, fontsize="small")
    return ax


def plot_gradient_heatmap(monitor, ax=None, title=None):
    """log10 of ||dL/da_t|| over (training update, time step), from a ``vanishing.Monitor`` (chapter 6)."""
    heat = monitor.heatmap()
    steps = np.asarray(monitor.steps)
    ax = _axes(ax, figsize=(6.0, 4.2))
    with np.errstate(divide="ignore"):
        logged = np.log10(heat)
    finite = logged[np.isfinite(logged)]
    if finite.size == 0:
        raise ValueError("every gradient norm is zero or not finite: nothing to show")
    lo = max(finite.min(), finite.max() - 8)          # eight decades are plenty
    img = ax.imshow(np.where(np.isfinite(logged), logged, lo), aspect="auto", origin="lower",
                    cmap="cividis", vmin=lo, vmax=finite.max(), interpolation="nearest",
                    extent=(0.5, heat.shape[1] + 0.5, steps[0], steps[-1] + monitor.every))
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    cbar = ax.figure.colorbar(img, ax=ax)
    cbar.set_label(r"$\log_{10} \|\partial L / \partial a_t\|$")
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("training update")
    if title:
        ax.set_title(title, fontsize="medium")
    return ax


def plot_training_series(monitor, grad_norms, axes=None, title=None):
    """How a run trains: loss, gradient norm, the size of R, and saturation (chapter 6).

    Parameters
    ----------
    monitor : memrnn.vanishing.Monitor
    grad_norms : sequence of float
        ``Learner.grad_norms``: the gradient norm of every update.
    axes : array of 4 matplotlib Axes, optional

    Returns
    -------
    ndarray of 4 matplotlib Axes, sharing the update axis
    """
    g = np.asarray(grad_norms, dtype=float)
    if g.ndim != 1 or g.size == 0:
        raise ValueError("grad_norms must be a non-empty 1-D sequence")
    if axes is None:
        import matplotlib.pyplot as plt
        _, axes = plt.subplots(4, 1, figsize=(6.5, 7.5), sharex=True, layout="constrained")
    axes = np.asarray(axes).ravel()
    steps = np.asarray(monitor.steps)
    a0, a1, a2, a3 = axes
    a0.plot(steps, monitor.losses, color=PALETTE["blue"], lw=1.2, label="batch MSE")
    a0.axhline(TRIVIAL_MSE, color=PALETTE["black"], ls="--", lw=1, label="1/3")
    a0.set_yscale("log")
    a0.set_ylabel("loss")
    a1.plot(np.arange(g.size), g, color=PALETTE["vermillion"], lw=0.6, label="every update")
    a1.set_yscale("log")
    a1.set_ylabel(r"$\|\nabla L\|$")
    a2.plot(steps, monitor.r_norm, color=PALETTE["green"], ls="-", lw=1.4,
            label=r"largest singular value $\|R\|_2$")
    a2.plot(steps, monitor.r_radius, color=PALETTE["purple"], ls="--", lw=1.4,
            label="spectral radius")
    a2.axhline(1.0, color=PALETTE["black"], ls=":", lw=1)
    a2.set_ylabel("size of $R$")
    a3.plot(steps, monitor.mean_slope, color=PALETTE["orange"], ls="-", lw=1.4,
            label=r"mean tanh slope $1 - a^2$")
    a3.plot(steps, monitor.saturated, color=PALETTE["sky"], ls="--", lw=1.4,
            label=r"share with $|a| > 0.99$")
    a3.set_ylim(-0.02, 1.02)
    a3.set_ylabel("saturation")
    a3.set_xlabel("training update")
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="best", frameon=False, fontsize="x-small")
    if title:
        a0.set_title(title, fontsize="medium")
    return axes
