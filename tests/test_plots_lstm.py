"""The figures of chapters 7 and 8 (memrnn.plots.lstm) and the analysis behind chapter 7's."""

from __future__ import annotations

import numpy as np
import pytest

from memrnn import plots, results
from memrnn.information import bits_remembered
from memrnn.lstm import LSTM
from memrnn.lstm_memory import where_x1_is_kept

MODELS = {"rnn": "RNN, H = 10", "rnn21": "RNN, H = 21", "lstm3": "LSTM, forget bias 3",
          "lstm": "LSTM, forget bias 1"}
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam"}


@pytest.fixture(scope="module")
def arms():
    """The shipped comparison of chapter 8: (model, optimizer) -> SweepResult."""
    return {(m, o): results.reference_results(f"ch7-{m}-{o}") for m in MODELS for o in OPTIMIZERS
            if f"ch7-{m}-{o}" in results.REFERENCES}


def test_plot_reach_by_optimizer_draws_each_arm_in_its_column(arms):
    axes = plots.plot_reach_by_optimizer(arms, MODELS, OPTIMIZERS)
    assert axes.shape == (2, 2)
    for col, o in enumerate(OPTIMIZERS):
        here = [MODELS[m] for m in MODELS if (m, o) in arms]
        assert [c.get_label() for c in axes[0, col].containers] == here
        assert [c.get_label() for c in axes[1, col].containers] == here
        steps = arms["lstm3", o].settings.steps
        assert axes[0, col].get_title() == f"{OPTIMIZERS[o]}, {steps // 1000}k updates"
    # The success rates drawn are the sweep's, in percent.
    top = axes[0, 1].containers[list(MODELS).index("lstm3")].lines[0]
    rates = [100 * row["success_rate"] for row in arms["lstm3", "adam"].summary()]
    np.testing.assert_allclose(np.asarray(top.get_ydata(), dtype=float), rates)


def test_plot_reach_by_optimizer_refuses_what_it_cannot_label(arms):
    with pytest.raises(ValueError, match="results is empty"):
        plots.plot_reach_by_optimizer({}, MODELS, OPTIMIZERS)
    with pytest.raises(ValueError, match="do not label"):
        plots.plot_reach_by_optimizer(arms, {"rnn": "RNN"}, OPTIMIZERS)
    # Models run under one optimizer only must come last, or the two rows' styles would differ.
    reordered = {"lstm": MODELS["lstm"], **{m: v for m, v in MODELS.items() if m != "lstm"}}
    with pytest.raises(ValueError, match="not the first"):
        plots.plot_reach_by_optimizer(arms, reordered, OPTIMIZERS)


def test_plot_bits_by_budget_draws_every_run_and_the_medians(arms):
    proto = arms["lstm3", "adam"].settings
    budgets = proto.checkpoints + (proto.steps,)
    judged = {(m, o, k): res.at_budget(k) for (m, o), res in arms.items() for k in budgets}
    axes = plots.plot_bits_by_budget(judged, MODELS, OPTIMIZERS, threshold_bits=proto.threshold_bits)
    assert len(axes) == len(proto.lengths)
    assert [t.get_text() for t in axes[0].get_xticklabels()] == [f"{k // 1000}k" for k in budgets]
    medians = [ln for ln in axes[-1].get_lines() if not ln.get_label().startswith("_")]
    assert [ln.get_label() for ln in medians] == [f"{MODELS[m]}, {OPTIMIZERS[o]}" for m, o in arms]
    # The LSTM with bias 3 under Adam, at the longest length: the median bits after each budget.
    T = proto.lengths[-1]
    expected = [np.median([0.0 if r["diverged"] or r["eval_mse"] is None else bits_remembered(r["eval_mse"])
                           for r in judged["lstm3", "adam", k].by_length()[T]]) for k in budgets]
    line = medians[list(arms).index(("lstm3", "adam"))]
    np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float), expected)
    # Dotted for SGD, solid for Adam.
    assert {ln.get_linestyle() for ln in medians} == {":", "-"}
    with pytest.raises(ValueError, match="judged is empty"):
        plots.plot_bits_by_budget({}, MODELS, OPTIMIZERS)


def test_plot_gradient_reach_one_panel_per_state(arms):
    panels = [(arms["lstm", "adam"], "cell_norms", "bias 1, cell"),
              (arms["lstm3", "adam"], "cell_norms", "bias 3, cell"),
              (arms["rnn", "adam"], "hidden_norms", "RNN")]
    axes = plots.plot_gradient_reach(panels, 50)
    assert axes.shape == (2, 2)
    assert [ax.get_title() for ax in axes.ravel()[:3]] == ["bias 1, cell", "bias 3, cell", "RNN"]
    assert axes[0, 0].get_yscale() == "log"
    # Relative to the last step: every median curve ends at 1.
    for ax in axes.ravel()[:3]:
        for ln in ax.get_lines():
            assert float(ln.get_ydata()[-1]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="panels is empty"):
        plots.plot_gradient_reach([], 50)
    with pytest.raises(ValueError, match="no runs at length"):
        plots.plot_gradient_reach(panels, 7)


@pytest.fixture(scope="module")
def memory():
    model = LSTM(1, 4, 1, seed=3)
    return model, where_x1_is_kept(model, 12, seed=5, n_sequences=256)


def test_where_x1_is_kept_measures_the_cells_of_the_model(memory):
    model, m = memory
    T, H = 12, 4
    assert m["corr"].shape == (T, H) and m["f"].shape == (T, 256) and m["c"].shape == (T, 256)
    assert m["unit"] == int(np.argmax(np.abs(m["corr"]).mean(axis=0)))
    # Against a forward pass of the same model on the same sequences, and numpy's correlation.
    x = np.asarray(m["x1"]).reshape(1, -1, 1)
    model.forward(np.concatenate([x, np.zeros((T - 1, 256, 1))]))     # only the first step matters here
    np.testing.assert_allclose(m["c"][0], model.C[1, :, m["unit"]], rtol=1e-12)
    t = 5
    assert m["corr"][t, m["unit"]] == pytest.approx(np.corrcoef(m["c"][t], m["x1"])[0, 1], abs=1e-12)
    np.testing.assert_allclose(m["keep"], np.prod(m["f"][1:], axis=0), rtol=1e-12)
    assert m["f_med"] == pytest.approx(np.median(m["f"][1:]))
    assert np.all(np.diff(m["x1"][m["show"]]) > 0)           # four sequences, small x_1 to large
    with pytest.raises(ValueError):
        where_x1_is_kept(model, 0, seed=5)
    with pytest.raises(TypeError, match="got dict"):
        where_x1_is_kept({}, 12, seed=5)


def test_plot_cell_memory_draws_the_unit_that_keeps_x1(memory):
    _, m = memory
    axes = plots.plot_cell_memory(m, "test", f_start=0.7)
    assert len(axes) == 3
    unit_line = next(ln for ln in axes[0].get_lines() if ln.get_label() == f"cell state of unit {m['unit']}")
    np.testing.assert_allclose(unit_line.get_ydata(), np.abs(m["corr"][:, m["unit"]]))
    # One line per unit on the left, the four sequences (and where the gate started) in the middle.
    assert len(axes[0].get_lines()) == m["corr"].shape[1] + 1
    assert len(axes[1].get_lines()) == 5 and len(axes[2].get_lines()) == 4
    assert axes[0].get_title() == "test: where $x_1$ is kept"
