import numpy as np
import pytest

from memrnn import TRIVIAL_MSE, generate_samples


@pytest.mark.parametrize("batch, T", [(1, 1), (7, 3), (1024, 10)])
def test_shapes_and_label_is_first_element(batch, T):
    x, y = next(generate_samples(batch, T, seed=0))
    assert x.shape == (T, batch, 1)
    assert y.shape == (batch, 1)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(y, x[0])
    if T > 1:
        assert not np.array_equal(y, x[-1])


def test_values_are_uniform_on_minus_one_one():
    x, _ = next(generate_samples(4096, 50, seed=1))
    assert x.min() >= -1.0 and x.max() <= 1.0
    # 204800 draws: mean within 5 standard errors of 0, variance near 1/3.
    assert abs(x.mean()) < 5 * np.sqrt(1 / 3 / x.size)
    assert abs(x.var() - 1 / 3) < 0.01
    assert x.min() < -0.999 and x.max() > 0.999
    # Each decile of [-1, 1] holds about a tenth of the draws.
    counts, _ = np.histogram(x, bins=10, range=(-1, 1))
    assert np.all(np.abs(counts / x.size - 0.1) < 0.005)


def test_trivial_predictor_mse_is_one_third():
    _, y = next(generate_samples(200_000, 1, seed=2))
    assert abs(np.mean(y ** 2) - TRIVIAL_MSE) < 0.005


def test_fresh_batch_on_every_draw():
    gen = generate_samples(16, 5, seed=0)
    x1, _ = next(gen)
    x2, _ = next(gen)
    assert not np.allclose(x1, x2)


def test_is_an_infinite_generator():
    gen = generate_samples(2, 2, seed=0)
    assert iter(gen) is gen
    firsts = set()
    for _ in range(1000):
        x, y = next(gen)
        assert x.shape == (2, 2, 1) and np.array_equal(y, x[0])
        firsts.add(float(x[0, 0, 0]))
    assert len(firsts) == 1000          # still drawing new numbers after 1000 batches


def test_same_seed_same_stream_and_different_seed_differs():
    a, b, c = (generate_samples(8, 4, seed=s) for s in (3, 3, 4))
    for _ in range(3):
        (xa, ya), (xb, yb), (xc, _) = next(a), next(b), next(c)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
        assert not np.array_equal(xa, xc)


def test_accepts_a_generator_and_global_state_is_reproducible():
    x1, _ = next(generate_samples(4, 3, seed=np.random.default_rng(5)))
    x2, _ = next(generate_samples(4, 3, seed=np.random.default_rng(5)))
    np.testing.assert_array_equal(x1, x2)
    np.random.seed(11)
    g1 = next(generate_samples(4, 3))[0]
    np.random.seed(11)
    g2 = next(generate_samples(4, 3))[0]
    np.testing.assert_array_equal(g1, g2)


def test_label_is_a_copy():
    x, y = next(generate_samples(4, 3, seed=0))
    y += 10
    assert np.all(np.abs(x) <= 1)


def test_float32():
    x, y = next(generate_samples(4, 3, seed=0, dtype=np.float32))
    assert x.dtype == np.float32 and y.dtype == np.float32


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(batch_size=0, seq_length=3), ValueError, "batch_size"),
    (dict(batch_size=-2, seq_length=3), ValueError, "-2"),
    (dict(batch_size=4, seq_length=0), ValueError, "seq_length"),
    (dict(batch_size=2.5, seq_length=3), TypeError, "2.5"),
    (dict(batch_size=4, seq_length="10"), TypeError, "seq_length"),
    (dict(batch_size=True, seq_length=3), TypeError, "batch_size"),
    (dict(batch_size=4, seq_length=3, dtype=np.int64), TypeError, "dtype"),
    (dict(batch_size=4, seq_length=3, seed=-1), ValueError, "seed"),
    (dict(batch_size=4, seq_length=3, seed="a"), TypeError, "seed"),
])
def test_bad_arguments_fail_at_the_call(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        generate_samples(**kwargs)  # raised before the first next()


def test_numpy_integers_are_fine():
    x, _ = next(generate_samples(np.int64(3), np.int32(2), seed=0))
    assert x.shape == (2, 3, 1)
