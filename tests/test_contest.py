"""The plan of "What gating buys" as code (``memrnn.contest``) and its shipping (``tools.ship_gating``).

Every sweep here is synthetic: runs are written down with the outcome each
test needs, so the rules are checked against hand counts, with no training.
"""

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from memrnn import contest, information, stats
from memrnn import settings as S
from memrnn.results import SweepResult, choose_learning_rate, load_results
from tools import ship_gating

ROOT = Path(__file__).resolve().parent.parent
RAW_RUNS = ROOT / "experiments" / "gating" / "runs"

#: Held-out MSEs of a run that solves (about 2.5 bits), one that solves with fewer bits (about
#: 1.4), one that fails (under 0.1 bit) and a run that diverged.
WIN, WIN_LESS, LOSE, DIV = 0.01, 0.05, 0.3, None


def _runs(length, outcomes):
    """Run records at ``length``; ``outcomes`` maps repeat -> MSE (or DIV), or lists them from 0."""
    if not isinstance(outcomes, dict):
        outcomes = dict(enumerate(outcomes))
    return [{"length": length, "repeat": r, "seed": [1, length, r], "eval_mse": mse,
             "diverged": mse is None} for r, mse in outcomes.items()]


def _sweep(model, opt, length, outcomes, lr=None, extra_runs=()):
    runs = _runs(length, outcomes)
    lengths = tuple(sorted({length} | {r["length"] for r in extra_runs}))
    settings = S.gating_final(model, opt, S.LR_GRID[opt][0] if lr is None else lr, lengths=lengths,
                              repeats=max(r["repeat"] for r in runs) + 1)
    return SweepResult(settings, runs + [dict(r) for r in extra_runs])


def _grid_sweep(model, opt, lr, outcomes):
    return SweepResult(S.PROFILES[f"gating-grid-{model}-{opt}-{lr:g}"], _runs(S.GRID_LENGTH, outcomes))


def _wins(k, n=10):
    """k solved runs, then n - k failed ones."""
    return [WIN] * k + [LOSE] * (n - k)


def _bits(mse):
    return information.bits_remembered(np.inf if mse is None else mse)


# --- the planned comparisons ---------------------------------------------------------------------

def test_comparisons_are_the_primary_one_then_17_exploratory_ones_over_known_arms():
    rows = contest.comparisons()
    arms = {(m, o) for m in contest.MODEL_LABELS for o in contest.OPTIMIZER_LABELS}
    assert len(rows) == 18
    assert rows[0][0] == "primary" and (rows[0][2], rows[0][3]) == contest.PRIMARY
    assert contest.PRIMARY == (("lstm", "adam"), ("rnn21", "adam"))
    assert [r[0] for r in rows[1:]].count("primary") == 0
    assert len({r[1] for r in rows}) == 18, "every comparison needs its own label"
    for _, label, a, b in rows:
        assert a in arms and b in arms and a != b, (label, a, b)
    # Adam against SGD once for each of the 7 models, with Adam as the treatment.
    assert {(a, b) for f, _, a, b in rows if f == "optimizer"} == \
        {((m, "adam"), (m, "sgd")) for m in contest.MODEL_LABELS}


def test_sweep_names_follow_the_folders_the_script_writes():
    assert contest.sweep_name(("lstm", "adam")) == "gating-lstm-adam"
    assert contest.sweep_name(("chrono", "sgd"), S.GRID_LENGTH) == "gating-chrono-sgd"
    assert contest.sweep_name(("chrono", "sgd"), 200) == "gating-chrono-sgd-T200"
    # The grid's sweeps are the profiles of that name, one per model, optimizer and rate.
    assert all(f"gating-grid-{m}-{o}-{lr:g}" in S.PROFILES
               for m in contest.MODEL_LABELS for o, rates in S.LR_GRID.items() for lr in rates)
    assert set(contest.MODEL_LABELS) == set(S.GATING_ARMS)


# --- compare -------------------------------------------------------------------------------------

#: Arm A ran repeats 0 to 7, arm B repeats 1 to 9: they share repeats 1 to 7.
A_RUNS = {0: WIN, 1: WIN, 2: WIN, 3: LOSE, 4: WIN, 5: DIV, 6: WIN, 7: WIN}
B_RUNS = {1: LOSE, 2: LOSE, 3: WIN, 4: LOSE, 5: LOSE, 6: WIN_LESS, 7: WIN, 8: WIN, 9: WIN}


def _pair_final():
    a, b = ("lstm", "adam"), ("rnn21", "adam")
    # A also holds runs at T = 100 with the same repeats, every one failed: comparing at
    # T = 50 must not read them.
    longer = _runs(100, {r: LOSE for r in range(8)})
    return a, b, {a + (50,): _sweep(*a, 50, A_RUNS, extra_runs=longer),
                  a + (100,): _sweep(*a, 50, A_RUNS, extra_runs=longer),
                  b + (50,): _sweep(*b, 50, B_RUNS)}


def test_compare_pairs_the_arms_seed_by_seed_over_the_seeds_both_ran():
    a, b, final = _pair_final()
    res = contest.compare(final, a, b)
    # By hand, over repeats 1 to 7: only A solves 1, 2 and 4; only B solves 3; both solve 6
    # (B with fewer bits) and 7; neither 5 (A diverged).
    assert res["n"] == 7
    assert (res["wins_a"], res["wins_b"]) == (5, 3)
    assert (res["only_a"], res["only_b"]) == (3, 1)
    # Exact McNemar: 1 or fewer of 4 discordant seeds, either way, is (1 + 4 + 4 + 1) / 16.
    assert res["p"] == stats.mcnemar_exact(3, 1) == pytest.approx(10 / 16)
    assert res["diff"] == pytest.approx(2 / 7)
    shared = range(1, 8)
    expected = stats.compare_paired(
        [A_RUNS[r] is not None and A_RUNS[r] <= 1 / 12 for r in shared],
        [B_RUNS[r] <= 1 / 12 for r in shared],
        [_bits(A_RUNS[r]) for r in shared], [_bits(B_RUNS[r]) for r in shared])
    assert res == expected
    # The other way round, what A rescued B loses.
    back = contest.compare(final, b, a)
    assert (back["only_a"], back["only_b"], back["p"]) == (1, 3, res["p"])
    assert back["diff"] == pytest.approx(-res["diff"])


def test_compare_reads_only_the_runs_at_its_length():
    a, b, final = _pair_final()
    final[b + (100,)] = _sweep(*b, 100, {r: WIN for r in range(3, 6)})
    res = contest.compare(final, a, b, length=100)
    assert (res["n"], res["wins_a"], res["wins_b"], res["only_b"]) == (3, 0, 3, 3)


def test_compare_without_shared_seeds_is_a_value_error():
    a, b = ("lstm", "sgd"), ("lstm0", "sgd")
    final = {a + (50,): _sweep(*a, 50, {0: WIN, 1: WIN, 2: LOSE}),
             b + (50,): _sweep(*b, 50, {3: WIN, 4: LOSE, 5: LOSE})}
    with pytest.raises(ValueError, match=r"share no seeds at T = 50"):
        contest.compare(final, a, b)


# --- the family, with Holm -----------------------------------------------------------------------

#: Runs solved out of 10 per arm: far apart for some comparisons, close for others.
SOLVED = {("rnn", "sgd"): 0, ("rnn", "adam"): 1, ("rnnclip", "sgd"): 1, ("rnnclip", "adam"): 3,
          ("rnn21", "sgd"): 0, ("rnn21", "adam"): 2, ("lstm0", "sgd"): 2, ("lstm0", "adam"): 5,
          ("lstm", "sgd"): 4, ("lstm", "adam"): 10, ("lstm3", "sgd"): 7, ("lstm3", "adam"): 9,
          ("chrono", "sgd"): 6, ("chrono", "adam"): 10}


def _family_final():
    return {arm + (50,): _sweep(*arm, 50, _wins(k)) for arm, k in SOLVED.items()}


def test_compare_family_adjusts_the_exploratory_comparisons_by_holm_and_leaves_the_primary():
    final = _family_final()
    rows = contest.compare_family(final)
    assert len(rows) == 18
    primary, explore = rows[0], rows[1:]
    assert primary["family"] == "primary" and (primary["a"], primary["b"]) == contest.PRIMARY
    assert (primary["only_a"], primary["only_b"]) == (8, 0)
    assert primary["p_holm"] == primary["p"] == stats.mcnemar_exact(8, 0)
    ps = [r["p"] for r in explore]
    np.testing.assert_allclose([r["p_holm"] for r in explore], stats.holm(ps), rtol=0, atol=0)
    assert all(r["p_holm"] >= r["p"] for r in explore)
    assert any(r["p_holm"] > r["p"] for r in explore), "the adjustment must change something here"
    # Each row is ``compare`` of its arms, labelled (two checked: every call bootstraps).
    for r in (rows[1], rows[-1]):
        assert {k: v for k, v in r.items() if k not in ("family", "label", "a", "b", "length", "p_holm")} == \
            contest.compare(final, r["a"], r["b"])


def test_compare_family_skips_comparisons_whose_arms_have_not_run():
    final = _family_final()
    del final["rnnclip", "sgd", 50]      # in "Adam against SGD: clipped" and "clipping, SGD"
    rows = contest.compare_family(final)
    assert len(rows) == 16
    assert all(("rnnclip", "sgd") not in (r["a"], r["b"]) for r in rows)
    explore = [r for r in rows if r["family"] != "primary"]
    np.testing.assert_allclose([r["p_holm"] for r in explore], stats.holm([r["p"] for r in explore]))

    del final["rnn21", "adam", 50]       # an arm of the primary comparison
    rows = contest.compare_family(final)
    assert len(rows) == 13 and all(r["family"] != "primary" for r in rows)
    np.testing.assert_allclose([r["p_holm"] for r in rows], stats.holm([r["p"] for r in rows]))
    assert contest.compare_family({}) == []


def test_the_longer_lengths_join_the_family_as_chrono_against_each_constant_bias_there():
    final = _family_final()
    final.update(_at100({("lstm3", "adam"): 6, ("chrono", "adam"): [LOSE] * 3 + [WIN] * 7}))
    final["lstm3", "adam", 200] = _sweep("lstm3", "adam", 200, _wins(2))
    final["chrono", "adam", 200] = _sweep("chrono", "adam", 200, _wins(5))
    assert contest.long_comparisons(final) == [
        ("length", "chrono against bias 3, Adam, T = 100", ("chrono", "adam"), ("lstm3", "adam"), 100),
        ("length", "chrono against bias 3, Adam, T = 200", ("chrono", "adam"), ("lstm3", "adam"), 200)]
    rows = contest.compare_family(final)
    assert len(rows) == 20 and [r["length"] for r in rows] == [50] * 18 + [100, 200]
    # Seeds 0-2: only bias 3; 6-9: only chrono (T = 100). T = 200: 2 both, 3 only chrono.
    assert [(r["only_a"], r["only_b"]) for r in rows[-2:]] == [(4, 3), (3, 0)]
    assert rows[-1]["p"] == stats.mcnemar_exact(3, 0)
    explore = [r for r in rows if r["family"] != "primary"]
    np.testing.assert_allclose([r["p_holm"] for r in explore], stats.holm([r["p"] for r in explore]))
    # A length where one constant bias ran under the other optimizer: named in the label.
    final = _at100({("lstm", "sgd"): 6, ("chrono", "adam"): 7})
    assert contest.long_comparisons(final) == [
        ("length", "chrono against bias 1, Adam against SGD, T = 100", ("chrono", "adam"), ("lstm", "sgd"),
         100)]
    assert contest.long_comparisons(_at100({("lstm3", "adam"): 6})) == []


def test_cpu_hours_adds_process_time_by_stage_and_kind_and_wall_time_where_none_was_kept():
    def timed(res, cpu, wall=1e6):
        for r, c in zip(res.runs, cpu):
            r.update(cpu_time=c, wall_time=wall)
        return res
    grid = {("rnn", "sgd", 0.01): timed(_grid_sweep("rnn", "sgd", 0.01, [LOSE] * 3), [360, None, 720]),
            ("lstm", "adam", 1e-3): timed(_grid_sweep("lstm", "adam", 1e-3, [LOSE] * 3), [3600] * 3, wall=7)}
    final = {("lstm3", "adam", 50): timed(_sweep("lstm3", "adam", 50, _wins(2, 2)), [1800, 1800]),
             ("chrono", "adam", 100): timed(_sweep("chrono", "adam", 100, _wins(1, 1)), [7200])}
    cost = contest.cpu_hours({"grid": grid, "final": final})
    # The run without a CPU time counts its wall time, 1e6 s.
    assert cost["wall_only"] == 1 and cost["runs"] == 9
    assert cost["grid"] == pytest.approx(3 + (360 + 1e6 + 720) / 3600)
    assert (cost["final"], cost["long"]) == (pytest.approx(1.0), pytest.approx(2.0))
    assert cost["lstm"] == pytest.approx(6.0) and cost["rnn"] == pytest.approx((1080 + 1e6) / 3600)
    assert cost["total"] == pytest.approx(cost["grid"] + 3.0) == pytest.approx(cost["lstm"] + cost["rnn"])


def test_arm_table_gives_each_arm_its_rate_and_per_length_solved_of_run_with_median_bits():
    final = {("rnn", "adam", 50): _sweep("rnn", "adam", 50, [WIN, LOSE, DIV]),
             ("lstm3", "adam", 50): _sweep("lstm3", "adam", 50, _wins(10)),
             ("lstm3", "adam", 100): _sweep("lstm3", "adam", 100, [WIN, WIN, LOSE, LOSE])}
    rates = {("rnn", "adam"): 3e-3, ("lstm3", "adam"): 0.01}
    lines = contest.arm_table(final, rates).splitlines()
    assert lines[0] == "| model | optimizer | $\\eta$ | $T = 50$ | $T = 100$ |"
    # The RNN: 1 of 3, median of (2.5 bits, under 0.1, 0 for the diverged run).
    assert lines[2] == f"| RNN, H = 10 | Adam | 0.003 | 1/3 ({_bits(LOSE):.2f}) |  |"
    med = np.median([_bits(WIN)] * 2 + [_bits(LOSE)] * 2)
    assert lines[3] == f"| LSTM, forget bias 3 | Adam | 0.01 | 10/10 ({_bits(WIN):.2f}) | 2/4 ({med:.2f}) |"
    # Rows picked by ``arms``; a length none of them ran has no column.
    only_rnn = contest.arm_table(final, rates, arms=[("rnn", "adam")]).splitlines()
    assert len(only_rnn) == 3 and only_rnn[0].endswith("| $T = 50$ |")
    assert contest.arm_table(final, rates, lengths=(100,)).splitlines()[2].endswith("| 0.003 |  |")


@pytest.mark.parametrize("only_a, only_b, p, low, high, verdict, ending", [
    # The shipped primary: the interval excludes 0, the planned exact test does not reject.
    (1, 7, 0.0703, -0.51, -0.04, "does not reject at the 5 % level, so neither is shown to be better",
     "That interval is approximate: it excludes 0, but the planned test does not reject"),
    (7, 1, 0.0703, 0.04, 0.51, "does not reject", "it excludes 0, but the planned test does not reject"),
    (1, 2, 1.0, -0.19, 0.40, "does not reject",
     "the data leave room for an advantage of up to 40 points for the LSTM and up to 19 for the RNN."),
    (1, 9, 0.021, -0.61, -0.12, "rejects at the 5 % level: the RNN beats the LSTM on these seeds", ""),
    (9, 1, 0.021, 0.12, 0.61, "rejects at the 5 % level: the LSTM beats the RNN on these seeds", ""),
])
def test_describe_says_beats_only_when_the_planned_test_rejects(only_a, only_b, p, low, high, verdict,
                                                                 ending):
    row = {"n": 20, "wins_a": 3, "wins_b": 9, "only_a": only_a, "only_b": only_b, "p": p, "low": low,
           "high": high}
    text = contest.describe(row, "the LSTM", "the RNN")
    assert text.startswith(f"The LSTM solves 3 of the 20 seeds and the RNN, 9; on {only_a} seed")
    assert f"(exact McNemar, $p = {p:.2g}$)" in text
    assert verdict in text and ending in text
    assert "rule out" not in text
    assert f"runs from {100 * low:+.0f} to {100 * high:+.0f} points" in text
    assert ("beats" in text) == (p < 0.05)


def test_describe_judges_an_exploratory_row_by_its_holm_adjusted_p():
    row = {"family": "length", "n": 10, "wins_a": 10, "wins_b": 0, "only_a": 10, "only_b": 0, "p": 0.002,
           "p_holm": 0.037, "low": 0.61, "high": 1.0}
    assert contest.planned_p(row) == (0.037, "exact McNemar, Holm-adjusted")
    strong = contest.describe(row, "the chrono start", "bias 3")
    assert "the chrono start beats bias 3" in strong and "an exploratory comparison" in strong
    assert "exploratory" not in contest.describe(dict(row, family="primary"), "the chrono start", "bias 3")
    weak = dict(row, p=0.03, p_holm=0.4, only_a=6, only_b=0)
    text = contest.describe(weak, "the chrono start", "bias 3")
    assert "beats" not in text and r"$p_{\mathrm{Holm}} = 0.4$" in text
    assert contest.planned_p({"family": "primary", "p": 0.07, "p_holm": 0.07})[0] == 0.07


def test_describe_writes_a_small_p_as_below_a_bound():
    row = {"n": 40, "wins_a": 5, "wins_b": 24, "only_a": 2, "only_b": 21, "p": 6.6e-5, "low": -0.63,
           "high": -0.27}
    text = contest.describe(row, "the LSTM", "the RNN")
    assert "(exact McNemar, $p < 0.001$)" in text and "= <" not in text
    assert "(exact McNemar, $p = 0.0012$)" in contest.describe(dict(row, p=0.0012), "the LSTM", "the RNN")


def test_describe_on_the_shipped_contest_says_beats_only_where_the_planned_test_rejects():
    final = contest.load_experiment()["final"]
    if not final:
        pytest.skip("no gating results ship yet")
    for row in contest.compare_family(final):
        text = contest.describe(row, contest.NAMES[row["a"][0]], contest.NAMES[row["b"][0]])
        assert ("beats" in text) == (contest.planned_p(row)[0] < 0.05), row["label"]
        assert "rule out" not in text
    primary = contest.compare(final, *contest.PRIMARY)
    # The shipped primary: 1 seed against 7, exact p = 0.070, not rejected; the interval excludes 0.
    assert (primary["only_a"], primary["only_b"]) == (1, 7)
    assert primary["p"] == pytest.approx(0.0703, abs=5e-4) and primary["high"] < 0
    assert "neither is shown to be better" in contest.describe(primary, "the LSTM", "the RNN")


# --- the closeness rule --------------------------------------------------------------------------

@pytest.mark.parametrize("p, low, high, close", [
    (0.01, 0.3, 0.7, True), (0.2, 0.3, 0.7, True), (0.05, -0.8, -0.4, True),
    (0.009, 0.3, 0.7, False), (0.21, 0.3, 0.7, False), (1.0, -0.5, 0.5, False),
    (0.5, 0.10, 0.7, True), (0.5, -0.7, -0.10, True), (0.001, -0.05, 0.6, True),
    (0.5, 0.11, 0.7, False), (0.005, -0.6, -0.11, False),
])
def test_is_close_follows_the_plan_at_its_boundaries(p, low, high, close):
    assert contest.is_close({"p": p, "low": low, "high": high}) is close


# --- the longer stages ---------------------------------------------------------------------------

def test_better_optimizer_takes_the_larger_share_solved_then_more_bits_then_adam():
    m = "lstm3"
    final = {(m, "sgd", 50): _sweep(m, "sgd", 50, _wins(6)), (m, "adam", 50): _sweep(m, "adam", 50, _wins(5))}
    assert contest.better_optimizer(final, m) == "sgd"
    # Equal shares: more bits win, whichever the optimizer.
    final[m, "adam", 50] = _sweep(m, "adam", 50, [WIN_LESS] * 6 + [LOSE] * 4)
    assert contest.better_optimizer(final, m) == "sgd"
    final[m, "sgd", 50] = _sweep(m, "sgd", 50, [WIN_LESS] * 6 + [LOSE] * 3 + [0.33])
    assert contest.better_optimizer(final, m) == "adam"
    # A full tie goes to Adam.
    final[m, "sgd", 50] = _sweep(m, "sgd", 50, [WIN_LESS] * 6 + [LOSE] * 4)
    assert contest.better_optimizer(final, m) == "adam"
    # The share, not the count: 10 of 20 seeds is less than 6 of 10.
    final = {(m, "sgd", 50): _sweep(m, "sgd", 50, _wins(10, 20)),
             (m, "adam", 50): _sweep(m, "adam", 50, _wins(6))}
    assert contest.better_optimizer(final, m) == "adam"
    # Only one optimizer ran: that one; at another length, that length's runs.
    assert contest.better_optimizer({(m, "sgd", 50): _sweep(m, "sgd", 50, _wins(0))}, m) == "sgd"
    final[m, "sgd", 100] = _sweep(m, "sgd", 100, _wins(3))
    final[m, "adam", 100] = _sweep(m, "adam", 100, _wins(2))
    assert contest.better_optimizer(final, m, 100) == "sgd"
    with pytest.raises(ValueError, match="'lstm0' at T = 50"):
        contest.better_optimizer(final, "lstm0")


def test_long_arms_at_100_are_the_lstm_inits_that_solved_half_under_their_better_optimizer():
    k50 = {("lstm0", "sgd"): 2, ("lstm0", "adam"): 4,       # better 4/10: below half, left out
           ("lstm", "sgd"): 5, ("lstm", "adam"): 9,         # Adam
           ("lstm3", "sgd"): 7, ("lstm3", "adam"): 5,       # SGD
           ("chrono", "sgd"): 5, ("chrono", "adam"): 5,     # a tie, exactly half: Adam
           ("rnn21", "adam"): 10, ("rnn", "sgd"): 10}       # no RNN goes on
    final = {arm + (50,): _sweep(*arm, 50, _wins(k)) for arm, k in k50.items()}
    assert contest.long_arms(final, 100) == [("lstm", "adam"), ("lstm3", "sgd"), ("chrono", "adam")]
    final["chrono", "adam", 50] = _sweep("chrono", "adam", 50, _wins(4))
    final["chrono", "sgd", 50] = _sweep("chrono", "sgd", 50, _wins(4))
    assert contest.long_arms(final, 100) == [("lstm", "adam"), ("lstm3", "sgd")]
    # An initialisation that ran under one optimizer only is judged on it.
    only_sgd = {("lstm0", "sgd", 50): _sweep("lstm0", "sgd", 50, _wins(6))}
    assert contest.long_arms(only_sgd, 100) == [("lstm0", "sgd")]
    assert contest.long_arms({}, 100) == []


def _at100(k100, at50=None):
    final = {arm + (100,): _sweep(*arm, 100, runs if isinstance(runs, list) else _wins(runs))
             for arm, runs in k100.items()}
    final.update({arm + (50,): _sweep(*arm, 50, _wins(k)) for arm, k in (at50 or {}).items()})
    return final


def test_long_arms_at_200_are_chrono_and_the_best_constant_bias_if_it_solved_half():
    # lstm0 solved every run at T = 50 but never ran at 100: it does not go on.
    final = _at100({("lstm", "adam"): 6, ("lstm3", "sgd"): 8, ("chrono", "adam"): 1},
                   at50={("lstm0", "adam"): 10})
    assert contest.long_arms(final, 200) == [("chrono", "adam"), ("lstm3", "sgd")]
    # Chrono goes on however it did; the best constant bias only if it solved at least half.
    final = _at100({("lstm", "adam"): 4, ("lstm3", "sgd"): 3, ("chrono", "adam"): 0})
    assert contest.long_arms(final, 200) == [("chrono", "adam")]
    final = _at100({("lstm", "adam"): 4, ("lstm3", "sgd"): 5})
    assert contest.long_arms(final, 200) == [("lstm3", "sgd")]
    # Equal shares: the one that remembers more bits.
    final = _at100({("lstm", "adam"): [WIN] * 6 + [LOSE] * 4, ("lstm3", "sgd"): [WIN_LESS] * 6 + [LOSE] * 4,
                    ("chrono", "sgd"): 9})
    assert contest.long_arms(final, 200) == [("chrono", "sgd"), ("lstm", "adam")]
    assert contest.long_arms(_at100({}, at50={("chrono", "adam"): 10}), 200) == []


@pytest.mark.parametrize("length", [50, 150, 400, "100"])
def test_long_arms_refuses_lengths_the_plan_has_no_stage_at(length):
    with pytest.raises(ValueError, match=r"T = 100 and 200, got " + repr(length).replace("'", ".")):
        contest.long_arms({}, length)


# --- loading an experiment -----------------------------------------------------------------------

def _write(path: Path, res: SweepResult) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(res.to_text(), encoding="utf-8")
    return path


def test_load_experiment_reads_both_layouts_and_names_every_sweep(tmp_path):
    grid_outcomes = {1e-3: [LOSE, LOSE, DIV], 3e-3: [WIN, WIN, LOSE], 1e-2: [WIN_LESS, WIN, LOSE]}
    for i, (lr, outcomes) in enumerate(grid_outcomes.items()):
        name = f"gating-grid-lstm-adam-{lr:g}"
        res = _grid_sweep("lstm", "adam", lr, outcomes)
        _write(tmp_path / name / S.RESULTS_NAME if i % 2 else tmp_path / f"{name}.json", res)
    _write(tmp_path / "gating-lstm-adam.json", _sweep("lstm", "adam", 50, _wins(7), lr=3e-3))
    _write(tmp_path / "gating-rnn21-adam" / S.RESULTS_NAME, _sweep("rnn21", "adam", 50, _wins(2)))
    _write(tmp_path / "gating-lstm-adam-T100" / S.RESULTS_NAME, _sweep("lstm", "adam", 100, _wins(4)))
    # Not sweeps of the plan: a rate off the grid, a model and a length it does not have.
    _write(tmp_path / "gating-grid-lstm-adam-0.002.json", _grid_sweep("lstm", "adam", 1e-3, [WIN] * 3))
    _write(tmp_path / "gating-gru-adam.json", _sweep("lstm", "adam", 50, _wins(1)))
    _write(tmp_path / "gating-lstm-adam-T150.json", _sweep("lstm", "adam", 150, _wins(1)))

    exp = contest.load_experiment(tmp_path)
    assert set(exp) == {"grid", "final"}
    assert set(exp["grid"]) == {("lstm", "adam", lr) for lr in S.LR_GRID["adam"]}
    for lr, outcomes in grid_outcomes.items():
        res = exp["grid"]["lstm", "adam", lr]
        assert res.settings.lr == lr and [r["eval_mse"] for r in res.runs] == outcomes
    assert set(exp["final"]) == {("lstm", "adam", 50), ("rnn21", "adam", 50), ("lstm", "adam", 100)}
    assert sum(r["success"] for r in exp["final"]["lstm", "adam", 50].runs) == 7
    assert [r["length"] for r in exp["final"]["lstm", "adam", 100].runs] == [100] * 10
    assert exp["final"]["lstm", "adam", 50].settings.seed == 1

    assert contest.chosen_rates(exp["grid"]) == {("lstm", "adam"): 3e-3}
    assert contest.load_experiment(tmp_path / "empty") == {"grid": {}, "final": {}}


def test_chosen_rates_picks_each_arms_rate_from_its_whole_grid():
    grid = {("lstm", "adam", 1e-3): _grid_sweep("lstm", "adam", 1e-3, [LOSE] * 3),
            ("lstm", "adam", 3e-3): _grid_sweep("lstm", "adam", 3e-3, [WIN] * 3),
            ("lstm", "adam", 1e-2): _grid_sweep("lstm", "adam", 1e-2, [WIN_LESS] * 3)}
    # A tie in bits and MSE: the smaller rate.
    grid.update({("rnn", "sgd", lr): _grid_sweep("rnn", "sgd", lr, [WIN, LOSE, DIV]) for lr in (1e-2, 3e-2)})
    grid["rnn", "sgd", 1e-1] = _grid_sweep("rnn", "sgd", 1e-1, [DIV] * 3)
    rates = contest.chosen_rates(grid)
    assert rates == {("rnn", "sgd"): 1e-2, ("lstm", "adam"): 3e-3}
    assert list(rates) == [("rnn", "sgd"), ("lstm", "adam")], "in the order of the tables"
    assert rates["lstm", "adam"] == choose_learning_rate({lr: grid["lstm", "adam", lr]
                                                          for lr in S.LR_GRID["adam"]})
    del grid["lstm", "adam", 3e-3]
    with pytest.raises(ValueError, match=r"lstm-adam lacks the rates \[0\.003\]"):
        contest.chosen_rates(grid)
    assert contest.chosen_rates({}) == {}


def test_load_experiment_reads_every_shipped_file():
    files = sorted(contest.shipped_folder().glob("*.json"))
    if not files:
        pytest.skip("no gating results ship yet")
    exp = contest.load_experiment()
    names = {f"gating-grid-{m}-{o}-{lr:g}" for m, o, lr in exp["grid"]}
    names |= {contest.sweep_name((m, o), T) for m, o, T in exp["final"]}
    assert names == {p.stem for p in files}


# --- shipping ------------------------------------------------------------------------------------

def _raw_runs(length, n):
    runs = []
    for r in range(n):
        runs.append({"length": length, "repeat": r, "seed": [0, length, r], "eval_mse": [WIN, LOSE][r % 2],
                     "diverged": False, "loss_steps": [0, 50], "losses": [0.33, 0.2],
                     "grad_max_per_log": [1.0, 2.0], "max_grad_norm": 2.0, "checkpoints": [[5000, 0.3]],
                     "probe": {"init": {"cell_norms": [0.1, 1.0]}},
                     "machine": {"cpu": "test"}, "wall_time": 1.5})
    return runs


def test_thin_drops_the_curves_and_for_the_grid_the_probes():
    data = {"format": S.FORMAT, "memrnn_version": "x", "settings": {"lengths": [50]},
            "runs": _raw_runs(50, 2)}
    before = json.loads(json.dumps(data))
    grid, final = ship_gating.thin(data, grid=True), ship_gating.thin(data, grid=False)
    assert data == before, "thin must not change its input"
    kept = {"length", "repeat", "seed", "eval_mse", "diverged", "max_grad_norm", "checkpoints",
            "machine", "wall_time"}
    assert all(set(r) == kept for r in grid["runs"])
    assert all(set(r) == kept | {"probe"} for r in final["runs"])
    assert final["runs"][0]["probe"] == data["runs"][0]["probe"]
    assert {k: v for k, v in grid.items() if k != "runs"} == {k: v for k, v in data.items() if k != "runs"}


def test_ship_writes_loadable_thinned_files_atomically(tmp_path, monkeypatch):
    runs, out = tmp_path / "runs", tmp_path / "out"
    grid_name, final_name = "gating-grid-lstm-adam-0.001", "gating-lstm-adam"
    settings = {grid_name: S.PROFILES[grid_name], final_name: S.gating_final("lstm", "adam", 1e-3)}
    written = {}
    for name, n in ((grid_name, 3), (final_name, 10)):
        written[name] = SweepResult(settings[name], _raw_runs(50, n))
        _write(runs / name / S.RESULTS_NAME, written[name])
    # Not a sweep of the experiment, and not a results file.
    _write(runs / "ch7-lstm-adam" / S.RESULTS_NAME, written[grid_name])
    (runs / "gating-lstm-sgd").mkdir()
    (runs / "gating-lstm-sgd" / "notes.txt").write_text("not results")
    (out).mkdir()
    (out / f"{grid_name}.json").write_text("an older, longer version of the file" * 100)

    replaced = []
    real_replace = os.replace

    def spy(src, dst, *args, **kwargs):
        replaced.append((Path(src), Path(dst), Path(src).read_text(encoding="utf-8")))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", spy)
    assert ship_gating.ship(runs, out) == [grid_name, final_name]
    monkeypatch.undo()

    # Each file arrived whole, renamed into place from a file beside it.
    assert sorted(dst.name for _, dst, _ in replaced) == [f"{grid_name}.json", f"{final_name}.json"]
    for src, dst, text in replaced:
        assert src.parent == dst.parent == out and src != dst
        assert json.loads(text) == json.loads(dst.read_text(encoding="utf-8"))
    assert sorted(os.listdir(out)) == [f"{grid_name}.json", f"{final_name}.json"], "no temporary file left"
    # Readable like any new file (a temporary file's 0o600 would lock other users out).
    (tmp_path / "plain.txt").write_text("x")
    plain = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {plain}

    for name, grid in ((grid_name, True), (final_name, False)):
        res = load_results(out / f"{name}.json")
        assert res.settings == settings[name]
        assert [r["eval_mse"] for r in res.runs] == [r["eval_mse"] for r in written[name].runs]
        assert [r["success"] for r in res.runs] == [r["success"] for r in written[name].runs]
        assert all("losses" not in r and "loss_steps" not in r and "grad_max_per_log" not in r
                   for r in res.runs)
        assert all(("probe" in r) is not grid for r in res.runs)
        assert all(r["checkpoints"] == [[5000, 0.3]] for r in res.runs)
    exp = contest.load_experiment(out)
    assert set(exp["grid"]) == {("lstm", "adam", 1e-3)} and set(exp["final"]) == {("lstm", "adam", 50)}

    # A second shipping gives the same files.
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    ship_gating.ship(runs, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.skipif(not RAW_RUNS.is_dir(), reason="the raw runs of the gating experiment are not here")
def test_shipped_gating_results_are_the_raw_runs_thinned():
    files = sorted(contest.shipped_folder().glob("*.json"))
    assert files, f"the raw runs are in {RAW_RUNS} but none ship in {contest.shipped_folder()}"
    for path in files:
        raw = RAW_RUNS / path.stem / S.RESULTS_NAME
        assert raw.exists(), f"{path.name} ships, but its raw runs {raw} are missing"
        expected = ship_gating.thin(json.loads(raw.read_text(encoding="utf-8")),
                                    grid=path.stem.startswith("gating-grid-"))
        assert json.loads(path.read_text(encoding="utf-8")) == expected, (
            f"{path.name} is not its raw runs thinned: run `python -m tools.ship_gating` again")
