"""Vanishing-gradient diagnostics against finite differences, and the decay they show."""

from __future__ import annotations

import numpy as np
import pytest

import memrnn
from memrnn import RNN, MSELoss, vanishing
from memrnn.gradcheck import randomize_weights


def _pass(T=6, B=3, H=4, seed=0, random_weights=True):
    model = RNN(1, H, 1, seed=seed)
    if random_weights:
        randomize_weights(model, seed=seed, scale=0.8)
    x, y = next(memrnn.generate_samples(B, T, seed=seed + 1))
    loss = MSELoss()
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    return model, x, y


def test_jacobian_products_equal_finite_differences():
    T, B, H, eps = 6, 3, 4, 1e-6
    model, x, y = _pass(T, B, H)
    sv, P = vanishing.jacobian_products(model, products=True)
    a_T = model.A[T].copy()
    for t in (1, 3, T):
        for b in range(B):
            numeric = np.empty((H, H))
            for j in range(H):
                offsets = []
                for sign in (+1, -1):
                    off = np.zeros((T, B, H))
                    off[t - 1, b, j] = sign * eps
                    model.forward(x, state_offset=off)
                    offsets.append(model.A[T][b].copy())
                numeric[j] = (offsets[0] - offsets[1]) / (2 * eps)   # row j: d a_T / d a_t[j]
            np.testing.assert_allclose(P[t - 1, b], numeric, rtol=1e-6, atol=1e-9)
            np.testing.assert_allclose(sv[t - 1, b], np.linalg.svd(numeric, compute_uv=False),
                                       rtol=1e-6, atol=1e-9)
    model.forward(x)
    np.testing.assert_array_equal(model.A[T], a_T)


def test_products_carry_the_gradient_back():
    model, _, _ = _pass(T=8, B=5, H=4)
    _, P = vanishing.jacobian_products(model, products=True)
    g = model.hidden_grads
    for t in range(1, 9):
        expected = np.einsum("bh,bkh->bk", g[-1], P[t - 1])     # g_T @ P_t^T, per sequence
        np.testing.assert_allclose(g[t - 1], expected, rtol=1e-10, atol=1e-14)


def test_hidden_grad_norms_equal_finite_differences():
    T, B, H, eps = 5, 2, 3, 1e-6
    model, x, y = _pass(T, B, H)
    norms = vanishing.hidden_grad_norms(model)
    assert norms.shape == (T,)
    offset = np.zeros((T, B, H))
    numeric = memrnn.gradcheck.numerical_gradient(
        lambda o: MSELoss().forward(model.forward(x, state_offset=o), y), offset, eps)
    np.testing.assert_allclose(norms, np.linalg.norm(numeric.reshape(T, -1), axis=1), rtol=1e-6)


def test_step_contributions_are_the_norms_of_the_per_step_terms():
    model, _, _ = _pass(T=7, B=3, H=4)
    contrib = vanishing._step_contributions(model)
    per = model.per_step_grads()
    for key in ("d_R", "d_W", "d_bs"):
        assert contrib[key].shape == (7,)
        np.testing.assert_allclose(contrib[key],
                                   [np.linalg.norm(per[key][t]) for t in range(7)])
        np.testing.assert_allclose(per[key].sum(axis=0), model.grads[key], atol=1e-14)
    # Step 1's dR term is a_0^T delta_1 with a_0 = 0.
    assert contrib["d_R"][0] == 0.0 and contrib["d_W"][0] > 0


def test_the_bound_holds_and_is_saturation_alone_at_identity():
    model, _, _ = _pass(T=12, B=16, H=5)
    sv = vanishing.jacobian_products(model)
    bound = vanishing.jacobian_bound(model)
    assert bound.shape == sv.shape[:2]
    assert np.all(sv[:, :, 0] <= bound * (1 + 1e-12))
    # At R = I, ||R|| = 1: the bound is the product of the largest tanh slopes.
    init, _, _ = _pass(T=12, B=16, H=5, random_weights=False)
    gamma = (1 - init.A[2:] ** 2).max(axis=2)
    np.testing.assert_allclose(vanishing.jacobian_bound(init)[0], gamma.prod(axis=0))
    np.testing.assert_array_equal(vanishing.jacobian_bound(init)[-1], 1.0)


def _scaled_rotation_pass(scale, T=8, B=6, H=5, amplitude=1e-4):
    """An RNN whose R is ``scale`` times a random rotation, run on tiny inputs (tanh near linear)."""
    rng = np.random.default_rng(4)
    q, _ = np.linalg.qr(rng.normal(size=(H, H)))
    model = RNN(1, H, 1, seed=0)
    weights = model.get_weights()
    weights["R"] = scale * q
    model.set_weights(weights)
    x = amplitude * rng.uniform(-1, 1, size=(T, B, 1))
    model.forward(x)
    return model, x


def test_the_bound_grows_with_the_norm_of_R_and_is_tight_near_linearity():
    """With R = 1.5 Q (Q a rotation) and tanh slopes near 1, ||P_t|| is 1.5^(T - t): the bound's
    ||R|| factor is what makes it hold, so a bound without it fails here."""
    T = 8
    model, _ = _scaled_rotation_pass(1.5, T=T)
    sv = vanishing.jacobian_products(model)[:, :, 0]
    bound = vanishing.jacobian_bound(model)
    assert np.all(sv <= bound * (1 + 1e-12))
    expected = 1.5 ** np.arange(T - 1, -1, -1)                      # t = 1 .. T
    np.testing.assert_allclose(sv, np.broadcast_to(expected[:, None], sv.shape), rtol=1e-3)
    np.testing.assert_allclose(bound, sv, rtol=1e-3)
    # A contraction: the bound falls as 0.6^(T - t) and the products with it.
    model, _ = _scaled_rotation_pass(0.6, T=T)
    np.testing.assert_allclose(vanishing.jacobian_bound(model)[0], 0.6 ** (T - 1), rtol=1e-4)


def test_the_bound_matches_an_independent_computation():
    """The bound from states computed by tests/oracle.py and the norm of R from its SVD."""
    from oracle import loss_and_states

    model, x, y = _pass(T=9, B=4, H=5, seed=3)
    params = {"W": model.W, "R": model.R, "bs": model.bs, "V": model.V, "by": model.by}
    _, states = loss_and_states(params, x, y)
    r_norm = np.linalg.svd(model.R, compute_uv=False)[0]
    assert r_norm > 1.05                                 # not the identity: the factor matters
    slopes = (1 - states[1:] ** 2).max(axis=2)            # (T, B): step k = 1 .. T
    expected = np.array([[np.prod(r_norm * slopes[t + 1:, b]) for b in range(4)] for t in range(9)])
    np.testing.assert_allclose(vanishing.jacobian_bound(model), expected, rtol=1e-12)


def test_gradient_to_early_steps_decays_for_a_long_sequence_at_the_reference_init():
    model, _, _ = _pass(T=50, B=256, H=10, random_weights=False)
    norms = vanishing.hidden_grad_norms(model)
    # dL/da_t shrinks towards the start: by more than 10x over 50 steps ...
    assert norms[0] < 0.1 * norms[-1]
    # ... and steadily: every one of the first ten steps gets less than any of the last ten.
    assert norms[:10].max() < norms[-10:].min()
    sv = vanishing.jacobian_products(model, n_seq=32)
    assert np.median(sv[0, :, 0]) < 0.2 < np.median(sv[-2, :, 0])
    # A short sequence keeps much more of it.
    short, _, _ = _pass(T=5, B=256, H=10, random_weights=False)
    short_norms = vanishing.hidden_grad_norms(short)
    assert short_norms[0] / short_norms[-1] > 5 * norms[0] / norms[-1]


def test_monitor_records_snapshots_during_training():
    model = RNN(1, 6, 1, seed=0)
    learner = memrnn.Learner(model, MSELoss(), memrnn.generate_samples(32, 7, seed=1))
    monitor = vanishing.Monitor(every=5)
    learner.train(23, lr=0.05, progress=False, callback=monitor)
    assert monitor.steps == [0, 5, 10, 15, 20]
    heat = monitor.heatmap()
    assert heat.shape == (5, 7) and np.all(heat >= 0)
    assert monitor.r_norm[0] == pytest.approx(1.0) and monitor.r_radius[0] == pytest.approx(1.0)
    assert all(0 < s <= 1 for s in monitor.mean_slope)
    assert monitor.grad_norm == [learner.grad_norms[s] for s in monitor.steps]
    assert monitor.losses[0] == learner.loss_values[0]


def test_diagnostics_need_a_pass_first():
    model = RNN(1, 3, 1, seed=0)
    with pytest.raises(RuntimeError, match="forward"):
        vanishing.hidden_grad_norms(model)
    with pytest.raises(RuntimeError, match="forward"):
        vanishing.jacobian_products(model)
    with pytest.raises(RuntimeError, match="no snapshots"):
        vanishing.Monitor().heatmap()
    with pytest.raises(ValueError, match="every"):
        vanishing.Monitor(every=0)


def test_monitored_run_is_the_same_run_as_in_the_sweep(tmp_path):
    from memrnn.run import monitored_run, run_one
    from memrnn.settings import PROFILES

    settings = PROFILES["smoke"]
    watched = monitored_run(settings.training(), 4, 1, every=10, n_seq=64)
    plain = run_one(settings.training(), 4, 1)
    assert watched["eval_mse"] == plain["eval_mse"]
    assert [watched["loss_values"][k] for k in plain["loss_steps"]] == plain["losses"]
    assert watched["monitor"].steps == [0, 10, 20, 30]
    # The summary every sweep run keeps agrees with the full diagnosis.
    np.testing.assert_allclose(plain["probe"]["init"]["hidden_norms"],
                               watched["init"]["hidden_norms"], rtol=1e-4)
    np.testing.assert_allclose(plain["probe"]["final"]["sv_median"],
                               np.median(watched["final"]["sv"][:, :, 0], axis=1), rtol=1e-4)
    # A cache folder: the second call trains nothing and returns the same run.
    first = monitored_run(settings.training(), 4, 1, every=10, n_seq=64, cache=tmp_path)
    assert len(list((tmp_path / "monitored").iterdir())) == 1
    again = monitored_run(settings.training(), 4, 1, every=10, n_seq=64, cache=tmp_path)
    assert again["record"]["wall_time"] == first["record"]["wall_time"]
    assert again["eval_mse"] == watched["eval_mse"]
    assert watched["init"]["hidden_norms"].shape == (4,)
    assert watched["init"]["sv"].shape == (4, 64, settings.hidden)
    assert watched["final"]["loss"] < watched["init"]["loss"]


def test_find_fall_locates_the_fall_and_the_spike_before_it():
    class Snapshots:
        steps = [0, 10, 20, 30, 40, 50, 60]
        losses = [0.33, 0.12, 0.1, 0.32, 0.33, 0.33, 0.33]
    g = np.ones(70)
    g[25] = 50.0                         # between the lowest loss (at 20) and the fall (at 30)
    g[5] = 80.0                          # earlier, before the loss was ever low: not it
    g[15] = 60.0                         # while learning, before the lowest loss: not it either
    fall = vanishing.find_fall(Snapshots, g)
    assert fall == {"fall": 3, "fall_step": 30, "low_step": 20, "spike_step": 25, "spike_norm": 50.0}

    class Stayed:                         # learned and stayed low: no fall
        steps = [0, 10, 20, 30, 40]
        losses = [0.33, 0.1, 0.05, 0.04, 0.04]
    assert vanishing.find_fall(Stayed, g) is None

    class Never:                          # never learned: nothing to fall from
        steps = [0, 10, 20, 30, 40]
        losses = [0.33, 0.33, 0.34, 0.33, 0.33]
    assert vanishing.find_fall(Never, g) is None

    class Recovered:                      # an excursion back to 1/3 that ends low is not a fall
        steps = [0, 10, 20, 30, 40, 50]
        losses = [0.33, 0.1, 0.3, 0.33, 0.1, 0.1]
    assert vanishing.find_fall(Recovered, g) is None

    class Barely:                         # never below three quarters of 1/3: never learned
        steps = [0, 10, 20, 30]
        losses = [0.33, 0.26, 0.3, 0.33]
    assert vanishing.find_fall(Barely, g) is None


def test_fall_index_is_the_start_of_the_last_stretch_near_one_third():
    from memrnn.results import fall_index

    assert fall_index([0.33, 0.1, 0.3, 0.05, 0.3, 0.31, 0.32]) == 4
    assert fall_index([0.33, 0.1, 0.3, 0.05, 0.2]) is None
    assert fall_index([0.1, float("nan"), 0.4]) == 1       # a diverged update counts as lost
    assert fall_index([]) is None


def test_a_bound_without_the_norm_of_R_fails_the_bound_tests(monkeypatch):
    """The planted bug of dropping ||R|| from the bound must not pass: at R = I it cannot show."""
    import inspect
    import textwrap

    source = textwrap.dedent(inspect.getsource(vanishing.jacobian_bound))
    target = "factors = r_norm * gamma"
    assert source.count(target) == 1, "the mutation no longer applies: update this test"
    namespace = dict(vars(vanishing))
    exec(compile(source.replace(target, "factors = gamma"), "<mutant>", "exec"), namespace)
    monkeypatch.setattr(vanishing, "jacobian_bound", namespace["jacobian_bound"])
    for test in (test_the_bound_grows_with_the_norm_of_R_and_is_tight_near_linearity,
                 test_the_bound_matches_an_independent_computation):
        with pytest.raises(AssertionError):
            test()


@pytest.mark.parametrize("fast", [False, True])
def test_carousel_gradient_is_the_whole_cell_gradient_only_without_U(fast):
    from memrnn.fast_lstm import FastLSTM
    from memrnn.lstm import LSTM, sigmoid

    cls = FastLSTM if fast else LSTM
    x, y = next(memrnn.generate_samples(16, 12, seed=2))

    def grads(model):
        loss = MSELoss()
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        return vanishing.cell_grad_norms(model), vanishing.carousel_grad_norms(model, x)

    model = cls(1, 4, 1, seed=0, forget_bias=1.0)
    model.U[:] = 0.0                              # no h -> U paths: the carousel is all there is
    full, carousel = grads(model)
    np.testing.assert_allclose(carousel, full, rtol=1e-10)
    model = cls(1, 4, 1, seed=0, forget_bias=1.0)
    full, carousel = grads(model)
    assert carousel[-1] == pytest.approx(full[-1])            # at t = T both are dL/dc_T
    assert abs(carousel[0] - full[0]) > 0.05 * full[0]        # the U paths carry the rest
    # The carousel term is dL/dc_T times the forget gates of steps 2 .. T, computed here anew.
    H = 4
    h = model.A[:-1]
    f = sigmoid(x @ model.W[:, H:2 * H] + h @ model.U[:, H:2 * H] + model.b[:, H:2 * H])
    expected = model.cell_grads[-1] * np.prod(f[1:], axis=0)
    assert carousel[0] == pytest.approx(np.linalg.norm(expected), rel=1e-12)


def test_cell_path_ratios_split_the_gradient_at_the_first_cell():
    from memrnn.lstm import LSTM, sigmoid

    x, y = next(memrnn.generate_samples(64, 20, seed=5))
    cut = LSTM(1, 4, 1, seed=1, forget_bias=3.0)
    cut.U[:] = 0.0
    ratios = vanishing.cell_path_ratios(cut, x, y)
    assert ratios["full"] == pytest.approx(ratios["carousel"], rel=1e-10)
    ratios = vanishing.cell_path_ratios(LSTM(1, 4, 1, seed=1, forget_bias=1.0), x, y)
    # Along the carousel alone, roughly sigma(1)^(T - 1); the U paths carry far more.
    assert 0.05 * sigmoid(1.0) ** 19 < ratios["carousel"] < 20 * sigmoid(1.0) ** 19
    assert ratios["full"] > 10 * ratios["carousel"]


def test_the_linear_rnn_exercise_solution():
    """Chapter 6's exercise: a shift register solves T = H exactly, and no linear RNN of H units
    solves T = H + 1 (Cayley-Hamilton)."""
    H = 6
    R = np.eye(H, k=1)
    W, V = np.eye(1, H), np.eye(H)[:, [H - 1]]
    coef = [(W @ np.linalg.matrix_power(R, k) @ V).item() for k in range(H)]
    assert coef[H - 1] == 1.0 and not any(coef[:H - 1])
    assert not np.linalg.matrix_power(R, H).any()                  # all eigenvalues 0
    rng = np.random.default_rng(0)
    R_rand, W_rand = rng.normal(size=(H, H)), rng.normal(size=(1, H))
    c = np.poly(R_rand)
    assert np.allclose(sum(c[k] * np.linalg.matrix_power(R_rand, H - k) for k in range(H + 1)), 0,
                       atol=1e-8 * np.abs(R_rand).max() ** H)
    rows = np.vstack([W_rand @ np.linalg.matrix_power(R_rand, k) for k in range(H)])
    assert np.linalg.matrix_rank(rows) == H


def _lstm_pass(cls, T=6, B=5, H=3, seed=4, forget_bias=1.0):
    x, y = next(memrnn.generate_samples(B, T, seed=seed))
    model = cls(1, H, 1, seed=seed, forget_bias=forget_bias)
    randomize_weights(model, seed=seed, scale=0.9)
    loss = MSELoss()
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    return model, x, y


@pytest.mark.parametrize("fast", [False, True])
def test_gradient_by_hops_sums_to_the_full_gradient_and_starts_with_the_carousel(fast):
    from memrnn.fast_lstm import FastLSTM
    from memrnn.lstm import LSTM

    model, x, _ = _lstm_pass(FastLSTM if fast else LSTM)
    parts = vanishing.cell_grads_by_hops(model, x, max_hops=2)
    assert parts.shape == (4,) + model.cell_grads.shape
    np.testing.assert_allclose(parts.sum(axis=0), model.cell_grads, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(np.sqrt(np.einsum("tbh,tbh->t", parts[0], parts[0])),
                               vanishing.carousel_grad_norms(model, x), rtol=1e-10)
    assert np.all(parts[1:, -1] == 0.0)              # at c_T nothing has passed through U yet
    ratios = vanishing.hop_ratios(model, x, max_hops=2)
    full = vanishing.cell_grad_norms(model)
    assert ratios["all"] == pytest.approx(full[0] / full[-1], rel=1e-10)
    assert ratios[0] == pytest.approx(vanishing.carousel_grad_norms(model, x)[0] / full[-1], rel=1e-10)


def test_each_hop_count_is_the_matching_power_of_U_in_the_backward_pass():
    """Scaling U by e in the backward pass alone scales the paths with k passes by e^k.

    So dL/dc_t, as a polynomial in e, has the parts of ``cell_grads_by_hops`` as
    coefficients: recovered here from LSTM.backward at T distinct e by solving the
    Vandermonde system, independently of the split.
    """
    from memrnn.lstm import LSTM

    T = 6
    model, x, y = _lstm_pass(LSTM, T=T)
    parts = vanishing.cell_grads_by_hops(model, x, max_hops=T - 1)
    assert np.all(parts[-1] == 0.0)                  # no path has more than T - 1 passes
    U, eps = model.U.copy(), np.linspace(0.3, 1.7, T)
    grads = []
    loss = MSELoss()
    for e in eps:
        loss.forward(model.forward(x), y)
        model.U = e * U                              # the forward pass kept its states
        model.backward(loss.backward())
        grads.append(model.cell_grads.copy())
        model.U = U
    coef = np.linalg.solve(np.vander(eps, T, increasing=True), np.array(grads).reshape(T, -1))
    np.testing.assert_allclose(coef.reshape(parts[:-1].shape), parts[:-1], rtol=1e-6, atol=1e-10)


def test_gradient_by_hops_names_its_bad_input():
    model, x, _ = _pass()
    with pytest.raises(TypeError, match="no cell state"):
        vanishing.cell_grads_by_hops(model, x)
    from memrnn.lstm import LSTM
    lstm, x, _ = _lstm_pass(LSTM)
    with pytest.raises(ValueError, match="max_hops"):
        vanishing.cell_grads_by_hops(lstm, x, max_hops=-1)
