"""Self-checks of the data, the loss, a numerical gradient and an RNN's backward pass."""

from __future__ import annotations

import re

import numpy as np

from ..gradcheck import numerical_gradient, relative_error
from ._report import Report, as_numbers, crash, returned_nothing, students_line

__all__ = ["check_generator", "check_mse", "check_numerical_gradient", "check_rnn_backward"]


def check_generator(generate_samples, batch_size=256, seq_length=6) -> Report:
    """Check a student's ``generate_samples(batch_size, seq_length)``."""
    report = Report("generate_samples")
    try:
        stream = generate_samples(batch_size, seq_length)
    except Exception as err:
        return crash(report, "yields (x, y) batches", err)
    if returned_nothing(report, "generate_samples", stream,
                        "it must yield batches for ever: while True: ... yield x, y"):
        return report
    if not hasattr(stream, "__next__"):
        report.add("yields (x, y) batches", False,
                   f"generate_samples returned a {type(stream).__name__}, not a generator: "
                   f"use yield x, y inside a while True loop, not return")
        return report
    try:
        first = next(stream)
        second = next(stream)
    except StopIteration:
        report.add("yields (x, y) batches", False,
                   "the generator stopped after one batch: put the yield inside a while True loop")
        return report
    except Exception as err:
        return crash(report, "yields (x, y) batches", err)
    if not all(isinstance(b, (tuple, list)) and len(b) == 2 for b in (first, second)):
        report.add("each batch is a pair (x, y)", False,
                   f"next() gave a {type(first).__name__}: yield x, y")
        return report
    (x, y), (x2, _) = first, second
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
        value = loss.forward(y_hat.copy(), y.copy())
    except Exception as err:
        return crash(report, "forward runs", err)
    if returned_nothing(report, "forward", value, "return the loss, one number"):
        return report
    try:
        grad = loss.backward()
    except Exception as err:
        return crash(report, "backward runs after forward", err)
    if returned_nothing(report, "backward", grad, "return the gradient dL/dy_hat, an array"):
        return report
    try:
        if isinstance(value, (str, bytes)) or np.ndim(value) != 0:
            raise TypeError
        value = float(value)
    except (TypeError, ValueError):
        shape = f"an array of shape {np.shape(value)}" if isinstance(value, (np.ndarray, list)) \
            else f"a {type(value).__name__}"
        report.add("forward returns one number", False,
                   f"forward returned {shape}; the loss is one number, the mean of the squared "
                   f"errors (note that (y_hat - y).T @ (y_hat - y) is a (1, 1) array)")
        return report
    try:
        grad = np.asarray(grad, dtype=float)
    except (TypeError, ValueError):
        report.add("backward returns an array", False,
                   f"backward returned a {type(grad).__name__}; return dL/dy_hat, an array")
        return report
    expected = float(np.mean((y_hat - y) ** 2))
    why = f"expected {expected:.6g}, got {value!r}"
    if np.isclose(value, expected * N):
        why += ": you summed the squared errors; the loss is their mean"
    elif np.isclose(value, expected / 2):
        why += ": a factor 1/2 crept in"
    report.add("forward returns the mean squared error", np.isclose(value, expected), why)
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
        try:
            numeric = numerical_gradient(lambda p: float(loss_cls().forward(p, y)), y_hat.copy(),
                                         1e-6)
        except Exception as err:
            return crash(report, "forward runs on nearby predictions", err)
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
        g = numerical_gradient(f, x, 1e-5)
    except Exception as err:
        return crash(report, "runs on a known function", err)
    g = as_numbers(report, "numerical_gradient", g, "returns an array",
                   "return the array of estimates, shaped like x")
    if g is None:
        return report
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

    # In this book f reads the array itself, as a loss reads a model's weight.
    w = original.copy()

    def loss(_=None):
        return f(w)

    try:
        g = np.asarray(numerical_gradient(loss, w, 1e-5), dtype=float)
    except Exception as err:
        return crash(report, "runs on a function that reads x itself", err)
    ok = g.shape == w.shape and np.max(np.abs(g - exact)) < 1e-8
    why = ("f may ignore its argument and read x itself, as a loss reads a model's weight: "
           "perturb x in place (x[i] += eps), evaluate f, and restore x[i]")
    if g.shape == w.shape and np.allclose(g, 0.0):
        why += "; yours gave zeros, so it perturbed a copy of x"
    report.add("works when f reads x itself, not its argument", ok, why)
    return report



def check_rnn_backward(model, seed=0, eps=1e-6) -> Report:
    """Check an RNN's ``backward`` against finite differences of its ``forward``.

    ``model`` is an RNN-like object with ``forward``, ``backward`` and the
    parameter arrays ``W, R, bs, V, by`` (the student's own class, or an RNN
    subclass with its own ``backward``), or such a class, which is then made
    as ``model(1, 4, 1, seed=0)``. Its weights are set to random values first.
    A wrong gradient that matches a classic mistake is named: backpropagation
    through time written out with that one mistake gives the same numbers.
    """
    from ..gradcheck import randomize_weights
    from ..rnn import PARAM_NAMES

    report = Report("RNN backward")
    rng = np.random.default_rng(seed)
    try:
        if isinstance(model, type) or not hasattr(model, "forward"):
            model = model(1, 4, 1, seed=0)
        randomize_weights(model, seed=rng)
    except Exception as err:
        return crash(report, "makes a model and accepts random weights", err)
    T, B = 5, 3
    x = rng.uniform(-1, 1, size=(T, B, model.input_size))
    y = rng.normal(size=(B, model.output_size))

    def loss(_=None):
        return float(np.mean((model.forward(x) - y) ** 2))

    try:
        y_hat = np.array(model.forward(x), dtype=float)
        dy = 2.0 / y.size * (y_hat - y)
        grads = model.backward(dy.copy())
    except Exception as err:
        crash(report, "forward and backward run", err)
        rows = [name for name in ("bs", "by") if np.shape(getattr(model, name, None))[:1] == (1,)]
        line = students_line(err)
        if isinstance(err, ValueError) and "broadcast" in str(err) and \
                any(re.search(rf"(?<![A-Za-z0-9]){name}\b", line) for name in rows):   # bs, d_bs, self.bs
            report.add("the bias gradients are rows, like the biases", False,
                       "bs and by are rows, (1, H) and (1, out), as b_s and b_y in the "
                       "equations: sum over the batch with sum(axis=0, keepdims=True), "
                       "not [:, None], which makes a column")
        return report
    if returned_nothing(report, "backward", grads,
                        "return the dict of gradients {'d_W': ..., 'd_R': ..., 'd_bs': ..., "
                        "'d_V': ..., 'd_by': ...}"):
        return report
    if not isinstance(grads, dict):
        report.add("backward returns a dict", False,
                   f"backward returned a {type(grads).__name__}; return a dict with the keys "
                   f"d_W, d_R, d_bs, d_V and d_by")
        return report
    hints = {
        "W": "dW sums x_t^T delta_t over t, with delta_t = dL/da_t * (1 - a_t^2)",
        "R": "dR sums a_{t-1}^T delta_t: the PREVIOUS state, and dL/da_{t-1} = delta_t R^T",
        "bs": "dbs sums delta_t over the batch and over t, shaped like bs",
        "V": "dV = a_T^T dL/dy_hat: the LAST state",
        "by": "dby sums dL/dy_hat over the batch, shaped like by",
    }
    weights = {name: np.array(getattr(model, name), dtype=float) for name in PARAM_NAMES}
    known = {bug: _bptt(weights, x, dy, slip) for bug, slip in _RNN_MISTAKES.items()}
    for name in PARAM_NAMES:
        key = "d_" + name
        if key not in grads:
            report.add(f"{key} is returned", False,
                       f"backward must return a dict with {key}; yours has {sorted(grads)}")
            continue
        try:
            a = np.array(grads[key], dtype=float)
            numeric = numerical_gradient(loss, getattr(model, name), eps)
        except Exception as err:
            crash(report, f"{key} is an array and forward runs on nearby weights", err)
            continue
        if a.shape != numeric.shape:
            why = f"expected {numeric.shape}, the shape of {name}, got {a.shape}"
            row = numeric.shape[0] == 1                    # a bias kept as a row, (1, n)
            if a.shape == numeric.shape[::-1]:
                why += ": yours is transposed"
                if name in ("bs", "by") and row:
                    why += (f"; {name} is a row, as in the equations: sum(axis=0, "
                            f"keepdims=True) gives that row, [:, None] a column")
            elif name in ("bs", "by") and a.ndim == 2 and numeric.size in a.shape:
                why += (": sum over the batch (axis 0)"
                        + (" with keepdims=True" if row else " and make it a column"))
            elif name in ("bs", "by") and a.shape == (numeric.size,):
                why += (": keep the summed axis, sum(axis=0, keepdims=True)" if row
                        else ": make it a column")
            report.add(f"{key} has the shape of {name}", False, why)
            continue
        err = relative_error(a, numeric)
        why = f"relative error {err:.1e} against finite differences. Hint: {hints[name]}"
        if err >= 1e-6:
            scale = _simple_factor(a, numeric, B, T)
            if np.allclose(a, -numeric, rtol=1e-5, atol=1e-9):
                why += (". Yours has the opposite sign: is dL/dy_hat 2 (y_hat - y) / N as "
                        "given, and is tanh' = 1 - a^2 (not a^2 - 1)?")
            elif scale:
                why += f". Yours is {scale} times the gradient"
            else:
                for bug, wrong in known.items():
                    if np.allclose(a, wrong[key], rtol=1e-6, atol=1e-10):
                        why += f". Yours matches a backward pass that {bug}"
                        break
        report.add(f"{key} agrees with finite differences", err < 1e-6, why)
    return report


def _simple_factor(a, numeric, B, T) -> str:
    """"B", "1/B", ... if ``a`` is ``numeric`` times a factor a slip would put there, else ""."""
    for text, factor in (("B", B), ("1/B", 1.0 / B), ("T", T), ("1/T", 1.0 / T),
                         ("2", 2.0), ("1/2", 0.5)):
        if np.allclose(a, factor * numeric, rtol=1e-5, atol=1e-9):
            extra = {"1/B": ": the 1/B of the mean is already in dL/dy_hat; do not average again",
                     "B": ": keep the 1/B that dL/dy_hat carries",
                     "T": "", "1/T": ": sum over time, do not average",
                     "2": "", "1/2": ": keep the factor 2 that dL/dy_hat carries"}[text]
            return text + extra
    return ""


#: Classic mistakes in backpropagation through time: {what the backward pass did: slip}.
_RNN_MISTAKES = {
    "forgot the tanh derivative (1 - a_t^2)": "no_tanh",
    "used R instead of R^T to carry dL/da_t back to a_{t-1}": "R_not_T",
    "used a_t where dR needs the previous state a_{t-1} (off by one in time)": "dR_current",
    "took the tanh derivative at a_{t-1} instead of a_t (off by one in time)": "tanh_previous",
    "multiplied by the tanh derivative twice": "tanh_twice",
    "used x_{t+1} or x_{t-1} where dW needs x_t (off by one in time)": "x_shifted",
    "stopped the loop before t = 1 (off by one in time)": "skip_first",
    "kept only one step's term: the gradients of W, R and b_s sum over all t (use +=)":
        "no_sum",
    "never carried dL/da_t back in time (dL/da_{t-1} = delta_t R^T is missing)": "no_chain",
    "read the output from the first state a_1 instead of the last, a_T": "dV_first",
}


def _bptt(weights, x, dy, slip=None) -> dict:
    """Backpropagation through time written out once more, with one classic ``slip`` made.

    Independent of ``RNN.backward``'s source on purpose: the names of the
    mistakes must not change when the package's code does.
    """
    W, R, bs, V = weights["W"], weights["R"], weights["bs"], weights["V"]
    row_bs = bs.reshape(1, -1)            # a row, whichever way the model keeps it
    T = x.shape[0]
    A = [np.zeros((x.shape[1], R.shape[0]))]
    for t in range(T):
        A.append(np.tanh(x[t] @ W + A[-1] @ R + row_bs))    # A[t] = a_t
    g = {"d_W": np.zeros_like(W), "d_R": np.zeros_like(R), "d_bs": np.zeros_like(bs),
         "d_V": (A[1] if slip == "dV_first" else A[T]).T @ dy,
         "d_by": dy.sum(axis=0).reshape(weights["by"].shape)}
    d_a = dy @ V.T                                           # dL/da_T
    last = 2 if slip == "skip_first" else 1
    for t in range(T, last - 1, -1):
        slope = 1.0 - (A[t - 1] if slip == "tanh_previous" else A[t]) ** 2
        delta = d_a if slip == "no_tanh" else d_a * slope * (slope if slip == "tanh_twice" else 1)
        x_t = x[t % T] if slip == "x_shifted" else x[t - 1]
        terms = {"d_W": x_t.T @ delta, "d_R": (A[t] if slip == "dR_current" else A[t - 1]).T @ delta,
                 "d_bs": delta.sum(axis=0).reshape(bs.shape)}
        for k, v in terms.items():
            g[k] = v if slip == "no_sum" else g[k] + v
        d_a = 0.0 * d_a if slip == "no_chain" else delta @ (R if slip == "R_not_T" else R.T)
    return g
