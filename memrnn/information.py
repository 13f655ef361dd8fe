"""Bits of memory: how much of the first element a run's error says it remembers.

A run's held-out MSE is read as *bits remembered* of the first element
(``bits_remembered``), and a number of bits as the MSE it allows
(``mse_for_bits``). Every "solved" threshold of the book is a number of bits
turned into an MSE this way. The statistics that compare runs are in
``memrnn.stats``.
"""

from __future__ import annotations

import numpy as np

from .data import TRIVIAL_MSE

__all__ = ["mse_for_bits", "bits_remembered"]


def mse_for_bits(bits):
    """The MSE of a network that knows ``bits`` bits of the first element.

    Knowing b bits of a number uniform on [-1, 1] places it in one of 2^b equal
    cells of width 2 / 2^b; the best answer is the cell's midpoint, and the
    error left is the variance of a uniform variable on the cell:
    ``(2 / 2**b) ** 2 / 12 = 1 / (3 * 4**b)``. 0 bits give the trivial 1/3,
    1 bit (the sign) gives 1/12.
    """
    return TRIVIAL_MSE / 4.0 ** np.asarray(bits, dtype=float)


def bits_remembered(mse):
    """Effective bits of memory of the first element for an MSE: the inverse of ``mse_for_bits``.

    ``log4(1 / (3 * mse))``, clipped at 0: an MSE at or above 1/3 carries
    no information about the first element. Infinite MSE (a diverged run)
    gives 0.
    """
    mse = np.asarray(mse, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        bits = 0.5 * np.log2(TRIVIAL_MSE / mse)
    out = np.where(np.isfinite(bits), np.maximum(bits, 0.0), np.where(mse <= 0, np.inf, 0.0))
    return float(out) if out.ndim == 0 else out
