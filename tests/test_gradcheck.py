import numpy as np
import pytest

from memrnn import gradcheck
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


def test_forward_scheme_is_first_order_and_central_second_order():
    # f(x) = exp(x) at x = 0: f' = 1, f'' = 1, f''' = 1, so the forward error is
    # about eps/2 and the central error about eps^2/6.
    def f(x):
        return float(np.exp(x[0]))

    for eps in (1e-2, 1e-3):
        fwd = gradcheck.numerical_gradient(f, np.zeros(1), eps, scheme="forward")[0]
        cen = gradcheck.numerical_gradient(f, np.zeros(1), eps, scheme="central")[0]
        assert fwd - 1 == pytest.approx(eps / 2, rel=0.02)
        assert cen - 1 == pytest.approx(eps**2 / 6, rel=0.02)


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="scheme"):
        gradcheck.numerical_gradient(lambda x: 0.0, np.zeros(2), 1e-6, scheme="backward")


def test_eps_sweep_shows_truncation_and_round_off():
    eps = np.logspace(-12, -1, 12)
    sweep = gradcheck.eps_sweep(eps, seed=0)
    assert set(sweep) == {"eps", "central", "forward"}
    np.testing.assert_array_equal(sweep["eps"], eps)
    central, forward = sweep["central"], sweep["forward"]
    best = int(np.argmin(central))
    # The minimum lies inside the range: truncation on the right, round-off on the left.
    assert 0 < best < eps.size - 1
    assert central[best] < 1e-9
    # In the truncation regime the two-sided estimate is far better than the one-sided one.
    big = eps >= 1e-4
    assert np.all(central[big] < forward[big] / 10)
    # Reproducible for a fixed seed.
    again = gradcheck.eps_sweep(eps, seed=0)
    np.testing.assert_array_equal(again["central"], central)


def test_eps_sweep_rejects_bad_steps():
    with pytest.raises(ValueError, match="eps"):
        gradcheck.eps_sweep([1e-6, -1e-6])
    with pytest.raises(ValueError, match="empty"):
        gradcheck.eps_sweep([])


def _rnn_problem(seed=0, T=5, B=3, H=4):
    import memrnn

    model = memrnn.RNN(1, H, 1, seed=seed)
    gradcheck.randomize_weights(model, seed=seed)
    rng = np.random.default_rng(seed + 1)
    return model, rng.uniform(-1, 1, (T, B, 1)), rng.normal(size=(B, 1))


def test_check_rnn_passes_the_rnn_and_checks_every_gradient():
    model, x, y = _rnn_problem()
    errors = gradcheck.check_rnn(model, x, y)
    assert set(errors) == {"d_W", "d_R", "d_bs", "d_V", "d_by", "d_a"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("bad, key", [("d_R", "d_R"), ("d_bs", "d_bs"), ("d_by", "d_by")])
def test_check_rnn_names_the_gradient_that_is_wrong(bad, key):
    import memrnn

    class Wrong(memrnn.RNN):
        def backward(self, d_loss):
            grads = super().backward(d_loss)
            grads[bad] = 1.5 * grads[bad]
            return grads

    model, x, y = _rnn_problem(seed=3)
    wrong = Wrong(1, 4, 1, seed=3)
    wrong.set_weights(model.get_weights())
    errors = gradcheck.check_rnn(wrong, x, y)
    assert errors[key] > 1e-2 and all(v < 1e-7 for k, v in errors.items() if k != key), errors


def test_check_rnn_catches_a_wrong_state_gradient():
    import memrnn

    class Wrong(memrnn.RNN):
        def backward(self, d_loss):
            grads = super().backward(d_loss)
            self.hidden_grads = -self.hidden_grads
            return grads

    model, x, y = _rnn_problem(seed=4)
    wrong = Wrong(1, 4, 1, seed=4)
    wrong.set_weights(model.get_weights())
    assert gradcheck.check_rnn(wrong, x, y)["d_a"] > 0.5
