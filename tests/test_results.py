"""What a sweep's runs say: outcomes, budgets, checkpoints (``memrnn.results``)."""

import pytest

from memrnn.information import bits_remembered
from memrnn.results import SweepResult, budget_table, run_bits, run_outcome
from memrnn.settings import PROFILES


def test_run_bits_counts_a_diverged_run_as_zero_and_any_other_by_its_held_out_mse():
    assert run_bits({"eval_mse": None, "diverged": True}) == 0.0
    assert run_bits({"eval_mse": 0.01, "diverged": False}) == pytest.approx(float(bits_remembered(0.01)))
    assert run_bits({"eval_mse": 0.01, "diverged": False}) > 2


def test_run_outcome_names_the_four_ways_a_run_ends():
    ok = {"eval_mse": 0.01, "diverged": False, "losses": [0.3, 0.01]}
    partial = {"eval_mse": 0.1, "diverged": False, "losses": [0.3, 0.1, 0.1]}
    fell = {"eval_mse": 0.33, "diverged": False, "losses": [0.3, 0.1, 0.33]}
    never = {"eval_mse": 0.33, "diverged": False, "losses": [0.34, 0.3, 0.33]}
    diverged = {"eval_mse": None, "diverged": True, "losses": [0.34, 0.1, 0.34]}
    assert [run_outcome(r, 1 / 12) for r in (ok, partial, fell, never, diverged)] == \
        ["success", "partial", "fell back", "failed", "fell back"]


def _checkpointed():
    runs = []
    for r, (at_100, final) in enumerate([(0.3, 0.01), (0.05, 0.02), (None, None), (0.3, 0.3)]):
        runs.append({"length": 5, "repeat": r, "eval_mse": final, "diverged": final is None,
                     "checkpoints": [[100, at_100]], "losses": [0.3], "loss_steps": [0]})
    return SweepResult(PROFILES["smoke"].replace(lengths=(5,), repeats=4, steps=200,
                                                 checkpoints=(100,)), runs)


def test_at_budget_judges_the_runs_as_they_stood_at_a_checkpoint():
    res = _checkpointed()
    early = res.at_budget(100)
    assert early.settings.steps == 100 and early.settings.checkpoints == ()
    assert [r["eval_mse"] for r in early.runs] == [0.3, 0.05, None, 0.3]
    assert [r["success"] for r in early.runs] == [False, True, False, False]
    assert [r["diverged"] for r in early.runs] == [False, False, True, False]
    assert res.at_budget(200) is res
    with pytest.raises(ValueError, match="no checkpoint at 150"):
        res.at_budget(150)


def test_budget_table_counts_successes_at_each_checkpoint():
    assert budget_table(_checkpointed()) == {5: {100: (1, 4), 200: (2, 4)}}
    assert budget_table(_checkpointed(), threshold_mse=0.01) == {5: {100: (0, 4), 200: (1, 4)}}
