"""The confirmatory experiment's plan as code (memrnn.confirm), and the chrono start's definition."""

import math

import numpy as np
import pytest

from memrnn import confirm as C
from memrnn import settings as S
from memrnn.results import SweepResult
from memrnn.run import make_model, run_seed


def test_chrono_biases_follow_their_definition():
    # Tallec & Ollivier: b_f = log u with u ~ U(1, T - 1) per unit, b_i = -b_f; the rest 0.
    training = S.Training(model="lstm", gate_init="chrono", hidden=10)
    for T in (10, 50, 200):
        model = make_model(training, run_seed(1, T, 0), length=T)
        H = model.hidden_size
        b = np.asarray(model.b).reshape(-1)
        b_i, b_f, rest = b[:H], b[H:2 * H], b[2 * H:]
        assert np.all(b_f >= 0) and np.all(b_f <= math.log(T - 1))
        assert np.all(b_f > 0.0) and np.ptp(b_f) > 0     # drawn, one per unit
        np.testing.assert_array_equal(b_i, -b_f)
        np.testing.assert_array_equal(rest, 0.0)


def test_chrono_tmax_fixes_the_draw_whatever_the_length():
    fixed = S.Training(model="lstm", gate_init="chrono", chrono_tmax=50)
    told = S.Training(model="lstm", gate_init="chrono")
    seed = run_seed(1, 200, 3)
    a = np.asarray(make_model(fixed, seed, length=200).b).reshape(-1)
    b = np.asarray(make_model(told, seed, length=50).b).reshape(-1)
    np.testing.assert_array_equal(a, b)
    assert a[10:20].max() <= math.log(49)


@pytest.mark.parametrize("bad", [2, 0, -5, 3.5, "50"])
def test_chrono_tmax_rejects_bad_values(bad):
    with pytest.raises((TypeError, ValueError), match="chrono_tmax"):
        S.Training(model="lstm", gate_init="chrono", chrono_tmax=bad)


def test_chrono_tmax_needs_the_chrono_start():
    with pytest.raises(ValueError, match="gate_init"):
        S.Training(model="lstm", chrono_tmax=50)


def test_old_results_files_keep_their_settings():
    d = S.SweepSettings().as_dict()
    assert "chrono_tmax" not in d
    assert S.SweepSettings.from_dict(d) == S.SweepSettings()
    d = S.SweepSettings(model="lstm", gate_init="chrono", chrono_tmax=50).as_dict()
    assert d["chrono_tmax"] == 50 and S.SweepSettings.from_dict(d).chrono_tmax == 50


def test_chrono_mean_bias_is_the_mean_of_the_draw():
    draws = np.log(np.random.default_rng(0).uniform(1, 199, size=2_000_000))
    assert C.chrono_mean_bias(200) == pytest.approx(draws.mean(), abs=3e-3)
    assert C.CHRONO_ARMS["lstmmean"]["forget_bias"] == pytest.approx(4.32, abs=1e-4)
    assert C.CHRONO_ARMS["lstmlog"]["forget_bias"] == pytest.approx(math.log(199), abs=1e-4)


def test_plan_settings():
    grid = C.grid_profiles()
    assert len(grid) == 2 * 5 + 2 + 2 * 4      # primary grid; chrono and bias 3 at 0.03; two new arms
    for s in grid.values():
        assert s.optimizer == "adam" and s.lengths == (50,) and s.steps == 20_000 and s.batch == 256
    p = C.arm_settings("lstm", 1e-3, stage="primary")
    assert (p.seed, p.repeats, p.steps, p.checkpoints) == (3, 40, 40_000, (5000, 10_000, 20_000))
    g = C.arm_settings("rnn21", 1e-3, stage="primary-grid")
    assert (g.seed, g.repeats, g.model, g.hidden) == (2, 5, "rnn", 21)
    c = C.arm_settings("chrono50", 1e-2, stage="chrono")
    assert (c.seed, c.repeats, c.lengths, c.chrono_tmax) == (1, 10, (200,), 50)
    with pytest.raises(ValueError, match="stage"):
        C.arm_settings("lstm", 1e-3, stage="nope")


def test_reused_runs_are_the_same_settings():
    from memrnn import contest
    e = contest.load_experiment()
    for arm in ("chrono", "lstm3"):
        for lr in S.LR_GRID["adam"]:
            assert e["grid"][arm, "adam", lr].settings == C.arm_settings(arm, lr, stage="chrono-grid")
        assert e["final"][arm, "adam", 200].settings.training() == \
            C.arm_settings(arm, 1e-2, stage="chrono").training()
    assert C.final_profiles({("chrono", "chrono"): 1e-2, ("chrono", "lstm3"): 1e-2}) == {}
    assert list(C.final_profiles({("chrono", "chrono"): 3e-2})) == ["chrono-chrono-0.03"]


def _runs(successes, mses):
    return SweepResult(S.SweepSettings(lengths=(50,), repeats=len(mses)),
                       [{"length": 50, "repeat": r, "success": bool(s), "eval_mse": m, "diverged": m is None}
                        for r, (s, m) in enumerate(zip(successes, mses))])


def test_choose_rate_counts_solved_runs_first():
    grid = {1e-3: _runs([1, 0, 0], [0.01, 0.3, 0.3]), 1e-2: _runs([1, 1, 0], [0.08, 0.08, 0.33])}
    assert C.choose_rate(grid) == (1e-2, "solved")


def test_choose_rate_says_when_mse_alone_decides():
    grid = {1e-3: _runs([0, 0], [0.30, 0.31]), 1e-2: _runs([0, 0], [0.33, None])}
    assert C.choose_rate(grid) == (1e-3, "mse")
    with pytest.raises(ValueError, match="empty"):
        C.choose_rate({})


def test_power_matches_the_plan():
    assert C.power(40, 0.45, 0.15) == pytest.approx(0.78, abs=0.02)
    assert C.power(40, 0.40, 0.15) == pytest.approx(0.63, abs=0.02)
    assert C.power(10, 0.45, 0.15) < 0.1
    assert C.power(20, 0.3, 0.3) < 0.05      # no difference: rejects at most alpha
