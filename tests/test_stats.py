"""Success-rate intervals, where the success rate crosses a level, and the tests that compare arms."""

import numpy as np
import pytest

from memrnn.stats import crossing_length, fisher_exact, logistic_fit, wilson_interval


def test_wilson_interval():
    lo, hi = wilson_interval(5, 10)
    assert lo < 0.5 < hi and 0 < lo and hi < 1
    assert wilson_interval(0, 5)[0] == 0.0 and wilson_interval(0, 5)[1] > 0.3
    assert wilson_interval(5, 5)[1] == 1.0 and wilson_interval(5, 5)[0] < 0.7
    # More runs, narrower interval.
    assert np.diff(wilson_interval(50, 100)) < np.diff(wilson_interval(5, 10))



def test_logistic_fit_recovers_a_known_curve():
    rng = np.random.default_rng(0)
    T = np.repeat(np.arange(5, 45, 5), 400)
    p = 1 / (1 + np.exp(-(6.0 - 0.3 * T)))
    a, b = logistic_fit(T, rng.random(T.size) < p)
    assert a == pytest.approx(6.0, abs=0.4) and b == pytest.approx(-0.3, abs=0.03)


def test_crossing_length_brackets_the_true_crossing():
    # P(success) = 0.8 at T = (6 - log 4) / 0.3 = 15.4 for this curve.
    true = (6.0 - np.log(4.0)) / 0.3
    rng = np.random.default_rng(1)
    T = np.repeat([5, 10, 12, 15, 17, 20, 25, 30, 40], 20)
    wins = rng.random(T.size) < 1 / (1 + np.exp(-(6.0 - 0.3 * T)))
    c = crossing_length(T, wins, level=0.8, n_boot=400, seed=0)
    assert c["low"] < true < c["high"] and c["low"] <= c["estimate"] <= c["high"]
    assert c["high"] - c["low"] < 12
    # Twenty times the runs give a narrower interval.
    many = np.repeat([5, 10, 12, 15, 17, 20, 25, 30, 40], 400)
    c2 = crossing_length(many, rng.random(many.size) < 1 / (1 + np.exp(-(6.0 - 0.3 * many))),
                         n_boot=200, seed=0)
    assert c2["high"] - c2["low"] < (c["high"] - c["low"]) / 2


def test_a_perfectly_separated_sweep_still_gives_a_finite_crossing():
    T = np.repeat([5, 10, 15, 20], 10)
    c = crossing_length(T, T <= 10, n_boot=100)
    assert 10 <= c["estimate"] <= 15 and np.isfinite(c["low"]) and np.isfinite(c["high"])


def test_a_success_rate_that_does_not_fall_has_no_crossing():
    c = crossing_length([5, 10, 15] * 4, [True] * 12, n_boot=50)
    assert c["estimate"] == np.inf


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="equal length"):
        logistic_fit([1, 2], [True])
    with pytest.raises(ValueError, match="level"):
        crossing_length([1, 2], [True, False], level=1.0)


def test_fisher_exact_matches_known_values():
    # The lady tasting tea: 3 of 4 right against 1 of 4, two-sided p = 34/70.
    assert fisher_exact(3, 4, 1, 4) == pytest.approx(34 / 70)
    assert fisher_exact(5, 5, 5, 5) == pytest.approx(1.0)
    assert fisher_exact(10, 10, 0, 10) == pytest.approx(2 / 184756)
    assert fisher_exact(3, 20, 2, 20) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="wins"):
        fisher_exact(6, 5, 0, 5)


# --- Comparing two arms: tested against scipy.stats as an independent oracle. ---------------

scipy_stats = pytest.importorskip("scipy.stats")


def test_mcnemar_is_a_binomial_test_on_the_discordant_seeds():
    from memrnn.stats import mcnemar_exact

    # Worked numbers of BOOK-STYLE: 16 seeds rescued, 3 lost.
    assert mcnemar_exact(16, 3) == pytest.approx(0.0044, abs=1e-4)
    for b, c in ((16, 4), (4, 1), (0, 0), (0, 7), (10, 10), (3, 19)):
        assert mcnemar_exact(b, c) == pytest.approx(scipy_stats.binomtest(b, b + c).pvalue
                                                    if b + c else 1.0)
    with pytest.raises(ValueError, match="only_a"):
        mcnemar_exact(-1, 3)


@pytest.mark.parametrize("n", [4, 9, 15, 30])
def test_rank_tests_match_scipy_without_ties(n):
    from memrnn.stats import mann_whitney, wilcoxon_signed_rank

    rng = np.random.default_rng(n)
    x, y = rng.normal(size=n), rng.normal(size=n) + 0.6
    assert wilcoxon_signed_rank(x, y) == pytest.approx(scipy_stats.wilcoxon(x, y).pvalue, rel=1e-9)
    assert mann_whitney(x, y[:-1]) == pytest.approx(
        scipy_stats.mannwhitneyu(x, y[:-1], method="exact").pvalue, rel=1e-9)


def test_rank_tests_match_scipy_with_ties_and_zeros():
    from memrnn.stats import mann_whitney, wilcoxon_signed_rank

    rng = np.random.default_rng(3)
    # Bits remembered have many exact zeros (runs at or above 1/3) and so ties.
    x = np.where(rng.random(20) < 0.4, 0.0, np.round(rng.uniform(0, 3, 20), 1))
    y = np.where(rng.random(20) < 0.6, 0.0, np.round(rng.uniform(0, 3, 20), 1))
    assert wilcoxon_signed_rank(x, y) == pytest.approx(
        scipy_stats.wilcoxon(x, y, method="approx", correction=False).pvalue, rel=1e-9)
    assert mann_whitney(x, y) == pytest.approx(
        scipy_stats.mannwhitneyu(x, y, method="asymptotic").pvalue, rel=1e-9)


def test_holm_adjusts_in_place_order():
    from memrnn.stats import holm

    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.2]), [0.04, 0.09, 0.09, 0.2])
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])
    with pytest.raises(ValueError, match="p-values"):
        holm([0.1, 1.5])


def test_difference_intervals_cover_the_true_difference():
    """Both Newcombe intervals hold their 95 % promise, and pairing narrows the interval."""
    from memrnn.stats import difference_interval, paired_difference_interval

    rng = np.random.default_rng(0)
    n, p_a, p_b, sims = 20, 0.5, 0.35, 1500
    true = p_a - p_b
    cover_paired = cover_unpaired = 0
    widths_paired, widths_unpaired = [], []
    for _ in range(sims):
        # A shared seed: most runs draw both arms' fates from one number, so they correlate.
        u, v = rng.random(n), rng.random(n)
        a, b = u < p_a, np.where(rng.random(n) < 0.7, u, v) < p_b
        lo, hi = paired_difference_interval(a, b)
        cover_paired += lo <= true <= hi
        widths_paired.append(hi - lo)
        lo, hi = difference_interval(int(a.sum()), n, int(b.sum()), n)
        cover_unpaired += lo <= true <= hi
        widths_unpaired.append(hi - lo)
    assert 0.92 <= cover_paired / sims <= 0.995
    assert cover_unpaired / sims >= 0.92
    assert np.mean(widths_paired) < 0.8 * np.mean(widths_unpaired)


def test_compare_paired_reports_rescued_and_lost():
    from memrnn.stats import compare_paired

    a = np.array([1, 1, 1, 1, 0, 0, 1, 0], bool)
    b = np.array([1, 0, 0, 0, 0, 1, 1, 0], bool)
    out = compare_paired(a, b, bits_a=a * 2.0 + 0.1, bits_b=b * 2.0)
    assert (out["only_a"], out["only_b"], out["n"]) == (3, 1, 8)
    assert out["p"] == pytest.approx(scipy_stats.binomtest(3, 4).pvalue)
    assert out["diff"] == pytest.approx(0.25)
    assert out["low"] < out["diff"] < out["high"]
    assert 0 < out["p_bits"] <= 1 and out["bits_low"] <= out["bits_high"]
    with pytest.raises(ValueError, match="equal length"):
        compare_paired(a, b[:-1])


def test_bootstrap_interval_brackets_the_statistic():
    from memrnn.stats import bootstrap_interval

    x = np.random.default_rng(1).normal(1.0, 1.0, 40)
    lo, hi = bootstrap_interval(x)
    assert lo < np.median(x) < hi and hi - lo < 1.5
    lo, hi = bootstrap_interval(x, x - 2.0, paired=True)
    assert lo == pytest.approx(2.0) and hi == pytest.approx(2.0)


def test_mcnemar_power_sums_the_rejecting_outcomes_exactly():
    from memrnn.stats import mcnemar_exact, mcnemar_power

    # With 5 discordant seeds at most, the smallest two-sided p is 2 / 2^5 = 0.0625: no power.
    assert mcnemar_power(5, 0.0, 1.0) == 0.0
    # All 6 seeds discordant for B: p = 2 / 64 < 0.05 always.
    assert mcnemar_power(6, 0.0, 1.0) == pytest.approx(1.0)
    # Against a simulation of the same design.
    rng = np.random.default_rng(0)
    draws = rng.multinomial(20, [0.05, 0.35, 0.60], size=20000)
    sim = np.mean([mcnemar_exact(int(a), int(b)) < 0.05 for a, b, _ in draws])
    assert mcnemar_power(20, 0.05, 0.35) == pytest.approx(sim, abs=0.01)
    # The shipped primary's discordant shares (1 and 7 of 20 seeds): 7 % with 10 seeds, 46 % with 20.
    assert mcnemar_power(10, 0.05, 0.35) == pytest.approx(0.072, abs=0.001)
    assert mcnemar_power(20, 0.05, 0.35) == pytest.approx(0.455, abs=0.001)
    for bad in ((0, 0.1, 0.1), (10, -0.1, 0.1), (10, 0.6, 0.6)):
        with pytest.raises(ValueError):
            mcnemar_power(*bad)


def _wilson(k, n, z=1.959964):
    centre, half = (k + z * z / 2) / (n + z * z), z * np.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


@pytest.mark.parametrize("both, only_a, only_b, neither, cross", [
    (1, 1, 7, 12, 0.0),                        # AD - BC = 5 <= N/2 = 10.5: phi is 0
    (59, 6, 16, 80, 59 * 80 - 6 * 16 - 161 / 2),   # AD - BC = 4624 > N/2: lowered by 80.5
    (0, 6, 9, 5, -54.0),                       # negative: kept
])
def test_paired_interval_uses_newcombes_corrected_phi(both, only_a, only_b, neither, cross):
    """Newcombe (1998), method 10, computed here by hand from its formula."""
    from memrnn.stats import paired_difference_interval

    n = both + only_a + only_b + neither
    a = [1] * both + [1] * only_a + [0] * only_b + [0] * neither
    b = [1] * both + [0] * only_a + [1] * only_b + [0] * neither
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    (l1, u1), (l2, u2) = _wilson(both + only_a, n, 1.96), _wilson(both + only_b, n, 1.96)
    phi = cross / np.sqrt((both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither))
    low = p1 - p2 - np.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    high = p1 - p2 + np.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    assert paired_difference_interval(a, b) == pytest.approx((low, high), rel=1e-12)


def test_logistic_fit_check_counts_each_length_against_the_curve():
    from memrnn.stats import logistic_fit_check

    # a = 0, b = 0: p = 1/2 everywhere. 4 runs at T = 1 with 4 successes, 2 at T = 2 with 1.
    rows = logistic_fit_check([1, 1, 1, 1, 2, 2], [1, 1, 1, 1, 1, 0], 0.0, 0.0)
    assert [(r["length"], r["runs"], r["observed"]) for r in rows] == [(1, 4, 4), (2, 2, 1)]
    assert rows[0]["expected"] == pytest.approx(2.0) and rows[0]["p_high"] == pytest.approx(1 / 16)
    assert rows[0]["p_low"] == pytest.approx(1.0)
    assert rows[1]["p_low"] == pytest.approx(3 / 4) and rows[1]["p_high"] == pytest.approx(3 / 4)
    with pytest.raises(ValueError, match="equal length"):
        logistic_fit_check([1, 2], [1], 0.0, 0.0)
