"""The shipped reference runs (memrnn/results/*.json) hold what the chapters say of them.

These facts do not depend on the build: the runs were made once and ship with
the package. So they are checked here, once, rather than by hidden cells of
the chapters on every build. Each test names the chapter whose text it backs.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from memrnn import TRIVIAL_MSE, information, results
from memrnn.settings import PROFILES

#: Chapter 8's comparison: each model, and the optimizers it ran under.
MODELS = ("rnn", "rnn21", "lstm3", "lstm")


@cache
def comparison() -> dict:
    """(model, optimizer) -> the shipped SweepResult of chapter 8's comparison."""
    return {(m, o): results.reference_results(f"ch7-{m}-{o}") for m in MODELS for o in ("sgd", "adam")
            if f"ch7-{m}-{o}" in results.REFERENCES}


@cache
def wins(model, optimizer, budget=None) -> dict:
    """Length -> successes of one arm after ``budget`` updates (default: all of them)."""
    res = comparison()[model, optimizer]
    res = res.at_budget(budget) if budget is not None else res
    return {row["length"]: row["successes"] for row in res.summary()}


def _reach(model, optimizer, budget=None):
    res = comparison()[model, optimizer]
    return (res.at_budget(budget) if budget is not None else res).largest_reliable_length()


@pytest.fixture(scope="module")
def proto():
    return comparison()["lstm3", "adam"].settings


# ----------------------------------------------------------------- chapter 4
def test_reference_runs_at_short_lengths_learn():
    """Chapter 4: every reference run at T = 10 learns something; every one at T = 5 succeeds."""
    by_length = results.reference_results("reference").by_length()
    assert max(r["eval_mse"] for r in by_length[10]) < 0.6 * TRIVIAL_MSE
    assert max(r["eval_mse"] for r in by_length[5]) <= 1 / 12


# ----------------------------------------------------------------- chapter 8
def test_the_comparison_is_complete_and_run_alike(proto):
    keys = set(comparison())
    # Every model under Adam; both RNNs and the LSTM with bias 3 under SGD too, as the text says.
    assert {m for m, o in keys if o == "adam"} == set(MODELS)
    assert {m for m, o in keys if o == "sgd"} == {"rnn", "rnn21", "lstm3"}
    assert comparison()["lstm", "adam"].settings.forget_bias == 1.0
    assert comparison()["lstm3", "adam"].settings.forget_bias == 3.0
    for (m, o), res in comparison().items():
        s = res.settings
        assert s.training() == PROFILES[f"ch7-{m}-{o}"].training(), (m, o)
        assert len(res.runs) == len(s.lengths) * s.repeats, (m, o)
        assert all(len(r["checkpoints"]) == len(s.checkpoints) for r in res.runs), (m, o)
        assert (s.lengths, s.repeats, s.batch, s.dtype, s.seed) == \
            (proto.lengths, proto.repeats, proto.batch, proto.dtype, proto.seed), (m, o)
        assert s.checkpoints + (s.steps,) == proto.checkpoints + (proto.steps,), (m, o)


def test_with_adam_the_forget_bias_decides(proto):
    short, mid, long = proto.lengths
    n = proto.repeats
    assert wins("lstm3", "adam")[mid] >= n - 1
    assert wins("lstm3", "adam")[long] >= n / 2
    assert all(wins(m, "adam")[short] == n for m in MODELS)
    assert max(wins(m, "adam")[mid] for m in ("rnn", "rnn21", "lstm")) <= 1
    assert max(wins(m, "adam")[long] for m in ("rnn", "rnn21", "lstm")) == 0
    assert information.fisher_exact(wins("lstm3", "adam")[mid], n, wins("lstm", "adam")[mid], n) < 0.05
    bits = {m: {row["length"]: row["median_bits"] for row in comparison()[m, "adam"].summary()}
            for m in ("rnn21", "lstm")}
    assert bits["rnn21"][mid] > bits["lstm"][mid] + 0.3


def test_with_sgd_the_same_order_one_length_shorter(proto):
    short, mid, long = proto.lengths
    n = proto.repeats
    assert wins("lstm3", "sgd")[mid] >= n - 1
    assert _reach("lstm3", "sgd") == mid
    assert max(wins(m, "sgd")[short] for m in ("rnn", "rnn21")) < proto.reliable * n
    assert max(wins(m, "sgd")[T] for m in ("rnn", "rnn21") for T in (mid, long)) == 0
    assert wins("lstm3", "sgd")[long] < wins("lstm3", "adam")[long]
    assert all(wins(m, "adam")[short] >= wins(m, "sgd")[short] for m in ("rnn", "rnn21", "lstm3"))
    # Some RNN runs that had learned the shortest length by the second budget lost it again.
    budget = proto.checkpoints[-1]
    lost = [r for m in ("rnn", "rnn21") for r in comparison()[m, "sgd"].by_length()[short]
            if not r["success"] and (dict(r["checkpoints"])[budget] or 1) <= proto.threshold_mse]
    assert len(lost) >= 1


def test_reach_against_budget(proto):
    short, mid, long = proto.lengths
    budgets = proto.checkpoints + (proto.steps,)
    assert all(_reach(m, "adam", k) == short for m in ("rnn", "rnn21", "lstm") for k in budgets)
    assert max(wins(m, "adam", k)[mid] for m in ("rnn", "rnn21", "lstm") for k in budgets) <= 1
    assert wins("lstm3", "adam")[long] >= wins("lstm3", "adam", budgets[0])[long] + 1
    assert _reach("lstm3", "adam") == long and _reach("lstm3", "adam", budgets[-2]) == long
    assert all(_reach(m, "sgd", k) is None for m in ("rnn", "rnn21") for k in budgets)
    assert all(_reach("lstm3", "sgd", k) == mid for k in budgets)


def test_the_gradient_reaching_the_first_step(proto):
    """At the probe length: the LSTM with bias 1 starts with less gradient at its first state than
    the RNN, the one with bias 3 loses little; after training, what reaches the first state has
    vanished for the RNNs and the LSTM with bias 1, and grown for the LSTM with bias 3."""
    rnn_wins = wins("rnn", "adam")
    T = next((T for T in proto.lengths if rnn_wins[T] <= 1), proto.lengths[-1])

    def ratio(model, key, stage):
        return float(np.median(results.first_to_last(comparison()[model, "adam"], T, key, stage)))

    b1_0, b1_1 = ratio("lstm", "cell_norms", "init"), ratio("lstm", "cell_norms", "final")
    b3_0, b3_1 = ratio("lstm3", "cell_norms", "init"), ratio("lstm3", "cell_norms", "final")
    rn0, rn1 = ratio("rnn", "hidden_norms", "init"), ratio("rnn", "hidden_norms", "final")
    assert b1_0 < 0.1 * rn0, (b1_0, rn0)
    assert b3_0 > 0.3, b3_0
    assert b1_1 < 1e-3 and rn1 < 1e-3, (b1_1, rn1)
    assert b3_1 > 1, b3_1
    assert b1_1 < 0.01 * b1_0, (b1_1, b1_0)
    assert ratio("rnn21", "hidden_norms", "final") < 1e-3


def test_first_to_last_names_a_missing_length():
    with pytest.raises(ValueError, match="no runs at length 7"):
        results.first_to_last(comparison()["rnn", "adam"], 7, "hidden_norms", "init")
