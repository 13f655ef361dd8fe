"""Bits of memory: an MSE read as bits of the first element, and back."""

import numpy as np
import pytest

from memrnn import TRIVIAL_MSE
from memrnn.information import bits_remembered, mse_for_bits


def test_bits_and_mse_are_inverse_and_anchored():
    assert mse_for_bits(0) == pytest.approx(TRIVIAL_MSE)
    assert mse_for_bits(1) == pytest.approx(1 / 12)       # the sign alone
    assert mse_for_bits(2) == pytest.approx(1 / 48)
    for b in (0.25, 1.0, 3.5):
        assert bits_remembered(mse_for_bits(b)) == pytest.approx(b)
    # No information at or above 1/3; a diverged (infinite) MSE carries none either.
    assert bits_remembered(0.5) == 0.0
    assert bits_remembered(np.inf) == 0.0
    np.testing.assert_allclose(bits_remembered([1 / 3, 1 / 12]), [0.0, 1.0])


def test_mse_for_bits_matches_a_quantised_memory():
    # Simulate remembering b bits: keep the cell of x among 2^b equal cells, answer its midpoint.
    x = np.random.default_rng(0).uniform(-1, 1, 400_000)
    for b in (1, 2, 3):
        cells = 2**b
        idx = np.minimum(((x + 1) / 2 * cells).astype(int), cells - 1)
        mid = -1 + (idx + 0.5) * 2 / cells
        assert np.mean((x - mid) ** 2) == pytest.approx(mse_for_bits(b), rel=0.01)
