"""The speed-ups in memrnn.rnn change how, never what, the RNN computes (issue: performance)."""

import numpy as np
import pytest

from benchmarks.baseline import BaselineRNN, mse_loss
from memrnn import RNN, Learner, MSELoss, generate_samples
from memrnn.gradcheck import randomize_weights
from memrnn.rnn import _tanh


def test_tanh_identity_matches_numpy():
    s = np.concatenate([np.linspace(-30, 30, 200_001), [0.0, -0.0, 1e-300, -1e-300, 400.0, -400.0,
                                                      np.finfo(float).max, -np.finfo(float).max]])
    out = np.empty_like(s)
    with np.errstate(over="ignore"):
        _tanh(s, out=out)
    assert np.max(np.abs(out - np.tanh(s))) <= 4.5e-16
    assert np.all(np.abs(out) <= 1.0)
    assert out[s > 20].min() == 1.0 and out[s < -20].max() == -1.0
    s32 = s[:200_001].astype(np.float32)
    np.testing.assert_array_equal(_tanh(s32, out=np.empty_like(s32)), np.tanh(s32))


@pytest.mark.parametrize("T, B, H", [(1, 4, 3), (2, 5, 10), (10, 64, 10), (50, 32, 7)])
def test_equals_the_straightforward_baseline(T, B, H):
    rng = np.random.default_rng(T)
    model = RNN(1, H, 1, seed=rng)
    randomize_weights(model, seed=rng, scale=0.8)
    base = BaselineRNN(1, H, 1)
    base.set_weights(model.get_weights())
    loss = MSELoss()
    for step in range(3):                      # forward, gradients and updated weights, 3 times
        x, y = next(generate_samples(B, T, seed=100 + step))
        y_hat, y_hat_ref = model.forward(x), base.forward(x)
        np.testing.assert_allclose(y_hat, y_hat_ref, rtol=0, atol=1e-12)
        loss.forward(y_hat, y)
        grads = model.backward(loss.backward())
        ref = base.backward(mse_loss(y_hat_ref, y)[1])
        for name in grads:
            np.testing.assert_allclose(grads[name], ref[name], rtol=0, atol=1e-12, err_msg=name)
        model.update(0.05)
        base.update(0.05)
        for name, w in base.get_weights().items():
            np.testing.assert_allclose(getattr(model, name), w, rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(model.A, np.stack(base.a), rtol=0, atol=1e-12)


def test_float32_training_tracks_float64_for_100_steps():
    # Stated tolerance: over 100 SGD steps at the reference batch size, float32
    # logged losses stay within 1e-4 relative of float64's.
    curves = {}
    for dtype in (np.float64, np.float32):
        learner = Learner(RNN(1, 10, 1, seed=0, dtype=dtype), MSELoss(),
                          generate_samples(1024, 10, seed=1, dtype=dtype))
        learner.train(100, 1e-2, log_steps=10, progress=False)
        curves[dtype] = np.array(list(learner.loss_values.values()))
    np.testing.assert_allclose(curves[np.float32], curves[np.float64], rtol=1e-4)


def test_kept_results_are_never_overwritten_and_unkept_buffers_are_reused():
    model = RNN(1, 5, 1, seed=0)
    loss = MSELoss()
    gen = generate_samples(8, 6, seed=0)

    def step():
        x, y = next(gen)
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        model.update(1e-2)

    step()
    kept_A, kept_grads = model.A, model.hidden_grads
    snapshot_A, snapshot_grads = kept_A.copy(), kept_grads.copy()
    last_state = model.A[-1]                      # a view keeps its base alive too
    step()
    np.testing.assert_array_equal(kept_A, snapshot_A)
    np.testing.assert_array_equal(kept_grads, snapshot_grads)
    np.testing.assert_array_equal(last_state, snapshot_A[-1])
    assert model.A is not kept_A and model.hidden_grads is not kept_grads
    del kept_A, kept_grads, last_state
    ids = (id(model.A), id(model.hidden_grads))
    step()
    assert (id(model.A), id(model.hidden_grads)) == ids      # nobody held them: reused


def test_learner_limits_blas_threads_only_while_training():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = blas_threads()
    seen = []

    class Spy(RNN):
        def update(self, lr):
            seen.append(blas_threads())
            super().update(lr)

    learner = Learner(Spy(1, 4, 1, seed=0), MSELoss(), generate_samples(8, 3, seed=0))
    learner.train(2, 1e-2, progress=False)
    assert all(threads == [1] * len(before) for threads in seen)
    assert blas_threads() == before
    with pytest.raises(ValueError, match="blas_threads"):
        learner.train(1, 1e-2, progress=False, blas_threads=0)
