"""memrnn: a plain NumPy RNN learning (and failing to learn) the memory task.

The package behind the book. Each module holds one idea:

=================  ==========================================  ==========
module             what                                        chapter
=================  ==========================================  ==========
``data``           ``generate_samples``                        1
``losses``         ``MSELoss``                                 2
``gradcheck``      finite-difference gradient checks           3, 7
``model``          what every model shares: weights, update    3, 4
``rnn``            ``RNN``: the plain model the book shows     3, 4, 6
``learner``        ``Learner``: the training loop              4
``run``            one training run from its settings          4-7
``information``    bits remembered, success-rate statistics    5
``settings``       ``SweepSettings`` and the named profiles    5-7
``results``        ``SweepResult``, the shipped references     5-7
``sweep``          repeated runs over sequence lengths         5
``vanishing``      vanishing-gradient diagnostics              6, 7
``lstm``           ``LSTM``: the gated memory cell             7
``optim``          SGD and Adam                                7
``fast``           ``FastRNN``: the same RNN, faster           Making it fast
``fast_lstm``      ``FastLSTM``: the same LSTM, faster         7, Making it fast
``plots``          the figures, each taking an ``ax``          1-7
``selfcheck``      checks of a student's own code              1-7
=================  ==========================================  ==========
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("memrnn")
except _metadata.PackageNotFoundError:      # run from a source tree that was never installed
    __version__ = "0+unknown"

from . import gradcheck, information, optim, plots, results, run, selfcheck, settings, sweep, vanishing
from .data import TRIVIAL_MSE, generate_samples
from .fast import FastRNN
from .fast_lstm import FastLSTM
from .learner import Learner, TrainingDiverged
from .losses import MSELoss
from .lstm import LSTM
from .rnn import RNN

__all__ = ["generate_samples", "TRIVIAL_MSE", "MSELoss", "RNN", "FastRNN", "LSTM", "FastLSTM",
           "Learner", "optim",
           "TrainingDiverged", "gradcheck", "information", "plots", "results", "run", "selfcheck",
           "settings", "sweep", "vanishing", "__version__"]
