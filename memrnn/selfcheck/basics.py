"""Self-checks of the data, the loss, a numerical gradient and an RNN's backward pass."""

from __future__ import annotations

import numpy as np

from ..gradcheck import numerical_gradient, relative_error
from ._report import Report, crash, mutants


def check_generator(generate_samples, batch_size=256, seq_length=6) -> Report:
    """Check a student's ``generate_samples(batch_size, seq_length)``."""
    report = Report("generate_samples")
    try:
        stream = generate_samples(batch_size, seq_length)
        x, y = next(stream)
        x2, _ = next(stream)
    except Exception as err:
        return crash(report, "yields (x, y) batches", err)
    x, y, x2 = np.asarray(x), np.asarray(y), np.asarray(x2)
    if not report.add("x has shape (T, B, 1)", x.shape == (seq_length, batch_size, 1),
                      f"expected {(seq_length, batch_size, 1)} with time first, got {x.shape}"
                      + (". Did you put the batch first?" if x.shape == (batch_size, seq_length, 1)
                         else "")):
        return report
    report.add("y has shape (B, 1)", y.shape == (batch_size, 1),
               f"expected {(batch_size, 1)}, got {y.shape}")
    report.add("inputs lie in [-1, 1]", bool(np.all(np.abs(x) <= 1.0)),
               f"found values from {x.min():.3g} to {x.max():.3g}")
    ok_mean = abs(x.mean()) < 0.1 and abs(x.var() - 1 / 3) < 0.05
    report.add("inputs are uniform on [-1, 1] (mean 0, variance 1/3)", ok_mean,
               f"mean {x.mean():.3f} and variance {x.var():.3f}; uniform on [-1, 1] gives 0 "
               f"and 0.333. A normal distribution or U[0, 1] would fail here")
    if y.shape == (batch_size, 1):
        first = np.array_equal(y, x[0])
        why = "y must be the FIRST element of each sequence, x[0]"
        if not first and np.array_equal(y, x[-1]):
            why += "; yours matches the last, x[-1]"
        elif not first:
            match = [t for t in range(seq_length) if np.array_equal(y, x[t])]
            why += f"; yours matches x[{match[0]}]" if match else "; yours matches no time step"
        report.add("y is the first element of each sequence", first, why)
    report.add("every batch is new", not np.array_equal(x, x2),
               "two calls to next() gave the same batch: draw new numbers inside the loop")
    return report



def check_mse(loss_cls, seed=0) -> Report:
    """Check a student's MSE loss class with ``forward(y_hat, y)`` and ``backward()``."""
    report = Report("MSE loss")
    rng = np.random.default_rng(seed)
    y_hat, y = rng.normal(size=(8, 1)), rng.normal(size=(8, 1))
    N = y.size
    try:
        loss = loss_cls()
        value = loss.forward(y_hat, y)
        grad = np.asarray(loss.backward(), dtype=float)
    except Exception as err:
        return crash(report, "forward and backward run", err)
    expected = float(np.mean((y_hat - y) ** 2))
    why = f"expected {expected:.6g}, got {value!r}"
    if np.isclose(value, expected * N):
        why += ": you summed the squared errors; the loss is their mean"
    elif np.isclose(value, expected / 2):
        why += ": a factor 1/2 crept in"
    report.add("forward returns the mean squared error",
               np.isscalar(value) and np.isclose(value, expected), why)
    right = 2.0 / N * (y_hat - y)
    shape_ok = report.add("backward has the shape of y_hat", grad.shape == y_hat.shape,
                          f"expected {y_hat.shape}, got {grad.shape}")
    if shape_ok:
        why = "dL/dy_hat should be 2 (y_hat - y) / N"
        for factor, hint in ((-1, "the sign is flipped: it is (y_hat - y), not (y - y_hat)"),
                             (0.5, "the factor 2 from differentiating the square is missing"),
                             (N, "the 1/N of the mean is missing"),
                             (N / 2, "the factor 2/N is missing altogether")):
            if np.allclose(grad, factor * right):
                why += f"; yours is {factor:g} times that: {hint}"
                break
        report.add("backward returns 2 (y_hat - y) / N", np.allclose(grad, right), why)
        numeric = numerical_gradient(lambda p: loss_cls().forward(p, y), y_hat.copy(), 1e-6)
        err = relative_error(grad, numeric)
        report.add("backward agrees with finite differences of forward", err < 1e-6,
                   f"relative error {err:.1e} (chapter 3); forward and backward disagree")
    return report



def check_numerical_gradient(numerical_gradient, seed=0) -> Report:
    """Check a student's ``numerical_gradient(f, x, eps)``."""
    report = Report("numerical_gradient")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 2))
    original = x.copy()

    def f(v):
        return float(np.sum(np.sin(v)) + v[0, 0] * v[1, 1])

    exact = np.cos(original)
    exact[0, 0] += original[1, 1]
    exact[1, 1] += original[0, 0]
    try:
        g = np.asarray(numerical_gradient(f, x, 1e-5), dtype=float)
    except Exception as err:
        return crash(report, "runs on a known function", err)
    if not report.add("returns one entry per coordinate", g.shape == x.shape,
                      f"expected shape {x.shape}, got {g.shape}"):
        return report
    err = float(np.max(np.abs(g - exact)))
    why = f"largest error {err:.1e} against the exact gradient"
    if err < 1e-3:
        why += ("; that is the O(eps) error of a one-sided difference: use "
                "(f(x + eps) - f(x - eps)) / (2 eps)")
    elif np.allclose(g, 2 * exact, atol=1e-5):
        why += "; yours is twice the gradient: divide by 2 eps, not eps"
    report.add("matches the exact gradient to 1e-8 (two-sided difference)", err < 1e-8, why)
    report.add("leaves x as it found it", np.array_equal(x, original),
               "x was changed: restore each entry after perturbing it")
    return report



def check_rnn_backward(model, seed=0, eps=1e-6) -> Report:
    """Check a model's ``backward`` against finite differences of its ``forward``.

    ``model`` is an RNN-like object with ``forward``, ``backward`` and the
    parameter arrays ``W, R, bs, V, by`` (the student's own class, or an RNN
    whose methods were replaced). Its weights are set to random values first.
    A wrong gradient that matches a classic mistake is named: the plain
    ``RNN.backward`` with that one line changed gives the same numbers.
    """
    from ..gradcheck import randomize_weights
    from ..rnn import PARAM_NAMES

    report = Report("RNN backward")
    rng = np.random.default_rng(seed)
    try:
        randomize_weights(model, seed=rng)
    except Exception as err:
        return crash(report, "accepts random weights", err)
    T, B = 5, 3
    x = rng.uniform(-1, 1, size=(T, B, model.input_size))
    y = rng.normal(size=(B, model.output_size))

    def loss(_=None):
        return float(np.mean((model.forward(x) - y) ** 2))

    try:
        y_hat = model.forward(x)
        grads = model.backward(2.0 / y.size * (y_hat - y))
        grads = {k: np.array(v, dtype=float) for k, v in grads.items()}
    except Exception as err:
        return crash(report, "forward and backward run", err)
    hints = {
        "W": "dW sums x_t^T delta_t over t, with delta_t = dL/da_t * (1 - a_t^2)",
        "R": "dR sums a_{t-1}^T delta_t: the PREVIOUS state, and dL/da_{t-1} = delta_t R^T",
        "bs": "dbs sums delta_t over the batch and over t",
        "V": "dV = a_T^T dL/dy_hat: the LAST state",
        "by": "dby sums dL/dy_hat over the batch",
    }
    weights = {name: np.array(getattr(model, name), dtype=float) for name in PARAM_NAMES}
    known = _known_mistakes(weights, x, 2.0 / y.size * (y_hat - y))
    for name in PARAM_NAMES:
        key = "d_" + name
        if key not in grads:
            report.add(f"{key} is returned", False, f"backward must return a dict with {key}")
            continue
        numeric = numerical_gradient(loss, getattr(model, name), eps)
        a = grads[key]
        if a.shape != numeric.shape:
            report.add(f"{key} has the shape of {name}", False,
                       f"expected {numeric.shape}, got {a.shape}")
            continue
        err = relative_error(a, numeric)
        why = f"relative error {err:.1e} against finite differences. Hint: {hints[name]}"
        if np.allclose(a, -numeric, rtol=1e-5, atol=1e-9):
            why += ". Yours has the opposite sign: check the sign of tanh' = 1 - a^2"
        else:
            for bug, wrong in known.items():
                if err >= 1e-6 and np.allclose(a, wrong[key], rtol=1e-6, atol=1e-10):
                    why += f". Yours matches a backward pass that {bug}"
                    break
        report.add(f"{key} agrees with finite differences", err < 1e-6, why)
    return report



#: Classic mistakes in backpropagation through time, each as one line of the
#: plain ``RNN.backward`` changed: (the line's text, what the mistake writes).
_RNN_MISTAKES = {
    "forgot the tanh derivative (1 - a_t^2)": ("d_a[t - 1] * (1.0 - A[t] ** 2)", "d_a[t - 1]"),
    "used R instead of R^T": ("delta @ self.R.T", "delta @ self.R"),
}


def _known_mistakes(weights, x, dy) -> dict:
    """The gradients that the plain RNN's backward pass gives with each of ``_RNN_MISTAKES``."""
    from ..rnn import RNN

    out = {}
    for bug, backward in mutants(RNN.backward, _RNN_MISTAKES).items():
        model = type("MistakenRNN", (RNN,), {"backward": backward})(
            x.shape[2], weights["R"].shape[0], dy.shape[1], seed=0)
        model.set_weights(weights)
        model.forward(x)
        out[bug] = model.backward(dy)
    return out
