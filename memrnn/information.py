"""Bits of memory and the statistics of success rates (chapter 5).

A run's held-out MSE is read as *bits remembered* of the first element, a
length's share of successful runs gets a Wilson interval, and the length at
which the share of successes falls through a level (80 %) is estimated with an
interval from a logistic fit over all runs.
"""

from __future__ import annotations

import math

import numpy as np

from .data import TRIVIAL_MSE

__all__ = ["mse_for_bits", "bits_remembered", "wilson_interval", "fisher_exact", "logistic_fit",
           "crossing_length"]


def mse_for_bits(bits):
    """The MSE of a network that knows ``bits`` bits of the first element (chapter 5).

    Knowing b bits of a number uniform on [-1, 1] places it in one of 2^b equal
    cells of width 2 / 2^b; the best answer is the cell's midpoint, and the
    error left is the variance of a uniform variable on the cell:
    ``(2 / 2**b) ** 2 / 12 = 1 / (3 * 4**b)``. 0 bits give the trivial 1/3,
    1 bit (the sign) gives 1/12.
    """
    return TRIVIAL_MSE / 4.0 ** np.asarray(bits, dtype=float)


def bits_remembered(mse):
    """Effective bits of memory of the first element for an MSE: the inverse of ``mse_for_bits``.

    ``log4(1 / (3 * mse))``, clipped at 0: an MSE at or above 1/3 carries
    no information about the first element. Infinite MSE (a diverged run)
    gives 0.
    """
    mse = np.asarray(mse, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        bits = 0.5 * np.log2(TRIVIAL_MSE / mse)
    out = np.where(np.isfinite(bits), np.maximum(bits, 0.0), np.where(mse <= 0, np.inf, 0.0))
    return float(out) if out.ndim == 0 else out


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a success rate (95 % by default), chapter 5.

    Unlike the normal approximation it stays inside [0, 1] and is sensible for
    0 or n successes out of a handful of runs.
    """
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def fisher_exact(wins_a: int, n_a: int, wins_b: int, n_b: int) -> float:
    """Two-sided p-value of Fisher's exact test: do two success rates differ? (chapter 5)

    Given the total number of successes, every way of sharing them between
    the two groups is counted; the p-value is the probability, if both groups
    had the same rate, of a split at most as likely as the one observed.
    """
    total, n = wins_a + wins_b, n_a + n_b
    if not (0 <= wins_a <= n_a and 0 <= wins_b <= n_b):
        raise ValueError(f"need 0 <= wins <= runs, got {wins_a}/{n_a} and {wins_b}/{n_b}")

    def prob(k):       # k successes in group a, the rest in group b
        return math.comb(n_a, k) * math.comb(n_b, total - k) / math.comb(n, total)

    observed = prob(wins_a)
    ks = range(max(0, total - n_b), min(n_a, total) + 1)
    return float(min(1.0, sum(prob(k) for k in ks if prob(k) <= observed * (1 + 1e-9))))


def logistic_fit(lengths, successes, iterations=50) -> tuple[float, float]:
    """Fit P(success | T) = 1 / (1 + exp(-(a + b T))) to single runs by maximum likelihood.

    Newton's method on the log-likelihood, with a tiny ridge on (a, b) so
    that runs that separate perfectly (all successes below some length, all
    failures above) still give a finite, steep fit instead of diverging.

    Parameters
    ----------
    lengths : array_like of float, shape (n,)
        The sequence length of each run.
    successes : array_like of bool, shape (n,)

    Returns
    -------
    (a, b) : floats
    """
    T = np.asarray(lengths, dtype=float).reshape(-1)
    y = np.asarray(successes, dtype=float).reshape(-1)
    if T.shape != y.shape or T.size == 0:
        raise ValueError(f"lengths and successes must be non-empty and of equal length, "
                         f"got {T.size} and {y.size}")
    # Centre and scale T so that Newton steps are well conditioned.
    mu, sd = T.mean(), T.std() or 1.0
    X = np.column_stack([np.ones_like(T), (T - mu) / sd])
    w = np.zeros(2)
    ridge = 1e-3
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        grad = X.T @ (y - p) - ridge * w
        hess = (X.T * (p * (1 - p))) @ X + ridge * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w += step
        if np.max(np.abs(step)) < 1e-10:
            break
    b = w[1] / sd
    return float(w[0] - b * mu), float(b)


def crossing_length(lengths, successes, level=0.8, n_boot=2000, seed=0, ci=0.95) -> dict:
    """Where the share of successful runs falls through ``level``, with an interval (chapter 5).

    A logistic curve in T is fitted to every run (``logistic_fit``); the
    estimate is the T at which it equals ``level``. The interval comes from
    the bootstrap: the runs of each length are resampled with replacement
    ``n_boot`` times, the fit repeated, and the central ``ci`` share of the
    crossings kept. Resampling within each length keeps the design (which
    lengths, how many runs each) fixed.

    Returns
    -------
    dict
        ``estimate``, ``low``, ``high`` (lengths, floats), ``level``, and the
        fit ``a`` and ``b`` of the curve through all the runs. A fit that does
        not fall with T gives ``inf`` for the crossing.
    """
    T = np.asarray(lengths, dtype=float).reshape(-1)
    y = np.asarray(successes, dtype=bool).reshape(-1)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    logit = math.log(level / (1 - level))

    def crossing(t, s):
        a, b = logistic_fit(t, s)
        return (logit - a) / b if b < 0 else math.inf

    a, b = logistic_fit(T, y)
    estimate = crossing(T, y)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(T == v) for v in np.unique(T)]
    boots = np.empty(n_boot)
    for k in range(n_boot):
        idx = np.concatenate([rng.choice(g, size=g.size, replace=True) for g in groups])
        boots[k] = crossing(T[idx], y[idx])
    # Order statistics, not interpolation: a bootstrap fit that never falls
    # through the level has an infinite crossing, and inf - inf is undefined.
    lo = np.quantile(boots, (1 - ci) / 2, method="lower")
    hi = np.quantile(boots, (1 + ci) / 2, method="higher")
    return {"estimate": float(estimate), "low": float(lo), "high": float(hi), "level": level,
            "a": a, "b": b}
