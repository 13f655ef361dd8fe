"""The self-checks pass the package's own code and catch typical wrong answers, by name."""

from __future__ import annotations

import numpy as np
import pytest

import memrnn
from memrnn import selfcheck
from memrnn.gradcheck import numerical_gradient
from memrnn.learner import Learner


def _failed(report, words):
    assert not report.passed, str(report)
    text = " ".join(report.failures)
    assert words in text, text
    text = str(report)               # what a student reads: the failure and why
    assert "[FAIL]" in text and words in text and "Well done" not in text
    assert "<ul>" in report._repr_html_() and "&#10008;" in report._repr_html_()


# ----------------------------------------------------------------- generator
def test_the_reference_generator_passes():
    report = selfcheck.check_generator(memrnn.generate_samples)
    assert report.passed, str(report)
    assert "Well done" in str(report)


def _gen(label=0, low=-1.0, batch_first=False, frozen=False):
    def generate(batch_size, seq_length):
        rng = np.random.default_rng(0)
        x = rng.uniform(low, 1.0, size=(seq_length, batch_size, 1))
        while True:
            if not frozen:
                x = rng.uniform(low, 1.0, size=(seq_length, batch_size, 1))
            out = np.transpose(x, (1, 0, 2)) if batch_first else x
            yield out, x[label].copy()
    return generate


@pytest.mark.parametrize("wrong, words", [
    (_gen(label=-1), "yours matches the last"),                    # wrong label index
    (_gen(label=2), "yours matches x[2]"),
    (_gen(low=0.0), "uniform on [-1, 1]"),                          # U[0, 1]
    (_gen(batch_first=True), "batch first"),
    (_gen(frozen=True), "same batch"),
])
def test_typical_generator_mistakes_are_named(wrong, words):
    _failed(selfcheck.check_generator(wrong), words)


def test_a_crashing_generator_is_reported_not_raised():
    def broken(batch_size, seq_length):
        raise ZeroDivisionError("oops")
    _failed(selfcheck.check_generator(broken), "ZeroDivisionError")


# ----------------------------------------------------------------------- MSE
def test_the_reference_loss_passes():
    assert selfcheck.check_mse(memrnn.MSELoss).passed


def _loss(grad_factor=1.0, sign=1.0, summed=False):
    class Loss:
        def forward(self, y_hat, y):
            self.d = y_hat - y
            return float(np.sum(self.d ** 2) if summed else np.mean(self.d ** 2))

        def backward(self):
            return sign * grad_factor * 2.0 / self.d.size * self.d
    return Loss


@pytest.mark.parametrize("wrong, words", [
    (_loss(grad_factor=0.5), "factor 2 from differentiating the square is missing"),
    (_loss(grad_factor=8), "1/N of the mean is missing"),           # missing 1/N
    (_loss(grad_factor=4), "2/N is missing"),                        # missing 2/N (N = 8)
    (_loss(sign=-1), "sign is flipped"),                             # gradient sign flip
    (_loss(summed=True), "summed the squared errors"),
])
def test_typical_loss_mistakes_are_named(wrong, words):
    _failed(selfcheck.check_mse(wrong), words)


# --------------------------------------------------------- numerical gradient
def test_the_reference_numerical_gradient_passes():
    assert selfcheck.check_numerical_gradient(numerical_gradient).passed


def one_sided(f, x, eps=1e-6):
    g = np.empty_like(x)
    base = f(x)
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + eps
        g.flat[i] = (f(x) - base) / eps
        x.flat[i] = old
    return g


def no_restore(f, x, eps=1e-6):
    g = np.empty_like(x)
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + eps
        up = f(x)
        x.flat[i] = old - eps
        g.flat[i] = (up - f(x)) / (2 * eps)          # forgets to restore x
    return g


def missing_half(f, x, eps=1e-6):
    return 2 * numerical_gradient(f, x, eps)


@pytest.mark.parametrize("wrong, words", [
    (one_sided, "one-sided"),
    (no_restore, "restore each entry"),
    (missing_half, "divide by 2 eps"),
])
def test_typical_numerical_gradient_mistakes_are_named(wrong, words):
    _failed(selfcheck.check_numerical_gradient(wrong), words)


# -------------------------------------------------------------- RNN backward
def test_the_reference_rnn_passes():
    assert selfcheck.check_rnn_backward(memrnn.RNN(1, 4, 1, seed=0)).passed


class NoTanhDerivative(memrnn.RNN):
    """Forgets the tanh derivative: delta_t = dL/da_t, written out in full."""

    def backward(self, d_loss):
        A, x, dy = self.A, self.x, np.asarray(d_loss)
        T = A.shape[0] - 1
        g = {"d_W": np.zeros_like(self.W), "d_R": np.zeros_like(self.R),
             "d_bs": np.zeros_like(self.bs), "d_V": A[T].T @ dy,
             "d_by": dy.sum(axis=0, keepdims=True)}
        d_a = dy @ self.V.T
        for t in range(T, 0, -1):
            delta = d_a                          # the bug: no * (1 - A[t] ** 2)
            g["d_W"] += x[t - 1].T @ delta
            g["d_R"] += A[t - 1].T @ delta
            g["d_bs"] += delta.sum(axis=0, keepdims=True)
            d_a = delta @ self.R.T
        return g


class FlippedTanhDerivative(memrnn.RNN):
    def backward(self, d_loss):
        grads = {k: v.copy() for k, v in super().backward(d_loss).items()}
        for k in ("d_W", "d_R", "d_bs"):
            grads[k] = -grads[k]
        return grads


class RNotTransposed(memrnn.RNN):
    """Carries the gradient back with R instead of R^T."""

    def backward(self, d_loss):
        R = self.R
        try:
            self.R = np.ascontiguousarray(R.T)   # the parent then multiplies by R.T.T = R
            grads = super().backward(d_loss)
            return {k: v.copy() for k, v in grads.items()}
        finally:
            self.R = R


class ReadoutFromFirstState(memrnn.RNN):
    def backward(self, d_loss):
        grads = {k: v.copy() for k, v in super().backward(d_loss).items()}
        grads["d_V"] = self.A[1].T @ np.asarray(d_loss)
        return grads


@pytest.mark.parametrize("cls, words", [
    (NoTanhDerivative, "forgot the tanh derivative"),               # forgotten tanh'
    (FlippedTanhDerivative, "opposite sign"),                        # gradient sign flip
    (ReadoutFromFirstState, "the LAST state"),
    (RNotTransposed, "used R instead of R^T"),
])
def test_typical_backward_mistakes_are_named(cls, words):
    _failed(selfcheck.check_rnn_backward(cls(1, 4, 1, seed=0)), words)


# ------------------------------------------------------------------- learner
def test_the_reference_learner_passes():
    assert selfcheck.check_learner(Learner).passed


class NoUpdate(Learner):
    def train_step(self, lr):
        x, y = next(self.data_generator)
        loss = self.loss_obj.forward(self.model.forward(x), y)
        self.model.backward(self.loss_obj.backward())
        return loss


class Ascent:
    """An optimizer that adds the gradient instead of subtracting it."""

    def step(self, model, lr):
        grads = model.grads
        for name, p in model.parameters().items():
            p += lr * grads["d_" + name]


class GradientAscent(Learner):
    def __init__(self, model, loss_obj, data_generator):
        super().__init__(model, loss_obj, data_generator, optimizer=Ascent())


@pytest.mark.parametrize("cls, words", [
    (NoUpdate, "update every weight"),
    (GradientAscent, "it rose"),
])
def test_typical_learner_mistakes_are_named(cls, words):
    _failed(selfcheck.check_learner(cls), words)


# ------------------------------------------------------------ sweep and norms
def test_the_reference_sweep_loop_and_norms_pass():
    assert selfcheck.check_sweep_loop(memrnn.sweep.sweep_loop).passed
    assert selfcheck.check_grad_norms(memrnn.vanishing.hidden_grad_norms).passed


def one_seed_for_all(training, lengths, repeats):
    return {T: [memrnn.run.run_one(training, T, 0)["eval_mse"]] * repeats for T in lengths}


def mean_not_norm(model):
    return model.hidden_grads.mean(axis=(1, 2))


def reversed_norms(model):
    return memrnn.vanishing.hidden_grad_norms(model)[::-1]


@pytest.mark.parametrize("check, wrong, words", [
    (selfcheck.check_sweep_loop, one_seed_for_all, "needs its own seed"),
    (selfcheck.check_sweep_loop, lambda t, L, r: {T: [] for T in L}, "one result per repetition"),
    (selfcheck.check_grad_norms, mean_not_norm, "signed entries, which cancel"),
    (selfcheck.check_grad_norms, reversed_norms, "reversed in time"),
])
def test_typical_sweep_and_norm_mistakes_are_named(check, wrong, words):
    _failed(check(wrong), words)


class OneTooFew(Learner):
    """Skips the update of the first step, as `for step in range(1, n)` would."""

    def train_step(self, lr):
        if self.step == 0:
            x, y = next(self.data_generator)
            return self.loss_obj.forward(self.model.forward(x), y)
        return super().train_step(lr)


class TwoUpdates(Learner):
    def train_step(self, lr):
        loss = super().train_step(lr)
        x, y = next(self.data_generator)
        self.loss_obj.forward(self.model.forward(x), y)
        self.model.backward(self.loss_obj.backward())
        self.model.update(lr)
        return loss


@pytest.mark.parametrize("cls, words", [(OneTooFew, "one too few"),
                                        (TwoUpdates, "called twice")])
def test_a_wrong_number_of_updates_is_named(cls, words):
    _failed(selfcheck.check_learner(cls), words)


# ------------------------------------------------------- LSTM backward step
def test_the_reference_lstm_cell_backward_passes():
    report = selfcheck.check_lstm_cell_backward(selfcheck.lstm_cell_backward)
    assert report.passed, str(report)


def test_the_reference_lstm_cell_backward_is_the_step_of_lstm_backward():
    """Chained over all steps, the exercise's step gives LSTM.backward's gradients exactly."""
    from memrnn.gradcheck import randomize_weights

    rng = np.random.default_rng(5)
    model = memrnn.LSTM(2, 3, 1, seed=0)
    randomize_weights(model, seed=rng)
    x, y = rng.uniform(-1, 1, size=(7, 4, 2)), rng.normal(size=(4, 1))
    dy = 2.0 / y.size * (model.forward(x) - y)
    ref = model.backward(dy)
    A, C, G = model.A, model.C, model.gates
    d_W, d_U = np.zeros_like(model.W), np.zeros_like(model.U)
    d_h, d_c_next = dy @ model.V.T, np.zeros((4, 3))
    for t in range(7, 0, -1):
        d_z, d_c_next = selfcheck.lstm_cell_backward(d_h, d_c_next, C[t - 1], C[t], G[t - 1])
        # cell_grads[-7:] holds dL/dc_1 .. dL/dc_7, whether or not a slot for c_0 comes first.
        np.testing.assert_allclose(d_c_next, model.cell_grads[-7:][t - 1] * np.split(G[t - 1], 4, 1)[1],
                                   rtol=1e-13, atol=1e-15)
        d_W += x[t - 1].T @ d_z
        d_U += A[t - 1].T @ d_z
        d_h = d_z @ model.U.T
    np.testing.assert_allclose(d_W, ref["d_W"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(d_U, ref["d_U"], rtol=1e-12, atol=1e-15)


def _cell_step(*, sig_f=True, forget_on_path=True, c_for_c_prev=False, sign=1.0,
               plus_tanh=False, no_cell_path=False, in_place=False, shape=False):
    """lstm_cell_backward written out again, with one classic slip switched on."""
    def cell_backward(d_h, d_c_next, c_prev, c, gates):
        i, f, g, o = np.split(gates, 4, axis=1)
        tanh_c = np.tanh(c)
        slope = (1.0 + tanh_c ** 2) if plus_tanh else (1.0 - tanh_c ** 2)
        if in_place:
            d_c_next += d_h * o * slope
            d_c = d_c_next
        else:
            d_c = (0.0 if no_cell_path else d_c_next) + d_h * o * slope
        d_f = d_c * (c if c_for_c_prev else c_prev)
        d_z = np.concatenate([d_c * g * i * (1 - i), d_f * (f * (1 - f) if sig_f else 1.0),
                              d_c * i * (1 - g ** 2), d_h * tanh_c * o * (1 - o)], axis=1)
        if shape:
            d_z = d_z.T
        return sign * d_z, (d_c * f if forget_on_path else d_c)
    return cell_backward


@pytest.mark.parametrize("wrong, words", [
    (_cell_step(sig_f=False), "dropped the sigmoid derivative f (1 - f) of the forget gate"),
    (_cell_step(forget_on_path=False), "forgot the forget gate on the cell path"),
    (_cell_step(c_for_c_prev=True), "used c_t where dL/df_t needs c_{t-1}"),
    (_cell_step(sign=-1.0), "opposite sign"),
    (_cell_step(plus_tanh=True), "a sign error"),
    (_cell_step(no_cell_path=True), "left out what reaches c_t along the cell path"),
    (_cell_step(in_place=True), "do not add into d_c_next"),
    (_cell_step(shape=True), "four gates side by side"),
])
def test_typical_lstm_step_mistakes_are_named(wrong, words):
    _failed(selfcheck.check_lstm_cell_backward(wrong), words)


def test_a_crashing_lstm_step_is_reported_not_raised():
    def stub(d_h, d_c_next, c_prev, c, gates):
        raise NotImplementedError("exercise: write my_lstm_cell_backward yourself")
    _failed(selfcheck.check_lstm_cell_backward(stub), "NotImplementedError")
