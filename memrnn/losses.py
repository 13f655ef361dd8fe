"""The mean squared error and its gradient."""

from __future__ import annotations

import numpy as np

from . import _checks

__all__ = ["MSELoss"]


class MSELoss:
    r"""Mean squared error over every element of a batch.

    For predictions :math:`\hat y` and targets :math:`y` with :math:`N`
    elements in all, :math:`L = \frac1N \sum_i (\hat y_i - y_i)^2` and
    :math:`\partial L / \partial \hat y_i = \frac2N (\hat y_i - y_i)`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = MSELoss()
    >>> loss.forward(np.array([[1.0], [0.0]]), np.array([[0.0], [0.0]]))
    0.5
    >>> loss.backward()
    array([[1.],
           [0.]])
    """

    def __init__(self):
        self._diff = None

    def forward(self, y_hat, y_true) -> float:
        """Return the mean of ``(y_hat - y_true) ** 2`` as a Python float.

        Parameters
        ----------
        y_hat : array_like, shape (B, out)
            Predictions.
        y_true : array_like, same shape as ``y_hat``
            Targets.

        Raises
        ------
        ValueError
            If the shapes differ (no broadcasting: a (B, 1) against a (B,)
            array would silently give a (B, B) difference) or an input holds
            NaN or infinity.
        """
        y_hat = _checks.real_array(y_hat, "y_hat")
        y_true = _checks.real_array(y_true, "y_true")
        if y_hat.shape != y_true.shape:
            raise ValueError(f"y_hat and y_true must have the same shape, got "
                             f"y_hat {y_hat.shape} and y_true {y_true.shape}")
        if y_hat.size == 0:
            raise ValueError("y_hat and y_true are empty: the mean of no errors is undefined")
        self._diff = y_hat - y_true
        return float(np.mean(self._diff ** 2))

    def backward(self) -> np.ndarray:
        """Return dL/dy_hat = 2 (y_hat - y_true) / N for the last ``forward``.

        Returns
        -------
        ndarray, same shape as ``y_hat``

        Raises
        ------
        RuntimeError
            If ``forward`` has not been called yet.
        """
        if self._diff is None:
            raise RuntimeError("MSELoss.backward() called before forward(): "
                               "call forward(y_hat, y_true) first")
        return (2.0 / self._diff.size) * self._diff
