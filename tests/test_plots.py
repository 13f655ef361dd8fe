"""The book's figure functions: what they draw and what they refuse."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

import memrnn
from conftest import _check_legends, _confusable, _looks
from memrnn import plots
from memrnn.information import bits_remembered
from memrnn.plots import gradients, sweeps
from memrnn.plots._style import PALETTE
from memrnn.results import SweepResult, budget_table
from memrnn.settings import PROFILES


def test_confusable_entries_are_detected():
    same = Line2D([], [], color=PALETTE["blue"], marker="o", ls="-")
    hue_only = Line2D([], [], color=PALETTE["vermillion"], marker="o", ls="-")
    dashed = Line2D([], [], color=PALETTE["vermillion"], marker="o", ls="--")
    assert _confusable(_looks(same), _looks(hue_only))
    assert not _confusable(_looks(same), _looks(dashed))


def test_the_legend_check_checks_every_entry_and_rejects_hue_alone():
    fig, ax = plt.subplots()
    ax.plot([0, 1], color=PALETTE["blue"], marker="o", ls="-", label="a")
    ax.plot([1, 0], color=PALETTE["vermillion"], marker="s", ls="--", label="b")
    ax.legend()
    assert _check_legends() == 2
    ax.plot([0, 0], color=PALETTE["vermillion"], marker="o", ls="-", label="c")
    ax.legend()
    with pytest.raises(AssertionError, match="differ by colour alone"):
        _check_legends()
    plt.close(fig)


def _batch(T=6, B=4, seed=1):
    return next(memrnn.generate_samples(batch_size=B, seq_length=T, seed=seed))


def test_plot_sequences_draws_each_sequence_and_its_target():
    x, y = _batch()
    ax = plots.plot_sequences(x, y, n_show=3)
    assert isinstance(ax, Axes)
    labelled = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert [ln.get_label() for ln in labelled] == ["sequence 1", "sequence 2", "sequence 3"]
    for j, line in enumerate(labelled):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 7))
        np.testing.assert_array_equal(line.get_ydata(), x[:, j, 0])
    # The target marker sits after the last step, at the height of the FIRST element.
    targets = [ln for ln in ax.get_lines()
               if list(ln.get_xdata()) == [7] and ln.get_linestyle() == "None"]
    assert [float(ln.get_ydata()[0]) for ln in targets] == pytest.approx(list(y[:3, 0]))
    # Each series differs by marker, not only by colour.
    assert len({ln.get_marker() for ln in labelled}) == 3


def test_plot_sequences_refuses_bad_shapes():
    x, y = _batch()
    with pytest.raises(ValueError, match=r"\(T, B, 1\)"):
        plots.plot_sequences(x[:, :, 0], y)
    with pytest.raises(ValueError, match="y must have shape"):
        plots.plot_sequences(x, y[:2])
    with pytest.raises(ValueError, match="n_show"):
        plots.plot_sequences(x, y, n_show=5)


def test_plot_constant_predictor_draws_points_curve_and_level():
    c = np.linspace(-0.5, 0.5, 5)
    mse = 1 / 3 + c**2
    ax = plots.plot_constant_predictor(c, mse)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_allclose(lines["measured on sampled targets"].get_ydata(), mse)
    exact = lines["exact: $1/3 + c^2$"]
    np.testing.assert_allclose(exact.get_ydata(), 1 / 3 + exact.get_xdata() ** 2)
    assert lines["1/3"].get_ydata()[0] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="equal length"):
        plots.plot_constant_predictor(c, mse[:3])
    with pytest.raises(ValueError, match="NaN"):
        plots.plot_constant_predictor(c, np.full(5, np.nan))


def test_plot_eps_sweep_is_log_log_with_both_schemes():
    sweep = memrnn.gradcheck.eps_sweep([1e-8, 1e-5, 1e-2], seed=0)
    fig, ax = plt.subplots()
    assert plots.plot_eps_sweep(sweep, ax=ax) is ax
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    ys = {ln.get_label().split()[0]: ln.get_ydata() for ln in ax.get_lines()}
    np.testing.assert_array_equal(ys["two-sided"], sweep["central"])
    np.testing.assert_array_equal(ys["one-sided"], sweep["forward"])
    with pytest.raises(TypeError, match="eps_sweep"):
        plots.plot_eps_sweep({"eps": [1.0]})
    with pytest.raises(ValueError, match="1-D"):
        plots.plot_eps_sweep({"eps": [1.0, 2.0], "central": [1.0], "forward": [1.0]})


# ------------------------------------------------------ chapters 5 and 6
def _fake_sweep():

    runs = []
    for T, mses in ((5, [0.01, 0.02, 0.015]), (10, [0.05, 0.2, None]), (20, [0.33, 0.34, 0.3])):
        for r, mse in enumerate(mses):
            runs.append({"length": T, "repeat": r, "eval_mse": mse, "diverged": mse is None,
                         "loss_steps": [0, 50, 100], "losses": [0.34, 0.2, mse or 0.3]})
    settings = PROFILES["smoke"].replace(lengths=(5, 10, 20), repeats=3)
    return SweepResult(settings, runs)


def test_plot_sweep_mse_shows_runs_medians_levels_and_diverged_runs():
    res = _fake_sweep()
    ax = plots.plot_sweep_mse(res, diverged_at=0.7)
    assert ax.get_yscale() == "log"
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels.count("one run") == 1 and labels.count("diverged run") == 1
    # Every finished run is a point; the diverged one is a cross at the marker height, not NaN.
    points = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert len(points) == 8
    crosses = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
    assert len(crosses) == 1 and crosses[0].get_ydata()[0] == 0.7
    for ln in ax.get_lines():
        assert np.all(np.isfinite(np.asarray(ln.get_ydata(), dtype=float)))
    levels = {round(float(ln.get_ydata()[0]), 6) for ln in ax.get_lines()
              if ln.get_linestyle() in ("--", ":")}
    assert round(1 / 3, 6) in levels and round(1 / 12, 6) in levels


def test_plot_success_rate_uses_wilson_intervals():
    res = _fake_sweep()
    ax = plots.plot_success_rate(res)
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [100, 100 / 3, 0])
    assert ax.get_ylim()[0] < 0 < 100 < ax.get_ylim()[1]


def test_plot_sweep_curves_one_panel_per_length():
    res = _fake_sweep()
    axes = plots.plot_sweep_curves(res, [5, 20])
    assert len(axes) == 2 and "T = 5: 3 of 3 succeed" == axes[0].get_title()
    with pytest.raises(ValueError, match="no runs at length"):
        plots.plot_sweep_curves(res, [7])


def test_vanishing_plots_from_a_real_run():
    from memrnn import vanishing

    model = memrnn.RNN(1, 5, 1, seed=0)
    learner = memrnn.Learner(model, memrnn.MSELoss(), memrnn.generate_samples(32, 8, seed=1))
    monitor = vanishing.Monitor(every=2)
    learner.train(10, lr=0.05, progress=False, callback=monitor)
    ax = gradients.plot_grad_norms_over_time({"a": vanishing.hidden_grad_norms(model),
                                          "b": vanishing.hidden_grad_norms(model)[:4]})
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 2
    assert len({ln.get_marker() for ln in ax.get_lines()}) == 2
    ax = plots.plot_gradient_heatmap(monitor)
    assert ax.images[0].get_array().shape == (5, 8)
    axes = plots.plot_training_series(monitor, learner.grad_norms)
    assert len(axes) == 4 and len(axes[1].get_lines()[0].get_ydata()) == 10
    with pytest.raises(ValueError, match="curves is empty"):
        gradients.plot_grad_norms_over_time({})
    with pytest.raises(ValueError, match="finite"):
        gradients.plot_grad_norms_over_time({"bad": [1.0, np.nan]})


def test_plot_sweep_comparison_draws_median_bits_per_sweep():

    res = _fake_sweep()
    ax = sweeps.plot_sweep_comparison({"a": res, "b": res})
    assert [c.get_label() for c in ax.containers] == ["a", "b"]
    lines = [c.lines[0] for c in ax.containers]
    expected = [np.median([bits_remembered(m) if m is not None else 0.0 for m in mses])
                for mses in ([0.01, 0.02, 0.015], [0.05, 0.2, None], [0.33, 0.34, 0.3])]
    np.testing.assert_allclose(np.asarray(lines[0].get_ydata(), dtype=float), expected)
    assert lines[0].get_marker() != lines[1].get_marker()


# ------------------------------------------------- figures over many runs (chapter 6)
@pytest.fixture(scope="module")
def probed():
    """A real sweep whose runs kept their probe diagnostics."""
    from memrnn.sweep import run_sweep
    settings = PROFILES["smoke"].replace(lengths=(3, 6), repeats=3, steps=60)
    return run_sweep(settings, jobs=1, progress=False)


def test_plot_gradient_ratio_draws_every_run_twice_and_two_medians(probed):
    ax = gradients.plot_gradient_ratio(probed)
    points = [ln for ln in ax.get_lines() if ln.get_linestyle() == "None"]
    assert len(points) == 2 * len(probed.runs)
    r = probed.runs[0]
    h = r["probe"]["init"]["hidden_norms"]
    assert any(np.isclose(ln.get_ydata()[0], h[0] / h[-1]) for ln in points)
    medians = [ln for ln in ax.get_lines() if ln.get_label().startswith("median")]
    assert len(medians) == 2 and list(medians[0].get_xdata()) == [3, 6]
    assert ax.get_yscale() == "log"


def test_plot_probe_curves_gives_median_and_quartile_band_per_stage(probed):
    ax = plots.plot_probe_curves(probed, [6], key="sv_median")
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    init = np.array([r["probe"]["init"]["sv_median"] for r in probed.by_length()[6]])
    np.testing.assert_allclose(lines["T = 6, initialisation"].get_ydata(), np.median(init, axis=0))
    np.testing.assert_array_equal(lines["T = 6, initialisation"].get_xdata(), [5, 4, 3, 2, 1, 0])
    assert "T = 6, after training: bound" in lines
    assert len(ax.collections) == 2                          # the two quartile bands
    rel = plots.plot_probe_curves(probed, [3], key="hidden_norms", relative=True)
    assert np.allclose([ln.get_ydata()[-1] for ln in rel.get_lines()], 1.0)
    with pytest.raises(ValueError, match="no runs at length"):
        plots.plot_probe_curves(probed, [99])


def test_plot_cliff_timing_places_each_fall_on_the_window_scale():
    timing = {"position": [0.5, 0.9, -0.5, 3.0], "runs": 4}
    ax = plots.plot_cliff_timing(timing)
    points = next(ln for ln in ax.get_lines() if "fell back" in ln.get_label())
    # Positions beyond the drawn range sit at its edge, the others where they are.
    np.testing.assert_allclose(points.get_xdata(), [0.5, 0.9, -0.5, 2.0])
    assert "4 runs" in points.get_label()
    with pytest.raises(ValueError, match="no run fell back"):
        plots.plot_cliff_timing({"position": [], "runs": 0})


def test_plot_threshold_sensitivity_draws_crossing_band_and_reach():
    rows = [{"bits": b, "crossing": 15 - 4 * b, "low": 14 - 4 * b, "high": 16 - 4 * b,
             "reach": 10 if b < 1.5 else None, "reliable": []} for b in (0.5, 1.0, 1.5, 2.0)]
    ax = plots.plot_threshold_sensitivity(rows)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_allclose(lines["80 % crossing (logistic fit)"].get_ydata(), [13, 11, 9, 7])
    np.testing.assert_allclose(lines["largest reliably solved length"].get_ydata(), [10, 10, 0, 0])
    with pytest.raises(ValueError, match="empty"):
        plots.plot_threshold_sensitivity([])


def test_plot_success_rate_with_a_crossing_draws_the_fit_and_the_interval():
    res = _fake_sweep()
    crossing = {"a": 3.0, "b": -0.3, "estimate": 5.4, "low": 4.0, "high": 8.0, "level": 0.8}
    ax = plots.plot_success_rate(res, crossing=crossing)
    fit = next(ln for ln in ax.get_lines() if ln.get_label() == "logistic fit, all runs")
    x, y = fit.get_xdata(), fit.get_ydata()
    np.testing.assert_allclose(y, 100 / (1 + np.exp(-(3.0 - 0.3 * x))))
    band = [p for p in ax.patches if "interval" in p.get_label()]
    assert len(band) == 1


def test_budget_table_and_plot_count_successes_at_each_checkpoint():
    runs = []
    for r, (at_100, final) in enumerate([(0.3, 0.01), (0.05, 0.02), (None, None), (0.3, 0.3)]):
        runs.append({"length": 5, "repeat": r, "eval_mse": final, "diverged": final is None,
                     "checkpoints": [[100, at_100]], "losses": [0.3], "loss_steps": [0]})
    res = SweepResult(PROFILES["smoke"].replace(lengths=(5,), repeats=4, steps=200,
                                                checkpoints=(100,)), runs)
    assert budget_table(res) == {5: {100: (1, 4), 200: (2, 4)}}
    ax = plots.plot_budget({"a": res})
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [25.0, 50.0])
    assert ax.get_xscale() == "log"


def test_plot_ablation_draws_one_line_per_length_and_panel():
    axes = plots.plot_ablation({"AVX-512": {10: [1, 1.4, 1.9], 50: [1, 1.3, 2.0]},
                                "AVX2": {10: [1, 1.2, 1.6], 50: [1, 1.1, 1.5]}},
                               ["plain", "+ one", "+ two"])
    assert len(axes) == 2
    lines = [ln for ln in axes[1].get_lines() if ln.get_label() == "T = 50"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 1.1, 1.5])
    np.testing.assert_array_equal(lines[0].get_ydata(), [2, 1, 0])
    ticks = {t.get_text(): y for t, y in zip(axes[0].get_yticklabels(), axes[0].get_yticks())}
    assert ticks == {"plain": 2, "+ one": 1, "+ two": 0}         # the plain model on top
    with pytest.raises(ValueError, match="rungs"):
        plots.plot_ablation({"a": {10: [1, 2]}}, ["plain"])


def test_plot_kernel_times_draws_one_bar_per_operation_and_series():
    ax = plots.plot_kernel_times({"AVX-512": [20.0, 8.0], "AVX2": [90.0, 8.5]}, ["tanh", "matmul"])
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == [8.0, 8.5, 20.0, 90.0]
    with pytest.raises(ValueError, match="operations"):
        plots.plot_kernel_times({"a": [1.0]}, ["tanh", "matmul"])


def test_every_figure_is_reexported_and_tested():
    """Each plotting module's public figures (its ``__all__``) are reachable as memrnn.plots.<name>,
    and a test draws every figure function, public or not (the learner's two through
    ``Learner.plot_loss`` and ``Learner.scatter_plot``)."""
    import importlib
    import inspect
    import pkgutil
    from pathlib import Path

    tests = "".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py"))
    through_learner = {"plot_loss_curve": "learner.plot_loss(", "plot_predictions": "learner.scatter_plot("}
    seen = 0
    for info in pkgutil.iter_modules(plots.__path__):
        module = importlib.import_module(f"memrnn.plots.{info.name}")
        for name, _ in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("plot_") or getattr(module, name).__module__ != module.__name__:
                continue
            seen += 1
            if name in getattr(module, "__all__", ()):
                assert name in plots.__all__ and getattr(plots, name) is getattr(module, name), name
            assert (f"plots.{name}(" in tests or f"{info.name}.{name}(" in tests
                    or through_learner.get(name, "plots.") in tests), name
    assert seen >= len(plots.__all__) + 5, seen       # the public ones and at least five more
