"""Argument checks shared by every module.

Each check raises a ``TypeError`` or ``ValueError`` whose message names the
argument, the value it got and what was expected, so that a student's mistake
surfaces at the call that made it rather than as a NaN or a shape error deep
inside NumPy.
"""

from __future__ import annotations

import numbers

import numpy as np


def positive_int(value, name: str) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer, else raise.

    ``bool`` is refused although it is an ``int`` subclass: ``True`` as a batch
    size is always a mistake.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r} "
                        f"of type {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def positive_float(value, name: str) -> float:
    """Return ``value`` as a ``float`` if it is a finite number > 0, else raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {value!r} "
                        f"of type {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """Return ``dtype`` as a NumPy floating dtype (float32 or float64)."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name} must be a NumPy float dtype such as np.float64, "
                        f"got {dtype!r}") from exc
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"{name} must be np.float32 or np.float64, got {dt}")
    return dt


def rng_from(seed, name: str = "seed") -> np.random.Generator:
    """Turn ``seed`` (int, SeedSequence or Generator) into a ``Generator``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be None, a non-negative integer, a SeedSequence "
                        f"or a np.random.Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed))


def real_array(value, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a float ndarray, checking type, ndim and finiteness."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic array-likes
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating)
                                   or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return arr


def real_number(value, name: str) -> float:
    """Return ``value`` as a ``float`` if it is a finite real number, else raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} "
                        f"of type {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def unit_interval(value, name: str) -> float:
    """Return ``value`` as a ``float`` if it is a number in [0, 1), else raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r}")
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return value


def one_of(value, allowed, name: str):
    """Return ``value`` if it is one of ``allowed``, else raise a ValueError naming them."""
    if isinstance(value, str) and value in allowed:
        return value
    raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")


def nonnegative_int(value, name: str) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= 0 (not a bool), else raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a non-negative integer, got {value!r} "
                        f"of type {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def int_sequence(values, name: str, empty_ok: bool = False) -> tuple:
    """Return ``values`` as a sorted tuple of positive ints, else raise."""
    if isinstance(values, (str, bytes, numbers.Number)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence of positive integers, got {values!r}")
    out = tuple(sorted(positive_int(v, f"each of {name}") for v in values))
    if not out and not empty_ok:
        raise ValueError(f"{name} is empty: give at least one")
    return out


def uniform_source(seed):
    """The ``uniform`` draw of ``seed``: NumPy's global state for None, else a Generator."""
    return np.random.uniform if seed is None else rng_from(seed).uniform
