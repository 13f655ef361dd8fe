"""The LSTM of chapter 7: initialisation, gradients (three independent ways), errors, FastLSTM."""

import re

import numpy as np
import pytest

import oracle
from memrnn import MSELoss, generate_samples
from memrnn.fast_lstm import FastLSTM
from memrnn.gradcheck import check_model, randomize_weights
from memrnn.lstm import LSTM, sigmoid

SIZES = [  # (T, B, H, in, out)
    (1, 1, 1, 1, 1),
    (1, 3, 4, 1, 1),
    (2, 2, 3, 1, 1),
    (5, 3, 5, 1, 1),
    (12, 2, 4, 1, 1),
    (4, 3, 3, 2, 2),
    (5, 2, 3, 2, 1),
    (2, 2, 2, 1, 2),
]
GRAD_KEYS = {"d_W", "d_U", "d_b", "d_V", "d_by"}


def _random_problem(T, B, H, n_in=1, n_out=1, seed=0, cls=LSTM):
    rng = np.random.default_rng(seed)
    model = cls(n_in, H, n_out, seed=rng)
    randomize_weights(model, seed=rng)
    x = rng.uniform(-1, 1, size=(T, B, n_in))
    y = rng.normal(size=(B, n_out))
    return model, x, y


def _forward_backward(model, x, y):
    loss = MSELoss()
    value = loss.forward(model.forward(x), y)
    grads = {k: v.copy() for k, v in model.backward(loss.backward()).items()}
    return value, grads


# ------------------------------------------------------------ initialisation
def test_shapes_and_initialisation():
    model = LSTM(1, 10, 1, seed=0)
    assert model.PARAM_NAMES == ("W", "U", "b", "V", "by")
    assert model.W.shape == (1, 40) and model.U.shape == (10, 40) and model.b.shape == (1, 40)
    assert model.V.shape == (10, 1) and model.by.shape == (1, 1)
    assert model.n_parameters() == 40 + 400 + 40 + 10 + 1
    # Gate order i, f, g, o: only the forget block of the bias starts at 1.
    np.testing.assert_array_equal(model.b, [[0] * 10 + [1] * 10 + [0] * 20])
    assert not model.by.any()
    assert np.all(np.abs(model.W) <= np.sqrt(3.0))
    assert np.all(np.abs(model.U) <= np.sqrt(3.0 / 10))
    assert np.all(np.abs(model.V) <= np.sqrt(3.0 / 10))
    assert np.abs(model.U).max() > 0.8 * np.sqrt(3.0 / 10)      # the whole range is used


@pytest.mark.parametrize("cls", [LSTM, FastLSTM])
def test_biases_are_rows_like_their_gradients_and_z_is_the_equation(cls):
    # z_t = x_t W + h_{t-1} U + b and y_hat = h_T V + b_y, with rows: b (1, 4H), b_y (1, out).
    T, B, H, n_in, n_out = 4, 3, 2, 2, 3
    model, x, y = _random_problem(T, B, H, n_in, n_out, seed=11, cls=cls)
    assert model.b.shape == (1, 4 * H) and model.by.shape == (1, n_out)
    _, grads = _forward_backward(model, x, y)
    for name in model.PARAM_NAMES:
        assert grads["d_" + name].shape == getattr(model, name).shape, name
    gates = model.gates
    for t in range(1, T + 1):
        z = x[t - 1] @ model.W + model.A[t - 1] @ model.U + model.b
        i, f, g, o = np.split(z, 4, axis=1)
        np.testing.assert_allclose(gates[t - 1], np.hstack([sigmoid(i), sigmoid(f), np.tanh(g),
                                                            sigmoid(o)]), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(model.forward(x), model.A[T] @ model.V + model.by, rtol=1e-14)
    # Biases given as columns, as code written for column biases holds them: the same numbers.
    w = model.get_weights()
    column = cls(n_in, H, n_out)
    column.set_weights({**w, "b": w["b"].T, "by": w["by"].T})     # biases given as columns
    np.testing.assert_array_equal(column.forward(x), model.forward(x))
    with pytest.raises(ValueError, match=re.escape("weights['b'] must have shape (1, 8) (or the "
                                                   "column (8, 1)), got (2, 4)")):
        column.set_weights({**w, "b": w["b"].reshape(2, 4)})


def test_forget_bias_is_a_parameter():
    model = LSTM(2, 3, 1, seed=0, forget_bias=0.25)
    np.testing.assert_array_equal(model.b, [[0, 0, 0, 0.25, 0.25, 0.25, 0, 0, 0, 0, 0, 0]])
    assert not LSTM(2, 3, 1, seed=0, forget_bias=0).b.any()
    # At the start, the forget gate is sigma(1) = 0.73 on a zero input.
    default = LSTM(1, 4, 1, seed=0)
    default.forward(np.zeros((1, 2, 1)))
    np.testing.assert_allclose(default.gates[0, :, 4:8], 1 / (1 + np.exp(-1.0)))


def test_lecun_uniform_statistics():
    model = LSTM(50, 300, 200, seed=1)
    # U(-a, a) has variance a^2 / 3 = 1 / fan_in.
    assert model.W.var() == pytest.approx(1 / 50, rel=0.03)
    assert model.U.var() == pytest.approx(1 / 300, rel=0.03)
    assert model.V.var() == pytest.approx(1 / 300, rel=0.03)


def test_seeding_and_draw_order():
    a, b, c = LSTM(2, 5, 1, seed=3), LSTM(2, 5, 1, seed=3), LSTM(2, 5, 1, seed=4)
    for name in ("W", "U", "V"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.W, c.W)
    # W, U, V are drawn in that order from the seed's generator.
    rng = np.random.default_rng(3)
    lim_in, lim_h = np.sqrt(3 / 2), np.sqrt(3 / 5)
    np.testing.assert_array_equal(a.W, rng.uniform(-lim_in, lim_in, size=(2, 20)))
    np.testing.assert_array_equal(a.U, rng.uniform(-lim_h, lim_h, size=(5, 20)))
    np.testing.assert_array_equal(a.V, rng.uniform(-lim_h, lim_h, size=(5, 1)))
    np.random.seed(7)
    d = LSTM(1, 5, 1)
    np.random.seed(7)
    e = LSTM(1, 5, 1)
    np.testing.assert_array_equal(d.U, e.U)


def test_forward_output_and_state_shapes():
    model = LSTM(1, 10, 1, seed=0)
    x, _ = next(generate_samples(8, 6, seed=0))
    y_hat = model.forward(x)
    assert y_hat.shape == (8, 1)
    assert model.A.shape == (7, 8, 10) and model.C.shape == (7, 8, 10)
    assert not model.A[0].any() and not model.C[0].any()
    assert model.gates.shape == (6, 8, 40)
    i, f, g, o = np.split(model.gates, 4, axis=-1)
    for s in (i, f, o):
        assert np.all((s > 0) & (s < 1))
    assert np.all(np.abs(g) < 1) and g.min() < 0 < g.max()
    # h_t = o_t tanh(c_t), and |h_t| < 1.
    np.testing.assert_allclose(model.A[1:], o * np.tanh(model.C[1:]), rtol=1e-15)
    np.testing.assert_allclose(model.C[2:], f[1:] * model.C[1:-1] + i[1:] * g[1:], rtol=1e-14)


def test_sigmoid_is_stable_and_silent():
    z = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    s = sigmoid(z)                      # exp(1000) overflows: no warning may escape
    np.testing.assert_array_equal(s[[0, 2, 4]], [0.0, 0.5, 1.0])
    assert 0 < s[1] < 1e-17 and 1 - 1e-15 < s[3] <= 1
    assert sigmoid(np.float32(2.0)).dtype == np.float32


def test_repr():
    assert repr(LSTM(1, 10, 1, seed=0)) == (
        "LSTM(input_size=1, hidden_size=10, output_size=1, dtype=np.float64, forget_bias=1.0)")


# ----------------------------------------------------------------- gradients
@pytest.mark.parametrize("T, B, H, n_in, n_out", SIZES)
def test_gradient_check_every_parameter_and_state(T, B, H, n_in, n_out):
    rng = np.random.default_rng(T * 100 + H)
    model = LSTM(n_in, H, n_out, seed=rng)
    randomize_weights(model, seed=rng)
    errors = check_model(model, seq_length=T, batch_size=B, seed=rng)
    assert set(errors) == GRAD_KEYS | {"d_a", "d_c"}
    for name, err in errors.items():
        assert err < 1e-6, (name, err)


def test_gradient_check_at_initialisation_and_with_random_weights():
    errors = check_model(LSTM(1, 6, 1, seed=0), seq_length=6, batch_size=4, seed=1)
    assert max(errors.values()) < 1e-6, errors
    rng = np.random.default_rng(2)
    model = LSTM(1, 5, 1, seed=rng)
    randomize_weights(model, seed=rng)
    errors = check_model(model, seed=rng)
    assert set(errors) == GRAD_KEYS | {"d_a", "d_c"}
    assert max(errors.values()) < 1e-6, errors
    assert set(check_model(model, seed=2, include_hidden=False)) == GRAD_KEYS


def test_gradient_check_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        check_model(LSTM(1, 3, 1, seed=0, dtype=np.float32))


ORACLE_SIZES = [s for s in SIZES if s[0] <= 5] + [(12, 2, 3, 1, 1)]


@pytest.mark.parametrize("T, B, H, n_in, n_out", ORACLE_SIZES)
def test_matches_complex_step_oracle(T, B, H, n_in, n_out):
    model, x, y = _random_problem(T, B, H, n_in, n_out, seed=T + B)
    value, grads = _forward_backward(model, x, y)
    ref_value, ref_h, ref_c = oracle.lstm_loss_and_states(model.get_weights(), x, y)
    assert value == pytest.approx(ref_value, rel=1e-13, abs=1e-15)
    np.testing.assert_allclose(model.A, ref_h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.C, ref_c, rtol=1e-12, atol=1e-14)
    ref = oracle.lstm_complex_step_grads(model.get_weights(), x, y, states=T * B * H <= 40)
    assert set(grads) == GRAD_KEYS
    for name in GRAD_KEYS:
        np.testing.assert_allclose(grads[name], ref[name], rtol=1e-9, atol=1e-13, err_msg=name)
    if "d_h" in ref:
        np.testing.assert_allclose(model.hidden_grads, ref["d_h"], rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(model.cell_grads, ref["d_c"], rtol=1e-9, atol=1e-13)


def test_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    T, B, H, n_in, n_out = 7, 5, 4, 2, 3
    model, x, y = _random_problem(T, B, H, n_in, n_out, seed=42)
    _, grads = _forward_backward(model, x, y)

    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in model.get_weights().items()}
    xt, yt = torch.tensor(x), torch.tensor(y)
    h = c = torch.zeros(B, H, dtype=torch.float64)
    hs, cs = [], []
    for t in range(T):
        z = xt[t] @ p["W"] + h @ p["U"] + p["b"]
        i, f, g, o = z.split(H, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        c.retain_grad()
        h.retain_grad()
        hs.append(h)
        cs.append(c)
    y_hat = h @ p["V"] + p["by"]
    torch.mean((y_hat - yt) ** 2).backward()

    np.testing.assert_allclose(model.hidden_grads, np.stack([s.grad.numpy() for s in hs]),
                               rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(model.cell_grads, np.stack([s.grad.numpy() for s in cs]),
                               rtol=1e-10, atol=1e-14)
    for name, tensor in p.items():
        np.testing.assert_allclose(grads["d_" + name], tensor.grad.numpy(), rtol=1e-10,
                                   atol=1e-14, err_msg=name)
    np.testing.assert_allclose(model.forward(x), y_hat.detach().numpy(), rtol=1e-13, atol=1e-14)


def test_gate_order_matches_torch_nn_lstm():
    torch = pytest.importorskip("torch")
    T, B, H, n_in = 6, 4, 3, 2
    model, x, _ = _random_problem(T, B, H, n_in, 1, seed=5)
    model.forward(x)
    net = torch.nn.LSTM(n_in, H, dtype=torch.float64)
    with torch.no_grad():                   # torch keeps W^T and splits the bias in two
        net.weight_ih_l0.copy_(torch.tensor(model.W.T))
        net.weight_hh_l0.copy_(torch.tensor(model.U.T))
        net.bias_ih_l0.copy_(torch.tensor(model.b[0]))
        net.bias_hh_l0.zero_()
        out, (h_T, c_T) = net(torch.tensor(x))
    np.testing.assert_allclose(model.A[1:], out.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.C[-1], c_T[0].numpy(), rtol=1e-12, atol=1e-14)


def test_hidden_and_cell_grads_at_the_last_step():
    model, x, y = _random_problem(4, 3, 3, 1, 2, seed=8)
    loss = MSELoss()
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    d_h_T = loss.backward() @ model.V.T
    np.testing.assert_allclose(model.hidden_grads[-1], d_h_T)
    # c_T reaches the loss only through h_T = o_T tanh(c_T).
    o_T = model.gates[-1, :, 9:]
    np.testing.assert_allclose(model.cell_grads[-1], d_h_T * o_T * (1 - np.tanh(model.C[-1]) ** 2))
    assert model.hidden_grads.shape == model.cell_grads.shape == (4, 3, 3)


# ------------------------------------------------------------------- updates
def test_update_is_sgd_on_summed_gradients():
    model, x, y = _random_problem(4, 3, 3, seed=9)
    before = model.get_weights()
    _, grads = _forward_backward(model, x, y)
    model.update(0.1)
    after = model.get_weights()
    for name in before:
        assert not np.array_equal(after[name], before[name]), name
        np.testing.assert_allclose(after[name], before[name] - 0.1 * grads["d_" + name])


def test_sgd_step_lowers_the_loss():
    model, x, y = _random_problem(5, 16, 4, seed=2)
    first, _ = _forward_backward(model, x, y)
    model.update(1e-2)
    assert MSELoss().forward(model.forward(x), y) < first


def test_get_and_set_weights_round_trip():
    a, b = LSTM(1, 4, 1, seed=0), LSTM(1, 4, 1, seed=1)
    assert list(a.get_weights()) == ["W", "U", "b", "V", "by"]
    b.set_weights(a.get_weights())
    for name, value in a.get_weights().items():
        np.testing.assert_array_equal(getattr(b, name), value)
    w = a.get_weights()
    w["U"] = np.zeros((4, 4))
    with pytest.raises(ValueError, match=r"U.*\(4, 16\)"):
        a.set_weights(w)


def test_float32_works_and_follows_float64():
    m64 = LSTM(1, 10, 1, seed=0)
    m32 = LSTM(1, 10, 1, seed=0, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in m32.parameters().values())
    gen = generate_samples(128, 5, seed=0)
    for _ in range(30):
        x, y = next(gen)
        for model in (m64, m32):
            loss = MSELoss()
            loss.forward(model.forward(x), y)
            grads = model.backward(loss.backward())
            model.update(1e-2)
    assert m32.forward(x).dtype == np.float32
    assert m32.A.dtype == m32.C.dtype == m32.hidden_grads.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    for name, w in m64.get_weights().items():
        np.testing.assert_allclose(getattr(m32, name), w, atol=1e-4, err_msg=name)


# -------------------------------------------------------------------- errors
@pytest.mark.parametrize("args, kwargs, exc, words", [
    ((0, 10, 1), {}, ValueError, "input_size"),
    ((1, -3, 1), {}, ValueError, "hidden_size"),
    ((1, 10, 1.5), {}, TypeError, "output_size"),
    ((1, 10, 1), {"dtype": np.int32}, TypeError, "dtype"),
    ((1, 10, 1), {"forget_bias": "1"}, TypeError, "forget_bias"),
    ((1, 10, 1), {"forget_bias": float("nan")}, ValueError, "forget_bias"),
    ((1, 10, 1), {"seed": -1}, ValueError, "seed"),
])
def test_bad_construction(args, kwargs, exc, words):
    with pytest.raises(exc, match=words):
        LSTM(*args, **kwargs)


@pytest.mark.parametrize("shape", [(5, 4), (5, 4, 2), (4,), (0, 4, 1)])
def test_bad_input_shapes(shape):
    with pytest.raises(ValueError, match="shape"):
        LSTM(1, 3, 1, seed=0).forward(np.zeros(shape))


def test_bad_input_values_and_offsets():
    model = LSTM(1, 3, 1, seed=0)
    x = np.zeros((5, 4, 1))
    x[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.forward(x)
    with pytest.raises(TypeError, match="real numbers"):
        model.forward(np.full((5, 4, 1), "a"))
    with pytest.raises(ValueError, match=r"state_offset.*\(5, 4, 3\)"):
        model.forward(np.zeros((5, 4, 1)), state_offset=np.zeros((5, 4, 2)))
    with pytest.raises(ValueError, match=r"cell_offset.*\(5, 4, 3\)"):
        model.forward(np.zeros((5, 4, 1)), cell_offset=np.zeros((4, 4, 3)))


@pytest.mark.parametrize("cls", [LSTM, FastLSTM])
def test_order_errors(cls):
    model = cls(1, 3, 1, seed=0)
    with pytest.raises(RuntimeError, match="forward"):
        model.backward(np.zeros((4, 1)))
    with pytest.raises(RuntimeError, match="backward"):
        model.update(0.1)
    model.forward(np.zeros((5, 4, 1)))
    with pytest.raises(ValueError, match=r"\(4, 1\)"):
        model.backward(np.zeros((3, 1)))
    model.backward(np.ones((4, 1)))
    model.update(0.1)
    for keyword in ("state_offset", "cell_offset"):
        model.forward(np.zeros((5, 4, 1)), **{keyword: np.ones((5, 4, 3))})
        with pytest.raises(RuntimeError, match="offset"):
            model.backward(np.ones((4, 1)))
    model.forward(np.zeros((5, 4, 1)))          # a plain forward makes backward possible again
    assert set(model.backward(np.ones((4, 1)))) == GRAD_KEYS


def test_offsets_change_the_states_where_they_should():
    model, x, _ = _random_problem(4, 2, 3, seed=1)
    model.forward(x)
    base_A, base_C = model.A.copy(), model.C.copy()
    offset = np.zeros((4, 2, 3))
    offset[1, 0, 2] = 0.1                       # step 2's cell state, sequence 0, unit 2
    model.forward(x, cell_offset=offset)
    assert model.C[2, 0, 2] == pytest.approx(base_C[2, 0, 2] + 0.1)
    np.testing.assert_array_equal(model.C[:2], base_C[:2])
    assert not np.allclose(model.A[2], base_A[2])   # h_2 = o_2 tanh(c_2) sees it
    model.forward(x, state_offset=offset)
    assert model.A[2, 0, 2] == pytest.approx(base_A[2, 0, 2] + 0.1)
    np.testing.assert_array_equal(model.C[:3], base_C[:3])


# ------------------------------------------------------------------ FastLSTM
@pytest.mark.parametrize("T, B, H, n_in, n_out", [(1, 3, 4, 1, 1), (2, 2, 3, 2, 3),
                                                  (7, 5, 4, 2, 1), (12, 64, 10, 1, 1)])
@pytest.mark.parametrize("tanh", ["numpy", "exp"])
def test_fast_lstm_matches_lstm(T, B, H, n_in, n_out, tanh):
    plain, x, y = _random_problem(T, B, H, n_in, n_out, seed=T)
    fast = FastLSTM(n_in, H, n_out, seed=0, tanh=tanh)
    fast.set_weights(plain.get_weights())
    start = plain.get_weights()
    for _ in range(4):
        results = {}
        for name, model in (("plain", plain), ("fast", fast)):
            value, grads = _forward_backward(model, x, y)
            results[name] = (value, grads, model.A.copy(), model.C.copy(), model.gates,
                             model.hidden_grads.copy(), model.cell_grads.copy())
            model.update(0.05)
        (v0, g0, *arrays0), (v1, g1, *arrays1) = results["plain"], results["fast"]
        assert v1 == pytest.approx(v0, rel=1e-12)
        for key in GRAD_KEYS:
            assert g1[key].shape == g0[key].shape == getattr(plain, key[2:]).shape, key
            np.testing.assert_allclose(g1[key], g0[key], rtol=0, atol=1e-12, err_msg=key)
        for a0, a1 in zip(arrays0, arrays1):
            assert a0.shape == a1.shape
            np.testing.assert_allclose(a1, a0, rtol=0, atol=1e-12)
    for name, w in plain.get_weights().items():
        if T > 1 or name != "U":                             # h_0 U = 0: no dU at T = 1
            assert not np.array_equal(w, start[name]), name  # the updates did something
        np.testing.assert_allclose(getattr(fast, name), w, rtol=0, atol=1e-12, err_msg=name)


def test_fast_lstm_same_initialisation_and_gradient_check():
    fast, plain = FastLSTM(2, 5, 1, seed=3), LSTM(2, 5, 1, seed=3)
    for name, w in plain.get_weights().items():
        np.testing.assert_array_equal(getattr(fast, name), w)
    model, _, _ = _random_problem(5, 3, 4, 2, 2, seed=4, cls=FastLSTM)
    errors = check_model(model, seq_length=5, batch_size=3, seed=5)
    assert set(errors) == GRAD_KEYS | {"d_a", "d_c"}
    assert max(errors.values()) < 1e-6, errors


def test_fast_lstm_float32_and_options():
    from memrnn.fast import TANH_FLOAT32

    assert FastLSTM(1, 6, 1, dtype=np.float32).tanh == TANH_FLOAT32   # chosen for this CPU
    m32 = FastLSTM(1, 6, 1, seed=0, dtype=np.float32, tanh="exp")     # forced: older CPUs' choice
    assert m32.tanh == "exp"
    x, y = next(generate_samples(32, 5, seed=0))
    plain = LSTM(1, 6, 1, seed=0)
    _, g32 = _forward_backward(m32, x, y)
    _, g64 = _forward_backward(plain, x, y)
    for key in GRAD_KEYS:
        assert g32[key].dtype == np.float32
        np.testing.assert_allclose(g32[key], g64[key], rtol=1e-3, atol=1e-6, err_msg=key)
    with pytest.raises(ValueError, match="tanh"):
        FastLSTM(1, 3, 1, tanh="fast")
    with pytest.raises(AttributeError, match="gates"):
        m32.gates = np.zeros(3)


# ------------------------------------------------------- the generic checks
def test_randomize_weights_for_the_lstm():
    model = LSTM(1, 50, 1, seed=0)
    randomize_weights(model, seed=4, scale=0.5)
    # Generic values everywhere, moderate ones in the recurrent matrix: 0.9 / sqrt(H).
    assert model.U.std() == pytest.approx(0.9 / np.sqrt(50), rel=0.05)
    for name in ("W", "b", "V"):
        assert 0.35 < getattr(model, name).std() < 0.65, name          # 50 to 200 draws
    assert np.all(model.b[:, 50:100] != 1.0)
    again = LSTM(1, 50, 1, seed=1)
    randomize_weights(again, seed=4, scale=0.5)
    for name, w in model.get_weights().items():
        np.testing.assert_array_equal(getattr(again, name), w)


def test_check_model_checks_an_rnn_by_default():
    import memrnn.gradcheck
    from memrnn import RNN

    rng = np.random.default_rng(6)
    model = RNN(1, 4, 1, seed=rng)
    randomize_weights(model, seed=rng)
    given = check_model(model, seq_length=3, batch_size=2, seed=rng)
    assert set(given) == {"d_W", "d_R", "d_bs", "d_V", "d_by", "d_a"}     # no cell state
    assert given == check_model(seq_length=3, batch_size=2, hidden_size=4, seed=6)
    # The gradient check knows no LSTM: the model says which states it has.
    assert "LSTM" not in vars(memrnn.gradcheck) and "lstm" not in memrnn.gradcheck.__dict__


def test_fast_lstm_work_arrays_are_reused_but_returned_gradients_are_not():
    model, x, y = _random_problem(5, 4, 3, seed=11, cls=FastLSTM)
    first = model.backward(2.0 / y.size * (model.forward(x) - y))
    kept = {k: v.copy() for k, v in first.items()}
    A, hidden = model.A, model.hidden_grads
    A_before, hidden_before = A.copy(), hidden.copy()
    model.forward(-x)
    second = model.backward(np.ones_like(y))
    assert not np.allclose(A, A_before)                   # the view saw the new forward
    assert not np.allclose(hidden, hidden_before)
    for key, value in kept.items():                       # but the returned dict did not
        np.testing.assert_array_equal(first[key], value)
        assert not np.shares_memory(first[key], second[key])
