"""A long short-term memory network with a forget gate.

The LSTM of Hochreiter & Schmidhuber (1997) with the forget gate of Gers,
Schmidhuber & Cummins (2000). Besides the hidden state ``h_t`` it carries a
cell state ``c_t`` that is changed only by element-wise products and sums,
so a gradient can travel back along it without being multiplied by a weight
matrix at every step. In the row-vector convention of the book, with ``x_t``
of shape (B, in) and ``h_t``, ``c_t`` of shape (B, H)::

    z_t   = x_t W + h_{t-1} U + b              t = 1, ..., T
    i_t   = sigmoid(z_t^i)                     input gate
    f_t   = sigmoid(z_t^f)                     forget gate
    g_t   = tanh(z_t^g)                        candidate content
    o_t   = sigmoid(z_t^o)                     output gate
    c_t   = f_t * c_{t-1} + i_t * g_t          h_0 = c_0 = 0
    h_t   = o_t * tanh(c_t)
    y_hat = h_T V + b_y

``z_t`` has shape (B, 4H): the four gates' pre-activations side by side in
the order i, f, g, o (the order PyTorch uses too), so one product with the
stacked ``W`` (in, 4H) and ``U`` (H, 4H) computes all four.

Arrays are indexed from 0: ``x[t - 1]`` holds ``x_t``, while ``A[t]`` and
``C[t]`` hold ``h_t`` and ``c_t`` (``A[0] = C[0] = 0``), and in ``backward``
``d_h[t]`` and ``d_c[t]`` hold dL/dh_t and dL/dc_t. As in ``memrnn.rnn``, the
biases are rows, as in the equations: ``b`` (1, 4H), the gates' biases side by
side in the order of ``z_t``, and ``by`` (1, out). The hidden states are
called ``A`` as in ``memrnn.RNN``, so the chapter-6 diagnostics read both.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from ._checks import uniform_source
from .model import Model, lecun_uniform

__all__ = ["LSTM", "sigmoid", "cell_backward", "chrono_biases"]

#: Parameter names, in the order ``set_weights`` accepts them as a sequence.
PARAM_NAMES = ("W", "U", "b", "V", "by")
#: The biases among them: rows (1, n), added to every row of a batch.
BIAS_NAMES = ("b", "by")


def sigmoid(z):
    """The logistic function ``1 / (1 + exp(-z))``.

    For z below about -709 (float64) ``exp(-z)`` overflows to inf and the
    result is the correct limit 0, so the overflow warning is silenced.
    """
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def _split_gates(a):
    """Views of the four blocks i, f, g, o of an array whose last axis is 4H."""
    return np.split(a, 4, axis=-1)


def cell_backward(d_h, d_c_next, c_prev, c, gates, d_c_out=None):
    """One step back through the LSTM cell: from dL/dh_t and the cell path to dL/dz_t.

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
    d_c_out : ndarray, shape (B, H), optional
        Receives dL/dc_t, which ``LSTM.backward`` keeps as ``cell_grads``.

    Returns
    -------
    d_z : ndarray, shape (B, 4H)
        dL/dz_t, the gradient at the pre-activations of the four gates, in
        the order i, f, g, o.
    d_c_prev : ndarray, shape (B, H)
        What this step sends back along the cell path to c_{t-1}:
        dL/dc_t * f_t.
    """
    i, f, g, o = _split_gates(gates)
    tanh_c = np.tanh(c)
    d_c = d_c_next + d_h * o * (1.0 - tanh_c ** 2)      # through c_{t+1} and through h_t
    d_i, d_f, d_g = d_c * g, d_c * c_prev, d_c * i      # c_t = f_t c_{t-1} + i_t g_t
    d_o = d_h * tanh_c                                  # h_t = o_t tanh(c_t)
    d_z = np.concatenate([d_i * i * (1.0 - i),          # sigmoid'(z) = s (1 - s)
                          d_f * f * (1.0 - f),
                          d_g * (1.0 - g ** 2),         # tanh'(z) = 1 - tanh(z)^2
                          d_o * o * (1.0 - o)], axis=1)
    if d_c_out is not None:
        d_c_out[...] = d_c
    return d_z, d_c * f                                 # c_{t-1} enters c_t times f_t


class LSTM(Model):
    """A sequence-to-one LSTM with a forget gate.

    Parameters
    ----------
    input_size, hidden_size, output_size, seed, dtype
        As for ``RNN``: sizes ``in``, ``H`` and ``out``, the source of the
        initial weights (drawn in the order W, U, V), and float64 or float32.
    forget_bias : float
        Initial bias of the forget gate (default 1.0).

    Attributes
    ----------
    W : ndarray (in, 4H)
        Input weights of the gates i, f, g, o side by side. LeCun-uniform:
        U(-sqrt(3/in), sqrt(3/in)).
    U : ndarray (H, 4H)
        Recurrent weights, same layout. LeCun-uniform: U(-sqrt(3/H), sqrt(3/H)).
    b : ndarray (1, 4H)
        Gate biases, a row in the layout of ``z_t``: zero, except
        ``forget_bias`` in the forget block ``b[:, H:2H]``.
    V : ndarray (H, out)
        Read-out weights, LeCun-uniform: U(-sqrt(3/H), sqrt(3/H)).
    by : ndarray (1, out)
        Output bias, a row, zero at first.
    A, C : ndarray (T+1, B, H)
        Hidden and cell states of the last ``forward``: ``A[t]`` is ``h_t``
        and ``C[t]`` is ``c_t``.
    gates : ndarray (T, B, 4H)
        ``[i_t, f_t, g_t, o_t]`` of the last ``forward`` at index ``t - 1``.
    grads : dict
        Gradients of the last ``backward``, keys ``d_W d_U d_b d_V d_by``,
        each summed over time steps and shaped like its parameter.
    hidden_grads, cell_grads : ndarray (T, B, H)
        dL/dh_t and the total dL/dc_t (through c_{t+1} and through h_t) of
        the last ``backward``; index ``t - 1`` belongs to step t.

    Notes
    -----
    Why this initialisation: LeCun-uniform weights give every gate's summed
    input a variance of about 1, as for the RNN. The forget bias of 1 makes
    ``f_t`` start near ``sigmoid(1) = 0.73`` instead of 0.5, so at first the
    cell keeps most of its content from step to step and the gradient along
    the cell path shrinks slowly; Gers et al. (2000) suggest a positive forget
    bias, and Jozefowicz, Zaremba & Sutskever (2015) found a bias of 1 to help
    on nearly every task they tried. The other biases start at zero.
    """

    PARAM_NAMES = PARAM_NAMES
    BIAS_NAMES = BIAS_NAMES
    STATE_GRADS = (*Model.STATE_GRADS, ("d_c", "cell_offset", "cell_grads"))

    def __init__(self, input_size, hidden_size, output_size, seed=None, dtype=np.float64,
                 forget_bias=1.0):
        super().__init__(input_size, hidden_size, output_size, dtype)
        forget_bias = _checks.real_number(forget_bias, "forget_bias")
        uniform = uniform_source(seed)
        n_in, H, n_out = self.input_size, self.hidden_size, self.output_size
        self.W = lecun_uniform(uniform, n_in, (n_in, 4 * H), self.dtype)
        self.U = lecun_uniform(uniform, H, (H, 4 * H), self.dtype)
        self.V = lecun_uniform(uniform, H, (H, n_out), self.dtype)
        self.b = np.zeros((1, 4 * H), dtype=self.dtype)
        self.b[:, H:2 * H] = forget_bias
        self.by = np.zeros((1, n_out), dtype=self.dtype)
        self.forget_bias = forget_bias
        self.C = self.gates = None
        self.hidden_grads = self.cell_grads = None

    def __repr__(self):
        return super().__repr__()[:-1] + f", forget_bias={self.forget_bias!r})"

    def forward(self, x, *, state_offset=None, cell_offset=None) -> np.ndarray:
        """Run the LSTM over a batch of sequences and return the prediction.

        Parameters
        ----------
        x : array_like, shape (T, B, in)
            Input sequences, time first.
        state_offset, cell_offset : array_like, shape (T, B, H), optional
            Added to ``h_t`` (to ``c_t``) right after it is computed, and so
            before anything uses it. Only for checking ``hidden_grads`` and
            ``cell_grads`` by finite differences; ``backward`` refuses to run
            after a forward pass that used either.

        Returns
        -------
        y_hat : ndarray, shape (B, out)
        """
        x = self._check_input(x)
        T, B, _ = x.shape
        H = self.hidden_size
        h_offset = self._check_offset(state_offset, "state_offset", (T, B, H))
        c_offset = self._check_offset(cell_offset, "cell_offset", (T, B, H))
        A = np.zeros((T + 1, B, H), dtype=self.dtype)             # A[0] = h_0 = 0
        C = np.zeros((T + 1, B, H), dtype=self.dtype)             # C[0] = c_0 = 0
        gates = np.empty((T, B, 4 * H), dtype=self.dtype)
        for t in range(1, T + 1):
            z = x[t - 1] @ self.W + A[t - 1] @ self.U + self.b    # z_t, (B, 4H)
            z_i, z_f, z_g, z_o = _split_gates(z)
            i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
            C[t] = f * C[t - 1] + i * g                           # c_t
            if c_offset is not None:
                C[t] += c_offset[t - 1]
            A[t] = o * np.tanh(C[t])                              # h_t
            if h_offset is not None:
                A[t] += h_offset[t - 1]
            gates[t - 1] = np.concatenate([i, f, g, o], axis=1)  # kept for backward
        self._offset_used = h_offset is not None or c_offset is not None
        self.x, self.A, self.C, self.gates = x, A, C, gates
        y_hat = A[T] @ self.V + self.by                           # the read-out of h_T
        return y_hat

    def backward(self, d_loss) -> dict:
        """Backpropagate dL/dy_hat through time, through both states, and return the gradients.

        Chapter 7 derives each line. ``d_loss`` (B, out) is dL/dy_hat of the
        last ``forward``, for example ``MSELoss.backward()``, batch averaging
        included.

        Returns
        -------
        dict
            ``d_W`` (in, 4H), ``d_U`` (H, 4H), ``d_b`` (1, 4H), ``d_V``
            (H, out) and ``d_by`` (1, out): the gradients, summed over time
            steps. Also stored as ``self.grads``, with ``self.hidden_grads``
            and ``self.cell_grads``.
        """
        self._check_backward()
        x, A, C, T = self.x, self.A, self.C, self.A.shape[0] - 1
        dy = self._check_d_loss(d_loss, A.shape[1])

        d_V = A[T].T @ dy                                    # y_hat = h_T V + b_y
        d_by = dy.sum(axis=0, keepdims=True)                 # 1_B^T dL/dy_hat, a row like b_y
        d_W, d_U, d_b = (np.zeros_like(p) for p in (self.W, self.U, self.b))
        d_h = np.zeros_like(A)                               # d_h[t] = dL/dh_t, as A[t] = h_t
        d_c = np.zeros_like(C)                               # d_c[t] = dL/dc_t, as C[t] = c_t
        d_h[T] = dy @ self.V.T
        d_c_next = np.zeros_like(C[0])                       # c_T has no c_{T+1} to feed
        for t in range(T, 0, -1):
            d_z, d_c_next = cell_backward(d_h[t], d_c_next, C[t - 1], C[t], self.gates[t - 1],
                                          d_c_out=d_c[t])
            d_W += x[t - 1].T @ d_z                          # z_t = x_t W + h_{t-1} U + b
            d_U += A[t - 1].T @ d_z
            d_b += d_z.sum(axis=0, keepdims=True)            # 1_B^T dL/dz_t, a row like b
            d_h[t - 1] = d_z @ self.U.T                      # h_{t-1} enters z_t through U
        d_c[0] = d_c_next                                    # c_0 feeds c_1 only

        self.hidden_grads, self.cell_grads = d_h[1:], d_c[1:]   # h_0, c_0 are no states to learn
        return self._set_grads({"d_W": d_W, "d_U": d_U, "d_b": d_b, "d_V": d_V, "d_by": d_by})


def chrono_biases(model, t_max: int, rng) -> None:
    """Set an LSTM's gate biases to the chrono initialisation.

    Tallec & Ollivier (2018): each unit's forget bias is ``log(u)`` with
    ``u ~ U(1, t_max - 1)``, and its input bias is the negative, so that the
    units start with forgetting times spread over the lengths up to ``t_max``.
    """
    H = model.hidden_size
    b_f = np.log(rng.uniform(1.0, t_max - 1.0, size=H))
    model.b[0, H:2 * H] = b_f
    model.b[0, 0:H] = -b_f
