"""Self-checks of a training step, the sweep's loop and the gradient norms over time."""

from __future__ import annotations

import inspect

import numpy as np

from ._report import Report, crash


def check_learner(learner_cls, steps=200, seed=0) -> Report:
    """Check that a student's learner trains: the loss falls on an easy task.

    ``learner_cls(model, loss_obj, data_generator)`` must have
    ``train(iter_steps, lr)`` and a ``loss_values`` dict, like ``memrnn.Learner``.
    """
    from ..data import generate_samples
    from ..losses import MSELoss
    from ..rnn import RNN

    report = Report("Learner")
    model = RNN(1, 8, 1, seed=seed)
    before = model.get_weights()
    updates = []
    take_grads = model.take_grads

    def counted():
        updates.append(1)
        return take_grads()

    model.take_grads = counted             # every update takes the gradients once: count them
    try:
        learner = learner_cls(model, MSELoss(), generate_samples(128, 3, seed=seed + 1))
        quiet = {}
        try:
            if "progress" in inspect.signature(learner.train).parameters:
                quiet = {"progress": False}     # no progress bar in the middle of a check
        except (TypeError, ValueError):
            pass
        learner.train(steps, 0.05, **quiet)
        losses = dict(learner.loss_values)
    except Exception as err:
        return crash(report, "train runs", err)
    changed = any(not np.array_equal(before[k], v) for k, v in model.get_weights().items())
    report.add("training changes the weights", changed,
               "the weights did not move: update the model (self.optimizer.step(self.model, lr), "
               "or model.update(lr)) after backward in every step")
    if changed:
        why = f"train({steps}) applied {len(updates)} updates"
        if len(updates) == steps - 1:
            why += ": one too few, is a loop starting at 1?"
        elif len(updates) > steps:
            why += ": more than asked, is the update called twice per step?"
        report.add(f"train({steps}) makes exactly {steps} updates", len(updates) == steps, why)
    if not report.add("loss_values records the loss", len(losses) > 1,
                      "loss_values should map the update count to the loss, logged every "
                      "log_steps updates"):
        return report
    keys = sorted(losses)
    first, last = losses[keys[0]], losses[keys[-1]]
    why = f"the loss went from {first:.3f} to {last:.3f}"
    if last > first:
        why += ("; it rose: is the update p -= lr * grad (not +=), and is the gradient "
                "computed on the same batch as the loss?")
    report.add("the loss falls on an easy task (T = 3)", last < 0.5 * first, why)
    return report



def check_sweep_loop(sweep_loop) -> Report:
    """Check a student's ``sweep_loop(training, lengths, repeats)``."""
    from ..settings import PROFILES
    from ..sweep import sweep_loop as reference_loop

    report = Report("sweep_loop")
    settings = PROFILES["smoke"].replace(steps=20)
    lengths, repeats = (2, 3), 2
    try:
        got = sweep_loop(settings.training(), lengths, repeats)
    except Exception as err:
        return crash(report, "runs on a tiny sweep", err)
    expected = reference_loop(settings.training(), lengths, repeats)
    if not report.add("returns a dict with one entry per length", isinstance(got, dict)
                      and sorted(got) == sorted(lengths),
                      f"expected keys {sorted(lengths)}, got "
                      f"{sorted(got) if isinstance(got, dict) else type(got).__name__}"):
        return report
    counts_ok = all(len(got[T]) == repeats for T in lengths)
    report.add("one result per repetition", counts_ok,
               f"expected {repeats} held-out MSEs per length, got "
               f"{ {T: len(got[T]) for T in lengths} }")
    if counts_ok:
        same = all(len(set(map(float, got[T]))) == 1 for T in lengths)
        why = "each run must be run_one(training, T, r) for r = 0 .. repeats - 1"
        if same:
            why += ("; all repetitions of a length gave the same MSE: every run needs its own "
                    "seed, which run_one derives from the repetition r")
        report.add("matches run_one for every (length, repetition)",
                   all(np.allclose(got[T], expected[T]) for T in lengths), why)
    return report



def check_grad_norms(hidden_grad_norms) -> Report:
    """Check a student's ``hidden_grad_norms(model)``: ||dL/da_t|| for every t."""
    from ..losses import MSELoss
    from ..rnn import RNN
    from ..vanishing import hidden_grad_norms as reference

    report = Report("hidden_grad_norms")
    model = RNN(1, 5, 1, seed=0)
    x = np.random.default_rng(1).uniform(-1, 1, size=(12, 16, 1))
    loss = MSELoss()
    loss.forward(model.forward(x), x[0])
    model.backward(loss.backward())
    expected = reference(model)
    try:
        got = np.asarray(hidden_grad_norms(model), dtype=float)
    except Exception as err:
        return crash(report, "runs after a backward pass", err)
    if not report.add("one value per time step, shape (T,)", got.shape == expected.shape,
                      f"expected shape {expected.shape}, got {got.shape}: take the norm over the "
                      f"batch and hidden axes of model.hidden_grads, one value per t"):
        return report
    why = "expected the Frobenius norm of hidden_grads[t - 1] for each t"
    g = model.hidden_grads
    if np.allclose(got, g.mean(axis=(1, 2))) or np.any(got < 0):
        why += "; yours looks like a mean of signed entries, which cancel: use a norm"
    elif np.allclose(got, expected[::-1]):
        why += "; yours is reversed in time: entry t - 1 belongs to a_t"
    report.add("equals ||dL/da_t|| for every t", np.allclose(got, expected, rtol=1e-10), why)
    return report
