import numpy as np
import pytest

from memrnn.gradcheck import numerical_gradient, relative_error


def test_numerical_gradient_of_a_known_function():
    x = np.array([[0.5, -1.0], [2.0, 0.0]])
    grad = numerical_gradient(lambda v: np.sum(v ** 3) + v[0, 1] * v[1, 0], x)
    expected = 3 * x ** 2
    expected[0, 1] += x[1, 0]
    expected[1, 0] += x[0, 1]
    np.testing.assert_allclose(grad, expected, rtol=1e-8, atol=1e-8)


def test_central_difference_error_is_second_order():
    # For exp at 0 the central difference's error is eps^2 / 6 + O(eps^4).
    for eps in (1e-2, 1e-3):
        g = numerical_gradient(lambda v: np.exp(v).sum(), np.zeros(1), eps=eps)[0]
        assert g - 1 == pytest.approx(eps ** 2 / 6, rel=1e-3)


def test_point_is_restored_exactly():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    original = x.copy()
    numerical_gradient(lambda v: float(np.sum(np.sin(v))), x, eps=1e-3)
    np.testing.assert_array_equal(x, original)


def test_non_contiguous_or_integer_points_are_refused():
    with pytest.raises(ValueError, match="contiguous"):
        numerical_gradient(np.sum, np.zeros((4, 4))[:, :2])
    with pytest.raises(TypeError, match="float ndarray"):
        numerical_gradient(np.sum, np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(np.sum, np.zeros(3), eps=0)


def test_relative_error_properties():
    a = np.array([1.0, 2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(a, 2 * a) == pytest.approx(1 / 3)
    assert relative_error(a, 1e6 * a) == pytest.approx(relative_error(1e-6 * a, a))
    assert relative_error(a, a + 1e-9) == pytest.approx(relative_error(a + 1e-9, a))
    with pytest.raises(ValueError, match="shape"):
        relative_error(np.zeros(2), np.zeros(3))
