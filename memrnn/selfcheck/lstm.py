"""The self-check of the LSTM's backward step."""

from __future__ import annotations

import numpy as np

from .. import lstm
from ..gradcheck import numerical_gradient, relative_error
from ._report import Report, crash, returned_nothing

__all__ = ["check_lstm_cell_backward"]

#: Classic slips in the LSTM's backward step: {what the slip does: its name in ``_cell_step``}.
_LSTM_CELL_MISTAKES = {
    "dropped the sigmoid derivative i (1 - i) of the input gate": "sig_i",
    "dropped the sigmoid derivative f (1 - f) of the forget gate": "sig_f",
    "dropped the tanh derivative 1 - g^2 of the candidate": "tanh_g",
    "dropped the sigmoid derivative o (1 - o) of the output gate": "sig_o",
    "forgot the forget gate on the cell path: c_{t-1} enters c_t multiplied by f_t, so "
    "it receives dL/dc_t * f_t, not dL/dc_t": "no_f_on_path",
    "used c_t where dL/df_t needs c_{t-1}, the state the forget gate multiplies": "c_for_c_prev",
    "left out what reaches c_t along the cell path from c_{t+1} (d_c_next)": "no_cell_path",
    "forgot the slope 1 - tanh^2(c_t) on the way from h_t to c_t": "no_tanh_c",
    "forgot the output gate o_t on the way from h_t to c_t": "no_o_to_c",
    "wrote 1 + tanh^2(c_t) for the slope of tanh: a sign error": "plus_tanh",
    "mixed up g_t and i_t: dL/di_t = dL/dc_t * g_t and dL/dg_t = dL/dc_t * i_t": "swap_i_g",
    "used tanh(c_{t-1}) for the output gate: dL/do_t = dL/dh_t * tanh(c_t)": "o_prev",
}


def _cell_step(d_h, d_c_next, c_prev, c, gates, slip=None):
    """One step back through the LSTM cell, written out once more, with one ``slip`` made.

    Independent of ``lstm.cell_backward``'s source on purpose: the names of
    the mistakes must not change when the package's code does.
    """
    H = c.shape[1]
    i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
    tanh_c = np.tanh(c)
    slope = 1.0 + tanh_c ** 2 if slip == "plus_tanh" else 1.0 - tanh_c ** 2
    from_h = d_h * (1.0 if slip == "no_o_to_c" else o) * (1.0 if slip == "no_tanh_c" else slope)
    d_c = (0.0 if slip == "no_cell_path" else d_c_next) + from_h
    d_i, d_g = (d_c * i, d_c * g) if slip == "swap_i_g" else (d_c * g, d_c * i)
    d_f = d_c * (c if slip == "c_for_c_prev" else c_prev)
    d_o = d_h * (np.tanh(c_prev) if slip == "o_prev" else tanh_c)
    d_z = np.hstack([d_i * (1.0 if slip == "sig_i" else i * (1.0 - i)),
                     d_f * (1.0 if slip == "sig_f" else f * (1.0 - f)),
                     d_g * (1.0 if slip == "tanh_g" else 1.0 - g ** 2),
                     d_o * (1.0 if slip == "sig_o" else o * (1.0 - o))])
    return d_z, (d_c if slip == "no_f_on_path" else d_c * f)


def check_lstm_cell_backward(cell_backward, seed=0, eps=1e-6) -> Report:
    """Check a student's ``lstm_cell_backward(d_h, d_c_next, c_prev, c, gates)``.

    On an LSTM with random weights: one step in the middle of a sequence,
    gate by gate and along the cell path, against the package's step; then
    the student's step chained over all time steps, as ``LSTM.backward``
    does, against finite differences of the loss for every weight. A wrong
    block that matches a classic mistake is named.
    """
    from ..gradcheck import randomize_weights
    from ..lstm import LSTM

    report = Report("LSTM backward step")
    rng = np.random.default_rng(seed)
    T, B, H = 6, 5, 4
    model = LSTM(1, H, 1, seed=rng)
    randomize_weights(model, seed=rng)
    x = rng.uniform(-1, 1, size=(T, B, 1))
    y = rng.normal(size=(B, 1))
    y_hat = model.forward(x)
    model.backward(2.0 / y.size * (y_hat - y))
    t = T // 2                                          # a step with a cell path behind it
    f_next = np.split(model.gates[t], 4, axis=1)[1]     # f_{t+1}
    inputs = (model.hidden_grads[t - 1].copy(), model.cell_grads[t] * f_next,
              model.C[t - 1].copy(), model.C[t].copy(), model.gates[t - 1].copy())
    given = tuple(a.copy() for a in inputs)
    try:
        out = cell_backward(*given)
    except Exception as err:
        return crash(report, "runs on one step", err)
    if returned_nothing(report, "lstm_cell_backward", out, "return the pair d_z, d_c_prev"):
        return report
    try:
        d_z, d_c_prev = (np.array(a, dtype=float) for a in out)
    except (TypeError, ValueError):
        report.add("returns the pair (d_z, d_c_prev)", False,
                   f"it returned a {type(out).__name__}; return two arrays: d_z, d_c_prev")
        return report
    shapes_ok = d_z.shape == (B, 4 * H) and d_c_prev.shape == (B, H)
    if not report.add("returns d_z of shape (B, 4H) and d_c_prev of shape (B, H)", shapes_ok,
                      f"expected {(B, 4 * H)} and {(B, H)}, got {d_z.shape} and "
                      f"{d_c_prev.shape}: d_z holds the four gates side by side, i, f, g, o"):
        return report
    report.add("leaves its inputs unchanged",
               all(np.array_equal(a, b) for a, b in zip(inputs, given)),
               "an input array was changed: compute new arrays (d_c = d_c_next + ...), do not "
               "add into d_c_next or the gates in place")
    right_z, right_c = lstm.cell_backward(*inputs)
    mistakes = {bug: _cell_step(*inputs, slip=slip) for bug, slip in _LSTM_CELL_MISTAKES.items()}
    hints = {
        "i": "dL/dz^i = dL/dc_t * g_t * i_t (1 - i_t)",
        "f": "dL/dz^f = dL/dc_t * c_{t-1} * f_t (1 - f_t)",
        "g": "dL/dz^g = dL/dc_t * i_t * (1 - g_t^2)",
        "o": "dL/dz^o = dL/dh_t * tanh(c_t) * o_t (1 - o_t)",
    }
    names = {"i": "input gate", "f": "forget gate", "g": "candidate", "o": "output gate"}

    def explain(why, mine, right, pick):
        if np.allclose(mine, -right) and np.abs(right).max() > 1e-12:
            return why + ". Yours has the opposite sign"
        for bug, wrong in mistakes.items():
            w = pick(wrong)
            if not np.allclose(w, right) and np.allclose(mine, w, rtol=1e-9, atol=1e-12):
                return why + f". Yours matches a backward step that {bug}"
        return why

    student = dict(zip("ifgo", np.split(d_z, 4, axis=1)))
    for k, (gate, right) in enumerate(zip("ifgo", np.split(right_z, 4, axis=1))):
        ok = np.allclose(student[gate], right, rtol=1e-9, atol=1e-12)
        why = explain(f"expected {hints[gate]}, with dL/dc_t = d_c_next + dL/dh_t * o_t * "
                      f"(1 - tanh^2(c_t))", student[gate], right,
                      lambda w, k=k: np.split(w[0], 4, axis=1)[k])
        report.add(f"dL/dz for the {names[gate]} is right", ok, why)
    ok = np.allclose(d_c_prev, right_c, rtol=1e-9, atol=1e-12)
    report.add("d_c_prev, what goes back along the cell path to c_{t-1}, is right", ok,
               explain("expected dL/dc_t * f_t", d_c_prev, right_c, lambda w: w[1]))

    # The step chained over all time steps, as LSTM.backward does, against finite differences.
    def loss(_=None):
        return float(np.mean((model.forward(x) - y) ** 2))

    def chained():
        model.forward(x)
        A, C, G = model.A.copy(), model.C.copy(), model.gates.copy()
        dy = 2.0 / y.size * (A[T] @ model.V + model.by - y)
        grads = {"d_W": np.zeros_like(model.W), "d_U": np.zeros_like(model.U),
                 "d_b": np.zeros_like(model.b)}
        d_h, d_c_next = dy @ model.V.T, np.zeros((B, H))
        for step in range(T, 0, -1):
            d_zt, d_c_next = (np.asarray(a, dtype=float) for a in
                              cell_backward(d_h, d_c_next, C[step - 1], C[step], G[step - 1]))
            grads["d_W"] += x[step - 1].T @ d_zt
            grads["d_U"] += A[step - 1].T @ d_zt
            grads["d_b"] += d_zt.sum(axis=0, keepdims=True)
            d_h = d_zt @ model.U.T
        return grads

    try:
        grads = chained()
    except Exception as err:
        return crash(report, "chained over all time steps", err)
    errors = {}
    for name in ("W", "U", "b"):
        numeric = numerical_gradient(loss, getattr(model, name), eps)
        errors[name] = relative_error(grads["d_" + name], numeric)
    worst = max(errors, key=errors.get)
    report.add("chained over all T steps, it gives dW, dU and db that agree with finite "
               "differences", errors[worst] < 1e-6,
               f"relative error {errors[worst]:.1e} for d_{worst} (chapter 3): a slip in one "
               f"step is repeated at every step back")
    return report
