"""The exercises ``memrnn grade`` knows, each with its chapter, its stub's name and its self-check.

A chapter may hold several exercises (the gradient-checking chapter asks for the
numerical gradient, then backpropagation through time); ``BY_CHAPTER`` lists them
in the chapter's order, and a chapter's full marks are the sum of its exercises' points.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from .. import selfcheck

__all__: list[str] = []


@dataclass(frozen=True)
class Exercise:
    """One exercise of a chapter: the name the student defines and the self-check that judges it."""

    key: str
    chapter: str
    name: str                       # the stub's name in the student edition
    title: str
    # check(student_object) -> selfcheck.Report, bound when this module is imported:
    # a notebook that replaces selfcheck.check_... later changes nothing here.
    check: Callable
    reference: Callable             # () -> the package's own solution
    is_class: bool
    #: The package's own solution, as the dotted names the student's code may not call
    #: while it is graded (the stub's "of", or its methods for a class).
    guarded: tuple = ()


def _ref(dotted):
    def get():
        import importlib
        module, _, attr = dotted.rpartition(".")
        return getattr(importlib.import_module(module), attr)
    return get


EXERCISES = {e.key: e for e in [
    Exercise("generator", "01-data", "my_generate_samples", "generate_samples (chapter 1)",
             selfcheck.check_generator, _ref("memrnn.data.generate_samples"), False,
             ("memrnn.data.generate_samples",)),
    Exercise("mse", "02-loss", "MyMSELoss", "MSE loss (chapter 2)",
             selfcheck.check_mse, _ref("memrnn.losses.MSELoss"), True,
             ("memrnn.losses.MSELoss.forward", "memrnn.losses.MSELoss.backward")),
    Exercise("numerical_gradient", "03-gradcheck", "my_numerical_gradient",
             "numerical_gradient (chapter 3)", selfcheck.check_numerical_gradient,
             _ref("memrnn.gradcheck.numerical_gradient"), False,
             ("memrnn.gradcheck.numerical_gradient",)),
    Exercise("bptt", "03-gradcheck", "MyRNN",
             "RNN backward, backpropagation through time (chapter 3)",
             selfcheck.check_rnn_backward, _ref("memrnn.rnn.RNN"), True,
             ("memrnn.rnn.RNN.backward",)),
    Exercise("learner", "04-learner", "MyLearner", "Learner (chapter 4)",
             selfcheck.check_learner, _ref("memrnn.learner.Learner"), True,
             ("memrnn.learner.Learner.train_step",)),
    Exercise("sweep_loop", "05-sweep", "my_sweep_loop", "sweep_loop (chapter 5)",
             selfcheck.check_sweep_loop, _ref("memrnn.sweep.sweep_loop"), False,
             ("memrnn.sweep.sweep_loop",)),
    Exercise("grad_norms", "06-vanishing", "my_hidden_grad_norms", "hidden_grad_norms (chapter 6)",
             selfcheck.check_grad_norms, _ref("memrnn.vanishing.hidden_grad_norms"),
             False, ("memrnn.vanishing.hidden_grad_norms",)),
    Exercise("lstm_cell_backward", "07-lstm", "my_lstm_cell_backward",
             "LSTM backward step (chapter 7)", selfcheck.check_lstm_cell_backward,
             _ref("memrnn.lstm.cell_backward"), False, ("memrnn.lstm.cell_backward",)),
    Exercise("rnn_backward", "fast", "MyFastRNN", "FastRNN backward (Making it fast)",
             selfcheck.check_rnn_backward,
             _ref("memrnn.fast.FastRNN"), True, ("memrnn.fast.FastRNN.backward",)),
]}
#: chapter -> its exercises, in the order the chapter poses them.
BY_CHAPTER = {c: tuple(e for e in EXERCISES.values() if e.chapter == c)
              for c in dict.fromkeys(e.chapter for e in EXERCISES.values())}

_MAX_CACHE: dict = {}
_MAX_LOCK = threading.Lock()


def max_points(exercise: Exercise) -> int:
    """Points of an exercise: the number of checks the package's own solution passes."""
    with _MAX_LOCK:
        if exercise.key not in _MAX_CACHE:
            report = EXERCISES[exercise.key].check(EXERCISES[exercise.key].reference())
            _MAX_CACHE[exercise.key] = len(report.items)
        return _MAX_CACHE[exercise.key]


def chapter_max_points(chapter: str) -> int:
    """Full marks of a chapter: the sum over its exercises."""
    return sum(max_points(e) for e in BY_CHAPTER[chapter])
