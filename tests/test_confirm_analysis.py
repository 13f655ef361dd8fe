"""The confirmatory experiment's analysis (memrnn.confirm) and its shipping (tools/ship_gating.py).

Every rule the plan fixes is checked on a synthetic experiment built here: the
rate rule (solved runs, then mean MSE with a diverged run as 10/3, then the
smaller rate), a rate chosen by noise, the reuse of the contest's runs, the
primary read at 20 000 updates and 1 bit with its verdict bound to the exact
test, the exploratory grid, the chrono table and its Holm adjustment, and the
CPU hours. The statistics are checked against SciPy's own.
"""

import json
import math
import os

import numpy as np
import pytest
from scipy import stats as scipy_stats

from memrnn import _io, contest
from memrnn import confirm as C
from memrnn import settings as S
from memrnn.information import mse_for_bits
from memrnn.results import SweepResult
from tools import ship_gating

SOLVED, FAILED, DIV = 0.05, 0.3, None       # held-out MSEs: 1.2 bits, 0.08 bits, diverged
GRID_CPU, FINAL_CPU, REUSED_CPU = 36.0, 72.0, 9999.0


# --- a synthetic experiment ------------------------------------------------------------------------

def _runs(settings, mses, cpu, checkpoints=None):
    """Raw run records, as run_sweep writes them (curves and probes included)."""
    T = settings.lengths[0]
    out = []
    for r, m in enumerate(mses):
        marks = [] if checkpoints is None else [[k, v] for k, v in checkpoints[r].items() if v is not None]
        out.append({"length": T, "repeat": r, "seed": [settings.seed, T, r], "eval_mse": m,
                    "diverged": m is None, "diverged_at": None, "loss_steps": [0, 50], "losses": [0.33, 0.3],
                    "grad_max_per_log": [1.0], "max_grad_norm": 2.0, "checkpoints": marks,
                    "probe": {"init": {"cell_norms": [0.1, 1.0]}}, "machine": {"cpu": "test"},
                    "wall_time": 2 * cpu, "cpu_time": cpu})
    return out


def _write(folder, name, settings, runs):
    _io.write_text(folder / name / S.RESULTS_NAME, SweepResult(settings, runs).to_text())


PRIMARY_GRID = {
    # The LSTM solves nothing: its rate is chosen by mean MSE, by noise. At 0.003 a diverged
    # run counts as 10/3; were it left out (or counted as 1/3), 0.003 would win.
    "lstm": {3e-4: [0.33] * 5, 1e-3: [0.30, 0.31, 0.32, 0.33, 0.33], 3e-3: [0.26, DIV, 0.30, 0.30, 0.30],
             1e-2: [0.33] * 5, 3e-2: [0.33] * 5},
    # Two solved runs at 0.001 and at 0.003: the lower mean MSE (0.003's) breaks the tie.
    "rnn21": {3e-4: [FAILED] * 5, 1e-3: [SOLVED, SOLVED, 0.3, 0.3, 0.3],
              3e-3: [SOLVED, SOLVED, 0.2, 0.2, 0.2],
              1e-2: [SOLVED, DIV, FAILED, FAILED, FAILED], 3e-2: [DIV] * 5},
}
CHRONO_GRID = {      # all solved: the lowest mean MSE decides
    "chrono": {1e-3: [0.01] * 3, 3e-3: [0.005] * 3, 1e-2: [0.001] * 3, 3e-2: [0.002] * 3},
    "lstmlog": {1e-3: [0.01] * 3, 3e-3: [0.001] * 3, 1e-2: [0.002] * 3, 3e-2: [0.01] * 3},
    "lstmmean": {1e-3: [0.001] * 3, 3e-3: [0.01] * 3, 1e-2: [0.01] * 3, 3e-2: [DIV] * 3},
    "lstm3": {1e-3: [0.01] * 3, 3e-3: [0.01] * 3, 1e-2: [0.01] * 3, 3e-2: [0.0001] * 3},
}
RATES = {("primary", "lstm"): (1e-3, "mse"), ("primary", "rnn21"): (3e-3, "solved"),
         ("chrono", "chrono"): (1e-2, "solved"), ("chrono", "chrono50"): (1e-2, "solved"),
         ("chrono", "lstmlog"): (3e-3, "solved"), ("chrono", "lstmmean"): (1e-3, "solved"),
         ("chrono", "lstm3"): (3e-2, "solved")}


def primary_bits(only_lstm, only_rnn):
    """Bits per seed (40) of each primary arm after each budget; None for a diverged run.

    Seeds 0-4 both solve; then ``only_lstm`` seeds only the LSTM, ``only_rnn``
    only the RNN; the rest neither, where the RNN ends at 0.6 to 0.72 bits (so
    at 0.5 bits it solves them). The LSTM's last seed diverges before 5000
    updates; the RNN's seed 0 diverges between 20 000 and 40 000. After 5000
    updates no run but the first five has learned; after 10 000 the RNN's
    only-RNN seeds are still at 0.4 bits. Every difference in bits is distinct.
    """
    n = C.PRIMARY_FRESH["repeats"]
    lstm, rnn = {}, {}
    for r in range(n):
        eps = r * 1e-3
        if r < 5:
            a, b = 3.0 + eps, 2.8 + 1.3 * eps
        elif r < 5 + only_lstm:
            a, b = 2.0 + eps, 0.2 + 1.7 * eps
        elif r < 5 + only_lstm + only_rnn:
            a, b = 0.3 + eps, 2.5 + 2.3 * eps
        else:
            a, b = 0.1 + 4 * eps, 0.6 + 3 * eps
        lstm[r] = {5000: a if r < 5 else 0.05 + eps, 10_000: a, 20_000: a, 40_000: a}
        late = b if not 5 + only_lstm <= r < 5 + only_lstm + only_rnn else 0.4 + 1.1 * eps
        rnn[r] = {5000: b if r < 5 else 0.07 + 2.9 * eps, 10_000: late, 20_000: b, 40_000: b}
    lstm[n - 1] = dict.fromkeys(C.BUDGETS)
    rnn[0][40_000] = None
    return lstm, rnn


def _final_runs(settings, bits, cpu):
    def mse(b):
        return None if b is None else float(mse_for_bits(b))
    marks = [{k: mse(bits[r][k]) for k in settings.checkpoints} for r in range(len(bits))]
    return _runs(settings, [mse(bits[r][settings.steps]) for r in range(len(bits))], cpu, marks)


CHRONO_OUTCOMES = {   # solved (True) per seed at T = 200, 10 seeds; chrono as run first
    "chrono": [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
    "chrono50": [0, 0, 0, 0, 0, 0, 1, 1, 0, 0],       # 6 only chrono, 0 only chrono50: p = 2/64
    "lstmlog": [1, 1, 1, 1, 1, 1, 0, 0, 1, 0],        # 2 against 1: p = 1
    "lstmmean": [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],       # no discordant seed: p = 1
    "lstm3": [1, 1, 1, 1, 1, 0, 0, 0, 0, 0],          # 3 against 0: p = 0.25
}


def build(root, *, only_lstm=1, only_rnn=7, chrono_grid=None, finals=True):
    """A whole synthetic experiment: the contest's reused sweeps in ROOT/contest, the rest in ROOT/runs."""
    runs, contest_dir = root / "runs", root / "contest"
    grids = dict(CHRONO_GRID, **(chrono_grid or {}))
    for part, arm in C.arms():
        table = PRIMARY_GRID if part == "primary" else grids
        if arm in C.GRID_TWIN:
            continue
        for lr in C.rate_grid(part):
            name = C.grid_sweep_name(part, arm, lr)
            stage = "primary-grid" if part == "primary" else "chrono-grid"
            s = C.arm_settings(arm, lr, stage=stage)
            reused = name.startswith("gating-")
            cpu = REUSED_CPU if reused else GRID_CPU
            _write(contest_dir if reused else runs, name, s, _runs(s, table[arm][lr], cpu))
    # The contest's runs at T = 200 (rate 0.01) of chrono and bias 3.
    for arm in ("chrono", "lstm3"):
        s = S.gating_final(arm, "adam", 1e-2, lengths=(200,))
        mses = [SOLVED if w else FAILED for w in CHRONO_OUTCOMES[arm]]
        _write(contest_dir, contest.sweep_name((arm, "adam"), 200), s, _runs(s, mses, REUSED_CPU, [{}] * 10))
    if not finals:
        return runs, contest_dir
    lstm, rnn = primary_bits(only_lstm, only_rnn)
    for arm, bits in (("lstm", lstm), ("rnn21", rnn)):
        lr = RATES["primary", arm][0]
        s = C.arm_settings(arm, lr, stage="primary")
        _write(runs, C.final_sweep_name("primary", arm, lr), s, _final_runs(s, bits, FINAL_CPU))
    rates = {k: v for k, v in RATES.items()}
    if chrono_grid:
        rates = {k: (lr, how) for k, (lr, how) in C.load(runs, contest_dir)["rates"].items()}
    for arm in ("chrono", "chrono50", "lstmlog", "lstmmean", "lstm3"):
        lr = rates["chrono", arm][0]
        name = C.final_sweep_name("chrono", arm, lr)
        if name.startswith("gating-"):
            continue
        s = C.arm_settings(arm, lr, stage="chrono")
        mses = [SOLVED if w else FAILED for w in CHRONO_OUTCOMES[arm]]
        _write(runs, name, s, _runs(s, mses, FINAL_CPU, [{}] * 10))
    return runs, contest_dir


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    root = tmp_path_factory.mktemp("confirm")
    runs, contest_dir = build(root)
    return C.load(runs, contest_dir)


# --- the rate rule ----------------------------------------------------------------------------------

def _grid(mses_by_rate):
    s = C.arm_settings("rnn21", 1e-3, stage="primary-grid")
    return {lr: SweepResult(s.replace(lr=lr, repeats=len(m)), _runs(s, m, 1.0))
            for lr, m in mses_by_rate.items()}


def test_a_diverged_run_counts_as_ten_thirds():
    # 0.001: a solved run and a diverged one; 0.01: the same solved run and an MSE of 3.2.
    # With 10/3 the diverged run weighs more than 3.2; left out, or as 1/3, it would weigh less.
    assert C.choose_rate(_grid({1e-3: [SOLVED, DIV], 1e-2: [SOLVED, 3.2]})) == (1e-2, "solved")
    assert C.run_mse({"eval_mse": None, "diverged": True}) == 10 / 3
    # An MSE above 10/3 counts as 10/3 too: a tie, which the smaller rate wins, in either order.
    assert C.choose_rate(_grid({3e-3: [SOLVED, DIV], 1e-3: [SOLVED, 3.5]})) == (1e-3, "solved")
    assert C.choose_rate(_grid({1e-3: [SOLVED, 3.5], 3e-3: [SOLVED, DIV]})) == (1e-3, "solved")


def test_solved_runs_first_then_mse_then_the_smaller_rate():
    assert C.choose_rate(_grid({1e-3: [SOLVED, SOLVED, 0.33], 1e-2: [0.001, 0.3, 0.3]})) == (1e-3, "solved")
    assert C.choose_rate(_grid({1e-3: [SOLVED, 0.3], 1e-2: [SOLVED, 0.2]})) == (1e-2, "solved")
    assert C.choose_rate(_grid({1e-2: [SOLVED, 0.2], 1e-3: [SOLVED, 0.2]})) == (1e-3, "solved")
    assert C.choose_rate(_grid({1e-3: [0.3, 0.3], 1e-2: [0.3, 0.29]})) == (1e-2, "mse")


@pytest.mark.parametrize("bad", [float("nan"), -0.1])
def test_a_run_without_a_usable_mse_is_refused(bad):
    with pytest.raises(ValueError, match="held-out MSE"):
        C.choose_rate(_grid({1e-3: [SOLVED, bad]}))


def test_load_applies_the_rule_and_reuses_the_contests_runs(experiment):
    assert experiment["rates"] == RATES
    assert experiment["incomplete"] == {}
    src = experiment["sources"]
    for lr in S.LR_GRID["adam"]:
        for arm in ("chrono", "chrono50"):
            assert src["chrono", arm, lr] == f"gating-grid-chrono-adam-{lr:g}"
        assert src["chrono", "lstm3", lr] == f"gating-grid-lstm3-adam-{lr:g}"
    assert src["chrono", "chrono50", 3e-2] == src["chrono", "chrono", 3e-2] == "chrono-grid-chrono-0.03"
    assert experiment["grid"]["chrono", "chrono50", 3e-2] is experiment["grid"]["chrono", "chrono", 3e-2]
    # Chrono kept the contest's 0.01: its T = 200 runs are the contest's. Bias 3 kept 0.03: new runs.
    assert src["chrono", "chrono"] == "gating-chrono-adam-T200"
    assert src["chrono", "lstm3"] == "chrono-lstm3-0.03"
    assert src["chrono", "chrono50"] == "chrono-chrono50-0.01"
    assert src["primary", "lstm"] == "confirm-lstm-0.001" and src["primary", "rnn21"] == "confirm-rnn21-0.003"


def test_chrono_gets_new_runs_when_its_rate_moves(tmp_path):
    grid = {"chrono": {1e-3: [0.01] * 3, 3e-3: [0.005] * 3, 1e-2: [0.001] * 3, 3e-2: [0.0001] * 3}}
    runs, contest_dir = build(tmp_path, chrono_grid=grid)
    data = C.load(runs, contest_dir)
    assert data["rates"]["chrono", "chrono"] == data["rates"]["chrono", "chrono50"] == (3e-2, "solved")
    assert data["sources"]["chrono", "chrono"] == "chrono-chrono-0.03"
    assert data["incomplete"] == {}


def test_load_names_what_is_missing_and_refuses_foreign_settings(tmp_path):
    runs, contest_dir = build(tmp_path, finals=False)
    data = C.load(runs, contest_dir)
    assert set(data["incomplete"]) == {"confirm-lstm-0.001", "confirm-rnn21-0.003", "chrono-chrono50-0.01",
                                       "chrono-lstmlog-0.003", "chrono-lstmmean-0.001", "chrono-lstm3-0.03"}
    assert data["incomplete"]["confirm-lstm-0.001"] == (0, 40)
    assert "gating-chrono-adam-T200" not in data["incomplete"]
    # A grid sweep short of runs: that arm gets no rate, and its finals are not yet known.
    path = runs / "confirm-grid-rnn21-0.03" / S.RESULTS_NAME
    short = json.loads(path.read_text())
    short["runs"] = short["runs"][:2]
    path.write_text(json.dumps(short))
    data = C.load(runs, contest_dir)
    assert data["incomplete"]["confirm-grid-rnn21-0.03"] == (2, 5)
    assert ("primary", "rnn21") not in data["rates"] and "confirm-rnn21-0.003" not in data["incomplete"]
    rows = {r["arm"]: r for r in C.grid_rows(data, "primary")}
    assert rows["rnn21"]["rate"] is None and rows["rnn21"]["cells"][3e-2]["runs"] == 2
    assert "none yet: grid incomplete" in C.grid_markdown(data, "primary")
    assert "(2 of 5 run)" in C.grid_markdown(data, "primary")
    # A sweep with other settings than the plan's is refused, by name.
    res = SweepResult(C.arm_settings("lstm", 1e-3, stage="primary-grid").replace(seed=7), [])
    _io.write_text(runs / "confirm-grid-lstm-0.001" / S.RESULTS_NAME, res.to_text())
    with pytest.raises(ValueError, match="confirm-grid-lstm-0.001.*seed 7.*plan expects"):
        C.load(runs, contest_dir)


# --- the rate grids ---------------------------------------------------------------------------------

def test_grid_rows_count_solved_runs_and_mean_mse(experiment):
    rows = {r["arm"]: r for r in C.grid_rows(experiment, "primary")}
    lstm, rnn = rows["lstm"], rows["rnn21"]
    assert lstm["rate"] == 1e-3 and lstm["noise"] and lstm["how"] == "mse"
    assert rnn["rate"] == 3e-3 and not rnn["noise"]
    assert lstm["cells"][3e-3]["mse"] == pytest.approx((0.26 + 10 / 3 + 0.9) / 5)
    assert rnn["cells"][1e-2] == {"solved": 1, "runs": 5, "planned": 5,
                                  "mse": pytest.approx((0.05 + 10 / 3 + 0.9) / 5),
                                  "source": "confirm-grid-rnn21-0.01", "reused": False}
    assert [rnn["cells"][lr]["solved"] for lr in C.PRIMARY_GRID] == [0, 2, 2, 1, 0]
    text = C.grid_markdown(experiment, "primary")
    assert "| LSTM, forget bias 1 |" in text and "0.001, by noise: no selection run solved" in text
    assert "**2/5, 0.14**" in text
    assert text.count("**") == 4, "one bold cell per arm"
    chrono = {r["arm"]: r for r in C.grid_rows(experiment, "chrono")}
    assert chrono["chrono50"]["twin"] == "chrono" and chrono["chrono50"]["cells"] == chrono["chrono"]["cells"]
    assert [chrono["lstm3"]["cells"][lr]["reused"] for lr in C.CHRONO_GRID] == [True, True, True, False]
    text = C.grid_markdown(experiment, "chrono")
    assert "chrono, T fixed at 50 ‡" in text and "†" in text and "by noise" not in text
    bare = C.grid_markdown(experiment, "chrono", notes=False)
    assert text.startswith(bare) and "Each cell" in text and "Each cell" not in bare
    with pytest.raises(ValueError, match="part"):
        C.grid_rows(experiment, "nope")


# --- the primary and its verdict ------------------------------------------------------------------

def _binomtest(only_a, only_b):
    n = only_a + only_b
    return 1.0 if n == 0 else scipy_stats.binomtest(only_a, n, 0.5).pvalue


def _newcombe(a, b):
    """Newcombe's (1998) method 10, from SciPy's Wilson limits, with his corrected phi.

    SciPy's z is 1.959964, the package's 1.96: the limits agree to about 3e-6.
    """
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    n = a.size
    A, B, Cc, D = (int(np.sum(x)) for x in (a & b, a & ~b, ~a & b, ~a & ~b))
    p1, p2 = (A + B) / n, (A + Cc) / n
    w1 = scipy_stats.binomtest(A + B, n).proportion_ci(method="wilson")
    w2 = scipy_stats.binomtest(A + Cc, n).proportion_ci(method="wilson")
    num = A * D - B * Cc
    num = num - n / 2 if num > n / 2 else (0 if num >= 0 else num)
    den = (A + B) * (Cc + D) * (A + Cc) * (B + D)
    phi = num / math.sqrt(den) if den else 0.0
    d1, e1, d2, e2 = p1 - w1.low, w1.high - p1, p2 - w2.low, w2.high - p2
    return (p1 - p2 - math.sqrt(d1 ** 2 - 2 * phi * d1 * e2 + e2 ** 2),
            p1 - p2 + math.sqrt(e1 ** 2 - 2 * phi * e1 * d2 + d2 ** 2))


def _flags(bits, budget, threshold):
    return [bits[r][budget] is not None and bits[r][budget] >= threshold for r in sorted(bits)]


def test_primary_at_20000_and_one_bit_against_scipy(experiment):
    row = C.primary(experiment)
    lstm, rnn = primary_bits(1, 7)
    a, b = _flags(lstm, 20_000, 1.0), _flags(rnn, 20_000, 1.0)
    assert (row["n"], row["wins_a"], row["wins_b"], row["only_a"], row["only_b"]) == (40, 6, 12, 1, 7)
    assert row["p"] == pytest.approx(_binomtest(1, 7)) == pytest.approx(18 / 256)
    assert (row["low"], row["high"]) == pytest.approx(_newcombe(a, b), abs=1e-5)
    assert row["diff"] == pytest.approx(-6 / 40) and row["low"] < -6 / 40 < row["high"]
    x = [lstm[r][20_000] or 0.0 for r in range(40)]
    y = [rnn[r][20_000] or 0.0 for r in range(40)]
    assert len({abs(u - v) for u, v in zip(x, y)}) == 40, "no ties, so both p-values are exact"
    assert row["p_bits"] == pytest.approx(scipy_stats.wilcoxon(x, y, method="exact").pvalue, rel=1e-9)


def test_verdict_follows_the_planned_test(tmp_path, experiment):
    # p = 0.070: not shown, with the interval; never "no difference".
    row = C.primary(experiment)
    assert row["verdict"] == "not shown" and row["ahead"] == "rnn21" and row["complete"]
    assert "does not reject at the 5 % level" in row["text"] and "no difference" not in row["text"]
    assert f"runs from {100 * row['low']:+.0f} to {100 * row['high']:+.0f} points" in row["text"]
    assert "the LSTM with bias 1 minus the RNN with H = 21" in row["text"]
    assert "0.001, was chosen by noise" in row["text"], "the arm whose rate noise chose is named"
    # p = 0.012: rejects, and names the RNN as the better arm.
    runs, contest_dir = build(tmp_path / "rnn", only_lstm=1, only_rnn=10)
    row = C.primary(C.load(runs, contest_dir))
    assert row["p"] == pytest.approx(_binomtest(1, 10)) == pytest.approx(24 / 2048)
    assert row["verdict"] == "rejects" and row["ahead"] == "rnn21"
    assert "rejects at the 5 % level: the RNN with H = 21 beats the LSTM with bias 1" in row["text"]
    # The other way round: the LSTM ahead, named as such.
    runs, contest_dir = build(tmp_path / "lstm", only_lstm=10, only_rnn=1)
    data = C.load(runs, contest_dir)
    row = C.primary(data)
    assert row["verdict"] == "rejects" and row["ahead"] == "lstm" and row["low"] > 0
    assert "the LSTM with bias 1 beats the RNN with H = 21" in row["text"]
    # Swapping the arms swaps the counts and flips the sign of the difference and its interval.
    swapped = C.compare_arms(data, "primary", "rnn21", "lstm", budget=20_000, threshold_bits=1.0)
    assert (swapped["only_a"], swapped["only_b"]) == (row["only_b"], row["only_a"])
    assert swapped["p"] == row["p"] and swapped["diff"] == pytest.approx(-row["diff"])
    assert (swapped["low"], swapped["high"]) == pytest.approx((-row["high"], -row["low"]))
    assert C.verdict(swapped) == "rejects"


def test_verdict_needs_p_below_alpha():
    assert C.verdict({"p": 0.049, "only_a": 0, "only_b": 6}) == "rejects"
    assert C.verdict({"p": 0.05, "only_a": 0, "only_b": 6}) == "not shown"
    assert C.verdict({"p": 0.07, "only_a": 1, "only_b": 7}) == "not shown"
    with pytest.raises(ValueError, match="p must lie"):
        C.verdict({"p": float("nan"), "only_a": 0, "only_b": 0})


def test_the_primary_waits_for_its_forty_seeds(tmp_path):
    runs, contest_dir = build(tmp_path)
    path = runs / "confirm-rnn21-0.003" / S.RESULTS_NAME
    data = json.loads(path.read_text())
    data["runs"] = data["runs"][:30]
    path.write_text(json.dumps(data))
    data = C.load(runs, contest_dir)
    assert data["incomplete"] == {"confirm-rnn21-0.003": (30, 40)}
    with pytest.raises(ValueError, match="40 shared seeds per arm; found 30"):
        C.primary(data)
    row = C.primary(data, partial=True)
    assert row["n"] == 30 and not row["complete"]
    with pytest.raises(ValueError, match="not complete"):
        C.numbers(data)


# --- the exploratory grid ---------------------------------------------------------------------------

def test_every_budget_and_threshold(experiment):
    rows = C.exploratory(experiment)
    assert [(r["budget"], r["threshold"]) for r in rows] == [(k, t) for k in C.BUDGETS for t in C.THRESHOLDS]
    assert [(r["budget"], r["threshold"]) for r in rows if r["primary"]] == [(20_000, 1.0)]
    lstm, rnn = primary_bits(1, 7)
    for r in rows:
        a, b = _flags(lstm, r["budget"], r["threshold"]), _flags(rnn, r["budget"], r["threshold"])
        assert (r["wins_a"], r["wins_b"]) == (sum(a), sum(b)), (r["budget"], r["threshold"])
        assert (r["only_a"], r["only_b"]) == (sum(x and not y for x, y in zip(a, b)),
                                              sum(y and not x for x, y in zip(a, b)))
        assert r["p"] == pytest.approx(_binomtest(r["only_a"], r["only_b"]))
        assert (r["low"], r["high"]) == pytest.approx(_newcombe(a, b), abs=1e-5)
    at = {(r["budget"], r["threshold"]): r for r in rows}
    # At 0.5 bits the RNN's runs at 0.6-0.72 bits count; at 0.75 they do not.
    assert at[20_000, 0.5]["wins_b"] - at[20_000, 0.75]["wins_b"] == 40 - 5 - 1 - 7
    # After 10 000 updates the only-RNN seeds have not learned yet; after 40 000 the RNN's seed 0 diverged.
    assert at[10_000, 1.0]["only_b"] == 0 and at[40_000, 1.0]["only_a"] == at[20_000, 1.0]["only_a"] + 1
    assert at[5000, 1.0]["wins_a"] == at[5000, 1.0]["wins_b"] == 5
    # The signed-rank test is on bits, so it moves with the budget and not with the threshold.
    for k in C.BUDGETS:
        x = [lstm[r][k] or 0.0 for r in range(40)]
        y = [rnn[r][k] or 0.0 for r in range(40)]
        assert len({at[k, t]["p_bits"] for t in C.THRESHOLDS}) == 1
        assert at[k, 1.0]["p_bits"] == pytest.approx(scipy_stats.wilcoxon(x, y).pvalue, rel=1e-6)
    text = C.exploratory_markdown(rows)
    assert text.count("(primary)") == 1 and len(text.splitlines()) == 2 + 20
    assert text.startswith("| updates | bits | LSTM solved | RNN solved | only LSTM | only RNN |")
    assert "| **20 000** | **1** (primary) |" in text
    bits = C.bits_markdown(rows)
    assert len(bits.splitlines()) == 2 + 4 and "| 40 000 |" in bits


# --- the chrono confound -------------------------------------------------------------------------

def test_chrono_table_is_holm_adjusted_over_three(experiment):
    rows = C.chrono_rows(experiment)
    assert [r["b"] for r in rows] == ["chrono50", "lstmlog", "lstmmean", "lstm3"]
    by = {r["b"]: r for r in rows}
    a = CHRONO_OUTCOMES["chrono"]
    for b, r in by.items():
        o = CHRONO_OUTCOMES[b]
        only_a, only_b = sum(x and not y for x, y in zip(a, o)), sum(y and not x for x, y in zip(a, o))
        assert (r["n"], r["wins_a"], r["wins_b"]) == (10, sum(a), sum(o))
        assert (r["only_a"], r["only_b"]) == (only_a, only_b)
        assert r["p"] == pytest.approx(_binomtest(only_a, only_b))
        assert (r["low"], r["high"]) == pytest.approx(_newcombe(a, o), abs=1e-5)
    assert by["chrono50"]["p"] == pytest.approx(2 / 64)
    # Holm over the three, by hand: 3 x 2/64, then the larger ones, monotone and capped at 1.
    assert [by[b]["p_holm"] for b in C.CHRONO_FAMILY] == pytest.approx([3 * 2 / 64, 1.0, 1.0])
    ps = sorted(by[b]["p_bits"] for b in C.CHRONO_FAMILY)
    hand = [min(1, 3 * ps[0]), min(1, max(3 * ps[0], 2 * ps[1])), min(1, max(3 * ps[0], 2 * ps[1], ps[2]))]
    assert sorted(by[b]["p_bits_holm"] for b in C.CHRONO_FAMILY) == pytest.approx(hand)
    assert "p_holm" not in by["lstm3"] and by["lstm3"]["family"] == "shown"
    assert by["lstm3"]["p"] == pytest.approx(0.25)
    text = C.chrono_markdown(rows)
    assert "| chrono, T fixed at 50 | 8/10 | 2/10 | 6 | 0 | 0.031 | 0.094 | " in text
    assert "shown, not in the three" in text


# --- cost and glue ------------------------------------------------------------------------------------

def test_cpu_hours_count_this_experiments_runs_only(tmp_path):
    runs, contest_dir = build(tmp_path)
    path = runs / "confirm-grid-lstm-0.001" / S.RESULTS_NAME     # one run recorded no CPU time
    data = json.loads(path.read_text())
    del data["runs"][0]["cpu_time"]
    path.write_text(json.dumps(data))
    cost = C.cpu_hours(C.load(runs, contest_dir))
    new_chrono_grid = 2 + 4 + 4          # chrono and bias 3 at 0.03; the two new arms
    assert cost["grid_primary"] == pytest.approx((49 * GRID_CPU + 2 * GRID_CPU) / 3600)
    assert cost["grid_chrono"] == pytest.approx(new_chrono_grid * 3 * GRID_CPU / 3600)
    assert cost["final_primary"] == pytest.approx(80 * FINAL_CPU / 3600)
    assert cost["final_chrono"] == pytest.approx(40 * FINAL_CPU / 3600)     # chrono50, log, mean, bias 3
    assert cost["total"] == pytest.approx(cost["grid"] + cost["final"])
    assert cost["runs"] == 50 + 30 + 80 + 40 and cost["wall_only"] == 1
    assert cost["reused"] == 6 * 3 + 10             # the contest's grid runs, chrono at T = 200


def test_numbers_for_the_chapter(experiment):
    out = C.numbers(experiment)
    assert out["conf_rate_lstm"] == "0.001" and out["conf_how_lstm"] == "chosen by noise"
    assert out["conf_how_rnn21"] == "tuned" and out["conf_noise"] == "the LSTM with bias 1"
    assert (out["conf_wins_lstm"], out["conf_wins_rnn21"]) == (6, 12)
    assert (out["conf_only_lstm"], out["conf_only_rnn21"]) == (1, 7)
    assert out["conf_verdict"] == "not shown" and out["conf_p"] == pytest.approx(18 / 256)
    assert out["conf_budget_counts"] == ("5 against 5 after 5 000, 6 against 5 after 10 000, 6 against 12 "
                                         "after 20 000 and 6 against 11 after 40 000")
    assert (out["conf_early_budgets"], out["conf_early_last"], out["conf_last_budget"]) == (
        "5 000 and 10 000", "10 000", "40 000")
    assert out["conf_early_max"] == 6                       # the LSTM after 10 000
    # The one seed only the LSTM solves is its own at 10 000 updates above half a bit; at half a bit
    # the RNN's near misses (0.6 to 0.72 bits) count, and the RNN leads.
    assert out["conf_lstm_leads"] == "after 10 000 updates at 0.75, 1, 1.5 and 2 bits"
    assert out["conf_lstm_lead_best"] == "1 seed to 0 at 0.75 bits after 10 000 updates (exact $p$ = 1)"
    assert out["conf_p_text"] == "p = 0.07"
    assert out["conf_cpu_total"] == pytest.approx(C.cpu_hours(experiment)["total"])
    assert out["conf_power_45"] == pytest.approx(78, abs=2)
    assert out["conf_power_40"] == pytest.approx(63, abs=2)
    plan = (out["conf_alpha"], out["conf_min_diff"], out["conf_pairs"], out["conf_budget"])
    assert plan == (0.05, 25, 40, "20 000")
    for key in ("conf_grid_primary", "conf_grid_chrono", "conf_explore_table", "conf_bits_table",
                "conf_chrono_table"):
        assert out[key].startswith("| ")


def test_choice_words_say_what_decided_the_rate(experiment, tmp_path):
    said = {arm: C.choice_words(experiment, part, arm) for part, arm in C.arms()}
    assert said["rnn21"] == ("2 of 5 selection runs solved at each of 0.001 and 0.003: the lower mean "
                             "held-out MSE, 0.14 at 0.003 against 0.2 at 0.001, decided")
    assert said["lstm"] == ("no selection run solved at any rate, so noise chose: the lower mean held-out "
                            "MSE, 0.318 at 0.001 against 0.33 at 0.0003, decided")
    assert said["lstm3"] == ("3 of 3 selection runs solved at each of 0.001, 0.003, 0.01 and 0.03: the "
                             "lower mean held-out MSE, 0.0001 at 0.03 against 0.01 at 0.001, decided; "
                             "0.03 is the highest rate of the grid")
    assert said["lstmmean"].endswith("0.001 is the lowest rate of the grid")    # 0.03 diverged: not tied
    assert "0.001, 0.003 and 0.01:" in said["lstmmean"]
    assert said["chrono50"] == said["chrono"]                                   # one grid, shared
    one = C.load(*build(tmp_path, finals=False, chrono_grid={
        "lstmlog": {1e-3: [FAILED] * 3, 3e-3: [SOLVED] * 3, 1e-2: [SOLVED, FAILED, FAILED],
                    3e-2: [FAILED] * 3}}))
    assert C.choice_words(one, "chrono", "lstmlog") == ("3 of 3 selection runs solved at 0.003, more than "
                                                        "at any other rate")
    short = C.load(*build(tmp_path / "short", finals=False))
    (tmp_path / "short" / "runs" / "confirm-grid-lstm-0.01" / S.RESULTS_NAME).unlink()
    with pytest.raises(ValueError, match="no rate chosen yet for 'lstm'"):
        C.choice_words(C.load(*(tmp_path / "short" / d for d in ("runs", "contest"))), "primary", "lstm")
    assert C.choice_words(short, "primary", "rnn21") == said["rnn21"]


def test_numbers_name_each_chrono_comparison_bound_to_holm(experiment):
    out = C.numbers(experiment)
    assert out["conf_chrono_wins"] == "8 of 10"
    assert (out["conf_chrono_chrono50_wins"], out["conf_chrono_chrono50_only_a"],
            out["conf_chrono_chrono50_only_b"]) == ("2 of 10", 6, 0)
    assert out["conf_chrono_chrono50_p"] == pytest.approx(2 / 64)
    assert out["conf_chrono_chrono50_p_holm"] == pytest.approx(3 * 2 / 64)
    assert "beats" not in out["conf_chrono_chrono50_text"]            # 0.094 after Holm: not shown
    assert "does not reject" in out["conf_chrono_chrono50_text"]
    assert "conf_chrono_lstm3_p_holm" not in out and "conf_chrono_lstm3_text" not in out   # shown beside
    assert out["conf_chrono_lstm3_only_a"] == 3 and out["conf_choice_rnn21"].startswith("2 of 5")


def test_numbers_give_the_design_and_what_decided_the_rates(experiment):
    out = C.numbers(experiment)
    assert (out["conf_batch"], out["conf_grid_rates"]) == (256, "0.0003, 0.001, 0.003, 0.01 and 0.03")
    assert out["conf_fresh_seed"] == 3
    assert out["conf_chrono_rates"] == "0.001, 0.003, 0.01 and 0.03"
    assert out["conf_fixed_max"] == pytest.approx(math.log(49))
    assert out["conf_fixed_mean"] == pytest.approx(np.mean(np.log(np.linspace(1, 49, 2_000_001))), abs=1e-6)
    assert (out["conf_log_bias"], out["conf_mean_bias"]) == (5.2933, 4.32)
    assert out["conf_chrono_top"] == "the constant bias of 3"          # bias 3 kept 0.03
    # lstm3: 0.0001 against 0.01; lstmmean: 0.001 against 0.01 among the three that solve
    # (its diverged 0.03 does not tie); chrono and lstmlog: 0.001 apart.
    assert out["conf_chrono_gap"] == pytest.approx(0.0099)
    assert out["conf_lstm_tie_seeds"] == "no selection seed"          # the LSTM solved nothing


# --- shipping -----------------------------------------------------------------------------------------

def _listing(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_ship_confirm_ships_both_stages_thinned(tmp_path):
    runs, contest_dir = build(tmp_path)
    out = tmp_path / "out"
    names = ship_gating.ship_confirm(runs, out, contest_folder=contest_dir)
    finals = ["chrono-chrono50-0.01", "chrono-lstm3-0.03", "chrono-lstmlog-0.003", "chrono-lstmmean-0.001",
              "confirm-lstm-0.001", "confirm-rnn21-0.003"]
    assert names == sorted(C.grid_profiles()) + finals
    assert _listing(out) == sorted(f"{n}.json" for n in names), "no temporary file left"
    for name in names:
        runs_ = json.loads((out / f"{name}.json").read_text())["runs"]
        grid = "-grid-" in name
        assert all("losses" not in r and "loss_steps" not in r and "grad_max_per_log" not in r for r in runs_)
        assert all(("probe" in r) is not grid for r in runs_), name
    shipped, raw = C.load(out, contest_dir), C.load(runs, contest_dir)
    assert shipped["rates"] == raw["rates"] and shipped["incomplete"] == {}
    assert C.numbers(shipped) == C.numbers(raw)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    ship_gating.ship_confirm(runs, out, contest_folder=contest_dir)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_ship_confirm_refuses_an_incomplete_stage(tmp_path):
    runs, contest_dir = build(tmp_path)
    out = tmp_path / "out"
    path = runs / "confirm-grid-rnn21-0.03" / S.RESULTS_NAME
    data = json.loads(path.read_text())
    data["runs"] = data["runs"][:1]
    path.write_text(json.dumps(data))
    for stage in ("all", "grid"):
        with pytest.raises(ValueError, match="confirm-grid-rnn21-0.03 has 1 of 5 runs"):
            ship_gating.ship_confirm(runs, out, stage, contest_folder=contest_dir)
        assert _listing(out) == [], "nothing written"
    with pytest.raises(ValueError, match="cannot ship before the grid is complete"):
        ship_gating.ship_confirm(runs, out, "all", partial_grid=True, contest_folder=contest_dir)
    names = ship_gating.ship_confirm(runs, out, "grid", partial_grid=True, contest_folder=contest_dir)
    assert names == sorted(C.grid_profiles())
    assert C.load(out, contest_dir)["incomplete"]["confirm-grid-rnn21-0.03"] == (1, 5)
    with pytest.raises(ValueError, match="stage must be"):
        ship_gating.confirm_sweeps(runs, "final")


def test_ship_confirm_refuses_short_finals_and_foreign_folders(tmp_path):
    runs, contest_dir = build(tmp_path)
    out = tmp_path / "out"
    path = runs / "confirm-lstm-0.001" / S.RESULTS_NAME
    full = path.read_text()
    data = json.loads(full)
    data["runs"] = data["runs"][:39]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="fresh-seed stage is not complete: confirm-lstm-0.001 has 39 of 40"):
        ship_gating.ship_confirm(runs, out, contest_folder=contest_dir)
    assert _listing(out) == []
    grid = ship_gating.ship_confirm(runs, out, "grid", contest_folder=contest_dir)
    assert grid == sorted(C.grid_profiles())
    path.write_text(full)
    # A final at a rate the grid did not choose is not the plan's.
    s = C.arm_settings("lstm", 3e-2, stage="primary")
    _write(runs, "confirm-lstm-0.03", s, _runs(s, [0.3] * 40, 1.0))
    with pytest.raises(ValueError, match="confirm-lstm-0.03 is not a sweep of the plan at the chosen rates"):
        ship_gating.ship_confirm(runs, tmp_path / "out2", contest_folder=contest_dir)
    assert not (tmp_path / "out2").exists()


def test_ship_gating_main_refuses_before_writing(tmp_path, monkeypatch, capsys):
    runs, contest_dir = build(tmp_path, finals=False)
    for p in contest_dir.iterdir():              # the raw runs folder holds the contest's sweeps too
        os.rename(p, runs / p.name)
    out, conf = tmp_path / "gating", tmp_path / "confirm"
    argv = ["ship_gating", str(runs), "--out", str(out), "--confirm-out", str(conf)]
    monkeypatch.setattr("sys.argv", argv)
    with pytest.raises(SystemExit, match="fresh-seed stage is not complete"):
        ship_gating.main()
    assert _listing(out) == _listing(conf) == []
    monkeypatch.setattr("sys.argv", argv + ["--confirm", "grid"])
    ship_gating.main()
    assert len(_listing(conf)) == len(C.grid_profiles())
    assert len(_listing(out)) == 6 + 2, "the contest's reused sweeps ship with the contest"
    assert "20 sweeps" in capsys.readouterr().out


def test_shipped_confirm_results_are_the_raw_runs_thinned():
    from pathlib import Path
    raw_runs = Path(__file__).resolve().parent.parent / "experiments" / "gating" / "runs"
    files = sorted(C.shipped_folder().glob("*.json"))
    if not files:
        pytest.skip("no confirmatory results ship yet")
    for path in files:
        raw = raw_runs / path.stem / S.RESULTS_NAME
        assert raw.exists(), f"{path.name} ships, but its raw runs {raw} are missing"
        expected = ship_gating.thin(json.loads(raw.read_text(encoding="utf-8")), grid="-grid-" in path.stem)
        assert json.loads(path.read_text(encoding="utf-8")) == expected, (
            f"{path.name} is not its raw runs thinned: run `python -m tools.ship_gating` again")
    data = C.load()
    assert {data["sources"][k] for k in list(data["grid"]) + list(data["final"])} >= {p.stem for p in files}
