"""Numbers that the chapters' text and solutions state, computed.

They depend on no run and no build, so they are checked here rather than in
hidden cells of the chapters.
"""

from __future__ import annotations

import numpy as np
import pytest

from memrnn import RNN
from memrnn.lstm import LSTM, sigmoid


def test_parameter_counts_of_the_lstm_chapter_and_its_exercise():
    """Chapter 7 and its exercise: 4H(n + H + 1) + H + 1 for the LSTM, H(n + H + 1) + H + 1 for
    the RNN, and H = 21 is the RNN about the size of the LSTM with H = 10."""
    assert LSTM(1, 10, 1, seed=0).n_parameters() == 4 * 10 * (1 + 10 + 1) + 10 + 1 == 491
    assert RNN(1, 10, 1, seed=0).n_parameters() == 10 * 12 + 11
    assert RNN(1, 21, 1, seed=0).n_parameters() == 21 * (1 + 21 + 1) + 21 + 1 == 505
    h = (-3 + np.sqrt(9 - 4 * (1 - 491))) / 2              # H^2 + 3H + 1 = 491
    assert 20 < h < 21


def test_forget_gate_shares_of_the_gating_chapter_exercises():
    """Chapter 8's exercises on the forget-gate bias."""
    # Over 19 steps: 0.5^19 ~ 2e-6 with bias 0, 0.73^19 ~ 3e-3 with bias 1.
    assert 1.5e-6 < 0.5 ** 19 < 2.5e-6 and 2e-3 < float(sigmoid(1.0)) ** 19 < 3.5e-3
    s3 = float(sigmoid(3.0))
    assert 0.008 < s3 ** 99 < 0.01
    # sigma(b)^99 = sigma(3)^49: sigma(b) ~ 0.976 and b ~ 3.7; a bias of 5 keeps about half.
    target = s3 ** (49 / 99)
    b_needed = np.log(target / (1 - target))
    assert 0.975 < target < 0.977 and 3.6 < b_needed < 3.8, b_needed
    assert 0.45 < float(sigmoid(5.0)) ** 99 < 0.55


def test_a_learning_rate_of_one_diverges_and_is_reported():
    """Chapter 4's solution: with the chapter's seeds (and the robustness tests' other base seeds),
    lr = 1 diverges within a few hundred updates, reported as TrainingDiverged with finite weights."""
    import memrnn

    for base in (0, 1, 2):
        learner = memrnn.Learner(memrnn.RNN(1, 10, 1, seed=base), memrnn.MSELoss(),
                                 memrnn.generate_samples(batch_size=1024, seq_length=10, seed=base + 1))
        with pytest.raises(memrnn.TrainingDiverged) as info:
            learner.train(iter_steps=1000, lr=1.0, progress=False)
        assert info.value.step < 500 and info.value.lr == 1.0, (base, info.value)
        assert all(np.isfinite(w).all() for w in learner.model.get_weights().values())
        assert all(np.isfinite(v) for v in learner.loss_values.values())


def test_the_step_size_sweep_of_the_gradient_check_chapter():
    """Chapter 3 reads slopes 2, 1 and -1 off its step-size sweep, and a minimum near 1e-5."""
    from memrnn import gradcheck

    sweep = gradcheck.eps_sweep(np.logspace(-12, -1, 23), seed=0)
    eps, central, forward = sweep["eps"], sweep["central"], sweep["forward"]

    def slope(mask, err):
        return float(np.polyfit(np.log10(eps[mask]), np.log10(err[mask]), 1)[0])

    assert 1.8 < slope(eps >= 1e-4, central) < 2.2
    assert 0.8 < slope(eps >= 1e-6, forward) < 1.2
    assert -1.3 < slope(eps <= 1e-9, central) < -0.7
    best = int(np.argmin(central))
    assert 1e-7 <= eps[best] <= 1e-4, eps[best]
    assert central[best] < 1e-9 and central[best] < forward.min() / 10
