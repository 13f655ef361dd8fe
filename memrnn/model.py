"""What every model in memrnn shares: parameters, one SGD step, weights in and out.

``RNN``, its fast twin ``FastRNN`` and
``LSTM`` differ only in ``__init__``, ``forward`` and
``backward``. Everything a training loop or a gradient check needs besides
those lives here, once.

A model names its parameters in ``PARAM_NAMES``; each is an attribute (an
ndarray), and ``backward`` returns their gradients as a dict whose keys are
the names with ``d_`` in front. Biases are rows, (1, n), as in the book's
equations; ``BIAS_NAMES`` says which parameters they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from . import _checks
from .optim import SGD

__all__ = ["Model"]


class Model:
    """Base class of memrnn's sequence-to-one models.

    Subclasses set ``PARAM_NAMES``, create those arrays in ``__init__`` after
    calling ``Model.__init__``, and implement ``forward(x)`` and
    ``backward(d_loss)``; ``backward`` returns the gradients and keeps them
    as ``self.grads`` (``self._set_grads(grads)`` does both).

    Attributes
    ----------
    input_size, hidden_size, output_size : int
    dtype : numpy.dtype
        float64 or float32, for weights and all computations.
    grads : dict or None
        Gradients of the last ``backward``, keys ``"d_" + name``.
    """

    #: Parameter names, in the order ``set_weights`` accepts them as a sequence.
    PARAM_NAMES: tuple = ()
    #: The parameters that are biases: rows of shape (1, n), added to every row of a batch.
    BIAS_NAMES: tuple = ()
    #: The states whose gradients ``backward`` keeps, as (key for ``gradcheck.check_model``,
    #: the ``forward`` keyword that shifts the state, the attribute with its gradient).
    STATE_GRADS: tuple = (("d_a", "state_offset", "hidden_grads"),)

    def __init__(self, input_size, hidden_size, output_size, dtype=np.float64):
        self.input_size = _checks.positive_int(input_size, "input_size")
        self.hidden_size = _checks.positive_int(hidden_size, "hidden_size")
        self.output_size = _checks.positive_int(output_size, "output_size")
        self.dtype = _checks.float_dtype(dtype)
        self.grads = None
        self._work = {}
        self.x = self.A = None          # the last forward's input and hidden states
        self._offset_used = False

    def __repr__(self):
        return (f"{type(self).__name__}(input_size={self.input_size}, "
                f"hidden_size={self.hidden_size}, output_size={self.output_size}, "
                f"dtype=np.{self.dtype.name})")

    # ------------------------------------------------------------------- update
    def update(self, lr) -> None:
        """Take one plain SGD step, ``p -= lr * d_p``, with the last gradients.

        ``optim.SGD().step(model, lr)``, with ``lr`` checked first. Like any
        plain update, it applies the gradients of the last ``backward`` as
        often as it is called.

        Raises
        ------
        RuntimeError
            If there has been no ``backward`` yet.
        """
        SGD().step(self, _checks.positive_float(lr, "lr"))

    def _set_grads(self, grads: dict) -> dict:
        """Keep the gradients of this ``backward`` as ``self.grads`` and return them."""
        self.grads = grads
        return grads

    # ------------------------------------------------------------------ weights
    def parameters(self) -> dict:
        """The parameter arrays themselves (not copies), by name.

        An optimizer changes them in place; ``get_weights`` gives copies.
        """
        return {name: getattr(self, name) for name in self.PARAM_NAMES}

    def n_parameters(self) -> int:
        """How many numbers the model learns."""
        return int(sum(getattr(self, name).size for name in self.PARAM_NAMES))

    def get_weights(self) -> dict:
        """Return a copy of the parameters as a dict keyed by ``PARAM_NAMES``."""
        return {name: getattr(self, name).copy() for name in self.PARAM_NAMES}

    def set_weights(self, weights) -> None:
        """Replace the parameters with copies of ``weights``.

        Parameters
        ----------
        weights : mapping or sequence
            A dict with exactly the keys ``PARAM_NAMES`` (as from
            ``get_weights``), or the arrays in that order. Each must have its
            parameter's shape, with one exception: a bias (``BIAS_NAMES``),
            a row of shape (1, n), is also accepted as a column (n, 1), as
            code that keeps biases as columns holds it, and is stored as
            that column transposed: the same n numbers in the same order.

        Raises
        ------
        ValueError
            If a key is missing or unexpected, or an array has another
            shape; the message names the shape given and the one expected.
            Nothing is changed then.
        """
        names = self.PARAM_NAMES
        if isinstance(weights, Mapping):
            missing = [n for n in names if n not in weights]
            extra = [k for k in weights if k not in names]
            if missing or extra:
                raise ValueError(f"weights must have exactly the keys {list(names)}; "
                                 f"missing {missing}, unexpected {extra}")
            items = [(n, weights[n]) for n in names]
        elif isinstance(weights, Sequence) and not isinstance(weights, (str, bytes)):
            if len(weights) != len(names):
                raise ValueError(f"weights as a sequence must hold {len(names)} arrays "
                                 f"{list(names)}, got {len(weights)}")
            items = list(zip(names, weights))
        else:
            raise TypeError(f"weights must be a dict or a sequence of arrays, "
                            f"got {type(weights).__name__}")
        new = {}
        for name, value in items:
            arr = _checks.real_array(value, f"weights[{name!r}]")
            expected = getattr(self, name).shape
            if name in self.BIAS_NAMES and arr.shape == expected[::-1]:
                arr = arr.T                # a bias given as a column: the same numbers, as a row
            if arr.shape != expected:
                also = (f" (or the column {expected[::-1]})"
                        if name in self.BIAS_NAMES and expected[0] != expected[1] else "")
                raise ValueError(f"weights[{name!r}] must have shape {expected}{also}, "
                                 f"got {arr.shape}")
            new[name] = arr.astype(self.dtype, copy=True)
        for name, arr in new.items():      # all checked before any is changed
            setattr(self, name, arr)

    # ------------------------------------------------------------------ helpers
    def grad_norm(self) -> float:
        """Euclidean norm of all parameter gradients of the last ``backward``."""
        if self.grads is None:
            raise RuntimeError("grad_norm() needs a backward() pass first")
        return float(np.sqrt(sum(float(np.vdot(g, g)) for g in self.grads.values())))

    def _check_backward(self):
        """Refuse a backward pass with no forward pass, or after one that shifted the states."""
        if self.A is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward(): "
                               f"run forward(x) first")
        if self._offset_used:
            raise RuntimeError(f"{type(self).__name__}.backward() after a forward pass with a "
                               f"state_offset or cell_offset: its derivatives are not the "
                               f"model's")

    def _work_array(self, name: str, shape) -> np.ndarray:
        """A work array kept from call to call, for the fast models.

        Fresh memory for a large array costs about as much as the arithmetic on
        it, so the fast models reuse theirs; what they hand out from such an
        array is overwritten by their next call.
        """
        buf = self._work.get(name)
        if buf is None or buf.shape != shape:
            buf = self._work[name] = np.empty(shape, dtype=self.dtype)
        return buf

    def _check_input(self, x) -> np.ndarray:
        x = _checks.real_array(x, "x")
        if x.ndim != 3 or x.shape[2] != self.input_size or 0 in x.shape:
            hint = (" (add a feature axis with x[..., None])"
                    if x.ndim == 2 and self.input_size == 1 else "")
            raise ValueError(f"x must have shape (T, B, input_size={self.input_size}) with "
                             f"T, B > 0, got {x.shape}{hint}")
        return x.astype(self.dtype, copy=False)

    def _check_d_loss(self, d_loss, batch: int) -> np.ndarray:
        dy = _checks.real_array(d_loss, "d_loss", ndim=2).astype(self.dtype, copy=False)
        if dy.shape != (batch, self.output_size):
            raise ValueError(f"d_loss must have shape (B, out) = {(batch, self.output_size)} "
                             f"like the last forward's output, got {dy.shape}")
        return dy

    def _check_offset(self, offset, name: str, shape) -> np.ndarray | None:
        if offset is None:
            return None
        offset = _checks.real_array(offset, name, ndim=3)
        if offset.shape != shape:
            raise ValueError(f"{name} must have shape (T, B, H) = {shape}, got {offset.shape}")
        return offset


def lecun_uniform(uniform, fan_in: int, shape, dtype) -> np.ndarray:
    """Draw a weight matrix from U(-sqrt(3/fan_in), sqrt(3/fan_in)).

    U(-a, a) has variance a^2/3, so a = sqrt(3/fan_in) gives each unit's
    summed input a variance of about 1 at the start.
    """
    lim = np.sqrt(3.0 / fan_in)
    return uniform(-lim, lim, size=shape).astype(dtype)
