"""The statistics of comparing runs: success rates, their intervals and paired tests.

A length's share of successful runs gets a Wilson interval, and the length at
which the share of successes falls through a level (80 %) is estimated with an
interval from a logistic fit over all runs.

Two arms of an experiment are compared as their design allows. Arms that
share seeds (run r of both starts from the same seed) are compared *paired*:
the exact McNemar test on the seeds where only one arm succeeds, Newcombe's
interval for the paired difference in shares, and the Wilcoxon signed-rank
test on bits remembered. Arms on separate seeds are compared unpaired: Fisher's
exact test, Newcombe's hybrid score interval, and the Mann-Whitney test. When
several tests are read together, ``holm`` adjusts their p-values.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["wilson_interval", "fisher_exact", "logistic_fit", "crossing_length", "mcnemar_exact",
           "mcnemar_power", "paired_difference_interval", "difference_interval",
           "wilcoxon_signed_rank", "mann_whitney", "bootstrap_interval", "holm", "compare_paired",
           "compare_unpaired"]


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a success rate (95 % by default).

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
    """Two-sided p-value of Fisher's exact test: do two success rates differ?

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
    """Where the share of successful runs falls through ``level``, with an interval.

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


def logistic_fit_check(lengths, successes, a: float, b: float) -> list[dict]:
    """How well a logistic curve (``logistic_fit``'s ``a``, ``b``) fits each length's runs.

    Returns
    -------
    list of dict, one per length in increasing order
        ``length``, ``runs``, ``observed`` successes, ``expected`` successes
        under the curve, and the exact binomial tail probabilities under it of
        at most (``p_low``) and at least (``p_high``) the observed count.
    """
    T = np.asarray(lengths, dtype=float).reshape(-1)
    y = np.asarray(successes, dtype=bool).reshape(-1)
    if T.shape != y.shape or T.size == 0:
        raise ValueError(f"lengths and successes must be non-empty and of equal length, "
                         f"got {T.size} and {y.size}")
    rows = []
    for v in np.unique(T):
        n, k = int(np.sum(T == v)), int(np.sum(y[T == v]))
        p = 1.0 / (1.0 + math.exp(-(a + b * v)))
        pmf = [math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(n + 1)]
        rows.append({"length": float(v), "runs": n, "observed": k, "expected": n * p,
                     "p_low": float(min(1.0, sum(pmf[:k + 1]))), "p_high": float(min(1.0, sum(pmf[k:])))})
    return rows


def _binomial_two_sided(k: int, n: int) -> float:
    """Two-sided p-value of k successes in n fair coin flips (doubling the smaller tail)."""
    if n == 0:
        return 1.0
    k = min(k, n - k)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0 ** n
    return float(min(1.0, 2.0 * tail))


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided p-value of the exact McNemar test for two arms run on the same seeds.

    Only the discordant seeds tell the arms apart: ``only_a`` seeds where arm A
    succeeds and B fails, ``only_b`` the other way round. If the arms were
    equally good, each discordant seed would go either way with probability
    1/2, so the count is binomial(only_a + only_b, 1/2).
    """
    for name, v in (("only_a", only_a), ("only_b", only_b)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{name} must be a non-negative int, got {v!r}")
    return _binomial_two_sided(int(only_a), int(only_a) + int(only_b))


def mcnemar_power(n: int, p_only_a: float, p_only_b: float, alpha: float = 0.05) -> float:
    """Power of the two-sided exact McNemar test (``mcnemar_exact``) at level ``alpha``.

    Each of ``n`` seeds is, independently, one that only arm A solves (with
    probability ``p_only_a``), only arm B (``p_only_b``), or both or neither.
    The power is the probability, summed exactly over the trinomial outcomes,
    that the test's p falls below ``alpha``. The difference in the shares
    solved is ``p_only_a - p_only_b``; the shares of discordant seeds, not the
    difference alone, set the power.
    """
    n = _checks_count(n)
    if not (0 <= p_only_a and 0 <= p_only_b and p_only_a + p_only_b <= 1):
        raise ValueError(f"need probabilities p_only_a, p_only_b >= 0 with sum <= 1, "
                         f"got {p_only_a!r} and {p_only_b!r}")
    p_same = 1.0 - p_only_a - p_only_b
    total = 0.0
    for a in range(n + 1):
        for b in range(n + 1 - a):
            if mcnemar_exact(a, b) < alpha:
                total += (math.comb(n, a) * math.comb(n - a, b)
                          * p_only_a ** a * p_only_b ** b * p_same ** (n - a - b))
    return float(total)


def _checks_count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int (seeds), got {n!r}")
    return int(n)


def _as_pairs(a, b, name="outcomes"):
    a = np.asarray(a, dtype=bool).reshape(-1)
    b = np.asarray(b, dtype=bool).reshape(-1)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"paired {name} need two non-empty arrays of equal length, "
                         f"got {a.size} and {b.size}")
    return a, b


def paired_difference_interval(a, b, z: float = 1.96) -> tuple[float, float]:
    """Interval for share(a) - share(b) when run r of both arms shares a seed.

    Newcombe's (1998) method 10: the Wilson interval of each arm's share,
    combined with the correlation of the paired outcomes. ``a`` and ``b`` are
    the success flags of the two arms, seed by seed.

    The correlation is Newcombe's corrected phi coefficient: with A seeds both
    solve, B only a, C only b, D neither (N in all) and the margins e, f, g,
    h, the numerator AD - BC is lowered by N / 2 when it exceeds N / 2, set
    to 0 when it lies between 0 and N / 2, and kept when negative; phi is 0
    when a margin is 0. The plain phi, (AD - BC) / sqrt(efgh), gives a
    slightly narrower interval when the arms agree more than chance.
    """
    a, b = _as_pairs(a, b)
    n = a.size
    both, only_a = int(np.sum(a & b)), int(np.sum(a & ~b))
    only_b, neither = int(np.sum(~a & b)), int(np.sum(~a & ~b))
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    l1, u1 = wilson_interval(both + only_a, n, z)
    l2, u2 = wilson_interval(both + only_b, n, z)
    denom = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    cross = both * neither - only_a * only_b
    cross = cross - n / 2 if cross > n / 2 else (0.0 if cross >= 0 else cross)
    phi = cross / math.sqrt(denom) if denom > 0 else 0.0
    d = p1 - p2
    low = d - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    high = d + math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return (max(-1.0, low), min(1.0, high))


def difference_interval(wins_a: int, n_a: int, wins_b: int, n_b: int,
                        z: float = 1.96) -> tuple[float, float]:
    """Interval for the difference of two shares from separate runs (Newcombe's hybrid score)."""
    if not (0 <= wins_a <= n_a and 0 <= wins_b <= n_b) or min(n_a, n_b) <= 0:
        raise ValueError(f"need 0 <= wins <= runs and runs > 0, got {wins_a}/{n_a} and {wins_b}/{n_b}")
    p1, p2 = wins_a / n_a, wins_b / n_b
    l1, u1 = wilson_interval(wins_a, n_a, z)
    l2, u2 = wilson_interval(wins_b, n_b, z)
    d = p1 - p2
    return (max(-1.0, d - math.hypot(p1 - l1, u2 - p2)), min(1.0, d + math.hypot(u1 - p1, p2 - l2)))


def _rank(values):
    """Ranks 1..n, ties sharing the mean of their ranks, and the tie-group sizes."""
    order = np.argsort(values, kind="mergesort")
    v = np.asarray(values)[order]
    ranks = np.empty(v.size)
    sizes = []
    i = 0
    while i < v.size:
        j = i
        while j + 1 < v.size and v[j + 1] == v[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        sizes.append(j - i + 1)
        i = j + 1
    return ranks, np.array(sizes)


def _normal_two_sided(zscore: float) -> float:
    return float(math.erfc(abs(zscore) / math.sqrt(2)))


def wilcoxon_signed_rank(x, y) -> float:
    """Two-sided p-value of the Wilcoxon signed-rank test of paired samples ``x`` and ``y``.

    Pairs with no difference are dropped. Without ties the p-value is exact
    (the signs of the ranks are flipped in all 2^n ways by counting); with
    ties, the normal approximation with the tie correction.
    """
    x, y = np.asarray(x, dtype=float).reshape(-1), np.asarray(y, dtype=float).reshape(-1)
    if x.shape != y.shape or x.size == 0 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError(f"need two finite samples of equal, non-zero length, got {x.size} and {y.size}")
    d = x - y
    d = d[d != 0]
    n = d.size
    if n == 0:
        return 1.0
    ranks, ties = _rank(np.abs(d))
    r_plus = float(ranks[d > 0].sum())
    if np.all(ties == 1) and n <= 50:
        # Number of sign patterns giving each rank sum 0 .. n(n+1)/2.
        top = n * (n + 1) // 2
        counts = np.zeros(top + 1)
        counts[0] = 1.0
        for k in range(1, n + 1):
            counts[k:] = counts[k:] + counts[:-k].copy()
        counts /= counts.sum()
        r = int(round(r_plus))
        tail = min(counts[:r + 1].sum(), counts[r:].sum())
        return float(min(1.0, 2 * tail))
    mean = n * (n + 1) / 4
    var = n * (n + 1) * (2 * n + 1) / 24 - float(np.sum(ties ** 3 - ties)) / 48
    return _normal_two_sided((r_plus - mean) / math.sqrt(var)) if var > 0 else 1.0


def mann_whitney(x, y) -> float:
    """Two-sided p-value of the Mann-Whitney U test of two separate samples.

    Exact without ties (the number of orderings giving each U, counted); with
    ties, the normal approximation with tie and continuity corrections.
    """
    x, y = np.asarray(x, dtype=float).reshape(-1), np.asarray(y, dtype=float).reshape(-1)
    if x.size == 0 or y.size == 0 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError(f"need two finite, non-empty samples, got sizes {x.size} and {y.size}")
    n1, n2 = x.size, y.size
    ranks, ties = _rank(np.concatenate([x, y]))
    u1 = float(ranks[:n1].sum()) - n1 * (n1 + 1) / 2
    if np.all(ties == 1) and n1 + n2 <= 100:
        # f[i][j][u]: orderings of i x's and j y's with U = u, built up one element at a time.
        table = {(0, j): np.array([1.0]) for j in range(n2 + 1)}
        for i in range(1, n1 + 1):
            table[(i, 0)] = np.array([1.0])
            for j in range(1, n2 + 1):
                a = np.concatenate([np.zeros(j), table[(i - 1, j)]])   # largest is an x: +j
                b = table[(i, j - 1)]
                size = max(a.size, b.size)
                table[(i, j)] = np.pad(a, (0, size - a.size)) + np.pad(b, (0, size - b.size))
        dist = table[(n1, n2)] / table[(n1, n2)].sum()
        u = int(round(u1))
        tail = min(dist[:u + 1].sum(), dist[u:].sum())
        return float(min(1.0, 2 * tail))
    n = n1 + n2
    mean = n1 * n2 / 2
    var = n1 * n2 / 12 * ((n + 1) - float(np.sum(ties ** 3 - ties)) / (n * (n - 1)))
    if var <= 0:
        return 1.0
    zscore = (abs(u1 - mean) - 0.5) / math.sqrt(var)
    return _normal_two_sided(max(zscore, 0.0))


def bootstrap_interval(x, y=None, *, paired=False, statistic=np.median, n_boot=4000, seed=0,
                       ci=0.95) -> tuple[float, float]:
    """Percentile bootstrap interval over seeds.

    With ``y`` None, of ``statistic(x)``. With ``paired``, of
    ``statistic(x - y)``, resampling seeds (pairs). Otherwise of
    ``statistic(x) - statistic(y)``, resampling each sample on its own.
    """
    x = np.asarray(x, dtype=float).reshape(-1)
    if x.size == 0:
        raise ValueError("x is empty: give at least one value")
    rng = np.random.default_rng(seed)
    if y is None or paired:
        v = x if y is None else x - _same_size(x, y)
        idx = rng.integers(0, v.size, size=(n_boot, v.size))
        boots = np.apply_along_axis(statistic, 1, v[idx])
    else:
        y = np.asarray(y, dtype=float).reshape(-1)
        if y.size == 0:
            raise ValueError("y is empty: give at least one value")
        bx = np.apply_along_axis(statistic, 1, x[rng.integers(0, x.size, size=(n_boot, x.size))])
        by = np.apply_along_axis(statistic, 1, y[rng.integers(0, y.size, size=(n_boot, y.size))])
        boots = bx - by
    lo, hi = np.quantile(boots, [(1 - ci) / 2, (1 + ci) / 2])
    return (float(lo), float(hi))


def _same_size(x, y):
    y = np.asarray(y, dtype=float).reshape(-1)
    if y.shape != x.shape:
        raise ValueError(f"paired samples need equal lengths, got {x.size} and {y.size}")
    return y


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjustment of several p-values read together, in their order.

    The i-th smallest of k p-values is multiplied by k - i + 1 (i from 1),
    then made non-decreasing along that order and capped at 1.
    """
    p = np.asarray(pvalues, dtype=float).reshape(-1)
    if p.size and (np.any(~np.isfinite(p)) or np.any(p < 0) or np.any(p > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p.tolist()}")
    order = np.argsort(p, kind="mergesort")
    k = p.size
    adj = np.maximum.accumulate(p[order] * (k - np.arange(k)))
    out = np.empty(k)
    out[order] = np.minimum(adj, 1.0)
    return out


def compare_paired(success_a, success_b, bits_a=None, bits_b=None) -> dict:
    """Everything the book reports for two arms run on the same seeds.

    Returns
    -------
    dict
        ``n``, ``wins_a``, ``wins_b``, ``only_a`` (seeds only A solves: for a
        treatment against its control, the runs it rescued), ``only_b`` (the
        runs it lost), ``p`` (exact McNemar), ``diff`` (share A - share B),
        ``low``, ``high`` (Newcombe's paired 95 % interval); with bits,
        ``p_bits`` (Wilcoxon signed-rank) and ``bits_low``, ``bits_high``
        (bootstrap interval of the median per-seed difference in bits).
    """
    a, b = _as_pairs(success_a, success_b)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    low, high = paired_difference_interval(a, b)
    out = {"n": int(a.size), "wins_a": int(a.sum()), "wins_b": int(b.sum()), "only_a": only_a,
           "only_b": only_b, "p": mcnemar_exact(only_a, only_b),
           "diff": float(a.mean() - b.mean()), "low": low, "high": high}
    if bits_a is not None:
        x, y = np.asarray(bits_a, dtype=float), _same_size(np.asarray(bits_a, float), bits_b)
        out["p_bits"] = wilcoxon_signed_rank(x, y)
        out["bits_low"], out["bits_high"] = bootstrap_interval(x, y, paired=True)
    return out


def compare_unpaired(success_a, success_b, bits_a=None, bits_b=None) -> dict:
    """Everything the book reports for two arms on separate seeds (see ``compare_paired``).

    ``p`` is Fisher's exact test, ``low`` and ``high`` Newcombe's hybrid score
    interval, ``p_bits`` the Mann-Whitney test and ``bits_low``, ``bits_high``
    the bootstrap interval of the difference of the median bits.
    """
    a = np.asarray(success_a, dtype=bool).reshape(-1)
    b = np.asarray(success_b, dtype=bool).reshape(-1)
    if a.size == 0 or b.size == 0:
        raise ValueError(f"both arms need runs, got {a.size} and {b.size}")
    wa, wb = int(a.sum()), int(b.sum())
    low, high = difference_interval(wa, a.size, wb, b.size)
    out = {"n_a": int(a.size), "n_b": int(b.size), "wins_a": wa, "wins_b": wb,
           "p": fisher_exact(wa, a.size, wb, b.size), "diff": wa / a.size - wb / b.size,
           "low": low, "high": high}
    if bits_a is not None:
        out["p_bits"] = mann_whitney(bits_a, bits_b)
        out["bits_low"], out["bits_high"] = bootstrap_interval(bits_a, bits_b)
    return out
