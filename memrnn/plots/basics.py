"""The figures of the first four chapters: the task, the loss, the gradient check, one training run."""

from __future__ import annotations

import numpy as np

from ..data import TRIVIAL_MSE
from ._style import PALETTE, SERIES, get_axes, paired

__all__ = ["plot_sequences", "plot_constant_predictor", "plot_eps_sweep"]


def plot_sequences(x, y, n_show=3, ax=None):
    """Draw a few input sequences and mark the target each one asks for.

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
    if not isinstance(n_show, (int, np.integer)) or not 1 <= n_show <= min(B, len(SERIES)):
        raise ValueError(f"n_show must be an int from 1 to {min(B, len(SERIES))}, got {n_show!r}")
    ax = get_axes(ax, figsize=(7.0, 3.8))
    t = np.arange(1, T + 1)
    for j in range(n_show):
        colour, marker, style = SERIES[j]
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
    """Measured MSE of always answering ``c``, against the exact 1/3 + c^2.

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
    c, mse = paired(c, mse, "c", "mse")
    ax = get_axes(ax, figsize=(5.5, 3.8))
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
    """Finite-difference error against step size, both schemes, log-log.

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
    ax = get_axes(ax, figsize=(6.0, 4.2))
    ax.loglog(eps, forward, color=PALETTE["orange"], marker="s", ls="--", ms=4,
              label="one-sided $(f(x+\\epsilon)-f(x))/\\epsilon$")
    ax.loglog(eps, central, color=PALETTE["blue"], marker="o", ls="-", ms=4,
              label="two-sided $(f(x+\\epsilon)-f(x-\\epsilon))/2\\epsilon$")
    ax.set_xlabel("step size $\\epsilon$")
    ax.set_ylabel("relative error of the gradient")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper center", frameon=False, fontsize="small")
    return ax


def plot_loss_curve(loss_values, ax=None, label="training loss", color=None, trivial=True):
    """Plot logged training losses against the update count.

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
    ax = get_axes(ax)
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
    """Scatter predictions against targets, with y = x and the trivial level.

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
    y_true, y_hat = paired(y_true, y_hat, "y_true", "y_hat")
    mse = float(np.mean((y_hat - y_true) ** 2))
    idx = np.arange(y_true.size)
    if y_true.size > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(y_true.size, max_points, replace=False))

    ax = get_axes(ax, figsize=(4.8, 4.5))
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
