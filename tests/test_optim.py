"""The optimizers of chapter 7: Adam against its formula and against PyTorch, SGD, errors."""

import re

import numpy as np
import pytest

from memrnn import RNN, MSELoss
from memrnn.gradcheck import randomize_weights
from memrnn.lstm import LSTM
from memrnn.optim import OPTIMIZERS, SGD, Adam


def _tiny(seed=0, cls=RNN):
    model = cls(1, 2, 1, seed=seed)
    randomize_weights(model, seed=seed)
    return model


def _backward(model, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(3, 4, 1))
    y = rng.normal(size=(4, 1))
    loss = MSELoss()
    loss.forward(model.forward(x), y)
    return {k: v.copy() for k, v in model.backward(loss.backward()).items()}


def test_adam_follows_its_formula_for_three_steps():
    model = _tiny()
    lr, b1, b2, eps = 0.01, 0.8, 0.95, 1e-6
    adam = Adam(beta1=b1, beta2=b2, eps=eps)
    w = model.get_weights()
    m = {k: np.zeros_like(v) for k, v in w.items()}
    v = {k: np.zeros_like(p) for k, p in w.items()}
    for k in (1, 2, 3):
        grads = _backward(model, seed=k)
        adam.step(model, lr)
        for name in w:
            g = grads["d_" + name]
            m[name] = b1 * m[name] + (1 - b1) * g
            v[name] = b2 * v[name] + (1 - b2) * g ** 2
            m_hat = m[name] / (1 - b1 ** k)
            v_hat = v[name] / (1 - b2 ** k)
            w[name] = w[name] - lr * m_hat / (np.sqrt(v_hat) + eps)
            np.testing.assert_allclose(getattr(model, name), w[name], rtol=1e-14, atol=1e-16,
                                       err_msg=f"step {k}, {name}")
            np.testing.assert_allclose(adam.m[name], m[name], rtol=1e-14)
            np.testing.assert_allclose(adam.v[name], v[name], rtol=1e-14)
        assert adam.t == k


def test_first_adam_step_moves_every_weight_by_about_lr():
    # With bias correction, m_hat / sqrt(v_hat) = g / |g| at step 1.
    model = _tiny(seed=1, cls=LSTM)
    before = model.get_weights()
    grads = _backward(model, seed=0)
    Adam().step(model, 1e-3)
    for name, w in before.items():
        g = grads["d_" + name]
        expected = w - 1e-3 * g / (np.abs(g) + 1e-8)
        np.testing.assert_allclose(getattr(model, name), expected, rtol=1e-12, atol=1e-15)


def test_adam_matches_torch_over_twenty_steps():
    torch = pytest.importorskip("torch")
    model = _tiny(seed=2, cls=LSTM)
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in model.get_weights().items()}
    ours = Adam(beta1=0.85, beta2=0.99, eps=1e-7)
    theirs = torch.optim.Adam(params.values(), lr=3e-3, betas=(0.85, 0.99), eps=1e-7)
    for k in range(20):
        grads = _backward(model, seed=k)          # the same gradients for both
        for name, p in params.items():
            p.grad = torch.tensor(grads["d_" + name])
        ours.step(model, 3e-3)
        theirs.step()
        for name, p in params.items():
            np.testing.assert_allclose(getattr(model, name), p.detach().numpy(), rtol=1e-12,
                                       atol=1e-14, err_msg=f"step {k}, {name}")
    assert ours.t == 20


def test_sgd_is_model_update():
    a, b = _tiny(seed=3), _tiny(seed=3)
    for k in range(3):
        _backward(a, seed=k)
        _backward(b, seed=k)
        SGD().step(a, 0.05)
        b.update(0.05)
    for name, w in b.get_weights().items():
        np.testing.assert_array_equal(getattr(a, name), w)
    assert not np.array_equal(a.W, _tiny(seed=3).W)


def test_one_registry_names_every_optimizer_for_settings_and_command_line():
    from memrnn.cli import _build_parser
    from memrnn.settings import PROFILES

    assert OPTIMIZERS == {"sgd": SGD, "adam": Adam}
    for name in OPTIMIZERS:
        assert PROFILES["smoke"].replace(optimizer=name).optimizer == name
    for bad in ("Adam ", "rmsprop", "", None, 3):
        with pytest.raises(ValueError, match=re.escape(f"got {bad!r}")):
            PROFILES["smoke"].replace(optimizer=bad)
    sweep = _build_parser()._subparsers._group_actions[0].choices["sweep"]
    choices = next(a.choices for a in sweep._actions if a.dest == "optimizer")
    assert tuple(choices) == tuple(OPTIMIZERS)


def test_the_learner_takes_an_optimizer_object_and_keeps_its_state():
    from memrnn import Learner, generate_samples

    adam = Adam()
    learner = Learner(_tiny(), MSELoss(), generate_samples(8, 3, seed=0), optimizer=adam)
    learner.train(3, 1e-3, progress=False)
    learner.train(2, 1e-3, progress=False)
    assert learner.optimizer is adam and adam.t == 5
    assert isinstance(Learner(_tiny(), MSELoss(), generate_samples(8, 3, seed=0)).optimizer, SGD)
    with pytest.raises(TypeError, match="step"):
        Learner(_tiny(), MSELoss(), generate_samples(8, 3, seed=0), optimizer="adam")


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"beta1": 1.0}, ValueError, "beta1"),
    ({"beta2": -0.1}, ValueError, "beta2"),
    ({"beta1": "0.9"}, TypeError, "beta1"),
    ({"eps": 0.0}, ValueError, "eps"),
    ({"eps": float("nan")}, ValueError, "eps"),
])
def test_bad_adam_arguments(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        Adam(**kwargs)


@pytest.mark.parametrize("lr, exc", [(0.0, ValueError), (-1e-3, ValueError), ("1e-3", TypeError)])
def test_a_bad_learning_rate_is_refused_where_it_enters(lr, exc):
    """Learner.train and Model.update check lr; the optimizers' steps trust their caller."""
    from memrnn import Learner, generate_samples

    learner = Learner(_tiny(), MSELoss(), generate_samples(8, 3, seed=0), optimizer=Adam())
    with pytest.raises(exc, match="lr"):
        learner.train(1, lr, progress=False)
    assert learner.step == 0
    model = _tiny()
    _backward(model, seed=0)
    with pytest.raises(exc, match="lr"):
        model.update(lr)


@pytest.mark.parametrize("opt", [SGD(), Adam()])
def test_a_step_needs_a_backward_first(opt):
    model = _tiny()
    before = model.get_weights()
    with pytest.raises(RuntimeError, match="call forward\\(\\) and backward\\(\\) first"):
        opt.step(model, 1e-3)
    for name, w in before.items():
        np.testing.assert_array_equal(getattr(model, name), w)


def test_sgd_applies_the_last_gradients_each_time_it_is_called_like_p_minus_lr_grad():
    """No hidden protocol: a step reads model.grads, as a student's own loop does."""
    model, mine = _tiny(), _tiny()
    grads = _backward(model, seed=0)
    SGD().step(model, 0.1)
    SGD().step(model, 0.1)
    for name, p in mine.parameters().items():
        p -= 2 * 0.1 * grads["d_" + name]
    for name, w in mine.get_weights().items():
        np.testing.assert_allclose(getattr(model, name), w, rtol=1e-14, atol=1e-16)


def test_adam_refuses_a_model_whose_shapes_changed():
    adam = Adam()
    small = _tiny()
    _backward(small, seed=0)
    adam.step(small, 1e-3)
    other = RNN(1, 3, 1, seed=0)
    _backward(other, seed=0)
    untouched = other.W.copy()
    with pytest.raises(ValueError, match="shape"):
        adam.step(other, 1e-3)
    assert adam.t == 1
    lstm = _tiny(cls=LSTM)
    _backward(lstm, seed=0)
    with pytest.raises(ValueError, match="shape"):
        adam.step(lstm, 1e-3)                           # other names too
    # The refused step changed nothing; a fresh optimizer takes the same gradients.
    assert np.array_equal(other.W, untouched)
    Adam().step(other, 1e-3)
    assert not np.array_equal(other.W, untouched)


def test_adam_works_in_float32():
    model = LSTM(1, 3, 1, seed=0, dtype=np.float32)
    _backward(model, seed=0)
    adam = Adam()
    adam.step(model, 1e-2)
    assert all(p.dtype == np.float32 for p in model.parameters().values())
    assert all(m.dtype == np.float32 for m in adam.m.values())
