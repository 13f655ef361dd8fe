"""FastRNN computes what RNN computes: the contract between the plain and the fast model.

``memrnn.RNN`` is the plain code the book shows; ``memrnn.fast.FastRNN`` is
what training uses. Forward pass, hidden states, every gradient and the
weights after several SGD updates agree to 1e-12 in float64, on both of the
fast model's tanh code paths, whichever this CPU would pick.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from memrnn import RNN, Learner, MSELoss, generate_samples
from memrnn.fast import (
    TANH_FLOAT32,
    TANH_FLOAT64,
    FastRNN,
    _numpy_cpu_features,
    choose_tanh,
    tanh_exp,
)
from memrnn.gradcheck import check_model, randomize_weights

SIZES = [  # (T, B, H, in, out)
    (1, 4, 3, 1, 1),
    (2, 5, 10, 1, 1),
    (10, 64, 10, 1, 1),
    (50, 32, 7, 1, 1),
    (6, 3, 4, 3, 2),
]


@pytest.mark.parametrize("tanh", ["numpy", "exp"])
@pytest.mark.parametrize("T, B, H, n_in, n_out", SIZES)
def test_fast_equals_plain_forward_gradients_and_updates(T, B, H, n_in, n_out, tanh):
    rng = np.random.default_rng(T * 7 + H)
    plain = RNN(n_in, H, n_out, seed=rng)
    randomize_weights(plain, seed=rng, scale=0.8)
    fast = FastRNN(n_in, H, n_out, tanh=tanh)
    fast.set_weights(plain.get_weights())
    loss = MSELoss()
    for _ in range(3):           # forward, gradients and updated weights, three times over
        x = rng.uniform(-1, 1, size=(T, B, n_in))
        y = rng.normal(size=(B, n_out))
        y_plain, y_fast = plain.forward(x), fast.forward(x)
        np.testing.assert_allclose(y_fast, y_plain, rtol=0, atol=1e-12)
        np.testing.assert_allclose(fast.A, plain.A, rtol=0, atol=1e-12)
        loss.forward(y_plain, y)
        g_plain = plain.backward(loss.backward())
        g_fast = fast.backward(loss.backward())
        assert set(g_fast) == set(g_plain)
        for name in g_plain:
            assert g_fast[name].shape == g_plain[name].shape, name
            np.testing.assert_allclose(g_fast[name], g_plain[name], rtol=0, atol=1e-12,
                                       err_msg=name)
        np.testing.assert_allclose(fast.hidden_grads, plain.hidden_grads, rtol=0, atol=1e-12)
        np.testing.assert_allclose(fast.preactivation_grads, plain.preactivation_grads,
                                   rtol=0, atol=1e-12)
        for name, d in plain.per_step_grads().items():
            np.testing.assert_allclose(fast.per_step_grads()[name], d, rtol=0, atol=1e-12)
        plain.update(0.05)
        fast.update(0.05)
        for name, w in plain.get_weights().items():
            np.testing.assert_allclose(getattr(fast, name), w, rtol=0, atol=1e-12, err_msg=name)


def test_the_fast_model_passes_the_gradient_check_with_hidden_states():
    for tanh in ("numpy", "exp"):
        model = FastRNN(1, 5, 1, seed=0, tanh=tanh)
        randomize_weights(model, seed=1)
        errors = check_model(model, seq_length=6, batch_size=3, seed=2)
        assert max(errors.values()) < 1e-6, (tanh, errors)


def test_same_seed_same_initial_weights_as_the_plain_model():
    plain, fast = RNN(1, 10, 1, seed=3), FastRNN(1, 10, 1, seed=3)
    for name, w in plain.get_weights().items():
        np.testing.assert_array_equal(fast.get_weights()[name], w)


@pytest.mark.parametrize("features, f64, f32", [
    ({"SSE2": True, "X86_V2": True, "AVX2": True, "X86_V3": True, "X86_V4": True}, "numpy", "numpy"),
    ({"SSE2": True, "X86_V2": True, "AVX2": True, "X86_V3": True, "X86_V4": False}, "exp", "numpy"),
    ({"SSE2": True, "X86_V2": True, "X86_V3": False, "X86_V4": False}, "exp", "exp"),
    ({"SSE2": True, "AVX2": True, "FMA3": True, "AVX512F": True, "AVX512_SKX": True},   # NumPy < 2.4
     "numpy", "numpy"),
    ({"SSE2": True, "AVX2": True, "FMA3": True, "AVX512F": True, "AVX512_SKX": False}, "exp", "numpy"),
    ({"SSE2": True, "SSE3": True}, "exp", "exp"),
    ({"NEON": True, "ASIMD": True}, "numpy", "numpy"),
    ({}, "numpy", "numpy"),
])
def test_the_tanh_choice_follows_the_cpu_report(features, f64, f32):
    assert choose_tanh(features) == choose_tanh(features, "float64") == f64
    assert choose_tanh(features, np.float32) == f32


def test_this_process_made_its_choice_from_numpys_own_report():
    assert TANH_FLOAT64 == choose_tanh(_numpy_cpu_features())
    assert TANH_FLOAT32 == choose_tanh(_numpy_cpu_features(), "float32")
    assert FastRNN(1, 3, 1).tanh == TANH_FLOAT64
    assert FastRNN(1, 3, 1, dtype=np.float32).tanh == TANH_FLOAT32
    with pytest.raises(ValueError, match="tanh"):
        FastRNN(1, 3, 1, tanh="fast")


@pytest.mark.skipif(not _numpy_cpu_features().get("X86_V4"),
                    reason="the CPU has no AVX-512 dispatch target to switch off")
def test_switching_off_numpys_simd_kernels_switches_the_tanh():
    # What an AVX2-only CPU, and an older one, would choose, shown on this one.
    probe = "from memrnn.fast import TANH_FLOAT32, TANH_FLOAT64; print(TANH_FLOAT64, TANH_FLOAT32)"
    chosen = {}
    for off in ("X86_V4 AVX512_ICL AVX512_SPR", "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"):
        env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=off)
        chosen[off] = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                     env=env, check=True).stdout.split()
    assert chosen["X86_V4 AVX512_ICL AVX512_SPR"] == ["exp", "numpy"]
    assert chosen["X86_V3 X86_V4 AVX512_ICL AVX512_SPR"] == ["exp", "exp"]
    assert (TANH_FLOAT64, TANH_FLOAT32) == ("numpy", "numpy")


def test_tanh_through_exp_matches_numpy():
    s = np.concatenate([np.linspace(-30, 30, 200_001), [0.0, -0.0, 1e-300, -1e-300, 400.0, -400.0,
                                                      np.finfo(float).max, -np.finfo(float).max]])
    with np.errstate(over="ignore"):       # as FastRNN.forward calls it
        out = tanh_exp(s, out=np.empty_like(s))
    assert np.max(np.abs(out - np.tanh(s))) <= 4.5e-16
    assert np.all(np.abs(out) <= 1.0)
    assert out[s > 20].min() == 1.0 and out[s < -20].max() == -1.0


def test_work_arrays_are_overwritten_but_returned_gradients_are_not():
    model = FastRNN(1, 5, 1, seed=0)
    loss = MSELoss()
    gen = generate_samples(8, 6, seed=0)

    def step():
        x, y = next(gen)
        loss.forward(model.forward(x), y)
        grads = model.backward(loss.backward())
        model.update(1e-2)
        return grads

    grads = step()
    kept = {k: v.copy() for k, v in grads.items()}
    A, hidden = model.A, model.hidden_grads
    A_then = A.copy()
    step()
    # As documented: the work arrays are the same objects, with the new step's values ...
    assert model.A is A and model.hidden_grads is hidden
    assert not np.array_equal(A, A_then)
    # ... and gradients handed out earlier are untouched.
    for k, v in grads.items():
        np.testing.assert_array_equal(v, kept[k])


def test_float32_training_tracks_float64_for_100_steps():
    # Stated tolerance: over 100 SGD steps at the reference batch size, float32
    # logged losses stay within 1e-4 relative of float64's.
    curves = {}
    for dtype in (np.float64, np.float32):
        learner = Learner(FastRNN(1, 10, 1, seed=0, dtype=dtype), MSELoss(),
                          generate_samples(1024, 10, seed=1, dtype=dtype))
        learner.train(100, 1e-2, log_steps=10, progress=False)
        curves[dtype] = np.array(list(learner.loss_values.values()))
    np.testing.assert_allclose(curves[np.float32], curves[np.float64], rtol=1e-4)


def test_learner_limits_blas_threads_only_while_training():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = blas_threads()
    seen = []

    class Spy(FastRNN):
        def backward(self, d_loss):
            seen.append(blas_threads())
            return super().backward(d_loss)

    learner = Learner(Spy(1, 4, 1, seed=0), MSELoss(), generate_samples(8, 3, seed=0))
    learner.train(2, 1e-2, progress=False)
    assert seen and all(threads == [1] * len(before) for threads in seen)
    assert blas_threads() == before
    with pytest.raises(ValueError, match="blas_threads"):
        learner.train(1, 1e-2, progress=False, blas_threads=0)


def test_float32_through_exp_agrees_with_the_plain_float32_model():
    # The float32 tanh of CPUs without AVX2: the same model, to float32 rounding.
    rng = np.random.default_rng(3)
    plain = RNN(1, 8, 1, seed=rng, dtype=np.float32)
    fast = FastRNN(1, 8, 1, dtype=np.float32, tanh="exp")
    fast.set_weights(plain.get_weights())
    x = rng.uniform(-1, 1, size=(20, 64, 1)).astype(np.float32)
    np.testing.assert_allclose(fast.forward(x), plain.forward(x), rtol=0, atol=2e-5)
    np.testing.assert_allclose(fast.A, plain.A, rtol=0, atol=2e-5)
