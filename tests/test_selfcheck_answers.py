"""Every self-check against answers a student could hand in: correct ones in several styles, which
must all pass, and the classic wrong ones, each of which must fail with its own diagnosis.

The correct answers are written the way students write them (loops, vectorised code, direct
updates of the weights, their own classes), never by calling the package's solution.
"""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np
import pytest

import memrnn
from memrnn import selfcheck
from memrnn.learner import Learner
from memrnn.run import run_one


def _failed(report, words):
    assert not report.passed, str(report)
    text = str(report)
    assert "[FAIL]" in text and "Well done" not in text
    assert words in " ".join(report.failures), text


# ================================================================ chapter 1: the generator
def gen_loops(batch_size, seq_length):
    while True:
        x = np.array([[[random.uniform(-1.0, 1.0)] for _ in range(batch_size)]
                      for _ in range(seq_length)])
        y = np.array([[x[0, b, 0]] for b in range(batch_size)])
        yield x, y


def gen_batch_first_then_transposed(batch_size, seq_length):
    rng = np.random.default_rng()
    while True:
        seqs = rng.uniform(-1, 1, size=(batch_size, seq_length))
        yield seqs.T[:, :, None], seqs[:, :1]


class GenIterator:
    """A student's own iterator class, returned by the function."""

    def __init__(self, batch_size, seq_length):
        self.shape = (seq_length, batch_size, 1)

    def __iter__(self):
        return self

    def __next__(self):
        x = 2 * np.random.random_sample(self.shape) - 1
        return x, x[0]


def gen_class(batch_size, seq_length):
    return GenIterator(batch_size, seq_length)


def gen_float32(batch_size, seq_length):
    while True:
        x = np.random.uniform(-1, 1, (seq_length, batch_size, 1)).astype(np.float32)
        yield (x, x[0].copy())


def gen_return_not_yield(batch_size, seq_length):
    x = np.random.uniform(-1, 1, (seq_length, batch_size, 1))
    return x, x[0]


def gen_once(batch_size, seq_length):
    x = np.random.uniform(-1, 1, (seq_length, batch_size, 1))
    yield x, x[0]


def gen_nothing(batch_size, seq_length):
    np.random.uniform(-1, 1, (seq_length, batch_size, 1))


def gen_y_flat(batch_size, seq_length):
    while True:
        x = np.random.uniform(-1, 1, (seq_length, batch_size, 1))
        yield x, x[0, :, 0]


def gen_normal(batch_size, seq_length):
    while True:
        x = np.random.normal(size=(seq_length, batch_size, 1))
        yield x, x[0]


def gen_last(batch_size, seq_length):
    while True:
        x = np.random.uniform(-1, 1, (seq_length, batch_size, 1))
        yield x, x[-1]


def gen_batch_first(batch_size, seq_length):
    while True:
        x = np.random.uniform(-1, 1, (batch_size, seq_length, 1))
        yield x, x[:, 0]


def gen_crash(batch_size, seq_length):
    while True:
        x = np.random.uniform(-1, 1, (seq_length, batch_size, 1))
        yield x, x[seq_length]                   # an IndexError in the student's line


# ======================================================================= chapter 2: MSE
class MSELoops:
    def forward(self, y_hat, y_true):
        self.y_hat, self.y = y_hat, y_true
        total = 0.0
        for a, b in zip(y_hat.ravel(), y_true.ravel()):
            total += (a - b) ** 2
        return total / y_hat.size

    def backward(self):
        g = np.zeros_like(self.y_hat)
        for i in np.ndindex(g.shape):
            g[i] = 2 * (self.y_hat[i] - self.y[i]) / self.y_hat.size
        return g


class MSEVector:
    def forward(self, y_hat, y_true):
        self.diff = np.asarray(y_hat) - np.asarray(y_true)
        return np.mean(np.square(self.diff))        # a NumPy float

    def backward(self):
        return 2 * self.diff / self.diff.size


class MSEZeroD:
    """Returns the loss as a 0-d array and keeps its inputs, not their difference."""

    def forward(self, y_hat, y_true):
        self.args = (y_hat, y_true)
        d = (y_hat - y_true).ravel()
        return np.array(d @ d / d.size)

    def backward(self):
        y_hat, y_true = self.args
        return (2.0 / y_hat.shape[0] / y_hat.shape[1]) * (y_hat - y_true)


def _mse(forward, backward):
    class Loss:
        def forward(self, y_hat, y_true):
            self.y_hat, self.y = y_hat, y_true
            return forward(y_hat, y_true)

        def backward(self):
            return backward(self.y_hat, self.y)
    return Loss


def MSE_RIGHT(a, b):
    return float(np.mean((a - b) ** 2))

MSE_WRONG = [
    (_mse(MSE_RIGHT, lambda a, b: 2 * (b - a) / a.size), "sign is flipped"),
    (_mse(MSE_RIGHT, lambda a, b: (a - b) / a.size), "factor 2 from differentiating"),
    (_mse(MSE_RIGHT, lambda a, b: 2 * (a - b)), "1/N of the mean is missing"),
    (_mse(MSE_RIGHT, lambda a, b: a - b), "2/N is missing"),
    (_mse(lambda a, b: float(np.sum((a - b) ** 2)), lambda a, b: 2 * (a - b) / a.size),
     "summed the squared errors"),
    (_mse(lambda a, b: (a - b).T @ (a - b) / a.size, lambda a, b: 2 * (a - b) / a.size),
     "(1, 1) array"),
    (_mse(lambda a, b: None, lambda a, b: 2 * (a - b) / a.size),
     "forward returned None; return the loss"),
    (_mse(MSE_RIGHT, lambda a, b: None), "backward returned None; return the gradient"),
    (_mse(MSE_RIGHT, lambda a, b: np.sum(2 * (a - b) / a.size, axis=1)), "expected (8, 1)"),
]


# ========================================================== chapter 3: numerical gradient
def numgrad_flat(f, x, eps):
    g = np.zeros(x.size)
    for i in range(x.size):
        keep = x.flat[i]
        x.flat[i] = keep + eps
        up = f(x)
        x.flat[i] = keep - eps
        down = f(x)
        x.flat[i] = keep
        g[i] = (up - down) / (2 * eps)
    return g.reshape(x.shape)


def numgrad_nditer(f, x, eps):
    grad = np.empty_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + eps
        plus = f(x)
        x[idx] = old - eps
        minus = f(x)
        x[idx] = old
        grad[idx] = (plus - minus) / eps / 2
        it.iternext()
    return grad


def numgrad_rows_cols(f, x, eps=1e-6):
    rows, cols = x.shape
    g = [[0.0] * cols for _ in range(rows)]
    for r in range(rows):
        for c in range(cols):
            saved = float(x[r, c])
            x[r, c] = saved + eps
            fp = f(x)
            x[r, c] = saved - eps
            fm = f(x)
            x[r, c] = saved
            g[r][c] = (fp - fm) / (2 * eps)
    return g                                     # a list of lists


def numgrad_copies(f, x, eps):
    """Perturbs copies: right for f(v) that uses v, wrong for a loss that reads x itself."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def numgrad_one_sided(f, x, eps):
    g = np.zeros_like(x)
    base = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        g[i] = (f(x) - base) / eps
        x[i] = old
    return g


def numgrad_no_half(f, x, eps):
    return 2 * numgrad_flat(f, x, eps)


def numgrad_no_restore(f, x, eps):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        g[i] = (up - f(x)) / (2 * eps)
    return g


def numgrad_no_return(f, x, eps):
    numgrad_flat(f, x, eps)


# ================================================== chapter 3 and "Making it fast": backward
class RNNLoop(memrnn.RNN):
    """backward written as the equations read, one step at a time, with fresh arrays."""

    def backward(self, d_loss):
        A, x = self.A, self.x
        T = len(x)
        grads = {"d_W": np.zeros_like(self.W), "d_R": np.zeros_like(self.R),
                 "d_bs": np.zeros_like(self.bs), "d_V": A[T].T @ d_loss,
                 "d_by": np.sum(d_loss, axis=0, keepdims=True)}
        d_a = d_loss @ self.V.T
        for t in reversed(range(1, T + 1)):
            delta = d_a * (1 - np.tanh(np.arctanh(A[t])) ** 2)
            grads["d_W"] = grads["d_W"] + x[t - 1].T @ delta
            grads["d_R"] = grads["d_R"] + A[t - 1].T @ delta
            grads["d_bs"] = grads["d_bs"] + delta.sum(axis=0).reshape(1, -1)
            d_a = delta @ self.R.T
        return grads


class RNNEinsum(memrnn.RNN):
    """All deltas first, then every sum over time and batch with einsum."""

    def backward(self, d_loss):
        A, x = self.A, self.x
        T = x.shape[0]
        deltas = np.zeros((T,) + A.shape[1:])
        d_a = d_loss @ self.V.T
        for t in range(T - 1, -1, -1):           # 0-based: deltas[t] belongs to step t + 1
            deltas[t] = d_a * (1 - A[t + 1] ** 2)
            d_a = deltas[t] @ self.R.T
        return {"d_W": np.einsum("tbi,tbh->ih", x, deltas),
                "d_R": np.einsum("tbi,tbh->ih", A[:-1], deltas),
                "d_bs": deltas.sum(axis=(0, 1))[None, :],
                "d_V": np.einsum("bh,bo->ho", A[-1], d_loss),
                "d_by": d_loss.sum(0)[None]}


class OwnRNN:
    """A student's own RNN class: no memrnn base, its own names inside, biases kept as columns."""

    def __init__(self, input_size, hidden_size, output_size, seed=0):
        rng = np.random.default_rng(seed)
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, output_size
        self.W = rng.uniform(-1, 1, (input_size, hidden_size))
        self.R = np.eye(hidden_size)
        self.bs = np.zeros((hidden_size, 1))
        self.V = rng.uniform(-1, 1, (hidden_size, output_size))
        self.by = np.zeros((output_size, 1))

    def set_weights(self, weights):
        for name, value in weights.items():
            setattr(self, name, np.array(value, dtype=float))

    def forward(self, x):
        self.xs, self.hs = x, [np.zeros((x.shape[1], self.hidden_size))]
        for x_t in x:
            self.hs.append(np.tanh(x_t @ self.W + self.hs[-1] @ self.R + self.bs.T))
        return self.hs[-1] @ self.V + self.by.T

    def backward(self, d_loss):
        dW, dR, dbs = 0 * self.W, 0 * self.R, 0 * self.bs
        dh = d_loss @ self.V.T
        for t in range(len(self.xs), 0, -1):
            ds = (1 - self.hs[t] ** 2) * dh
            dW += self.xs[t - 1].T @ ds
            dR += self.hs[t - 1].T @ ds
            dbs += ds.sum(0, keepdims=True).T
            dh = ds @ self.R.T
        return dict(d_W=dW, d_R=dR, d_bs=dbs, d_V=self.hs[-1].T @ d_loss,
                    d_by=d_loss.sum(0, keepdims=True).T)


def _slipped(slip):
    """A student's RNN whose backward makes one classic mistake, written out independently."""

    class Slipped(memrnn.RNN):
        def backward(self, d_loss):
            A, x, R = self.A, self.x, self.R
            T = x.shape[0]
            d_V = (A[1] if slip == "first state" else A[T]).T @ d_loss
            d_by = d_loss.sum(axis=0, keepdims=True)
            d_W, d_R = np.zeros_like(self.W), np.zeros_like(R)
            d_bs = 0.0
            d_a = d_loss @ self.V.T
            stop = 1 if slip == "loop to 2" else 0
            for t in range(T, stop, -1):
                a_t = A[t - 1] if slip == "tanh at a_{t-1}" else A[t]
                delta = d_a if slip == "no tanh" else d_a * (1 - a_t ** 2)
                prev = A[t] if slip == "dR with a_t" else A[t - 1]
                bias = {"bs not summed": delta, "bs a column": delta.sum(0)[:, None]}.get(
                    slip, delta.sum(0, keepdims=True))
                if slip == "no sum":
                    d_W, d_R, d_bs = x[t - 1].T @ delta, prev.T @ delta, bias
                else:
                    d_W, d_R, d_bs = d_W + x[t - 1].T @ delta, d_R + prev.T @ delta, d_bs + bias
                d_a = delta @ (R if slip == "R not R^T" else R.T)
                if slip == "no chain":
                    d_a = np.zeros_like(d_a)
            out = {"d_W": d_W, "d_R": d_R, "d_bs": d_bs, "d_V": d_V, "d_by": d_by}
            if slip == "sign":
                out = {k: -v for k, v in out.items()}
            if slip == "mean again":
                out = {k: v / d_loss.shape[0] for k, v in out.items()}
            if slip == "no return":
                self.grads = out
                return None
            if slip == "missing key":
                del out["d_by"]
            return out
    Slipped.__name__ = f"Slipped[{slip}]"
    return Slipped


class ColumnBias(memrnn.RNN):
    """Backpropagation through time right but for the biases, summed as columns into rows."""

    def backward(self, d_loss):
        x, A = self.x, self.A
        d_W, d_R, d_bs = np.zeros_like(self.W), np.zeros_like(self.R), np.zeros_like(self.bs)
        d_a = d_loss @ self.V.T
        for t in range(len(x), 0, -1):
            delta = d_a * (1.0 - A[t] ** 2)
            d_W += x[t - 1].T @ delta
            d_R += A[t - 1].T @ delta
            d_bs += delta.sum(axis=0)[:, None]       # a column (H, 1) into the row (1, H)
            d_a = delta @ self.R.T
        return {"d_W": d_W, "d_R": d_R, "d_bs": d_bs, "d_V": A[-1].T @ d_loss,
                "d_by": d_loss.sum(axis=0)[:, None]}


RNN_WRONG = [
    ("sign", "opposite sign"),
    ("no tanh", "forgot the tanh derivative"),
    ("R not R^T", "used R instead of R^T"),
    ("dR with a_t", "needs the previous state a_{t-1} (off by one in time)"),
    ("loop to 2", "stopped the loop before t = 1 (off by one in time)"),
    ("tanh at a_{t-1}", "took the tanh derivative at a_{t-1} instead of a_t"),
    ("no chain", "never carried dL/da_t back in time"),
    ("no sum", "sum over all t"),
    ("first state", "first state a_1 instead of the last"),
    ("mean again", "do not average again"),
    ("bs not summed", "sum over the batch (axis 0)"),
    ("bs a column", "yours is transposed; bs is a row, as in the equations"),
    ("no return", "backward returned None; return the dict"),
    ("missing key", "backward must return a dict with d_by"),
]


class FastLoop(memrnn.fast.FastRNN):
    """A fast backward in the student's own words: preallocated work arrays, in-place steps."""

    def backward(self, d_loss):
        A, x = self.A, self.x
        T, B, H = A.shape[0] - 1, A.shape[1], self.hidden_size
        d_W, d_R, d_bs = np.zeros_like(self.W), np.zeros_like(self.R), np.zeros_like(self.bs)
        d_a, delta = np.empty((B, H)), np.empty((B, H))
        np.matmul(d_loss, self.V.T, out=d_a)
        RT = self.R.T.copy()
        for t in range(T, 0, -1):
            np.multiply(A[t], A[t], out=delta)
            np.subtract(1.0, delta, out=delta)
            delta *= d_a
            d_W += x[t - 1].T @ delta
            d_R += A[t - 1].T @ delta
            d_bs += delta.sum(axis=0)                # (H,) added into the row (1, H)
            np.matmul(delta, RT, out=d_a)
        return {"d_W": d_W, "d_R": d_R, "d_bs": d_bs, "d_V": A[T].T @ d_loss,
                "d_by": d_loss.sum(axis=0, keepdims=True)}


class FastWithPlainBackward(memrnn.fast.FastRNN):
    backward = RNNLoop.backward


class FastEinsum(memrnn.fast.FastRNN):
    backward = RNNEinsum.backward


# ================================================================ chapter 4: the learner
class LearnerDirect(Learner):
    """eq-sgd written out: p -= lr * grads["d_" + name], in place."""

    def train_step(self, lr):
        x, y = next(self.data_generator)
        loss = self.loss_obj.forward(self.model.forward(x), y)
        grads = self.model.backward(self.loss_obj.backward())
        for name in self.model.PARAM_NAMES:
            p = getattr(self.model, name)
            p -= lr * grads["d_" + name]
        return loss


class LearnerUpdate(Learner):
    def train_step(self, lr):
        x, y = next(self.data_generator)
        y_hat = self.model.forward(x)
        loss = self.loss_obj.forward(y_hat, y)
        self.model.backward(self.loss_obj.backward())
        self.model.update(lr)
        return loss


class LearnerMicrograd(Learner):
    """micrograd's p.data += -lr * p.grad, with new arrays assigned to the attributes."""

    def train_step(self, lr):
        x, y = next(self.data_generator)
        loss = self.loss_obj.forward(self.model.forward(x), y)
        grads = self.model.backward(self.loss_obj.backward())
        for name, p in self.model.get_weights().items():
            setattr(self.model, name, p + -lr * grads["d_" + name])
        return loss


class LearnerOwnLoop:
    """A student's own learner: no memrnn base class, its own train loop."""

    def __init__(self, model, loss_obj, data_generator):
        self.model, self.loss_obj, self.data = model, loss_obj, data_generator
        self.loss_values = {}

    def train(self, iter_steps, lr, log_steps=50):
        for step in range(iter_steps):
            x, y = next(self.data)
            loss = self.loss_obj.forward(self.model.forward(x), y)
            grads = self.model.backward(self.loss_obj.backward())
            for key, g in grads.items():
                w = getattr(self.model, key[2:])
                w -= lr * g
            if step % log_steps == 0:
                self.loss_values[step] = loss
        return self.loss_values


def _learner(mistake):
    class Wrong(Learner):
        def train_step(self, lr):
            x, y = next(self.data_generator)
            loss = self.loss_obj.forward(self.model.forward(x), y)
            grads = self.model.backward(self.loss_obj.backward())
            if mistake == "one too few" and self.step == 0:
                return loss
            sign = 1.0 if mistake == "ascent" else -1.0
            rate = 2 * lr if mistake == "twice" else lr
            if mistake != "no update":
                for name, p in self.model.parameters().items():
                    p += sign * rate * grads["d_" + name]
            if mistake == "other batch":          # steps along the gradient of another batch
                x2, y2 = next(self.data_generator)
                self.loss_obj.forward(self.model.forward(x2), y2)
                self.model.backward(self.loss_obj.backward())
                self.model.update(lr)
            return None if mistake == "no return" else loss
    Wrong.__name__ = f"Wrong[{mistake}]"
    return Wrong


LEARNER_WRONG = [
    ("no update", "the weights did not move"),
    ("ascent", "not +="),
    ("twice", "2 lr times the gradient: is the update applied twice"),
    ("one too few", "one too few"),
    ("other batch", "more than asked"),
    ("no return", "train_step returned None; return the loss"),
]


# ============================================================= chapter 5: the sweep loop
def sweep_comprehension(training, lengths, repeats):
    return {T: [run_one(training, T, r)["eval_mse"] for r in range(repeats)] for T in lengths}


def sweep_defaultdict(training, lengths, repeats):
    out = defaultdict(list)
    for r in range(repeats):                    # repetitions outside, lengths inside
        for T in lengths:
            out[T].append(run_one(training, T, r)["eval_mse"])
    return out


def sweep_arrays(training, lengths, repeats):
    results = {}
    for T in lengths:
        results[T] = np.array([run_one(training, T, r)["eval_mse"] for r in range(repeats)])
    return results


SWEEP_WRONG = [
    (lambda tr, L, n: {T: [run_one(tr, T, 0)["eval_mse"]] * n for T in L}, "needs its own seed"),
    (lambda tr, L, n: {T: [run_one(tr, T, r)["eval_mse"] for r in range(n - 1)] for T in L},
     "one result per repetition"),
    (lambda tr, L, n: {T: [run_one(tr, T, r + 1)["eval_mse"] for r in range(n)] for T in L},
     "r = 0 .. repeats - 1"),
    (lambda tr, L, n: [[run_one(tr, T, r)["eval_mse"] for r in range(n)] for T in L],
     "got list"),
    (lambda tr, L, n: None, "sweep_loop returned None"),
]


# ============================================================ chapter 6: gradient norms
def norms_loop(model):
    return [float(np.linalg.norm(g)) for g in model.hidden_grads]


def norms_sqrt_sum(model):
    return np.sqrt((model.hidden_grads ** 2).sum(axis=(1, 2)))


def norms_reshape(model):
    g = model.hidden_grads
    return np.linalg.norm(g.reshape(g.shape[0], -1), axis=1)


NORMS_WRONG = [
    (lambda m: m.hidden_grads.mean(axis=(1, 2)), "signed entries, which cancel"),
    (lambda m: memrnn.vanishing.hidden_grad_norms(m)[::-1], "reversed in time"),
    (lambda m: np.linalg.norm(m.hidden_grads, axis=(0, 2)), "one value per t"),
    (lambda m: (m.hidden_grads ** 2).sum(axis=(1, 2)), "Frobenius norm"),
    (lambda m: None, "hidden_grad_norms returned None"),
]


# ===================================================== chapter 7: the LSTM backward step
def lstm_step_split(d_h, d_c_next, c_prev, c, gates):
    i, f, g, o = np.split(gates, 4, axis=1)
    d_c = d_c_next + d_h * o * (1 - np.tanh(c) ** 2)
    return (np.concatenate([d_c * g * i * (1 - i), d_c * c_prev * f * (1 - f),
                            d_c * i * (1 - g * g), d_h * np.tanh(c) * o * (1 - o)], axis=1),
            d_c * f)


def lstm_step_slices(d_h, d_c_next, c_prev, c, gates):
    H = c.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tc = np.tanh(c)
    dc = d_h * o
    dc = dc * (1 - tc * tc)
    dc = dc + d_c_next
    dz = np.empty_like(gates)
    dz[:, :H] = dc * g * i * (1 - i)
    dz[:, H:2 * H] = dc * c_prev * f * (1 - f)
    dz[:, 2 * H:3 * H] = dc * i * (1 - g ** 2)
    dz[:, 3 * H:] = d_h * tc * o * (1 - o)
    return dz, f * dc


def lstm_step_list(d_h, d_c_next, c_prev, c, gates):
    """Returns a list, and works on each gate block in a loop over a dict."""
    H = c.shape[1]
    act = dict(zip("ifgo", (gates[:, k * H:(k + 1) * H] for k in range(4))))
    d_c = d_c_next + d_h * act["o"] * (1 - np.tanh(c) ** 2)
    upstream = {"i": d_c * act["g"], "f": d_c * c_prev, "g": d_c * act["i"],
                "o": d_h * np.tanh(c)}
    slope = {k: (1 - act[k] ** 2) if k == "g" else act[k] * (1 - act[k]) for k in "ifgo"}
    return [np.hstack([upstream[k] * slope[k] for k in "ifgo"]), d_c * act["f"]]


def _lstm(**slip):
    def step(d_h, d_c_next, c_prev, c, gates):
        i, f, g, o = np.split(gates, 4, axis=1)
        tanh_c = np.tanh(c)
        if slip.get("in_place"):
            d_c_next += d_h * o * (1 - tanh_c ** 2)
            d_c = d_c_next
        else:
            d_c = (0 if slip.get("no_path") else d_c_next) + d_h * o * (1 - tanh_c ** 2)
        d_z = np.concatenate([d_c * g * i * (1 - i),
                              d_c * c_prev * (1 if slip.get("no_sig_f") else f * (1 - f)),
                              d_c * i * (1 - g ** 2), d_h * tanh_c * o * (1 - o)], axis=1)
        if slip.get("transpose"):
            d_z = d_z.T
        if slip.get("one"):
            return d_z
        return d_z, (d_c if slip.get("no_f") else d_c * f)
    return step


LSTM_WRONG = [
    (_lstm(no_sig_f=True), "sigmoid derivative f (1 - f) of the forget gate"),
    (_lstm(no_f=True), "forgot the forget gate on the cell path"),
    (_lstm(no_path=True), "left out what reaches c_t along the cell path"),
    (_lstm(in_place=True), "do not add into d_c_next"),
    (_lstm(transpose=True), "four gates side by side"),
    (_lstm(one=True), "return two arrays"),
    (lambda *a: None, "returned None"),
]


# ================================================================= the matrix
CORRECT = {
    "generator": (selfcheck.check_generator, {
        "reference": memrnn.generate_samples, "loops": gen_loops,
        "batch first, transposed": gen_batch_first_then_transposed,
        "own iterator class": gen_class, "float32": gen_float32}),
    "mse": (selfcheck.check_mse, {
        "reference": memrnn.MSELoss, "loops": MSELoops, "vectorised": MSEVector,
        "0-d array": MSEZeroD}),
    "numerical_gradient": (selfcheck.check_numerical_gradient, {
        "reference": memrnn.gradcheck.numerical_gradient, "flat loop": numgrad_flat,
        "nditer": numgrad_nditer, "list of lists": numgrad_rows_cols}),
    "rnn_backward (chapter 3)": (selfcheck.check_rnn_backward, {
        "reference": memrnn.RNN(1, 4, 1, seed=0), "loop": RNNLoop(1, 4, 1, seed=0),
        "einsum": RNNEinsum(1, 4, 1, seed=0), "own class": OwnRNN(1, 4, 1)}),
    "rnn_backward (Making it fast)": (selfcheck.check_rnn_backward, {
        "reference": memrnn.fast.FastRNN(1, 4, 1, seed=0), "in place": FastLoop(1, 4, 1, seed=0),
        "plain loop": FastWithPlainBackward(1, 4, 1, seed=0),
        "einsum": FastEinsum(1, 4, 1, seed=0)}),
    "learner": (selfcheck.check_learner, {
        "reference": Learner, "p -= lr * grad": LearnerDirect, "model.update(lr)": LearnerUpdate,
        "micrograd, new arrays": LearnerMicrograd, "own loop": LearnerOwnLoop}),
    "sweep_loop": (selfcheck.check_sweep_loop, {
        "reference": memrnn.sweep.sweep_loop, "comprehension": sweep_comprehension,
        "defaultdict, lengths inside": sweep_defaultdict, "arrays": sweep_arrays}),
    "grad_norms": (selfcheck.check_grad_norms, {
        "reference": memrnn.vanishing.hidden_grad_norms, "loop": norms_loop,
        "sqrt of sum": norms_sqrt_sum, "reshape": norms_reshape}),
    "lstm_cell_backward": (selfcheck.check_lstm_cell_backward, {
        "reference": memrnn.lstm.cell_backward, "np.split": lstm_step_split,
        "slices": lstm_step_slices, "dict of gates, list": lstm_step_list}),
}

WRONG = (
    [(selfcheck.check_generator, w, words) for w, words in [
        (gen_return_not_yield, "not a generator: use yield"),
        (gen_once, "stopped after one batch"),
        (gen_nothing, "generate_samples returned None"),
        (gen_y_flat, "expected (256, 1)"),
        (gen_normal, "uniform on [-1, 1]"),
        (gen_last, "yours matches the last"),
        (gen_batch_first, "batch first"),
        (gen_crash, "IndexError"),
    ]]
    + [(selfcheck.check_mse, w, words) for w, words in MSE_WRONG]
    + [(selfcheck.check_numerical_gradient, w, words) for w, words in [
        (numgrad_one_sided, "one-sided"), (numgrad_no_half, "divide by 2 eps"),
        (numgrad_no_restore, "restore each entry"), (numgrad_copies, "perturbed a copy of x"),
        (numgrad_no_return, "numerical_gradient returned None"),
    ]]
    + [(selfcheck.check_rnn_backward, _slipped(s)(1, 4, 1, seed=0), words)
       for s, words in RNN_WRONG]
    + [(selfcheck.check_rnn_backward, ColumnBias(1, 4, 1, seed=0),
        "sum(axis=0, keepdims=True), not [:, None], which makes a column")]
    + [(selfcheck.check_learner, _learner(m), words) for m, words in LEARNER_WRONG]
    + [(selfcheck.check_sweep_loop, w, words) for w, words in SWEEP_WRONG]
    + [(selfcheck.check_grad_norms, w, words) for w, words in NORMS_WRONG]
    + [(selfcheck.check_lstm_cell_backward, w, words) for w, words in LSTM_WRONG]
)


@pytest.mark.parametrize("exercise, style", [(e, s) for e, (_, answers) in CORRECT.items()
                                             for s in answers])
def test_every_correct_answer_passes(exercise, style):
    check, answers = CORRECT[exercise]
    report = check(answers[style])
    assert report.passed, str(report)


@pytest.mark.parametrize("check, wrong, words", WRONG,
                         ids=[f"{c.__name__}-{w}" for c, _, w in WRONG])
def test_every_classic_mistake_fails_with_its_diagnosis(check, wrong, words):
    _failed(check(wrong), words)


def test_each_exercise_has_at_least_three_correct_styles_besides_the_reference():
    for exercise, (_, answers) in CORRECT.items():
        assert len(set(answers) - {"reference"}) >= 3, exercise


def test_a_crash_names_the_students_own_line():
    report = selfcheck.check_generator(gen_crash)
    text = " ".join(report.failures)
    assert "at your line" in text and "yield x, x[seq_length]" in text, text


def test_a_stub_is_reported_as_not_written_yet():
    def stub(batch_size, seq_length):
        raise NotImplementedError("exercise: write my_generate_samples yourself")
    _failed(selfcheck.check_generator(stub), "not written yet")


def test_check_rnn_backward_takes_the_class_as_the_chapter_3_exercise_hands_it_in():
    assert selfcheck.check_rnn_backward(RNNLoop).passed
    _failed(selfcheck.check_rnn_backward(_slipped("no tanh")), "forgot the tanh derivative")


def test_the_written_out_backward_of_the_check_is_rnn_backward():
    """The check names mistakes by its own BPTT; without a slip it is the package's."""
    from memrnn.gradcheck import randomize_weights
    from memrnn.selfcheck.basics import _bptt

    rng = np.random.default_rng(3)
    model = memrnn.RNN(2, 3, 1, seed=0)
    randomize_weights(model, seed=rng)
    x = rng.uniform(-1, 1, size=(6, 4, 2))
    dy = rng.normal(size=(4, 1))
    model.forward(x)
    expected = model.backward(dy)
    got = _bptt(model.get_weights(), x, dy)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-14)


def test_the_written_out_lstm_step_of_the_check_is_cell_backward():
    from memrnn.selfcheck.lstm import _cell_step

    rng = np.random.default_rng(4)
    B, H = 3, 5
    args = (rng.normal(size=(B, H)), rng.normal(size=(B, H)), rng.normal(size=(B, H)),
            rng.normal(size=(B, H)), rng.uniform(0.05, 0.95, size=(B, 4 * H)))
    for mine, theirs in zip(_cell_step(*args), memrnn.lstm.cell_backward(*args)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-13, atol=1e-15)


def test_each_stub_has_the_signature_its_exercise_asks_for():
    """What the student edition hands out says what the exercise asks: the same names and
    arguments (no seed, dtype or d_c_out the exercise never mentions)."""
    import ast
    import re

    from tools import student_edition

    for chapter in student_edition.CHAPTERS:
        text = (student_edition.ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8")
        asked = " ".join(re.findall(r"\n## Your turn.*?\n```\{exercise\}\n(.*?)```", text, re.S))
        nb = student_edition.student_notebook(chapter)
        for cell in (c for c in nb.cells if "stub" in c.metadata.get("tags", [])):
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.FunctionDef):
                    args = [a.arg for a in node.args.args if a.arg != "self"]
                    assert not node.args.defaults, (chapter, node.name)
                    assert f"{node.name}({', '.join(args)})`" in asked, (chapter, node.name, args)


@pytest.mark.parametrize("logged", [None, "0.3", [0.3, 0.2]])
def test_an_own_loop_that_logs_no_number_is_told_so(logged):
    class LogsJunk(LearnerOwnLoop):
        def train(self, iter_steps, lr, log_steps=50):
            super().train(iter_steps, lr, log_steps)
            self.loss_values = {k: logged for k in self.loss_values}

    _failed(selfcheck.check_learner(LogsJunk), "log the loss of the batch, one number")


def test_an_error_the_package_raises_at_the_students_call_names_the_students_line():
    class WrongShape(Learner):
        def train_step(self, lr):
            x, y = next(self.data_generator)
            y_hat = self.model.forward(x[..., 0])          # (T, B): the feature axis dropped
            return self.loss_obj.forward(y_hat, y)

    report = selfcheck.check_learner(WrongShape)
    _failed(report, "ValueError: x must have shape (T, B, input_size=1)")
    assert "at your line" in str(report) and "self.model.forward(x[..., 0])" in str(report)
