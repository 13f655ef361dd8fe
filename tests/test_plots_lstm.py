"""The figures of chapters 7 and 8 (memrnn.plots.lstm) and the analysis behind chapter 7's."""

from __future__ import annotations

import numpy as np
import pytest

from memrnn import plots, results
from memrnn.information import bits_remembered
from memrnn.lstm import LSTM
from memrnn.lstm_memory import where_x1_is_kept
from memrnn.settings import gating_final
from memrnn.stats import wilson_interval

MODEL_LABELS = {"rnn": "RNN, H = 10", "lstm": "LSTM, forget bias 1", "lstm3": "LSTM, forget bias 3"}
OPTIMIZER_LABELS = {"sgd": "SGD", "adam": "Adam"}
T = 50


def _arm(model, opt, wins, n=10, length=T):
    """A synthetic fresh-seed sweep: the first ``wins`` runs succeed, the rest stay near 1/3."""
    rng = np.random.default_rng([len(model), len(opt), wins])
    runs = []
    for r in range(n):
        mse = 0.01 if r < wins else 0.3
        decay = 0.9 if model == "rnn" else 0.99
        cell = list(decay ** np.arange(length)[::-1] * rng.uniform(0.5, 2))
        runs.append({"length": length, "repeat": r, "seed": [1, length, r], "eval_mse": mse,
                     "diverged": r == n - 1 and wins == 0, "checkpoints": [],
                     "probe": {stage: {"hidden_norms": cell, "cell_norms": cell}
                               for stage in ("init", "final")}})
    runs[-1]["eval_mse"] = None if runs[-1]["diverged"] else runs[-1]["eval_mse"]
    return results.SweepResult(gating_final(model, opt, 1e-3), runs)


@pytest.fixture(scope="module")
def final():
    wins = {("rnn", "sgd"): 0, ("rnn", "adam"): 1, ("lstm", "sgd"): 2, ("lstm", "adam"): 3,
            ("lstm3", "adam"): 9}
    return {(m, o, T): _arm(m, o, w) for (m, o), w in wins.items()}


def test_plot_contest_draws_each_arm_with_its_interval(final):
    left, right = plots.plot_contest(final, MODEL_LABELS, OPTIMIZER_LABELS, T)
    # One row per model, top to bottom in the order given.
    assert [t.get_text() for t in left.get_yticklabels()] == list(MODEL_LABELS.values())[::-1]
    # Each arm's share and its Wilson interval, at its row (SGD above, Adam below).
    bars = [c for c in left.containers]
    assert len(bars) == len(final)
    by_arm = dict(zip([(m, o) for o in OPTIMIZER_LABELS for m in MODEL_LABELS if (m, o, T) in final], bars))
    line = by_arm["lstm3", "adam"].lines[0]
    assert float(line.get_xdata()[0]) == pytest.approx(0.9)
    assert float(line.get_ydata()[0]) == pytest.approx(0 - 0.18)         # last row, Adam's offset
    low, high = wilson_interval(9, 10)
    seg = by_arm["lstm3", "adam"].lines[2][0].get_segments()[0]
    assert sorted(seg[:, 0]) == pytest.approx([low, high])
    # The counts are written at the right edge, and every run's bits are drawn.
    assert "9/10" in [t.get_text() for t in left.texts] and "0/10" in [t.get_text() for t in left.texts]
    points = [ln for ln in right.get_lines() if ln.get_linestyle() == "None"]
    assert sum(len(ln.get_xdata()) for ln in points) == 10 * len(final)
    # A diverged run counts as 0 bits; a solved one as its bits.
    rnn_sgd = points[list(by_arm).index(("rnn", "sgd"))]
    assert min(rnn_sgd.get_xdata()) == 0.0
    lstm3 = points[list(by_arm).index(("lstm3", "adam"))]
    assert max(lstm3.get_xdata()) == pytest.approx(bits_remembered(0.01))
    assert [ln.get_xdata()[0] for ln in right.get_lines() if ln.get_linestyle() == "--"] == [1.0]
    legend = left.figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["SGD", "Adam"]
    assert legend.get_title().get_text() == f"$T = {T}$"
    with pytest.raises(ValueError, match="no arm"):
        plots.plot_contest(final, MODEL_LABELS, OPTIMIZER_LABELS, 100)


def test_plot_lengths_draws_each_arm_at_each_length_it_ran():
    final = {("lstm3", "adam", 50): _arm("lstm3", "adam", 10),
             ("chrono", "adam", 50): _arm("chrono", "adam", 9),
             ("lstm3", "adam", 100): _arm("lstm3", "adam", 6, length=100),
             ("chrono", "adam", 100): _arm("chrono", "adam", 7, length=100),
             ("chrono", "adam", 200): _arm("chrono", "adam", 2, n=5, length=200)}
    arms = {("lstm3", "adam"): "bias 3", ("chrono", "adam"): "chrono"}
    left, right = plots.plot_lengths(final, arms, (50, 100, 200, 400))
    assert [t.get_text() for t in left.get_yticklabels()] == ["chrono", "bias 3"]
    # One interval per (arm, length) run, none for bias 3 at 200 or for 400, which no arm ran.
    assert len(left.containers) == 5
    shares = sorted(float(c.lines[0].get_xdata()[0]) for c in left.containers)
    assert shares == pytest.approx([0.4, 0.6, 0.7, 0.9, 1.0])
    chrono200 = [c for c in left.containers if float(c.lines[0].get_xdata()[0]) == pytest.approx(0.4)][0]
    # Chrono, the second arm, is the bottom row (y = 0); T = 200, the third series, is drawn lowest.
    assert float(chrono200.lines[0].get_ydata()[0]) == pytest.approx(0 - 0.22)
    assert sorted(chrono200.lines[2][0].get_segments()[0][:, 0]) == pytest.approx(wilson_interval(2, 5))
    assert {"2/5", "6/10", "10/10"} <= {t.get_text() for t in left.texts}
    points = [ln for ln in right.get_lines() if ln.get_linestyle() == "None"]
    assert sum(len(ln.get_xdata()) for ln in points) == 45
    legend = left.figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["$T = 50$", "$T = 100$", "$T = 200$"]
    with pytest.raises(ValueError, match="none of the arms"):
        plots.plot_lengths(final, {("rnn", "sgd"): "RNN"}, (50, 100))


def test_plot_gradient_reach_one_panel_per_state(final):
    panels = [(final["lstm", "adam", T], "cell_norms", "bias 1, cell"),
              (final["lstm3", "adam", T], "cell_norms", "bias 3, cell"),
              (final["rnn", "adam", T], "hidden_norms", "RNN")]
    axes = plots.plot_gradient_reach(panels, T)
    assert axes.shape == (2, 2)
    assert [ax.get_title() for ax in axes.ravel()[:3]] == ["bias 1, cell", "bias 3, cell", "RNN"]
    assert axes[0, 0].get_yscale() == "log"
    # Relative to the last step: every median curve ends at 1, and starts at decay^(T-1).
    for ax, decay in zip(axes.ravel()[:3], (0.99, 0.99, 0.9)):
        for ln in ax.get_lines():
            assert float(ln.get_ydata()[-1]) == pytest.approx(1.0)
            assert float(np.min(ln.get_ydata())) == pytest.approx(decay ** (T - 1))
    with pytest.raises(ValueError, match="panels is empty"):
        plots.plot_gradient_reach([], T)
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
