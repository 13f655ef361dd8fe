import re

import numpy as np
import pytest

from memrnn import RNN, TRIVIAL_MSE, Learner, MSELoss, TrainingDiverged, generate_samples


class CountingRNN(RNN):
    """Counts the updates by what they do: each forward pass that finds the weights changed."""

    updates = 0
    _seen = None

    def forward(self, x, **kwargs):
        self.note_update()
        return super().forward(x, **kwargs)

    def note_update(self):
        now = self.get_weights()
        if self._seen is not None and any(not np.array_equal(v, now[k])
                                          for k, v in self._seen.items()):
            self.updates += 1
        self._seen = now


def counting(gen):
    counting.draws = 0
    for item in gen:
        counting.draws += 1
        yield item


def make_learner(T=5, batch=64, seed=0, model_cls=RNN):
    return Learner(model_cls(1, 10, 1, seed=seed), MSELoss(), generate_samples(batch, T, seed=seed + 1))


def test_train_performs_exactly_the_requested_updates(capsys):
    learner = Learner(CountingRNN(1, 10, 1, seed=0), MSELoss(),
                      counting(generate_samples(32, 3, seed=0)))
    learner.train(37, 1e-2, log_steps=10, progress=True)
    learner.model.note_update()                 # the last update comes after the last forward
    assert learner.model.updates == 37
    assert counting.draws == 37
    assert learner.step == 37
    err = capsys.readouterr().err
    # The progress bar counts each update once: it ends at 37/37, never beyond.
    assert "37/37" in err
    assert "74/37" not in err and "38/37" not in err
    assert "loss=" in err


def test_silent_training_prints_nothing(capsys):
    make_learner().train(20, 1e-2, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_log_keys_and_continued_training():
    learner = make_learner()
    learner.train(100, 1e-2, log_steps=10, progress=False)
    # Every 10th update, and the last one, so that the end of a run is never missing.
    assert list(learner.loss_values) == list(range(0, 100, 10)) + [99]
    learner.train(50, 1e-2, log_steps=10, progress=False)
    assert list(learner.loss_values) == list(range(0, 100, 10)) + [99] + \
        list(range(100, 150, 10)) + [149]
    assert learner.step == 150
    assert all(np.isfinite(v) and v >= 0 for v in learner.loss_values.values())


def test_first_logged_loss_is_the_untrained_model():
    learner = make_learner(seed=4)
    model_copy = RNN(1, 10, 1, seed=4)
    x, y = next(generate_samples(64, 5, seed=5))
    expected = MSELoss().forward(model_copy.forward(x), y)
    learner.train(1, 1e-2, progress=False)
    assert learner.loss_values[0] == pytest.approx(expected)


def test_learns_length_five():
    # The bar: with a fixed seed, T = 5 gets below MSE 0.05 within 3000
    # updates at batch 1024, on held-out batches.
    learner = Learner(RNN(1, 10, 1, seed=0), MSELoss(), generate_samples(1024, 5, seed=1))
    learner.train(3000, 1e-2, progress=False)
    mse = learner.evaluate(5, generate_samples(1024, 5, seed=2))
    assert mse < 0.05, mse
    assert learner.loss_values[2950] < learner.loss_values[0] / 4


def test_divergence_raises_its_own_error_and_logs_no_nan():
    learner = make_learner(T=10, batch=64)
    with pytest.raises(TrainingDiverged, match="diverged at update") as info:
        learner.train(200, 1e6, log_steps=1, progress=False)
    assert isinstance(info.value, ArithmeticError)
    assert info.value.lr == 1e6
    assert info.value.step == learner.step
    assert all(np.isfinite(v) for v in learner.loss_values.values())
    for w in learner.model.get_weights().values():
        assert np.all(np.isfinite(w))


def test_make_predictions_returns_and_stores():
    learner = make_learner(batch=16)
    y_hats, y_trues = learner.make_predictions(3)
    assert y_hats.shape == (48, 1) and y_trues.shape == (48, 1)
    assert learner.y_hats is y_hats and learner.y_trues is y_trues
    held_out = generate_samples(16, 5, seed=99)
    _, y2 = learner.make_predictions(1, data_generator=held_out)
    np.testing.assert_array_equal(y2, next(generate_samples(16, 5, seed=99))[1])


def test_evaluate_measures_on_exactly_the_stream_it_is_given():
    learner = make_learner(batch=32)
    learner.train(50, 1e-2, progress=False)
    train_draws = []
    learner.data_generator = (train_draws.append(1) or b for b in learner.data_generator)
    held_out = list(zip(range(3), generate_samples(32, 5, seed=123)))
    given = (b for _, b in held_out)
    mse = learner.evaluate(3, data_generator=given)
    # The MSE of the model on those three batches, computed here by hand ...
    expected = np.mean(np.concatenate([(learner.model.forward(x) - y) ** 2 for _, (x, y) in held_out]))
    assert mse == pytest.approx(expected, rel=1e-12)
    # ... and not one batch was drawn from the training stream.
    assert train_draws == []
    assert next(given, None) is None            # all three held-out batches were used


def test_evaluate_untrained_is_near_trivial():
    learner = make_learner(batch=1024)
    mse = learner.evaluate(4)
    assert 0.5 * TRIVIAL_MSE < mse < 3 * TRIVIAL_MSE


def test_plot_loss_draws_labelled_log_curve_and_trivial_level():
    learner = make_learner()
    learner.train(60, 1e-2, log_steps=10, progress=False)
    ax = learner.plot_loss()
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_yscale() == "log"
    curve = ax.get_lines()[0]
    np.testing.assert_array_equal(curve.get_xdata(), list(learner.loss_values))
    assert any(np.allclose(line.get_ydata(), TRIVIAL_MSE) for line in ax.get_lines()[1:])
    assert ax.get_legend() is not None


def test_plots_accept_an_axes():
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2)
    learner = make_learner()
    learner.train(10, 1e-2, log_steps=5, progress=False)
    assert learner.plot_loss(ax=a1) is a1
    assert learner.scatter_plot(ax=a2) is a2
    assert a1.figure is fig


def test_scatter_plot_has_identity_line_and_labels():
    learner = make_learner(batch=32)
    ax = learner.scatter_plot()          # predicts on a batch if none stored
    assert learner.y_hats is not None
    assert ax.get_xlabel() and ax.get_ylabel()
    identity = [line for line in ax.get_lines()
                if np.array_equal(line.get_xdata(), line.get_ydata())]
    assert identity, "no y = x reference line"
    assert len(ax.collections[0].get_offsets()) == 32


def test_plot_loss_before_training():
    with pytest.raises(ValueError, match="empty"):
        make_learner().plot_loss()


@pytest.mark.parametrize("kwargs, exc", [
    (dict(iter_steps=0, lr=0.1), ValueError), (dict(iter_steps=2.0, lr=0.1), TypeError),
    (dict(iter_steps=2, lr=-1.0), ValueError), (dict(iter_steps=2, lr=0.1, log_steps=0), ValueError),
])
def test_bad_train_arguments(kwargs, exc):
    with pytest.raises(exc):
        make_learner().train(**kwargs)


def test_bad_constructor_arguments():
    with pytest.raises(TypeError, match="data_generator"):
        Learner(RNN(1, 3, 1, seed=0), MSELoss(), [1, 2, 3])
    with pytest.raises(TypeError, match="loss_obj"):
        Learner(RNN(1, 3, 1, seed=0), object(), generate_samples(2, 2))


# ------------------------------------------------------- clipping and callbacks
def _small_learner(seed=0, T=5):
    model = RNN(1, 6, 1, seed=seed)
    return Learner(model, MSELoss(), generate_samples(64, T, seed=seed + 1))


def test_grad_norms_are_recorded_for_every_update():
    learner = _small_learner()
    seen = []
    learner.train(7, lr=0.05, progress=False,
                  callback=lambda lr_: seen.append((lr_.step, lr_.model.grad_norm())))
    assert len(learner.grad_norms) == 7
    # The callback sees each state before its update: step counts the updates done.
    assert [s for s, _ in seen] == list(range(0, 7))
    np.testing.assert_allclose(learner.grad_norms, [g for _, g in seen], rtol=1e-12)


def test_clipping_caps_the_step_length_and_keeps_the_direction():
    clipped, free = _small_learner(), _small_learner()
    before = clipped.model.get_weights()
    clipped.train(1, lr=0.1, progress=False, clip=1e-3)
    free.train(1, lr=0.1, progress=False)
    after = clipped.model.get_weights()
    delta = {k: after[k] - before[k] for k in before}
    free_delta = {k: free.model.get_weights()[k] - before[k] for k in before}
    length = np.sqrt(sum(np.sum(d**2) for d in delta.values()))
    assert clipped.grad_norms[0] > 1e-3 and clipped.clipped == 1
    assert length == pytest.approx(0.1 * 1e-3, rel=1e-10)
    # Same direction: the clipped step is the free step scaled down.
    scale = 1e-3 / free.grad_norms[0]
    for k in delta:
        np.testing.assert_allclose(delta[k], scale * free_delta[k], rtol=1e-8, atol=1e-15)


def test_a_clip_above_every_norm_changes_nothing():
    a, b = _small_learner(), _small_learner()
    a.train(20, lr=0.05, progress=False)
    b.train(20, lr=0.05, progress=False, clip=1e9)
    assert b.clipped == 0
    for k, w in a.model.get_weights().items():
        np.testing.assert_array_equal(w, b.model.get_weights()[k])


def test_bad_clip_and_callback_are_refused():
    learner = _small_learner()
    with pytest.raises(ValueError, match="clip"):
        learner.train(1, lr=0.1, clip=0.0, progress=False)
    with pytest.raises(TypeError, match="callback"):
        learner.train(1, lr=0.1, callback="print", progress=False)
    assert learner.step == 0


@pytest.mark.parametrize("returned, words", [
    (None, "train_step returned None; return the loss"),
    ([0.5, 0.25], "train_step returned list [0.5, 0.25]; return the loss of its batch, one number"),
    ("0.5", "train_step returned str '0.5'"),
])
def test_a_train_step_that_returns_no_loss_is_named_as_the_mistake(returned, words):
    class Forgetful(Learner):
        def train_step(self, lr):
            super().train_step(lr)
            return returned

    learner = Forgetful(RNN(1, 3, 1, seed=0), MSELoss(), generate_samples(8, 3, seed=0))
    with pytest.raises(TypeError, match=re.escape("Forgetful." + words)):
        learner.train(3, 1e-2, progress=True)
    assert learner.loss_values == {}


def test_a_loss_returned_as_a_numpy_number_or_0d_array_is_logged_as_a_float():
    class ZeroD(Learner):
        def train_step(self, lr):
            return np.array(super().train_step(lr))

    learner = ZeroD(RNN(1, 3, 1, seed=0), MSELoss(), generate_samples(8, 3, seed=0))
    learner.train(3, 1e-2, log_steps=1, progress=False)
    assert all(type(v) is float for v in learner.loss_values.values())
