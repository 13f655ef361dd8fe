"""Figures shared by the learner, the command line and the book (chapter 4).

Every function takes an optional matplotlib ``ax`` (a new figure is made when
it is ``None``) and returns that ``Axes``; ``ax.figure`` is the figure. Series
differ by marker or line style as well as colour, and colours come from the
Okabe-Ito palette, which stays distinguishable for colour-blind readers.
"""

from __future__ import annotations

import numpy as np

from .data import TRIVIAL_MSE

__all__ = ["PALETTE", "plot_loss_curve", "plot_predictions"]

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
    y_true = np.asarray(y_true, dtype=float).reshape(-1)
    y_hat = np.asarray(y_hat, dtype=float).reshape(-1)
    if y_true.shape != y_hat.shape or y_true.size == 0:
        raise ValueError(f"y_true and y_hat must be non-empty and of equal size, "
                         f"got {y_true.size} and {y_hat.size}")
    if not (np.all(np.isfinite(y_true)) and np.all(np.isfinite(y_hat))):
        raise ValueError("y_true or y_hat holds NaN or infinity: nothing sensible to plot")
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
