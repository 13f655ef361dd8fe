"""The memory task's data.

Each sample is a sequence of ``T`` numbers drawn independently and uniformly
from [-1, 1]. The target is the *first* number of the sequence, which the
network must still know after reading all ``T`` of them.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from . import _checks

__all__ = ["generate_samples", "TRIVIAL_MSE"]

#: MSE of the best constant predictor (always 0) for a target uniform on
#: [-1, 1]: E[y^2] = 1/3. Chapter 2 derives it; every "solved" threshold in the
#: book is stated relative to it.
TRIVIAL_MSE = 1.0 / 3.0


def generate_samples(batch_size, seq_length, seed=None, dtype=np.float64
                     ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield batches of the memory task for ever.

    Parameters
    ----------
    batch_size : int
        Number of sequences per batch, ``B`` > 0.
    seq_length : int
        Length of each sequence, ``T`` > 0.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Source of randomness. ``None`` draws from NumPy's global state, so
        ``np.random.seed(k)`` makes the stream reproducible; anything else is
        turned into a ``Generator``, and the same seed gives the same stream.
    dtype : numpy float dtype
        ``np.float64`` (default) or ``np.float32``.

    Yields
    ------
    x : ndarray, shape (T, B, 1)
        The input sequences, i.i.d. uniform on [-1, 1] (dimensionless).
    y : ndarray, shape (B, 1)
        The targets, ``y == x[0]``: the first element of each sequence.

    Raises
    ------
    TypeError, ValueError
        For a non-integer or non-positive size, a bad seed or a non-float dtype.
        They are raised at the call, not at the first ``next()``.

    Examples
    --------
    >>> x, y = next(generate_samples(batch_size=4, seq_length=3, seed=0))
    >>> x.shape, y.shape
    ((3, 4, 1), (4, 1))
    >>> bool((y == x[0]).all())
    True
    """
    batch_size = _checks.positive_int(batch_size, "batch_size")
    seq_length = _checks.positive_int(seq_length, "seq_length")
    dtype = _checks.float_dtype(dtype)
    draw = _checks.uniform_source(seed)
    # The checks above run eagerly; only the infinite loop is lazy.
    return _stream(draw, batch_size, seq_length, dtype)


def _stream(draw, batch_size: int, seq_length: int, dtype: np.dtype):
    while True:
        x = draw(-1.0, 1.0, size=(seq_length, batch_size, 1)).astype(dtype, copy=False)
        # A copy, so that a caller who edits y in place cannot change x.
        yield x, x[0].copy()
