"""The fast RNN: the same model as ``memrnn.RNN``, computed with fewer operations per step.

``Learner``-driven experiments (the sweep, the command line, chapters 5 to 7)
use it by default; the book's "Making it fast" chapter explains each change
and what it bought, and ``tests/test_fast.py`` holds ``FastRNN`` to ``RNN``:
forward, every gradient and the weights after several updates agree to 1e-12
in float64.

What differs from the plain code, and why:

1. **Input and bias in one product.** ``[x_t, 1] [W; b_s] = x_t W + b_s``:
   one small matrix product per step instead of a product and two
   broadcast additions, which are slow on arrays whose last axis is short.
2. **Work arrays kept from call to call.** Fresh memory for the (T, B, H)
   arrays costs about as much as the arithmetic on them, so ``A`` and
   ``hidden_grads`` live in buffers that the **next** ``forward`` or
   ``backward`` overwrites. Copy what you keep (``model.A.copy()``). The
   gradients that ``backward`` returns are new arrays every time.
3. **In place.** Each step writes into its slice of those buffers, or into a
   (B, H) work array (``out=``), so the loops create no temporary arrays; the
   gradients of all weights are summed inside the backward loop.
4. **tanh by the CPU.** Where NumPy's float64 ``tanh`` is vectorised (x86 CPUs
   with AVX-512), it is used; elsewhere ``tanh s = 1 - 2 / (e^{2s} + 1)``
   through ``exp`` is faster ("Making it fast" has the measurements). The
   choice is made once, at import, from NumPy's own CPU-feature report
   (``TANH_FLOAT64``). float32 makes the same choice one level down: its
   ``np.tanh`` is vectorised from AVX2 on (``TANH_FLOAT32``).

Not done, because it was measured to cost time: summing the gradients of W and
b_s after the loop, as one product over all T B rows of stored deltas. It saves
T - 1 small products but writes and reads back a (T, B, H) array of deltas;
``benchmarks/ablation.py`` keeps it as the variant ``AfterLoop``.
"""

from __future__ import annotations

import numpy as np

from .rnn import RNN

__all__ = ["FastRNN", "TANH_FLOAT64", "choose_tanh", "tanh_exp"]


def choose_tanh(cpu_features: dict, dtype="float64") -> str:
    """Pick the tanh for a CPU and a precision: ``"numpy"`` or ``"exp"``.

    On x86-64, NumPy's float64 ``tanh`` is vectorised only in its AVX-512
    kernels (dispatch target ``X86_V4``, called ``AVX512_SKX`` before NumPy
    2.4), its float32 ``tanh`` from AVX2 on (``X86_V3``); below that it is a
    scalar loop, and ``tanh`` through ``exp`` is faster (``benchmarks/kernels.py``
    measures both precisions on each level). Other architectures get ``np.tanh``.
    ``cpu_features`` is NumPy's ``__cpu_features__`` report, or a dict like
    it; a target switched off with ``NPY_DISABLE_CPU_FEATURES`` is False
    there, so the choice follows what NumPy really runs.
    """
    if not any(cpu_features.get(k) for k in ("SSE2", "X86_V2")):
        return "numpy"
    # NumPy 2.4 names its levels X86_V3 and X86_V4; older versions report AVX2 and
    # AVX512_SKX. A level switched off by NPY_DISABLE_CPU_FEATURES reads False.
    if np.dtype(dtype) == np.float32:
        key, old = "X86_V3", "AVX2"
    else:
        key, old = "X86_V4", "AVX512_SKX"
    vectorised = cpu_features[key] if key in cpu_features else cpu_features.get(old)
    return "numpy" if vectorised else "exp"


def _numpy_cpu_features() -> dict:
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:                                   # NumPy 1.x
        try:
            from numpy.core._multiarray_umath import __cpu_features__
        except ImportError:                               # pragma: no cover - exotic builds
            return {}
    return dict(__cpu_features__)


#: The tanh this process uses in float64 and in float32, decided once from NumPy's
#: CPU-feature report.
TANH_FLOAT64 = choose_tanh(_numpy_cpu_features(), "float64")
TANH_FLOAT32 = choose_tanh(_numpy_cpu_features(), "float32")


def tanh_exp(s, out):
    r"""tanh through exp, in place: :math:`\tanh s = 1 - 2/(e^{2s} + 1)`.

    Agrees with ``np.tanh`` to about 2e-16 (absolute). For large s, exp
    overflows to inf and the formula still gives exactly 1; the caller
    silences that overflow (``np.errstate(over="ignore")``).
    """
    np.multiply(s, 2.0, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.divide(2.0, out, out=out)
    return np.subtract(1.0, out, out=out)


class FastRNN(RNN):
    """``RNN`` with a faster forward and backward pass.

    The same parameters, initialisation, seeds and attributes as ``RNN``; only
    how ``forward`` and ``backward`` compute differs (see the module's notes).

    Parameters
    ----------
    input_size, hidden_size, output_size, seed, dtype
        As for ``RNN``.
    tanh : {"auto", "numpy", "exp"}
        ``"auto"`` (default) takes the tanh chosen for this CPU and this
        precision (``TANH_FLOAT64`` or ``TANH_FLOAT32``); ``"numpy"`` and
        ``"exp"`` force one.
    """

    def __init__(self, input_size, hidden_size, output_size, seed=None, dtype=np.float64,
                 tanh="auto"):
        super().__init__(input_size, hidden_size, output_size, seed=seed, dtype=dtype)
        if tanh not in ("auto", "numpy", "exp"):
            raise ValueError(f"tanh must be 'auto', 'numpy' or 'exp', got {tanh!r}")
        auto = TANH_FLOAT32 if self.dtype == np.float32 else TANH_FLOAT64
        self.tanh = auto if tanh == "auto" else tanh

    def forward(self, x, *, state_offset=None) -> np.ndarray:
        x = self._check_input(x)
        T, B, n_in = x.shape
        H = self.hidden_size
        offset = self._check_offset(state_offset, "state_offset", (T, B, H))
        # [x_t, 1] [W; b_s] = x_t W + b_s: the input and the bias in one small product.
        X1 = self._work_array("X1", (T, B, n_in + 1))
        X1[:, :, :n_in] = x
        X1[:, :, n_in] = 1.0
        Wb = np.concatenate([self.W, self.bs])
        A = self._work_array("A", (T + 1, B, H))
        A[0] = 0.0
        tmp = self._work_array("tmp", (B, H))
        tanh = tanh_exp if self.tanh == "exp" else np.tanh
        with np.errstate(over="ignore"):               # exp's overflow gives tanh = 1 exactly
            for t in range(1, T + 1):
                np.matmul(X1[t - 1], Wb, out=A[t])
                if t > 1:                              # a_0 R = 0
                    np.matmul(A[t - 1], self.R, out=tmp)
                    A[t] += tmp                        # s_t, in the slot of a_t
                tanh(A[t], out=A[t])                   # a_t
                if offset is not None:
                    A[t] += offset[t - 1]
        self.x, self.A, self._X1 = x, A, X1
        self._offset_used = offset is not None
        return A[T] @ self.V + self.by

    forward.__doc__ = RNN.forward.__doc__

    def backward(self, d_loss) -> dict:
        self._check_backward()
        A, X1 = self.A, self._X1
        T, B, H = A.shape[0] - 1, A.shape[1], self.hidden_size
        n_in = self.input_size
        dy = self._check_d_loss(d_loss, B)

        d_a = self._work_array("d_a", (T, B, H))          # d_a[t - 1] = dL/da_t
        delta = self._work_array("delta", (B, H))         # dL/ds_t of the current step
        np.matmul(dy, self.V.T, out=d_a[T - 1])
        R_T = np.ascontiguousarray(self.R.T)
        d_Wb = np.zeros((n_in + 1, H), dtype=self.dtype)  # [dW; db_s]
        d_R = np.zeros((H, H), dtype=self.dtype)
        term_Wb, term_R = np.empty_like(d_Wb), np.empty_like(d_R)
        for t in range(T, 0, -1):
            np.multiply(A[t], A[t], out=delta)
            np.subtract(1.0, delta, out=delta)            # tanh'(s_t) = 1 - a_t^2
            delta *= d_a[t - 1]                           # delta_t = dL/ds_t
            np.matmul(X1[t - 1].T, delta, out=term_Wb)    # [x_t, 1]^T delta_t
            d_Wb += term_Wb
            if t > 1:                                     # a_0 = 0 adds nothing to dR
                np.matmul(A[t - 1].T, delta, out=term_R)
                d_R += term_R
                np.matmul(delta, R_T, out=d_a[t - 2])
        d_W = np.ascontiguousarray(d_Wb[:n_in])
        d_bs = d_Wb[n_in:].copy()
        d_V = A[T].T @ dy
        d_by = dy.sum(axis=0, keepdims=True)

        self.hidden_grads = d_a
        return self._set_grads({"d_W": d_W, "d_R": d_R, "d_bs": d_bs, "d_V": d_V, "d_by": d_by})

    backward.__doc__ = RNN.backward.__doc__
