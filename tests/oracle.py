"""An independent reference for the RNN: written differently, differentiated differently.

The forward pass uses the column-vector convention (h_t = tanh(W^T x_t + R^T h_{t-1}
+ b_s), one sequence at a time) and gradients come from the complex step,
f'(p) = Im f(p + i h) / h, which needs no backward pass at all and has no
subtractive cancellation, so it is exact to rounding. Nothing here imports
memrnn's RNN. A bias is read as its n numbers (``reshape(-1)``), so the
reference does not care whether the model keeps it as a row or a column.
"""

import numpy as np

NAMES = ("W", "R", "bs", "V", "by")


def loss_and_states(params, x, y):
    """MSE of the reference forward pass, and the hidden states (T+1, B, H)."""
    W, R, bs, V, by = (params[n] for n in NAMES)
    T, B, _ = x.shape
    H = R.shape[0]
    dtype = np.result_type(*params.values(), x)
    states = np.zeros((T + 1, B, H), dtype=dtype)
    total = 0.0
    for b in range(B):                       # one sequence at a time
        h = np.zeros(H, dtype=dtype)
        for t in range(T):
            h = np.tanh(W.T @ x[t, b] + R.T @ h + bs.reshape(-1))
            states[t + 1, b] = h
        out = V.T @ h + by.reshape(-1)
        total = total + np.sum((out - y[b]) ** 2)
    return total / y.size, states


def complex_step_grads(params, x, y, h=1e-30):
    grads = {}
    for name in NAMES:
        p = params[name]
        g = np.empty(p.shape)
        for idx in np.ndindex(p.shape):
            shifted = {k: v.astype(complex) for k, v in params.items()}
            shifted[name][idx] += 1j * h
            g[idx] = loss_and_states(shifted, x, y)[0].imag / h
        grads["d_" + name] = g
    return grads


# --------------------------------------------------------------------- LSTM
# The same idea for the LSTM of chapter 7: column vectors, one sequence at a
# time, each gate's weights taken out of the stacked arrays by name, and
# gradients from the complex step. Nothing here imports memrnn's LSTM.

LSTM_NAMES = ("W", "U", "b", "V", "by")
GATE_ORDER = "ifgo"


def _logistic(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_loss_and_states(params, x, y, h_offset=None, c_offset=None):
    """MSE of the reference LSTM, with its hidden and cell states (T+1, B, H) each.

    ``h_offset`` and ``c_offset`` (T, B, H) are added to h_t and c_t as soon
    as they are computed, so that the complex step can differentiate with
    respect to the states too.
    """
    W, U, b, V, by = (params[n] for n in LSTM_NAMES)
    T, B, _ = x.shape
    H = U.shape[0]
    arrays = list(params.values()) + [x] + [o for o in (h_offset, c_offset) if o is not None]
    dtype = np.result_type(*arrays)
    gate = {name: slice(k * H, (k + 1) * H) for k, name in enumerate(GATE_ORDER)}
    hs = np.zeros((T + 1, B, H), dtype=dtype)
    cs = np.zeros((T + 1, B, H), dtype=dtype)
    total = 0.0
    for n in range(B):
        h = np.zeros(H, dtype=dtype)
        c = np.zeros(H, dtype=dtype)
        for t in range(T):
            pre = {name: W[:, s].T @ x[t, n] + U[:, s].T @ h + b.reshape(-1)[s] for name, s in gate.items()}
            c = _logistic(pre["f"]) * c + _logistic(pre["i"]) * np.tanh(pre["g"])
            if c_offset is not None:
                c = c + c_offset[t, n]
            h = _logistic(pre["o"]) * np.tanh(c)
            if h_offset is not None:
                h = h + h_offset[t, n]
            hs[t + 1, n], cs[t + 1, n] = h, c
        out = V.T @ h + by.reshape(-1)
        total = total + np.sum((out - y[n]) ** 2)
    return total / y.size, hs, cs


def lstm_complex_step_grads(params, x, y, h=1e-30, states=False):
    """Complex-step gradients of the reference LSTM's MSE: ``d_W ... d_by``.

    With ``states=True`` also ``d_h`` and ``d_c`` (T, B, H): dL/dh_t and the
    total dL/dc_t, index t - 1 for step t.
    """
    def loss(shifted, **offsets):
        return lstm_loss_and_states(shifted, x, y, **offsets)[0]

    grads = {}
    for name in LSTM_NAMES:
        p = params[name]
        g = np.empty(p.shape)
        for idx in np.ndindex(p.shape):
            shifted = {k: v.astype(complex) for k, v in params.items()}
            shifted[name][idx] += 1j * h
            g[idx] = loss(shifted).imag / h
        grads["d_" + name] = g
    if states:
        T, B, _ = x.shape
        H = params["U"].shape[0]
        for key, keyword in (("d_h", "h_offset"), ("d_c", "c_offset")):
            g = np.empty((T, B, H))
            for idx in np.ndindex(g.shape):
                offset = np.zeros((T, B, H), dtype=complex)
                offset[idx] = 1j * h
                g[idx] = loss(params, **{keyword: offset}).imag / h
            grads[key] = g
    return grads
