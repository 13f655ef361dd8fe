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
    contrib = vanishing.step_contributions(model)
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
        losses = [0.33, 0.1, 0.12, 0.32, 0.33, 0.33, 0.33]
    g = np.ones(70)
    g[25] = 50.0                         # between the snapshots at 20 and 30
    g[5] = 80.0                          # earlier, before the loss was ever low: not it
    fall = vanishing.find_fall(Snapshots, g, hold=3)
    assert fall == {"fall": 3, "fall_step": 30, "spike_step": 25, "spike_norm": 50.0}

    class Stayed:                         # learned and stayed low: no fall
        steps = [0, 10, 20, 30, 40]
        losses = [0.33, 0.1, 0.05, 0.04, 0.04]
    assert vanishing.find_fall(Stayed, g, hold=2) is None

    class Never:                          # never learned: nothing to fall from
        steps = [0, 10, 20, 30, 40]
        losses = [0.33, 0.33, 0.34, 0.33, 0.33]
    assert vanishing.find_fall(Never, g, hold=2) is None

    class Brief:                          # a short excursion to 1/3 is not a fall
        steps = [0, 10, 20, 30, 40, 50]
        losses = [0.33, 0.1, 0.3, 0.1, 0.1, 0.1]
    assert vanishing.find_fall(Brief, g, hold=2) is None
