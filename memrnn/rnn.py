"""A vanilla tanh RNN with backpropagation through time.

The model reads a sequence and answers once, at the last step. In the
row-vector convention of the book, with ``x_t`` of shape (B, in) and ``a_t`` of
shape (B, H)::

    s_t   = x_t W + a_{t-1} R + b_s        t = 1, ..., T
    a_t   = tanh(s_t),                     a_0 = 0
    y_hat = a_T V + b_y

Arrays are indexed from 0, so ``x[t - 1]`` holds ``x_t`` while the stored
hidden states ``A[t]`` hold ``a_t`` (``A[0]`` is ``a_0 = 0``); in ``backward``,
``d_a[t]`` holds dL/da_t, indexed like ``A``.

The biases are rows, as in the equations: ``bs`` has shape (1, H) and ``by``
(1, out), NumPy adds them to every row of the batch, and the gradients ``d_bs``
and ``d_by`` have the shapes of the biases they update.

This is the plain version, written to be read next to the book's equations:
three products and ``np.tanh`` per step, fresh arrays, no tricks.
``memrnn.fast.FastRNN`` computes the same thing faster, and a test holds the
two to the same numbers.
"""

from __future__ import annotations

import numpy as np

from ._checks import uniform_source
from .model import Model, lecun_uniform

__all__ = ["RNN"]

#: Parameter names, in the order ``set_weights`` accepts them as a sequence.
PARAM_NAMES = ("W", "R", "bs", "V", "by")
#: The biases among them: rows (1, n), added to every row of a batch.
BIAS_NAMES = ("bs", "by")


class RNN(Model):
    """A sequence-to-one tanh RNN.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        ``in``, ``H`` and ``out``; the memory task uses 1, 10 and 1.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Source of the initial weights. ``None`` draws from NumPy's global state,
        so ``np.random.seed(k)`` before construction makes it reproducible.
    dtype : np.float64 (default) or np.float32
        Precision of weights and computations. Gradient checks need float64.

    Attributes
    ----------
    W : ndarray (in, H)
        Input weights, LeCun-uniform: U(-sqrt(3/in), sqrt(3/in)).
    R : ndarray (H, H)
        Recurrent weights, initialised to the identity.
    bs : ndarray (1, H)
        Hidden bias, a row, zero at first.
    V : ndarray (H, out)
        Read-out weights, LeCun-uniform: U(-sqrt(3/H), sqrt(3/H)).
    by : ndarray (1, out)
        Output bias, a row, zero at first.
    A : ndarray (T+1, B, H)
        Hidden states of the last ``forward``; ``A[t]`` is ``a_t``.
    grads : dict
        Gradients of the last ``backward``, keys ``d_W d_R d_bs d_V d_by``,
        each summed over time steps and shaped like its parameter.
    hidden_grads : ndarray (T, B, H)
        dL/da_t of the last ``backward``; ``hidden_grads[t - 1]`` belongs to
        ``a_t``. Chapter 6 plots its norm against t.
    """

    PARAM_NAMES = PARAM_NAMES
    BIAS_NAMES = BIAS_NAMES

    def __init__(self, input_size, hidden_size, output_size, seed=None, dtype=np.float64):
        super().__init__(input_size, hidden_size, output_size, dtype)
        uniform = uniform_source(seed)
        n_in, n_h, n_out = self.input_size, self.hidden_size, self.output_size
        self.W = lecun_uniform(uniform, n_in, (n_in, n_h), self.dtype)
        self.R = np.eye(n_h, dtype=self.dtype)
        self.bs = np.zeros((1, n_h), dtype=self.dtype)
        self.V = lecun_uniform(uniform, n_h, (n_h, n_out), self.dtype)
        self.by = np.zeros((1, n_out), dtype=self.dtype)
        self.hidden_grads = None

    def forward(self, x, *, state_offset=None) -> np.ndarray:
        """Run the RNN over a batch of sequences and return the prediction.

        Parameters
        ----------
        x : array_like, shape (T, B, in)
            Input sequences, time first.
        state_offset : array_like, shape (T, B, H), optional
            Added to each hidden state ``a_t`` right after its ``tanh``. Only
            for checking ``hidden_grads`` by finite differences;
            ``backward`` refuses to run after a forward pass that used it.

        Returns
        -------
        y_hat : ndarray, shape (B, out)
        """
        x = self._check_input(x)
        T, B, _ = x.shape
        offset = self._check_offset(state_offset, "state_offset", (T, B, self.hidden_size))
        A = np.zeros((T + 1, B, self.hidden_size), dtype=self.dtype)    # A[0] = a_0 = 0
        for t in range(1, T + 1):
            s = x[t - 1] @ self.W + A[t - 1] @ self.R + self.bs          # s_t
            A[t] = np.tanh(s)                                            # a_t
            if offset is not None:
                A[t] += offset[t - 1]
        self.x, self.A = x, A
        self._offset_used = offset is not None
        return A[T] @ self.V + self.by                                   # y_hat

    def backward(self, d_loss) -> dict:
        """Backpropagate dL/dy_hat through time and return the gradients.

        Parameters
        ----------
        d_loss : array_like, shape (B, out)
            Gradient of the loss with respect to the last ``forward``'s output,
            for example ``MSELoss.backward()``. Any averaging over the batch is
            already in it.

        Returns
        -------
        dict
            ``d_W`` (in, H), ``d_R`` (H, H), ``d_bs`` (1, H), ``d_V`` (H, out)
            and ``d_by`` (1, out): the gradients, summed over time steps.
            Also stored as ``self.grads``, with ``self.hidden_grads``.
        """
        self._check_backward()
        x, A, T = self.x, self.A, self.A.shape[0] - 1
        dy = self._check_d_loss(d_loss, A.shape[1])

        d_V = A[T].T @ dy                                # y_hat = a_T V + b_y
        d_by = dy.sum(axis=0, keepdims=True)             # 1_B^T dL/dy_hat, a row like b_y
        d_W, d_R, d_bs = (np.zeros_like(p) for p in (self.W, self.R, self.bs))
        d_a = np.zeros_like(A)                           # d_a[t] = dL/da_t, as A[t] = a_t
        d_a[T] = dy @ self.V.T
        for t in range(T, 0, -1):
            delta = d_a[t] * (1.0 - A[t] ** 2)           # dL/ds_t, tanh'(s_t) = 1 - a_t^2
            d_W += x[t - 1].T @ delta
            d_R += A[t - 1].T @ delta
            d_bs += delta.sum(axis=0, keepdims=True)     # 1_B^T delta_t, a row like b_s
            d_a[t - 1] = delta @ self.R.T                # s_t depends on a_{t-1} through R

        self.hidden_grads = d_a[1:]                      # a_0 = 0 is no state to learn
        return self._set_grads({"d_W": d_W, "d_R": d_R, "d_bs": d_bs, "d_V": d_V, "d_by": d_by})

    @property
    def preactivation_grads(self):
        """dL/ds_t for every t, shape (T, B, H), from the last ``backward``.

        Computed on request as ``hidden_grads * (1 - a_t^2)``, which is what
        ``backward`` uses step by step without storing it.
        """
        if self.hidden_grads is None:
            return None
        return self.hidden_grads * (1.0 - self.A[1:] ** 2)

    def per_step_grads(self) -> dict:
        """Each time step's contribution to the recurrent gradients.

        Returns
        -------
        dict
            ``d_W`` (T, in, H), ``d_R`` (T, H, H) and ``d_bs`` (T, 1, H), where
            index ``t - 1`` holds step t's term: ``x_t^T delta_t``,
            ``a_{t-1}^T delta_t`` and ``sum_b delta_t`` with ``delta_t = dL/ds_t``.
            Summed over the first axis they give ``grads``.
        """
        d_s = self.preactivation_grads
        if d_s is None:
            raise RuntimeError("per_step_grads() needs a backward() pass first")
        return {
            "d_W": np.einsum("tbi,tbh->tih", self.x, d_s),
            "d_R": np.einsum("tbi,tbh->tih", self.A[:-1], d_s),
            "d_bs": d_s.sum(axis=1, keepdims=True),
        }
