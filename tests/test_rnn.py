import re

import numpy as np
import pytest

import oracle
from memrnn import RNN, MSELoss, generate_samples
from memrnn.gradcheck import check_model, randomize_weights

SIZES = [  # (T, B, H, in, out)
    (1, 1, 1, 1, 1),
    (1, 3, 4, 1, 1),
    (2, 2, 3, 1, 1),
    (5, 3, 5, 1, 1),
    (12, 2, 4, 1, 1),
    (4, 3, 3, 2, 2),
]


@pytest.mark.parametrize("T, B, H, n_in, n_out", SIZES)
def test_gradient_check_every_parameter_and_hidden_state(T, B, H, n_in, n_out):
    rng = np.random.default_rng(T * 100 + H)
    model = RNN(n_in, H, n_out, seed=rng)
    randomize_weights(model, seed=rng)
    errors = check_model(model, seq_length=T, batch_size=B, seed=rng)
    assert set(errors) == {"d_W", "d_R", "d_bs", "d_V", "d_by", "d_a"}
    for name, err in errors.items():
        assert err < 1e-6, (name, err)


def test_gradient_check_at_initialisation_too():
    model = RNN(1, 6, 1, seed=0)
    errors = check_model(model, seq_length=6, batch_size=4, seed=1)
    assert max(errors.values()) < 1e-6, errors


def _random_problem(T, B, H, n_in=1, n_out=1, seed=0):
    rng = np.random.default_rng(seed)
    model = RNN(n_in, H, n_out, seed=rng)
    randomize_weights(model, seed=rng)
    x = rng.uniform(-1, 1, size=(T, B, n_in))
    y = rng.normal(size=(B, n_out))
    return model, x, y


@pytest.mark.parametrize("T, B, H, n_in, n_out", SIZES)
def test_matches_complex_step_oracle(T, B, H, n_in, n_out):
    model, x, y = _random_problem(T, B, H, n_in, n_out, seed=T + B)
    loss = MSELoss()
    value = loss.forward(model.forward(x), y)
    grads = model.backward(loss.backward())
    ref_value, ref_states = oracle.loss_and_states(model.get_weights(), x, y)
    assert value == pytest.approx(ref_value, rel=1e-13, abs=1e-15)
    np.testing.assert_allclose(model.A, ref_states, rtol=1e-12, atol=1e-14)
    ref = oracle.complex_step_grads(model.get_weights(), x, y)
    for name in ref:
        np.testing.assert_allclose(grads[name], ref[name], rtol=1e-9, atol=1e-13,
                                   err_msg=name)


def test_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    T, B, H = 7, 5, 4
    model, x, y = _random_problem(T, B, H, 2, 3, seed=42)
    loss = MSELoss()
    loss.forward(model.forward(x), y)
    grads = model.backward(loss.backward())

    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in model.get_weights().items()}
    xt, yt = torch.tensor(x), torch.tensor(y)
    a = torch.zeros(B, H, dtype=torch.float64)
    states = []
    for t in range(T):
        a = torch.tanh(xt[t] @ p["W"] + a @ p["R"] + p["bs"])
        a.retain_grad()
        states.append(a)
    y_hat = a @ p["V"] + p["by"]
    torch_loss = torch.mean((y_hat - yt) ** 2)
    torch_loss.backward()

    np.testing.assert_allclose(model.forward(x), y_hat.detach().numpy(), rtol=1e-13, atol=1e-14)
    for name, tensor in p.items():
        np.testing.assert_allclose(grads["d_" + name], tensor.grad.numpy(), rtol=1e-10,
                                   atol=1e-14, err_msg=name)
    torch_hidden = np.stack([s.grad.numpy() for s in states])
    np.testing.assert_allclose(model.hidden_grads, torch_hidden, rtol=1e-10, atol=1e-14)


def test_per_step_contributions_sum_to_the_gradients():
    model, x, y = _random_problem(6, 4, 3, 2, 1, seed=3)
    loss = MSELoss()
    loss.forward(model.forward(x), y)
    grads = model.backward(loss.backward())
    steps = model.per_step_grads()
    assert steps["d_W"].shape == (6, 2, 3)
    assert steps["d_R"].shape == (6, 3, 3)
    assert steps["d_bs"].shape == (6, 1, 3)
    for name in steps:
        np.testing.assert_allclose(steps[name].sum(axis=0), grads[name], rtol=1e-12, atol=1e-15)
    # Step 1's recurrent contribution is a_0^T delta_1 = 0, since a_0 = 0.
    assert not steps["d_R"][0].any()
    assert model.hidden_grads.shape == (6, 4, 3)
    np.testing.assert_allclose(model.hidden_grads[-1], loss.backward() @ model.V.T)


def test_shapes_and_initialisation():
    model = RNN(1, 10, 1, seed=0)
    assert model.W.shape == (1, 10) and model.R.shape == (10, 10)
    assert model.bs.shape == (1, 10) and model.V.shape == (10, 1) and model.by.shape == (1, 1)
    np.testing.assert_array_equal(model.R, np.eye(10))
    assert not model.bs.any() and not model.by.any()
    assert np.all(np.abs(model.W) <= np.sqrt(3.0))
    assert np.all(np.abs(model.V) <= np.sqrt(3.0 / 10))


def test_lecun_uniform_statistics():
    model = RNN(50, 400, 300, seed=1)
    # U(-a, a) has variance a^2 / 3 = 1 / fan_in.
    assert model.W.var() == pytest.approx(1 / 50, rel=0.03)
    assert model.V.var() == pytest.approx(1 / 400, rel=0.03)
    assert np.abs(model.W).max() <= np.sqrt(3 / 50)
    assert np.abs(model.V).max() == pytest.approx(np.sqrt(3 / 400), rel=0.01)


def test_seeding():
    a, b, c = RNN(1, 5, 1, seed=3), RNN(1, 5, 1, seed=3), RNN(1, 5, 1, seed=4)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.V, b.V)
    assert not np.array_equal(a.W, c.W)
    np.random.seed(7)
    d = RNN(1, 5, 1)
    np.random.seed(7)
    e = RNN(1, 5, 1)
    np.testing.assert_array_equal(d.V, e.V)


def test_forward_output_and_state_shapes():
    model = RNN(1, 10, 1, seed=0)
    x, _ = next(generate_samples(8, 6, seed=0))
    y_hat = model.forward(x)
    assert y_hat.shape == (8, 1)
    assert model.A.shape == (7, 8, 10)
    assert not model.A[0].any()


@pytest.mark.parametrize("n_in, H, n_out", [(1, 10, 1), (2, 3, 4)])
def test_biases_are_rows_like_their_gradients_and_the_forward_pass_is_the_equation(n_in, H, n_out):
    # s_t = x_t W + a_{t-1} R + b_s and y_hat = a_T V + b_y, with rows: b_s (1, H), b_y (1, out).
    model, x, y = _random_problem(5, 3, H, n_in, n_out, seed=H)
    assert model.bs.shape == (1, H) and model.by.shape == (1, n_out)
    loss = MSELoss()
    y_hat = model.forward(x)
    loss.forward(y_hat, y)
    grads = model.backward(loss.backward())
    for name in model.PARAM_NAMES:
        assert grads["d_" + name].shape == getattr(model, name).shape, name
    a = np.zeros((3, H))
    for t in range(1, 6):                             # the equations as written, row vectors
        s_t = x[t - 1] @ model.W + a @ model.R + model.bs
        a = np.tanh(s_t)
        np.testing.assert_array_equal(model.A[t], a)
    np.testing.assert_array_equal(y_hat, a @ model.V + model.by)
    # dL/db_s = sum_t 1_B^T delta_t and dL/db_y = 1_B^T dL/dy_hat: rows of sums over the batch.
    ones = np.ones((1, 3))
    np.testing.assert_allclose(grads["d_by"], ones @ loss.backward(), rtol=1e-14)
    np.testing.assert_allclose(grads["d_bs"], ones @ model.preactivation_grads.sum(axis=0),
                               rtol=1e-12, atol=1e-15)


def test_a_students_sgd_step_on_the_biases_keeps_their_shape():
    model, x, y = _random_problem(4, 3, 3, seed=5)
    loss = MSELoss()
    loss.forward(model.forward(x), y)
    grads = model.backward(loss.backward())
    bs, by = model.bs.copy(), model.by.copy()
    model.bs -= 0.1 * grads["d_bs"]                   # in place, as a student's loop writes it
    model.by = model.by - 0.1 * grads["d_by"]         # or as a new array
    assert model.bs.shape == bs.shape and model.by.shape == by.shape
    np.testing.assert_array_equal(model.bs, bs - 0.1 * grads["d_bs"])
    np.testing.assert_array_equal(model.by, by - 0.1 * grads["d_by"])


def test_update_is_sgd_on_summed_gradients():
    model, x, y = _random_problem(4, 3, 3, seed=9)
    before = model.get_weights()
    loss = MSELoss()
    loss.forward(model.forward(x), y)
    grads = {k: v.copy() for k, v in model.backward(loss.backward()).items()}
    model.update(0.1)
    after = model.get_weights()
    for name in before:
        np.testing.assert_allclose(after[name], before[name] - 0.1 * grads["d_" + name])


def test_sgd_step_lowers_the_loss():
    model, x, y = _random_problem(5, 16, 4, seed=2)
    loss = MSELoss()
    first = loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    model.update(1e-2)
    assert loss.forward(model.forward(x), y) < first


def test_get_and_set_weights_round_trip_and_copy():
    a, b = RNN(1, 4, 1, seed=0), RNN(1, 4, 1, seed=1)
    w = a.get_weights()
    assert list(w) == ["W", "R", "bs", "V", "by"]
    w["W"][...] = 99
    assert not np.any(a.W == 99)          # a copy, not a view
    b.set_weights(a.get_weights())
    for name, value in a.get_weights().items():
        np.testing.assert_array_equal(getattr(b, name), value)
    c = RNN(1, 4, 1, seed=2)
    c.set_weights(list(a.get_weights().values()))   # a sequence in PARAM_NAMES order works too
    for name, value in a.get_weights().items():
        np.testing.assert_array_equal(getattr(c, name), value)
    c.set_weights(tuple(b.get_weights()[n] * 2 for n in ("W", "R", "bs", "V", "by")))
    np.testing.assert_array_equal(c.R, 2 * b.R)


@pytest.mark.parametrize("weights, exc, words", [
    ({"W": np.zeros((1, 4))}, ValueError, "missing"),
    ("W", TypeError, "dict"),
    ([np.zeros(1)] * 4, ValueError, "5 arrays"),
])
def test_set_weights_errors(weights, exc, words):
    with pytest.raises(exc, match=words):
        RNN(1, 4, 1, seed=0).set_weights(weights)


def test_set_weights_takes_a_bias_given_as_a_column_and_refuses_other_shapes():
    a, b = RNN(1, 4, 2, seed=0), RNN(1, 4, 2, seed=1)
    randomize_weights(a, seed=3)
    w = a.get_weights()
    b.set_weights({**w, "bs": w["bs"].T, "by": w["by"].T})   # columns (4, 1) and (2, 1)
    for name, value in w.items():
        np.testing.assert_array_equal(getattr(b, name), value)
        assert getattr(b, name).shape == value.shape and getattr(b, name).flags.c_contiguous
    b.set_weights([w["W"], w["R"], w["bs"].T.copy(), w["V"], w["by"]])
    np.testing.assert_array_equal(b.bs, w["bs"])
    for bad in (w["bs"].reshape(-1), w["bs"].reshape(2, 2), np.zeros((1, 5))):
        message = f"weights['bs'] must have shape (1, 4) (or the column (4, 1)), got {bad.shape}"
        with pytest.raises(ValueError, match=re.escape(message)):
            b.set_weights({**w, "bs": bad})
    with pytest.raises(ValueError, match=re.escape("weights['W'] must have shape (1, 4), got (4, 1)")):
        b.set_weights({**w, "W": w["W"].T})           # only biases may come as columns


def test_set_weights_checks_shape_and_values_and_changes_nothing_on_error():
    model = RNN(1, 4, 1, seed=0)
    w = model.get_weights()
    w["R"] = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"R.*\(4, 4\)"):
        model.set_weights(w)
    w = model.get_weights()
    w["V"][0, 0] = np.nan
    w["W"][...] = 5.0
    with pytest.raises(ValueError, match="NaN"):
        model.set_weights(w)
    assert not np.any(model.W == 5.0)


@pytest.mark.parametrize("args, exc, words", [
    ((0, 10, 1), ValueError, "input_size"),
    ((1, -3, 1), ValueError, "hidden_size"),
    ((1, 10, 1.5), TypeError, "output_size"),
])
def test_bad_sizes_at_construction(args, exc, words):
    with pytest.raises(exc, match=words):
        RNN(*args)


@pytest.mark.parametrize("shape", [(5, 4), (5, 4, 2), (4,), (0, 4, 1)])
def test_bad_input_shapes(shape):
    with pytest.raises(ValueError, match="shape"):
        RNN(1, 3, 1, seed=0).forward(np.zeros(shape))


def test_two_d_input_gets_a_hint_and_nan_is_refused():
    model = RNN(1, 3, 1, seed=0)
    with pytest.raises(ValueError, match=r"x\[\.\.\., None\]"):
        model.forward(np.zeros((5, 4)))
    x = np.zeros((5, 4, 1))
    x[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.forward(x)


def test_order_errors():
    model = RNN(1, 3, 1, seed=0)
    with pytest.raises(RuntimeError, match="forward"):
        model.backward(np.zeros((4, 1)))
    with pytest.raises(RuntimeError, match="backward"):
        model.update(0.1)
    model.forward(np.zeros((5, 4, 1)))
    with pytest.raises(ValueError, match=r"\(4, 1\)"):
        model.backward(np.zeros((3, 1)))
    model.backward(np.ones((4, 1)))
    model.update(0.1)
    with pytest.raises(RuntimeError, match="state_offset"):
        model.forward(np.zeros((5, 4, 1)), state_offset=np.ones((5, 4, 3)))
        model.backward(np.ones((4, 1)))


@pytest.mark.parametrize("lr, exc", [(0, ValueError), (-1e-2, ValueError),
                                     (float("nan"), ValueError), ("0.1", TypeError)])
def test_bad_learning_rate(lr, exc):
    model = RNN(1, 3, 1, seed=0)
    model.forward(np.zeros((2, 4, 1)))
    model.backward(np.ones((4, 1)))
    with pytest.raises(exc, match="lr"):
        model.update(lr)


def test_float32_model_follows_float64_closely():
    m64 = RNN(1, 10, 1, seed=0)
    m32 = RNN(1, 10, 1, seed=0, dtype=np.float32)
    assert m32.W.dtype == np.float32
    np.testing.assert_allclose(m32.W, m64.W, rtol=1e-6)
    gen = generate_samples(256, 5, seed=0)
    loss64, loss32 = MSELoss(), MSELoss()
    for _ in range(100):
        x, y = next(gen)
        for model, loss in ((m64, loss64), (m32, loss32)):
            loss.forward(model.forward(x), y)
            model.backward(loss.backward())
            model.update(1e-2)
    assert m32.forward(x).dtype == np.float32
    # 100 float32 steps stay within 1e-4 (absolute) of float64's weights.
    for name, w in m64.get_weights().items():
        np.testing.assert_allclose(getattr(m32, name), w, atol=1e-4, err_msg=name)


def test_repr():
    assert repr(RNN(1, 10, 1, seed=0)) == \
        "RNN(input_size=1, hidden_size=10, output_size=1, dtype=np.float64)"


def test_no_bias_is_transposed_or_made_a_column_in_the_package_or_the_chapters():
    # The equations add the rows b_s, b and b_y; code that turns a bias around is a second convention.
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    pattern = re.compile(r"\b(?:bs|by|b)\.T\b|\bb_s\^\\top|sum\(axis=0\)\[:, None\]")
    found = []
    for path in [*root.glob("memrnn/**/*.py"), *root.glob("book/*.md")]:
        lines = path.read_text(encoding="utf-8").splitlines()
        found += [f"{path.relative_to(root)}:{n}" for n, line in enumerate(lines, 1) if pattern.search(line)]
    assert not found, found
