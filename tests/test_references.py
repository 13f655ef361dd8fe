"""The shipped reference runs (memrnn/results/*.json) hold what the chapters say of them.

These facts do not depend on the build: the runs were made once and ship with
the package. So they are checked here, once, rather than by hidden cells of
the chapters on every build. Each test names the chapter whose text it backs.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from memrnn import TRIVIAL_MSE, contest, information, results
from memrnn.settings import GRID_LENGTH, GRID_REPEATS, LR_GRID, PROFILES, gating_final


@cache
def experiment() -> dict:
    """Chapter 8's contest as shipped: {"grid": ..., "final": ...}."""
    return contest.load_experiment()


def final(model, optimizer, length=GRID_LENGTH):
    return experiment()["final"][model, optimizer, length]


def wins(model, optimizer, length=GRID_LENGTH) -> int:
    return sum(r["success"] for r in final(model, optimizer, length).runs)


# ----------------------------------------------------------------- chapter 4
def test_reference_runs_at_short_lengths_learn():
    """Chapter 4: every reference run at T = 10 learns something; every one at T = 5 succeeds."""
    by_length = results.reference_results("reference").by_length()
    assert max(r["eval_mse"] for r in by_length[10]) < 0.6 * TRIVIAL_MSE
    assert max(r["eval_mse"] for r in by_length[5]) <= 1 / 12


# ----------------------------------------------------------------- chapter 8
def test_the_grid_is_complete_and_run_alike():
    grid = experiment()["grid"]
    assert len(grid) == len(contest.MODELS) * sum(len(v) for v in LR_GRID.values())
    for (m, o, lr), res in grid.items():
        s = res.settings
        assert s.training() == PROFILES[f"gating-grid-{m}-{o}-{lr:g}"].training(), (m, o, lr)
        assert (s.lengths, s.repeats, s.seed) == ((GRID_LENGTH,), GRID_REPEATS, 0), (m, o, lr)
        assert sorted(r["repeat"] for r in res.runs) == list(range(GRID_REPEATS)), (m, o, lr)


def test_every_arm_ran_its_chosen_rate_on_shared_fresh_seeds():
    rates = contest.chosen_rates(experiment()["grid"])
    finals = experiment()["final"]
    assert {(m, o) for m, o, T in finals if T == GRID_LENGTH} == set(rates)
    for (m, o, T), res in finals.items():
        s = res.settings
        assert s.training() == gating_final(m, o, rates[m, o], (T,)).training(), (m, o, T)
        assert s.seed == 1 and s.lengths == (T,), (m, o, T)
        repeats = sorted(r["repeat"] for r in res.runs)
        # The first 10 seeds at least, and every run kept its probes and CPU time.
        assert set(range(10)) <= set(repeats) and len(repeats) == len(set(repeats)), (m, o, T)
        assert all(r["seed"] == [1, T, r["repeat"]] for r in res.runs), (m, o, T)
        assert all(r["cpu_time"] > 0 and "carousel_norms" in r["probe"]["final"] for r in res.runs
                   if m in contest.LSTM_INITS), (m, o, T)
        assert all(len(r["checkpoints"]) == len(s.checkpoints) for r in res.runs), (m, o, T)


def test_the_longer_lengths_follow_the_plan():
    finals = experiment()["final"]
    for T in (100, 200):
        ran = sorted((m, o) for m, o, length in finals if length == T)
        if ran:
            assert ran == sorted(contest.long_arms(finals, T)), T


def test_first_to_last_names_a_missing_length():
    with pytest.raises(ValueError, match="no runs at length 7"):
        results.first_to_last(final("lstm", "adam"), 7, "cell_norms", "init")
