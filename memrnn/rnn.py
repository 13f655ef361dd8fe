"""A vanilla tanh RNN with backpropagation through time (chapters 3, 4 and 6).

The model reads a sequence and answers once, at the last step. In the
row-vector convention of the book, with ``x_t`` of shape (B, in) and ``a_t`` of
shape (B, H)::

    s_t   = x_t W + a_{t-1} R + b_s        t = 1, ..., T
    a_t   = tanh(s_t),                     a_0 = 0
    y_hat = a_T V + b_y

Arrays are indexed from 0, so ``x[t - 1]`` holds ``x_t`` while the stored
hidden states ``A[t]`` hold ``a_t`` (``A[0]`` is ``a_0 = 0``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

import numpy as np

from . import _checks

__all__ = ["RNN", "PARAM_NAMES"]

#: Parameter names, in the order ``set_weights`` accepts them as a sequence.
PARAM_NAMES = ("W", "R", "bs", "V", "by")


def _tanh(s, out):
    r"""Write tanh(s) into ``out`` (which may be ``s`` itself).

    float64 uses the identity :math:`\tanh s = 1 - 2/(e^{2s} + 1)`: on CPUs
    without AVX-512, NumPy's float64 ``tanh`` is a scalar loop about twice as
    slow as its ``exp``, and the identity agrees with ``np.tanh`` to within
    about 2e-16 (absolute). For large s, exp overflows to inf and the formula
    still gives exactly 1. float32 uses ``np.tanh``, which is vectorised.
    """
    if out.dtype != np.float64:
        return np.tanh(s, out=out)
    np.multiply(s, 2.0, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.divide(2.0, out, out=out)
    return np.subtract(1.0, out, out=out)


def _refcount(obj) -> int:
    return sys.getrefcount(obj) if hasattr(sys, "getrefcount") else 1 << 30


class _Holder:
    arr = None


_holder = _Holder()
_holder.arr = np.empty(0)
#: The reference count of an array held by one attribute and nothing else,
#: measured with the very expression ``RNN._result`` uses.
_UNSHARED_REFS = _refcount(getattr(_holder, "arr"))
del _holder


class RNN:
    """A sequence-to-one tanh RNN trained by plain SGD (chapters 3, 4 and 6).

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
    bs : ndarray (H, 1)
        Hidden bias, zero at first.
    V : ndarray (H, out)
        Read-out weights, LeCun-uniform: U(-sqrt(3/H), sqrt(3/H)).
    by : ndarray (out, 1)
        Output bias, zero at first.
    A : ndarray (T+1, B, H)
        Hidden states of the last ``forward``; ``A[t]`` is ``a_t``.
    grads : dict
        Gradients of the last ``backward``, keys ``d_W d_R d_bs d_V d_by``,
        each summed over time steps and shaped like its parameter.
    hidden_grads : ndarray (T, B, H)
        dL/da_t of the last ``backward``; ``hidden_grads[t - 1]`` belongs to
        ``a_t``. Chapter 6 plots its norm against t.
    preactivation_grads : ndarray (T, B, H)
        dL/ds_t, computed on request; ``per_step_grads`` builds each step's
        contribution to dW, dR and dbs from it.
    """

    def __init__(self, input_size, hidden_size, output_size, seed=None, dtype=np.float64):
        self.input_size = _checks.positive_int(input_size, "input_size")
        self.hidden_size = _checks.positive_int(hidden_size, "hidden_size")
        self.output_size = _checks.positive_int(output_size, "output_size")
        self.dtype = _checks.float_dtype(dtype)
        uniform = np.random.uniform if seed is None else _checks.rng_from(seed).uniform

        n_in, n_h, n_out = self.input_size, self.hidden_size, self.output_size
        # LeCun-uniform: U(-a, a) has variance a^2/3, so a = sqrt(3/fan_in)
        # gives each unit's summed input a variance of about 1 at the start.
        lim_w, lim_v = np.sqrt(3.0 / n_in), np.sqrt(3.0 / n_h)
        self.W = uniform(-lim_w, lim_w, size=(n_in, n_h)).astype(self.dtype)
        self.R = np.eye(n_h, dtype=self.dtype)
        self.bs = np.zeros((n_h, 1), dtype=self.dtype)
        self.V = uniform(-lim_v, lim_v, size=(n_h, n_out)).astype(self.dtype)
        self.by = np.zeros((n_out, 1), dtype=self.dtype)

        self.x = None
        self.A = None
        self.grads = None
        self.hidden_grads = None
        self._offset_used = False
        self._grads_pending = False
        self._buffers = {}

    def __repr__(self):
        return (f"RNN(input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"output_size={self.output_size}, dtype=np.{self.dtype.name})")

    # ------------------------------------------------------------------ forward
    def forward(self, x, *, state_offset=None) -> np.ndarray:
        """Run the RNN over a batch of sequences and return the prediction.

        Parameters
        ----------
        x : array_like, shape (T, B, in)
            Input sequences, time first.
        state_offset : array_like, shape (T, B, H), optional
            Added to each hidden state ``a_t`` right after its ``tanh``. Only
            for checking ``hidden_grads`` by finite differences (chapter 3);
            ``backward`` refuses to run after a forward pass that used it.

        Returns
        -------
        y_hat : ndarray, shape (B, out)
        """
        x = self._check_input(x)
        T, B, n_in = x.shape
        H = self.hidden_size
        if state_offset is not None:
            state_offset = _checks.real_array(state_offset, "state_offset", ndim=3)
            if state_offset.shape != (T, B, H):
                raise ValueError(f"state_offset must have shape (T, B, H) = {(T, B, H)}, "
                                 f"got {state_offset.shape}")

        # The three terms of s_t are one product: with z_t = [a_{t-1}, x_t, 1]
        # and M = [R; W; b_s^T] stacked row-wise, z_t M = a_{t-1} R + x_t W + b_s.
        # One small matrix product per step instead of three.
        M = np.concatenate([self.R, self.W, self.bs.T])    # (H + in + 1, H)
        z = self._scratch("z", (B, H + n_in + 1))
        z[:, :H] = 0.0                                     # a_0 = 0
        z[:, H + n_in] = 1.0
        A = self._result("A", (T + 1, B, H))               # A[t] = a_t
        A[0] = 0.0
        s = self._scratch("s", (B, H))
        with np.errstate(over="ignore"):                   # see _tanh: exp may overflow to inf
            for t in range(1, T + 1):
                z[:, H:H + n_in] = x[t - 1]
                np.matmul(z, M, out=s)                     # s_t
                _tanh(s, out=s)                            # a_t = tanh(s_t)
                if state_offset is not None:
                    s += state_offset[t - 1]
                A[t] = s
                z[:, :H] = s

        self.x, self.A = x, A
        self._offset_used = state_offset is not None
        return A[T] @ self.V + self.by.T

    # ----------------------------------------------------------------- backward
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
            ``d_W`` (in, H), ``d_R`` (H, H), ``d_bs`` (H, 1), ``d_V`` (H, out)
            and ``d_by`` (out, 1): the gradients, summed over time steps.
            Also stored as ``self.grads``, with ``self.hidden_grads`` and
            ``self.preactivation_grads``.
        """
        if self.A is None:
            raise RuntimeError("RNN.backward() called before forward(): run forward(x) first")
        if self._offset_used:
            raise RuntimeError("RNN.backward() after a forward pass with state_offset: "
                               "its tanh derivatives are not those of the model")
        A = self.A
        T, B, H = A.shape[0] - 1, A.shape[1], self.hidden_size
        n_in = self.input_size
        dy = _checks.real_array(d_loss, "d_loss", ndim=2).astype(self.dtype, copy=False)
        if dy.shape != (B, self.output_size):
            raise ValueError(f"d_loss must have shape (B, out) = {(B, self.output_size)} "
                             f"like the last forward's output, got {dy.shape}")

        d_V = A[T].T @ dy
        d_by = dy.sum(axis=0)[:, None]

        d_a = self._result("hidden_grads", (T, B, H))  # d_a[t-1] = dL/da_t
        d_s = self._scratch("d_s", (B, H))             # dL/ds_t of the current step
        dtanh = self._scratch("dtanh", (B, H))
        z = self._scratch("z", (B, H + n_in + 1))      # z_t = [a_{t-1}, x_t, 1], as in forward
        z[:, H + n_in] = 1.0
        d_M = np.zeros((H + n_in + 1, H), dtype=self.dtype)
        d_a[T - 1] = dy @ self.V.T
        for t in range(T, 0, -1):
            np.multiply(A[t], A[t], out=dtanh)
            np.subtract(1.0, dtanh, out=dtanh)         # tanh'(s_t) = 1 - a_t^2
            np.multiply(d_a[t - 1], dtanh, out=d_s)    # dL/ds_t
            if t > 1:                                  # s_t = ... + a_{t-1} R
                np.matmul(d_s, self.R.T, out=d_a[t - 2])
            z[:, :H] = A[t - 1]
            z[:, H:H + n_in] = self.x[t - 1]
            d_M += z.T @ d_s                           # step t's term of [dR; dW; db_s^T]
        d_R = np.ascontiguousarray(d_M[:H])
        d_W = np.ascontiguousarray(d_M[H:H + n_in])
        d_bs = np.ascontiguousarray(d_M[H + n_in:].T)

        self.hidden_grads = d_a
        self.grads = {"d_W": d_W, "d_R": d_R, "d_bs": d_bs, "d_V": d_V, "d_by": d_by}
        self._grads_pending = True
        return self.grads

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
        """Each time step's contribution to the recurrent gradients (chapter 6).

        Returns
        -------
        dict
            ``d_W`` (T, in, H), ``d_R`` (T, H, H) and ``d_bs`` (T, H, 1), where
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
            "d_bs": d_s.sum(axis=1)[:, :, None],
        }

    # ------------------------------------------------------------------- update
    def update(self, lr) -> None:
        """Take one plain SGD step, ``p -= lr * d_p``, with the last gradients.

        Raises
        ------
        RuntimeError
            If there is no ``backward`` since the last update (no gradients,
            or gradients already applied).
        """
        lr = _checks.positive_float(lr, "lr")
        if not self._grads_pending:
            raise RuntimeError("RNN.update() needs fresh gradients: call forward() and "
                               "backward() before each update()")
        for name in PARAM_NAMES:
            getattr(self, name)[...] -= lr * self.grads["d_" + name]
        self._grads_pending = False

    # ------------------------------------------------------------------ weights
    def get_weights(self) -> dict:
        """Return a copy of the parameters as ``{"W", "R", "bs", "V", "by"}``."""
        return {name: getattr(self, name).copy() for name in PARAM_NAMES}

    def set_weights(self, weights) -> None:
        """Replace the parameters with copies of ``weights``.

        Parameters
        ----------
        weights : mapping or sequence
            A dict with keys ``W R bs V by`` (as from ``get_weights``), or the
            five arrays in that order. Each must have its parameter's shape.
        """
        if isinstance(weights, Mapping):
            missing = [n for n in PARAM_NAMES if n not in weights]
            extra = [k for k in weights if k not in PARAM_NAMES]
            if missing or extra:
                raise ValueError(f"weights must have exactly the keys {list(PARAM_NAMES)}; "
                                 f"missing {missing}, unexpected {extra}")
            items = [(n, weights[n]) for n in PARAM_NAMES]
        elif isinstance(weights, Sequence) and not isinstance(weights, (str, bytes)):
            if len(weights) != len(PARAM_NAMES):
                raise ValueError(f"weights as a sequence must hold {len(PARAM_NAMES)} arrays "
                                 f"{list(PARAM_NAMES)}, got {len(weights)}")
            items = list(zip(PARAM_NAMES, weights))
        else:
            raise TypeError(f"weights must be a dict or a sequence of arrays, "
                            f"got {type(weights).__name__}")
        new = {}
        for name, value in items:
            arr = _checks.real_array(value, f"weights[{name!r}]")
            expected = getattr(self, name).shape
            if arr.shape != expected:
                raise ValueError(f"weights[{name!r}] must have shape {expected}, got {arr.shape}")
            new[name] = arr.astype(self.dtype, copy=True)
        for name, arr in new.items():      # all checked before any is changed
            setattr(self, name, arr)
        self._grads_pending = False

    # ------------------------------------------------------------------ helpers
    def grad_norm(self) -> float:
        """Euclidean norm of all parameter gradients of the last ``backward``."""
        if self.grads is None:
            raise RuntimeError("grad_norm() needs a backward() pass first")
        return float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2))
                                 for g in self.grads.values())))

    def _scratch(self, name: str, shape) -> np.ndarray:
        """A work array kept between calls and never handed out."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape:
            buf = self._buffers[name] = np.empty(shape, dtype=self.dtype)
        return buf

    def _result(self, attr: str, shape) -> np.ndarray:
        """An array for a result the model hands out as ``self.<attr>``.

        Touching freshly allocated memory costs about as much as the arithmetic
        at these sizes, so the previous call's array is overwritten, but only
        if nothing outside the model refers to it any more: an array that a
        caller kept, or a view of it, never changes behind their back.
        """
        if _refcount(getattr(self, attr)) <= _UNSHARED_REFS and getattr(self, attr).shape == shape:
            return getattr(self, attr)
        setattr(self, attr, None)
        return np.empty(shape, dtype=self.dtype)

    def _check_input(self, x) -> np.ndarray:
        x = _checks.real_array(x, "x")
        if x.ndim != 3 or x.shape[2] != self.input_size or 0 in x.shape:
            hint = (" (add a feature axis with x[..., None])"
                    if x.ndim == 2 and self.input_size == 1 else "")
            raise ValueError(f"x must have shape (T, B, input_size={self.input_size}) with "
                             f"T, B > 0, got {x.shape}{hint}")
        return x.astype(self.dtype, copy=False)
