"""Self-checks of a training step, the sweep's loop and the gradient norms over time."""

from __future__ import annotations

import inspect

import numpy as np

from ._report import Report, as_numbers, crash, returned_nothing

__all__ = ["check_learner", "check_sweep_loop", "check_grad_norms"]


def _is_number(value) -> bool:
    if isinstance(value, (str, bytes)) or value is None:
        return False
    try:
        float(value)
        return np.ndim(value) == 0
    except (TypeError, ValueError):
        return False


def _watched_rnn():
    """An RNN that notes, at every forward pass, what happened to its weights since the last.

    The check judges a training loop by what it does to the model, never by how
    it does it: ``optimizer.step``, ``model.update(lr)``, ``p -= lr * grad`` on
    the arrays, or new arrays assigned to the attributes all count the same.
    An update is a forward pass that finds the weights changed; it is then
    compared with ``-lr * grad`` for the gradients of the last ``backward``.
    Everything noted is plain data on the model, so a replayed check reads it
    as the live one does.
    """
    from ..rnn import RNN

    class WatchedRNN(RNN):
        def forward(self, x, **kwargs):
            self.note_update()
            return super().forward(x, **kwargs)

        def backward(self, d_loss):
            grads = super().backward(d_loss)
            # A copy: what the caller does to the returned arrays is not the gradient.
            self.watch_grads = {k: np.array(v, copy=True) for k, v in grads.items()}
            return grads

        def note_update(self):
            now = self.get_weights()
            seen = getattr(self, "watch_weights", None)
            self.watch_weights = now
            if seen is None or all(np.array_equal(seen[k], v) for k, v in now.items()):
                return
            self.watch_updates += 1
            grads = getattr(self, "watch_grads", None)
            self.watch_grads = None          # each backward explains one change at most
            if grads is None:
                self.watch_kinds["without a backward"] += 1
                return
            step = np.concatenate([(now[k] - seen[k]).ravel() for k in self.PARAM_NAMES])
            g = np.concatenate([np.ravel(grads["d_" + k]) for k in self.PARAM_NAMES])
            scale = float(-(step @ g) / (g @ g)) if g @ g > 0 else 0.0     # step = -scale * g?
            ok = np.allclose(step, -scale * g, rtol=1e-6, atol=1e-12)
            kind = ("sgd" if ok and np.isclose(scale, self.watch_lr, rtol=1e-6) else
                    "ascent" if ok and np.isclose(scale, -self.watch_lr, rtol=1e-6) else
                    f"{scale / self.watch_lr:.3g} lr" if ok else "other")
            self.watch_kinds[kind] = self.watch_kinds.get(kind, 0) + 1

    return WatchedRNN


def check_learner(learner_cls, steps=200, seed=0) -> Report:
    """Check that a student's learner trains: every update is SGD and the loss falls.

    ``learner_cls(model, loss_obj, data_generator)`` must have
    ``train(iter_steps, lr)`` and a ``loss_values`` dict, like ``memrnn.Learner``.
    How the update is written is the student's choice (``model.update(lr)``,
    an optimizer, or ``p -= lr * grads["d_" + name]``): the check looks only
    at what happens to the model's weights.
    """
    from ..data import generate_samples
    from ..losses import MSELoss

    lr = 0.05
    report = Report("Learner")
    model = _watched_rnn()(1, 8, 1, seed=seed)
    model.watch_lr, model.watch_updates, model.watch_kinds = lr, 0, {"without a backward": 0}
    before = model.get_weights()
    try:
        learner = learner_cls(model, MSELoss(), generate_samples(128, 3, seed=seed + 1))
    except Exception as err:
        return crash(report, "the learner is made from (model, loss_obj, data_generator)", err)
    quiet = {}
    try:
        if "progress" in inspect.signature(learner.train).parameters:
            quiet = {"progress": False}     # no progress bar in the middle of a check
    except (AttributeError, TypeError, ValueError):
        pass
    try:
        learner.train(steps, lr, **quiet)
    except Exception as err:
        return crash(report, "train runs", err)
    model.note_update()                     # the last update comes after the last forward
    changed = any(not np.array_equal(before[k], v) for k, v in model.get_weights().items())
    report.add("training changes the weights", changed,
               "the weights did not move: after backward, update every weight in every step "
               "(model.update(lr), or p -= lr * grads['d_' + name] for each parameter)")
    if changed:
        n = model.watch_updates
        why = f"train({steps}) updated the weights {n} times"
        if n == steps - 1:
            why += ": one too few, is a loop starting at 1?"
        elif n > steps:
            why += ": more than asked, is the update called twice per step?"
        elif n < steps:
            why += ": fewer than asked, does every step update the weights?"
        report.add(f"train({steps}) makes exactly {steps} updates", n == steps, why)
        kinds = {k: v for k, v in model.watch_kinds.items() if v and k != "sgd"}
        why = "each update must move every weight by -lr times its gradient from the last backward"
        if kinds.get("ascent"):
            why += ("; yours moved them by +lr times the gradient: it is p -= lr * grad "
                    "(gradient descent), not +=")
        elif any(k.endswith(" lr") for k in kinds):
            factor = next(k for k in kinds if k.endswith(" lr"))
            why += f"; yours moved them by {factor} times the gradient"
            if factor.startswith("2 "):
                why += ": is the update applied twice after one backward?"
            else:
                why += ": use the lr that train was given"
        elif kinds.get("without a backward"):
            why += "; yours changed them with no backward pass in between"
        elif kinds.get("other"):
            why += ("; yours moved them in another direction: is the gradient the one "
                    "backward returned, for the same batch, applied to its own weight?")
        report.add("every update is p -= lr * dL/dp (eq-sgd)", not kinds, why)
    losses = getattr(learner, "loss_values", None)
    if not report.add("loss_values records the loss",
                      isinstance(losses, dict) and len(losses) > 1,
                      "loss_values should map the update count to the loss, logged every "
                      "log_steps updates"):
        return report
    values = [losses[k] for k in sorted(losses)]
    bad = [v for v in values if not _is_number(v)]
    if bad:
        report.add("the logged losses are numbers", False,
                   f"loss_values holds {type(bad[0]).__name__} {bad[0]!r}: log the loss of the "
                   f"batch, one number (does train_step return it?)")
        return report
    first, last = float(values[0]), float(values[-1])
    why = f"the loss went from {first:.3f} to {last:.3f}"
    if not changed:
        why += ": the weights never moved"
    elif last > first:
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
    if returned_nothing(report, "sweep_loop", got,
                        "return the dict {length: [held-out MSE of each repetition]}"):
        return report
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
        got = hidden_grad_norms(model)
    except Exception as err:
        return crash(report, "runs after a backward pass", err)
    got = as_numbers(report, "hidden_grad_norms", got, "returns numbers",
                     "return the norms, one per time step: an array of shape (T,)")
    if got is None:
        return report
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
