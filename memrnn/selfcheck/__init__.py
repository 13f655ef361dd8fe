"""Self-checks for students' own implementations (the exercises of the chapters).

Each ``check_*`` function runs a student's code against the same properties
the package's tests use, and explains what it finds in the language of the
book: "y must be the FIRST element of each sequence; yours matches the last".
It never raises for a wrong answer; it returns a ``Report`` that prints as a
list of passed and failed checks, in a terminal and in a notebook. So every
check catches any ``Exception`` from the student's code: a crash is a finding
to explain, with the student's own line, not an error to pass on; so is a
function that returns nothing.

A check judges behaviour only: what the student's code returns, its shapes,
and what it did to the model's weights. It never relies on how the package
does the same thing, so any correct answer passes, whatever its style
(``tests/test_selfcheck_answers.py`` holds each check to several).
"""

# The reference answer under the exercise's name: the grader's guards must cover a re-export too.
from ..lstm import cell_backward as lstm_cell_backward  # noqa: F401
from ._report import Report
from .basics import check_generator, check_mse, check_numerical_gradient, check_rnn_backward
from .lstm import check_lstm_cell_backward
from .training import check_grad_norms, check_learner, check_sweep_loop

__all__ = ["Report", "check_generator", "check_mse", "check_numerical_gradient",
           "check_rnn_backward", "check_learner", "check_sweep_loop", "check_grad_norms",
           "check_lstm_cell_backward"]
