"""memrnn: a plain NumPy RNN learning (and failing to learn) the memory task.

The package behind the book. Each module holds one idea (the API page of the
book lists, for every object, the chapters that use it):

=================  ==========================================
module             what
=================  ==========================================
``data``           ``generate_samples``
``losses``         ``MSELoss``
``gradcheck``      finite-difference gradient checks
``model``          what every model shares: weights, update
``rnn``            ``RNN``: the plain model the book shows
``learner``        ``Learner``: the training loop
``optim``          SGD and Adam, and the registry of both
``settings``       ``Training``, ``SweepSettings``, the profiles
``run``            one training run from its settings
``information``    bits remembered: an MSE read as bits
``stats``          success-rate intervals, paired and unpaired tests
``results``        ``SweepResult``, the shipped references
``sweep``          repeated runs over sequence lengths
``vanishing``      vanishing-gradient diagnostics
``lstm``           ``LSTM``: the gated memory cell
``fast``           ``FastRNN``: the same RNN, faster
``fast_lstm``      ``FastLSTM``: the same LSTM, faster
``plots``          the figures, one module per part of the book
``selfcheck``      checks of a student's own code
``grading``        grading handed-in notebooks
=================  ==========================================
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("memrnn")
except _metadata.PackageNotFoundError:      # run from a source tree that was never installed
    __version__ = "0+unknown"

from . import gradcheck, information, optim, plots, results, run, selfcheck, settings, stats, sweep, vanishing
from .data import TRIVIAL_MSE, generate_samples
from .fast import FastRNN
from .fast_lstm import FastLSTM
from .learner import Learner, TrainingDiverged
from .losses import MSELoss
from .lstm import LSTM
from .rnn import RNN

# ``__version__`` is a module dunder, read as ``memrnn.__version__``, not a name to import.
__all__ = ["generate_samples", "TRIVIAL_MSE", "MSELoss", "RNN", "FastRNN", "LSTM", "FastLSTM",
           "Learner", "TrainingDiverged", "gradcheck", "information", "optim", "plots", "results",
           "run", "selfcheck", "settings", "stats", "sweep", "vanishing"]
