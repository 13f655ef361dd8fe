"""The straightforward implementation that memrnn is measured against.

Written the way a careful student would write the course exercise: one
``np.dot`` per term and time step, hidden states kept in a Python list,
per-time-step gradient arrays of shape (T, ...) filled in the backward pass
and summed over time in ``update``. float64, no buffers, no tricks, and no
deliberate slowness either. It is also the reference that the tests compare
memrnn against to 1e-12.
"""

import numpy as np


class BaselineRNN:
    """Vanilla tanh RNN, sequence to one, row-vector convention (see memrnn.rnn)."""

    def __init__(self, input_size, hidden_size, output_size, seed=0):
        rng = np.random.default_rng(seed)
        lim_w = np.sqrt(3.0 / input_size)
        lim_v = np.sqrt(3.0 / hidden_size)
        self.W = rng.uniform(-lim_w, lim_w, size=(input_size, hidden_size))
        self.R = np.eye(hidden_size)
        self.bs = np.zeros((hidden_size, 1))
        self.V = rng.uniform(-lim_v, lim_v, size=(hidden_size, output_size))
        self.by = np.zeros((output_size, 1))

    def forward(self, x):
        self.x = x
        batch_size = x.shape[1]
        self.a = [np.zeros((batch_size, self.R.shape[0]))]      # a_0 = 0
        for t in range(x.shape[0]):
            s = np.dot(x[t], self.W) + np.dot(self.a[-1], self.R) + self.bs.T
            self.a.append(np.tanh(s))
        return np.dot(self.a[-1], self.V) + self.by.T

    def backward(self, d_loss):
        T = self.x.shape[0]
        self.dW = np.zeros((T,) + self.W.shape)
        self.dR = np.zeros((T,) + self.R.shape)
        self.dbs = np.zeros((T,) + self.bs.shape)
        self.dV = np.dot(self.a[-1].T, d_loss)
        self.dby = np.sum(d_loss, axis=0, keepdims=True).T
        da = np.dot(d_loss, self.V.T)                             # dL/da_T
        for t in range(T - 1, -1, -1):                            # a[t + 1] is a_(t+1)
            ds = da * (1 - self.a[t + 1] ** 2)
            self.dW[t] = np.dot(self.x[t].T, ds)
            self.dR[t] = np.dot(self.a[t].T, ds)
            self.dbs[t] = np.sum(ds, axis=0, keepdims=True).T
            da = np.dot(ds, self.R.T)
        return {"d_W": self.dW.sum(axis=0), "d_R": self.dR.sum(axis=0),
                "d_bs": self.dbs.sum(axis=0), "d_V": self.dV, "d_by": self.dby}

    def update(self, lr):
        self.W -= lr * self.dW.sum(axis=0)
        self.R -= lr * self.dR.sum(axis=0)
        self.bs -= lr * self.dbs.sum(axis=0)
        self.V -= lr * self.dV
        self.by -= lr * self.dby

    def get_weights(self):
        return {"W": self.W.copy(), "R": self.R.copy(), "bs": self.bs.copy(),
                "V": self.V.copy(), "by": self.by.copy()}

    def set_weights(self, weights):
        for name, value in weights.items():
            setattr(self, name, np.array(value, dtype=np.float64))


def mse_loss(y_hat, y):
    """The loss and its gradient, 2 (y_hat - y) / N, in one function."""
    diff = y_hat - y
    return np.mean(diff ** 2), 2.0 * diff / diff.size
