"""The fast LSTM: the same model as ``memrnn.lstm.LSTM``, computed with fewer operations per step.

The plain ``LSTM`` of chapter 7 takes about nine times as long per training
step as ``memrnn.fast.FastRNN``; this one about four times as long, roughly
the price of four gates instead of one tanh. ``tests/test_lstm.py`` holds it
to ``LSTM``: forward, every gradient and the weights after several updates
agree to 1e-12 in float64.

What differs from the plain code, and why (the ideas of ``memrnn.fast``, and
two of the LSTM's own):

1. **Column layout.** Internally each step's arrays are (features, B), the
   column-vector convention: every gate is then a block of whole rows, one
   contiguous piece of memory, while in the (B, 4H) layout each gate is a
   strided slice whose short rows make every element-wise operation several
   times slower.
2. **Input, bias and recurrence in one product.** With ``[h_{t-1}; x_t; 1]``
   stacked in one array, ``z_t = M [h_{t-1}; x_t; 1]`` is a single matrix
   product per step, and the weight gradients are a single product per step
   with the same stack.
3. **Gates reordered o, i, f, g.** The three sigmoid gates become neighbours,
   so one ``exp``, one addition and one division over 3H rows compute all of
   them; the sign of their rows of ``M`` is flipped (exactly) so that ``exp``
   gives ``exp(-z)`` directly. The three gates whose gradient is proportional
   to dL/dc_t (i, f, g) are neighbours too, so one broadcast product scales
   them.
4. **The backward step in a small work array.** dL/dz_t lives in one
   (4H, B) array that stays in the CPU's cache from step to step, instead of
   a (T, 4H, B) array that would be written to memory and read back.
5. **Work arrays kept from call to call,** written in place (``out=``):
   ``A``, ``C``, ``hidden_grads`` and ``cell_grads`` are (T, B, H) views of
   buffers that the **next** ``forward`` or ``backward`` overwrites, so copy
   what you keep. ``gates`` is assembled in the plain model's layout when
   asked for. The gradients that ``backward`` returns are new arrays every
   time.
6. **tanh by the CPU,** as in ``memrnn.fast``: the float64 tanh is
   ``np.tanh`` where NumPy vectorises it and ``1 - 2/(e^{2s} + 1)`` elsewhere.
"""

from __future__ import annotations

import numpy as np

from .fast import TANH_FLOAT32, TANH_FLOAT64, tanh_exp
from .lstm import LSTM

__all__ = ["FastLSTM"]


class FastLSTM(LSTM):
    """``LSTM`` with a faster forward and backward pass.

    The same parameters, initialisation, seeds and attributes as ``LSTM``;
    only how ``forward`` and ``backward`` compute differs (see the module's
    notes). ``A``, ``C``, ``hidden_grads`` and ``cell_grads`` are (T, B, H)
    views of column-layout buffers that the next call overwrites, and
    ``gates`` is assembled in the plain model's (T, B, 4H) layout when asked
    for.

    Parameters
    ----------
    input_size, hidden_size, output_size, seed, dtype, forget_bias
        As for ``LSTM``.
    tanh : {"auto", "numpy", "exp"}
        ``"auto"`` (default) takes the tanh chosen for this CPU and this
        precision (``memrnn.fast.TANH_FLOAT64`` or ``TANH_FLOAT32``);
        ``"numpy"`` and ``"exp"`` force one.
    """

    def __init__(self, input_size, hidden_size, output_size, seed=None, dtype=np.float64,
                 forget_bias=1.0, tanh="auto"):
        super().__init__(input_size, hidden_size, output_size, seed=seed, dtype=dtype,
                         forget_bias=forget_bias)
        if tanh not in ("auto", "numpy", "exp"):
            raise ValueError(f"tanh must be 'auto', 'numpy' or 'exp', got {tanh!r}")
        auto = TANH_FLOAT32 if self.dtype == np.float32 else TANH_FLOAT64
        self.tanh = auto if tanh == "auto" else tanh
        H = self.hidden_size
        # Row r of the internal (4H, .) arrays is column _cols[r] of the public
        # (., 4H) ones: the gate blocks in the order o, i, f, g.
        self._cols = np.concatenate([np.arange(k * H, (k + 1) * H) for k in (3, 0, 1, 2)])
        self._sign = np.ones((4 * H, 1), dtype=self.dtype)
        self._sign[:3 * H] = -1.0                          # exp(.) of the sigmoid rows is exp(-z)
        self._Z1 = self._C = self._tanh_C = None

    @property
    def gates(self):
        """``[i_t, f_t, g_t, o_t]`` at index ``t - 1``, shape (T, B, 4H): a copy."""
        if self._G is None:
            return None
        public = np.empty_like(self._G)
        public[:, self._cols] = self._G
        return public.transpose(0, 2, 1).copy()

    @gates.setter
    def gates(self, value):
        if value is not None:
            raise AttributeError("FastLSTM.gates is computed by forward(); it cannot be set")
        self._G = None

    def forward(self, x, *, state_offset=None, cell_offset=None) -> np.ndarray:
        x = self._check_input(x)
        T, B, n_in = x.shape
        H = self.hidden_size
        h_offset = self._check_offset(state_offset, "state_offset", (T, B, H))
        c_offset = self._check_offset(cell_offset, "cell_offset", (T, B, H))
        tanh = tanh_exp if self.tanh == "exp" else np.tanh

        # Column layout: Z1[:, t - 1] = [h_{t-1}; x_t; 1], (K, B), so that
        # z_t = M Z1[:, t - 1] is one product and each gate a block of rows.
        K = H + n_in + 1
        M = np.concatenate([self.U, self.W, self.b])[:, self._cols].T * self._sign
        Z1 = self._work_array("Z1", (K, T + 1, B))
        Z1[:H, 0] = 0.0
        Z1[H:H + n_in, :T] = x.transpose(2, 0, 1)
        Z1[H + n_in, :T] = 1.0
        G = self._work_array("G", (T, 4 * H, B))               # -z (o, i, f), z (g); then the gates
        C = self._work_array("C", (T + 1, H, B))
        tanh_C = self._work_array("tanh_C", (T, H, B))
        ig = self._work_array("ig", (H, B))
        C[0] = 0.0
        for t in range(1, T + 1):
            z = G[t - 1]
            np.matmul(M, Z1[:, t - 1], out=z)
            sig = z[:3 * H]
            with np.errstate(over="ignore"):               # exp(-z) = inf gives sigmoid 0
                np.exp(sig, out=sig)
            sig += 1.0
            np.divide(1.0, sig, out=sig)                   # o_t, i_t, f_t
            tanh(z[3 * H:], out=z[3 * H:])                 # g_t
            o, i, f, g = z[:H], z[H:2 * H], z[2 * H:3 * H], z[3 * H:]
            np.multiply(f, C[t - 1], out=C[t])
            np.multiply(i, g, out=ig)
            C[t] += ig                                     # c_t
            if c_offset is not None:
                C[t] += c_offset[t - 1].T
            tanh(C[t], out=tanh_C[t - 1])
            np.multiply(o, tanh_C[t - 1], out=Z1[:H, t])   # h_t
            if h_offset is not None:
                Z1[:H, t] += h_offset[t - 1].T
        self.x, self._Z1, self._C, self._G, self._tanh_C = x, Z1, C, G, tanh_C
        self.A = Z1[:H].transpose(1, 2, 0)
        self.C = C.transpose(0, 2, 1)
        self._offset_used = h_offset is not None or c_offset is not None
        return self.A[T] @ self.V + self.by

    forward.__doc__ = LSTM.forward.__doc__

    def backward(self, d_loss) -> dict:
        self._check_backward()
        Z1, C, G, tanh_C = self._Z1, self._C, self._G, self._tanh_C
        T, B, H = G.shape[0], G.shape[2], self.hidden_size
        dy = self._check_d_loss(d_loss, B)

        n_in = self.input_size
        K = H + n_in + 1
        d_z = self._work_array("d_z", (4 * H, B))              # dL/dz_t, one step at a time
        d_M = np.zeros((4 * H, K), dtype=self.dtype)       # [dU; dW; db]^T, rows o, i, f, g
        term = self._work_array("term", (4 * H, K))
        d_h = self._work_array("d_h", (T, H, B))               # dL/dh_t, column layout
        d_c = self._work_array("d_c", (T, H, B))
        d_c_next = self._work_array("d_c_next", (H, B))
        k = self._work_array("k", (H, B))
        np.matmul(self.V, dy.T, out=d_h[T - 1])
        U_rows = self.U[:, self._cols]
        for t in range(T, 0, -1):
            z = G[t - 1]
            o, i, f, g = z[:H], z[H:2 * H], z[2 * H:3 * H], z[3 * H:]
            tc = tanh_C[t - 1]
            np.multiply(tc, tc, out=k)
            np.subtract(1.0, k, out=k)
            k *= o                                         # dh_t/dc_t = o_t tanh'(c_t)
            np.multiply(d_h[t - 1], k, out=d_c[t - 1])
            if t < T:
                d_c[t - 1] += d_c_next                     # total dL/dc_t
            d_o, d_i, d_f, d_g = d_z[:H], d_z[H:2 * H], d_z[2 * H:3 * H], d_z[3 * H:]
            np.subtract(1.0, G[t - 1, :3 * H], out=d_z[:3 * H])
            d_z[:3 * H] *= G[t - 1, :3 * H]                # sigmoid' = s (1 - s)
            d_o *= tc
            d_o *= d_h[t - 1]
            d_i *= g
            d_f *= C[t - 1]
            np.multiply(g, g, out=d_g)
            np.subtract(1.0, d_g, out=d_g)                 # tanh' = 1 - tanh^2
            d_g *= i
            d_ifg = d_z[H:].reshape(3, H, B)
            np.multiply(d_ifg, d_c[t - 1], out=d_ifg)
            np.matmul(d_z, Z1[:, t - 1].T, out=term)       # z_t = M [h_{t-1}; x_t; 1]
            d_M += term
            if t > 1:
                np.multiply(d_c[t - 1], f, out=d_c_next)
                np.matmul(U_rows, d_z, out=d_h[t - 2])

        d_public = np.empty((K, 4 * H), dtype=self.dtype)
        d_public[:, self._cols] = d_M.T
        d_U = np.ascontiguousarray(d_public[:H])
        d_W = np.ascontiguousarray(d_public[H:H + n_in])
        d_b = np.ascontiguousarray(d_public[H + n_in:])
        d_V = self.A[T].T @ dy
        d_by = dy.sum(axis=0, keepdims=True)

        self.hidden_grads = d_h.transpose(0, 2, 1)
        self.cell_grads = d_c.transpose(0, 2, 1)
        return self._set_grads({"d_W": d_W, "d_U": d_U, "d_b": d_b, "d_V": d_V, "d_by": d_by})

    backward.__doc__ = LSTM.backward.__doc__
