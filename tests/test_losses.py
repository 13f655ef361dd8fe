import numpy as np
import pytest

from memrnn import MSELoss
from memrnn.gradcheck import check_loss, numerical_gradient, relative_error


def test_value_is_the_mean_over_all_elements():
    y_hat = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.array([[0.0, 0.0], [3.0, 2.0]])
    value = MSELoss().forward(y_hat, y)
    assert type(value) is float
    assert value == pytest.approx((1 + 4 + 0 + 4) / 4)


def test_backward_is_two_diff_over_n():
    loss = MSELoss()
    y_hat = np.array([[1.0], [-2.0], [0.5]])
    y = np.zeros((3, 1))
    loss.forward(y_hat, y)
    np.testing.assert_allclose(loss.backward(), 2 * y_hat / 3)


def test_zero_loss_zero_gradient():
    loss = MSELoss()
    y = np.linspace(-1, 1, 5)[:, None]
    assert loss.forward(y, y.copy()) == 0.0
    assert not loss.backward().any()


@pytest.mark.parametrize("batch, out", [(1, 1), (16, 1), (5, 3)])
def test_gradient_matches_finite_differences(batch, out):
    assert check_loss(batch_size=batch, output_size=out, seed=batch) < 1e-8
    # And directly, on a non-random point:
    y_hat = np.arange(batch * out, dtype=float).reshape(batch, out) / 7
    y = np.ones_like(y_hat)
    loss = MSELoss()
    loss.forward(y_hat, y)
    num = numerical_gradient(lambda p: MSELoss().forward(p, y), y_hat.copy())
    assert relative_error(loss.backward(), num) < 1e-8


def test_shape_mismatch_is_refused_not_broadcast():
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        MSELoss().forward(np.zeros((4, 1)), np.zeros(4))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_refused(bad):
    a = np.zeros((3, 1))
    b = np.zeros((3, 1))
    b[1] = bad
    with pytest.raises(ValueError, match="y_true.*NaN or infinite"):
        MSELoss().forward(a, b)
    with pytest.raises(ValueError, match="y_hat"):
        MSELoss().forward(b, a)


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="forward"):
        MSELoss().backward()


def test_non_numeric_input():
    with pytest.raises(TypeError, match="y_hat"):
        MSELoss().forward(np.array([["a"]]), np.zeros((1, 1)))
