"""Self-checks for students' own implementations (the exercises of chapters 1-7).

Each ``check_*`` function runs a student's code against the same properties
the package's tests use, and explains what it finds in the language of the
book: "y must be the FIRST element of each sequence; yours matches the last".
It never raises for a wrong answer; it returns a ``Report`` that prints as a
list of passed and failed checks, in a terminal and in a notebook. So every
check catches any ``Exception`` from the student's code: a crash is a finding
to explain, not an error to pass on.
"""

from __future__ import annotations

import html
import inspect
import traceback

import numpy as np

from .gradcheck import numerical_gradient, relative_error

__all__ = ["Report", "check_generator", "check_mse", "check_numerical_gradient",
           "check_rnn_backward", "check_learner", "check_sweep_loop", "check_grad_norms",
           "lstm_cell_backward", "check_lstm_cell_backward"]


class Report:
    """The outcome of one self-check: a list of (check, passed, explanation).

    ``bool(report)`` and ``report.passed`` are True when every check passed.
    """

    def __init__(self, title: str):
        self.title = title
        self.items: list[tuple[str, bool, str]] = []

    def add(self, name: str, ok: bool, explanation: str = "") -> bool:
        self.items.append((name, bool(ok), explanation))
        return bool(ok)

    @property
    def passed(self) -> bool:
        return bool(self.items) and all(ok for _, ok, _ in self.items)

    def __bool__(self):
        return self.passed

    @property
    def failures(self) -> list[str]:
        return [f"{name}: {why}" for name, ok, why in self.items if not ok]

    def __str__(self):
        n_ok = sum(ok for _, ok, _ in self.items)
        head = f"{self.title}: {n_ok} of {len(self.items)} checks passed"
        lines = [head]
        for name, ok, why in self.items:
            detail = "" if ok or not why else f"\n         {why}"
            lines.append(f"  [{'ok' if ok else 'FAIL'}] {name}{detail}")
        if self.passed:
            lines.append("  Well done: your implementation behaves as it should.")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        rows = "".join(
            f"<li>{'&#10004;' if ok else '&#10008;'} <b>{html.escape(name)}</b>"
            + ("" if ok or not why else f"<br><span>{html.escape(why)}</span>") + "</li>"
            for name, ok, why in self.items)
        verdict = ("All checks passed." if self.passed else
                   f"{len(self.failures)} check(s) failed; read the explanations below.")
        return f"<div><p><b>{html.escape(self.title)}</b>: {verdict}</p><ul>{rows}</ul></div>"


def _crash(report: Report, what: str, err: BaseException) -> Report:
    last = traceback.format_exception_only(type(err), err)[-1].strip()
    report.add(what, False, f"your code raised {last}")
    return report


# ------------------------------------------------------------------ chapter 1
def check_generator(generate_samples, batch_size=256, seq_length=6) -> Report:
    """Check a student's ``generate_samples(batch_size, seq_length)`` (chapter 1)."""
    report = Report("generate_samples")
    try:
        stream = generate_samples(batch_size, seq_length)
        x, y = next(stream)
        x2, _ = next(stream)
    except Exception as err:
        return _crash(report, "yields (x, y) batches", err)
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


# ------------------------------------------------------------------ chapter 2
def check_mse(loss_cls, seed=0) -> Report:
    """Check a student's MSE loss class with ``forward(y_hat, y)`` and ``backward()`` (chapter 2)."""
    report = Report("MSE loss")
    rng = np.random.default_rng(seed)
    y_hat, y = rng.normal(size=(8, 1)), rng.normal(size=(8, 1))
    N = y.size
    try:
        loss = loss_cls()
        value = loss.forward(y_hat, y)
        grad = np.asarray(loss.backward(), dtype=float)
    except Exception as err:
        return _crash(report, "forward and backward run", err)
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


# ------------------------------------------------------------------ chapter 3
def check_numerical_gradient(numerical_gradient, seed=0) -> Report:
    """Check a student's ``numerical_gradient(f, x, eps)`` (chapter 3)."""
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
        return _crash(report, "runs on a known function", err)
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
    """Check a model's ``backward`` against finite differences of its ``forward`` (chapter 3).

    ``model`` is an RNN-like object with ``forward``, ``backward`` and the
    parameter arrays ``W, R, bs, V, by`` (the student's own class, or an RNN
    whose methods were replaced). Its weights are set to random values first.
    A wrong gradient that matches a classic mistake is named: the plain
    ``RNN.backward`` with that one line changed gives the same numbers.
    """
    from .gradcheck import randomize_weights
    from .rnn import PARAM_NAMES

    report = Report("RNN backward")
    rng = np.random.default_rng(seed)
    try:
        randomize_weights(model, seed=rng)
    except Exception as err:
        return _crash(report, "accepts random weights", err)
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
        return _crash(report, "forward and backward run", err)
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
RNN_MISTAKES = {
    "forgot the tanh derivative (1 - a_t^2)": ("d_a[t - 1] * (1.0 - A[t] ** 2)", "d_a[t - 1]"),
    "used R instead of R^T": ("delta @ self.R.T", "delta @ self.R"),
}


def _known_mistakes(weights, x, dy) -> dict:
    """The gradients that the plain RNN's backward pass gives with each of ``RNN_MISTAKES``."""
    import textwrap

    from . import rnn

    source = textwrap.dedent(inspect.getsource(rnn.RNN.backward))
    out = {}
    for bug, (right, wrong) in RNN_MISTAKES.items():
        if source.count(right) != 1:           # the plain code changed: recognise nothing
            continue
        namespace = dict(vars(rnn))
        exec(compile(source.replace(right, wrong), f"<RNN.backward that {bug}>", "exec"),
             namespace)
        mistaken = type("MistakenRNN", (rnn.RNN,), {"backward": namespace["backward"]})
        model = mistaken(x.shape[2], weights["R"].shape[0], dy.shape[1], seed=0)
        model.set_weights(weights)
        model.forward(x)
        out[bug] = model.backward(dy)
    return out


# ------------------------------------------------------------------ chapter 4
def check_learner(learner_cls, steps=200, seed=0) -> Report:
    """Check that a student's learner trains: the loss falls on an easy task (chapter 4).

    ``learner_cls(model, loss_obj, data_generator)`` must have
    ``train(iter_steps, lr)`` and a ``loss_values`` dict, like ``memrnn.Learner``.
    """
    from .data import generate_samples
    from .losses import MSELoss
    from .rnn import RNN

    report = Report("Learner")
    model = RNN(1, 8, 1, seed=seed)
    before = model.get_weights()
    updates = []
    plain_update = model.update

    def counted_update(lr):
        updates.append(lr)
        return plain_update(lr)

    model.update = counted_update          # counts the updates the student's step applies
    try:
        learner = learner_cls(model, MSELoss(), generate_samples(128, 3, seed=seed + 1))
        quiet = {}
        try:
            if "progress" in inspect.signature(learner.train).parameters:
                quiet = {"progress": False}     # no progress bar in the middle of a check
        except (TypeError, ValueError):
            pass
        learner.train(steps, 0.05, **quiet)
        losses = dict(learner.loss_values)
    except Exception as err:
        return _crash(report, "train runs", err)
    changed = any(not np.array_equal(before[k], v) for k, v in model.get_weights().items())
    report.add("training changes the weights", changed,
               "the weights did not move: call model.update(lr) after backward in every step")
    if changed:
        why = f"train({steps}) applied {len(updates)} updates"
        if len(updates) == steps - 1:
            why += ": one too few, is a loop starting at 1?"
        elif len(updates) > steps:
            why += ": more than asked, is the update called twice per step?"
        report.add(f"train({steps}) makes exactly {steps} updates", len(updates) == steps, why)
    if not report.add("loss_values records the loss", len(losses) > 1,
                      "loss_values should map the update count to the loss, logged every "
                      "log_steps updates"):
        return report
    keys = sorted(losses)
    first, last = losses[keys[0]], losses[keys[-1]]
    why = f"the loss went from {first:.3f} to {last:.3f}"
    if last > first:
        why += ("; it rose: is the update p -= lr * grad (not +=), and is the gradient "
                "computed on the same batch as the loss?")
    report.add("the loss falls on an easy task (T = 3)", last < 0.5 * first, why)
    return report


# ------------------------------------------------------------------ chapter 5
def check_sweep_loop(sweep_loop) -> Report:
    """Check a student's ``sweep_loop(training, lengths, repeats)`` (chapter 5)."""
    from .settings import PROFILES
    from .sweep import sweep_loop as reference_loop

    report = Report("sweep_loop")
    settings = PROFILES["smoke"].replace(steps=20)
    lengths, repeats = (2, 3), 2
    try:
        got = sweep_loop(settings.training(), lengths, repeats)
    except Exception as err:
        return _crash(report, "runs on a tiny sweep", err)
    expected = reference_loop(settings.training(), lengths, repeats)
    if not report.add("returns a dict with one entry per length", isinstance(got, dict)
                      and sorted(got) == sorted(lengths),
                      f"expected keys {sorted(lengths)}, got "
                      f"{sorted(got) if isinstance(got, dict) else type(got).__name__}"):
        return report
    counts_ok = all(len(got[T]) == repeats for T in lengths)
    report.add("one result per repetition", counts_ok,
               f"expected {repeats} held-out MSEs per length, got "
               f"{ {T: len(got[T]) for T in lengths} }")
    if counts_ok:
        same = all(len(set(map(float, got[T]))) == 1 for T in lengths)
        why = "each run must be run_one(training, T, r) for r = 0 .. repeats - 1"
        if same:
            why += ("; all repetitions of a length gave the same MSE: every run needs its own "
                    "seed, which run_one derives from the repetition r")
        report.add("matches run_one for every (length, repetition)",
                   all(np.allclose(got[T], expected[T]) for T in lengths), why)
    return report


# ------------------------------------------------------------------ chapter 6
def check_grad_norms(hidden_grad_norms) -> Report:
    """Check a student's ``hidden_grad_norms(model)``: ||dL/da_t|| for every t (chapter 6)."""
    from .losses import MSELoss
    from .rnn import RNN
    from .vanishing import hidden_grad_norms as reference

    report = Report("hidden_grad_norms")
    model = RNN(1, 5, 1, seed=0)
    x = np.random.default_rng(1).uniform(-1, 1, size=(12, 16, 1))
    loss = MSELoss()
    loss.forward(model.forward(x), x[0])
    model.backward(loss.backward())
    expected = reference(model)
    try:
        got = np.asarray(hidden_grad_norms(model), dtype=float)
    except Exception as err:
        return _crash(report, "runs after a backward pass", err)
    if not report.add("one value per time step, shape (T,)", got.shape == expected.shape,
                      f"expected shape {expected.shape}, got {got.shape}: take the norm over the "
                      f"batch and hidden axes of model.hidden_grads, one value per t"):
        return report
    why = "expected the Frobenius norm of hidden_grads[t - 1] for each t"
    g = model.hidden_grads
    if np.allclose(got, g.mean(axis=(1, 2))) or np.any(got < 0):
        why += "; yours looks like a mean of signed entries, which cancel: use a norm"
    elif np.allclose(got, expected[::-1]):
        why += "; yours is reversed in time: entry t - 1 belongs to a_t"
    report.add("equals ||dL/da_t|| for every t", np.allclose(got, expected, rtol=1e-10), why)
    return report


# ------------------------------------------------------------------ chapter 7
def lstm_cell_backward(d_h, d_c_next, c_prev, c, gates):
    """One step back through the LSTM cell: from dL/dh_t and the cell path to dL/dz_t (chapter 7).

    The body of the loop of ``LSTM.backward``, as a function of what step t
    needs: the gradient that reaches it and what its forward pass kept.

    Parameters
    ----------
    d_h : ndarray, shape (B, H)
        dL/dh_t: from the read-out at t = T, from z_{t+1} through U before.
    d_c_next : ndarray, shape (B, H)
        What reaches c_t along the cell path from c_{t+1}, that is
        dL/dc_{t+1} * f_{t+1}; zero at t = T.
    c_prev, c : ndarray, shape (B, H)
        The cell states c_{t-1} and c_t of the forward pass.
    gates : ndarray, shape (B, 4H)
        [i_t, f_t, g_t, o_t] of the forward pass, as ``LSTM.gates[t - 1]``.

    Returns
    -------
    d_z : ndarray, shape (B, 4H)
        dL/dz_t, the gradient at the pre-activations of the four gates, in
        the order i, f, g, o.
    d_c_prev : ndarray, shape (B, H)
        What this step sends back along the cell path to c_{t-1}:
        dL/dc_t * f_t.
    """
    i, f, g, o = np.split(gates, 4, axis=1)
    tanh_c = np.tanh(c)
    d_c = d_c_next + d_h * o * (1.0 - tanh_c ** 2)      # through c_{t+1} and through h_t
    d_i, d_f, d_g = d_c * g, d_c * c_prev, d_c * i      # c_t = f_t c_{t-1} + i_t g_t
    d_o = d_h * tanh_c                                  # h_t = o_t tanh(c_t)
    d_z = np.concatenate([d_i * i * (1.0 - i),          # sigmoid'(z) = s (1 - s)
                          d_f * f * (1.0 - f),
                          d_g * (1.0 - g ** 2),         # tanh'(z) = 1 - tanh(z)^2
                          d_o * o * (1.0 - o)], axis=1)
    return d_z, d_c * f


def _lstm_cell_mistakes(d_h, d_c_next, c_prev, c, gates) -> dict:
    """Classic mistakes in the LSTM's backward step: what ``lstm_cell_backward`` returns
    with each one slip, as {what the slip does: (d_z, d_c_prev)}."""
    i, f, g, o = np.split(gates, 4, axis=1)
    tanh_c = np.tanh(c)

    def step(*, d_c_next=d_c_next, h_to_c=d_h * o * (1.0 - tanh_c ** 2), c_in_df=c_prev,
             sig_i=True, sig_f=True, tanh_g=True, sig_o=True, forget_on_path=True,
             d_i_factor=g, d_g_factor=i):
        d_c = d_c_next + h_to_c
        d_i, d_f, d_g, d_o = d_c * d_i_factor, d_c * c_in_df, d_c * d_g_factor, d_h * tanh_c
        d_z = np.concatenate([d_i * (i * (1.0 - i) if sig_i else 1.0),
                              d_f * (f * (1.0 - f) if sig_f else 1.0),
                              d_g * ((1.0 - g ** 2) if tanh_g else 1.0),
                              d_o * (o * (1.0 - o) if sig_o else 1.0)], axis=1)
        return d_z, (d_c * f if forget_on_path else d_c)

    return {
        "dropped the sigmoid derivative i (1 - i) of the input gate": step(sig_i=False),
        "dropped the sigmoid derivative f (1 - f) of the forget gate": step(sig_f=False),
        "dropped the tanh derivative 1 - g^2 of the candidate": step(tanh_g=False),
        "dropped the sigmoid derivative o (1 - o) of the output gate": step(sig_o=False),
        "forgot the forget gate on the cell path: c_{t-1} enters c_t multiplied by f_t, so "
        "it receives dL/dc_t * f_t, not dL/dc_t": step(forget_on_path=False),
        "used c_t where dL/df_t needs c_{t-1}, the state the forget gate multiplies":
            step(c_in_df=c),
        "left out what reaches c_t along the cell path from c_{t+1} (d_c_next)":
            step(d_c_next=np.zeros_like(d_c_next)),
        "forgot the slope 1 - tanh^2(c_t) on the way from h_t to c_t":
            step(h_to_c=d_h * o),
        "forgot the output gate o_t on the way from h_t to c_t":
            step(h_to_c=d_h * (1.0 - tanh_c ** 2)),
        "wrote 1 + tanh^2(c_t) for the slope of tanh: a sign error":
            step(h_to_c=d_h * o * (1.0 + tanh_c ** 2)),
        "mixed up g_t and i_t: dL/di_t = dL/dc_t * g_t and dL/dg_t = dL/dc_t * i_t":
            step(d_i_factor=i, d_g_factor=g),
    }


def check_lstm_cell_backward(cell_backward, seed=0, eps=1e-6) -> Report:
    """Check a student's ``lstm_cell_backward(d_h, d_c_next, c_prev, c, gates)`` (chapter 7).

    On an LSTM with random weights: one step in the middle of a sequence,
    gate by gate and along the cell path, against the package's step; then
    the student's step chained over all time steps, as ``LSTM.backward``
    does, against finite differences of the loss for every weight. A wrong
    block that matches a classic mistake is named.
    """
    from .gradcheck import randomize_weights
    from .lstm import LSTM

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
        d_z, d_c_prev = (np.array(a, dtype=float) for a in out)
    except Exception as err:
        return _crash(report, "runs on one step and returns (d_z, d_c_prev)", err)
    shapes_ok = d_z.shape == (B, 4 * H) and d_c_prev.shape == (B, H)
    if not report.add("returns d_z of shape (B, 4H) and d_c_prev of shape (B, H)", shapes_ok,
                      f"expected {(B, 4 * H)} and {(B, H)}, got {d_z.shape} and "
                      f"{d_c_prev.shape}: d_z holds the four gates side by side, i, f, g, o"):
        return report
    report.add("leaves its inputs unchanged",
               all(np.array_equal(a, b) for a, b in zip(inputs, given)),
               "an input array was changed: compute new arrays (d_c = d_c_next + ...), do not "
               "add into d_c_next or the gates in place")
    right_z, right_c = lstm_cell_backward(*inputs)
    mistakes = _lstm_cell_mistakes(*inputs)
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
        dy = 2.0 / y.size * (A[T] @ model.V + model.by.T - y)
        grads = {"d_W": np.zeros_like(model.W), "d_U": np.zeros_like(model.U),
                 "d_b": np.zeros_like(model.b)}
        d_h, d_c_next = dy @ model.V.T, np.zeros((B, H))
        for step in range(T, 0, -1):
            d_zt, d_c_next = (np.asarray(a, dtype=float) for a in
                              cell_backward(d_h, d_c_next, C[step - 1], C[step], G[step - 1]))
            grads["d_W"] += x[step - 1].T @ d_zt
            grads["d_U"] += A[step - 1].T @ d_zt
            grads["d_b"] += d_zt.sum(axis=0)[:, None]
            d_h = d_zt @ model.U.T
        return grads

    try:
        grads = chained()
    except Exception as err:
        return _crash(report, "chained over all time steps", err)
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
