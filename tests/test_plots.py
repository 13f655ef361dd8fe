"""The book's figure functions: what they draw and what they refuse."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

import memrnn
from memrnn import plots


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
