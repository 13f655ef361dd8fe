"""memrnn: a plain NumPy RNN learning (and failing to learn) the memory task.

The package behind the book. Each module holds one idea:

=================  =====================================  =======
module             what                                   chapter
=================  =====================================  =======
``data``           ``generate_samples``                   1
``losses``         ``MSELoss``                            2
``gradcheck``      finite-difference gradient checks      3
``rnn``            ``RNN`` with backpropagation in time   3, 4, 6
``learner``        ``Learner``: training loop and plots   4
``sweep``          repeated runs over sequence lengths    5
``vanishing``      vanishing-gradient diagnostics         6
``plots``          the figures, each taking an ``ax``     1-6
``selfcheck``      checks of a student's own code         1-6
=================  =====================================  =======
"""

from . import gradcheck, plots, selfcheck, sweep, vanishing
from .data import TRIVIAL_MSE, generate_samples
from .learner import Learner, TrainingDiverged
from .losses import MSELoss
from .rnn import RNN

__version__ = "0.1.0"

__all__ = ["generate_samples", "TRIVIAL_MSE", "MSELoss", "RNN", "Learner",
           "TrainingDiverged", "gradcheck", "plots", "selfcheck", "sweep", "vanishing", "__version__"]
