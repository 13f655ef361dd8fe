"""An independent reference for the RNN: written differently, differentiated differently.

The forward pass uses the column-vector convention (h_t = tanh(W^T x_t + R^T h_{t-1}
+ b_s), one sequence at a time) and gradients come from the complex step,
f'(p) = Im f(p + i h) / h, which needs no backward pass at all and has no
subtractive cancellation, so it is exact to rounding. Nothing here imports
memrnn's RNN.
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
            h = np.tanh(W.T @ x[t, b] + R.T @ h + bs[:, 0])
            states[t + 1, b] = h
        out = V.T @ h + by[:, 0]
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
