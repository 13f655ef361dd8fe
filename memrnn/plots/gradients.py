"""The figures of the vanishing gradient: gradient norms over time and training, probes, the cliff."""

from __future__ import annotations

import numpy as np

from ..data import TRIVIAL_MSE
from ..results import run_outcome
from ._style import PALETTE, SERIES, finish, get_axes

__all__ = ["plot_probe_curves", "plot_cliff_timing", "plot_reach_two_ways", "plot_gradient_heatmap",
           "plot_training_series"]


def plot_grad_norms_over_time(curves, ax=None):
    """Norm of dL/da_t against the time step t, one line per case, log scale.

    Parameters
    ----------
    curves : dict str -> array_like (T,)
        Label -> ``vanishing.hidden_grad_norms(model)``. Lengths may differ.
    """
    if not curves:
        raise ValueError("curves is empty")
    ax = get_axes(ax, figsize=(6.5, 4.2))
    for k, (label, norms) in enumerate(curves.items()):
        norms = np.asarray(norms, dtype=float)
        if norms.ndim != 1 or not np.all(np.isfinite(norms)) or np.any(norms < 0):
            raise ValueError(f"curve {label!r} must be finite non-negative norms, shape (T,)")
        colour, marker, ls = SERIES[k % len(SERIES)]
        t = np.arange(1, norms.size + 1)
        ax.plot(t, norms, color=PALETTE[colour], marker=marker, ls=ls, ms=3.5,
                markevery=max(1, norms.size // 12), lw=1.4, label=label)
    return finish(ax, "time step $t$", r"$\|\partial L / \partial a_t\|$")


#: How a run ended, for the figures over many runs: (label, colour, marker).
_OUTCOMES = {"success": ("remembers 1 bit or more", "blue", "o"),
             "partial": ("remembers less than 1 bit", "green", "^"),
             "fell back": ("learned, then fell back to 1/3", "vermillion", "X"),
             "failed": ("never learned", "orange", "s")}


def _jitter(result):
    """A deterministic sideways offset per repetition, so that runs at one length do not overlap."""
    lengths = sorted(result.by_length())
    spacing = np.min(np.diff(lengths)) if len(lengths) > 1 else 1.0
    reps = max(len(v) for v in result.by_length().values())
    return lambda r: r["length"] + 0.5 * spacing * ((r["repeat"] + 0.5) / reps - 0.5)


def plot_gradient_ratio(result, ax=None):
    """How much of the gradient reaches the first step, at initialisation and after training.

    For every run of a sweep that kept its ``probe``: the ratio
    ``||dL/da_1|| / ||dL/da_T||`` on held-out sequences, at initialisation
    (small grey dots) and after training (by outcome), against the length,
    with the median of each as a line.
    """
    runs = [r for r in result.runs if r.get("probe") and r["probe"].get("init")]
    if not runs:
        raise ValueError("no run of this sweep kept its probe diagnostics")
    ax = get_axes(ax, figsize=(7.0, 4.4))
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
    return finish(ax, "sequence length $T$",
                   r"$\|\partial L/\partial a_1\| \,/\, \|\partial L/\partial a_T\|$",
                   legend="lower left", fontsize="x-small")


def plot_probe_curves(result, lengths, key="sv_median", relative=False, ax=None):
    """A probe diagnostic against the distance to the end, median and quartiles over runs.

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
    ax = get_axes(ax, figsize=(6.8, 4.4))
    k = 0
    for T in lengths:
        for stage, text in (("init", "initialisation"), ("final", "after training")):
            curves = np.array([r["probe"][stage][key] for r in groups[T]
                               if r.get("probe") and r["probe"].get(stage)], dtype=float)
            if curves.size == 0:
                continue
            if relative:
                curves = curves / curves[:, -1:]
            colour, marker, ls = SERIES[k % len(SERIES)]
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
    return finish(ax, "steps back from the end, $T - t$", ylabel + ", median and quartiles",
                   legend="lower left", fontsize="x-small")


def plot_gradient_heatmap(monitor, ax=None, title=None):
    """log10 of ||dL/da_t|| over (training update, time step), from a ``vanishing.Monitor``."""
    heat = monitor.heatmap()
    steps = np.asarray(monitor.steps)
    ax = get_axes(ax, figsize=(6.0, 4.2))
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
    """How a run trains: loss, gradient norm, the size of R, and saturation.

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


def plot_cliff_timing(timing, ax=None):
    """When the largest gradient of each run that fell back came.

    ``timing`` is ``results.cliff_timing(result)``. Each run is a point at
    the position of its largest gradient on a scale where 0 is the update
    with the lowest loss and 1 the first update of the fall; the shaded band
    is that window. Positions below -1 or above 2 are drawn at the edge.
    """
    pos = np.asarray(timing["position"], dtype=float)
    if pos.size == 0:
        raise ValueError("no run fell back: there is no timing to plot")
    ax = get_axes(ax, figsize=(6.4, 2.8))
    shown = np.clip(pos, -1.0, 2.0)
    rows = np.random.default_rng(0).uniform(-0.3, 0.3, pos.size)   # spread points to be seen
    ax.axvspan(0, 1, color=PALETTE["sky"], alpha=0.3, lw=0,
               label="from the lowest loss to the fall")
    ax.plot(shown, rows, ls="none", marker="o", ms=5, color=PALETTE["vermillion"], alpha=0.7,
            label=f"largest gradient of a run that fell back ({pos.size} runs)")
    ax.set_xlim(-1.1, 2.1)
    ax.set_ylim(-0.6, 0.9)
    ax.set_yticks([])
    ax.set_xticks([-1, 0, 1, 2], ["-1 (earlier)", "0: lowest loss", "1: the fall", "2 (later)"])
    return finish(ax, "when the run's largest gradient came (window lengths)", "", legend="upper left",
                  log=False)


def plot_reach_two_ways(watched, result, axes=None):
    """The gradient reaching each step, in watched runs and over a whole sweep.

    Left: ``||dL/da_t|| / ||dL/da_T||`` against t before and after training
    for each ``run.monitored_run`` result in ``watched``; right:
    ``plot_gradient_ratio(result)``. Returns the left axes.
    """
    if axes is None:
        import matplotlib.pyplot as plt
        _, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    left, right = axes
    curves = {}
    for w in watched:
        for stage, text in (("init", "at initialisation"), ("final", "after training")):
            h = np.asarray(w[stage]["hidden_norms"], dtype=float)
            curves[f"T = {w['length']}, {text}"] = h / h[-1]
    plot_grad_norms_over_time(curves, ax=left)
    left.set_ylabel(r"$\|\partial L/\partial a_t\| \,/\, \|\partial L/\partial a_T\|$")
    left.set_title("two watched runs", fontsize="medium")
    plot_gradient_ratio(result, ax=right)
    right.set_title(f"every reference run, {result.settings.repeats} per length", fontsize="medium")
    return left
