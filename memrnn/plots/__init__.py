"""The book's figures, one module per part of the book.

Every function takes an optional matplotlib ``ax`` (a new figure is made when
it is ``None``) and returns that ``Axes``; ``ax.figure`` is the figure. Series
differ by marker or line style as well as colour, and colours come from the
Okabe-Ito palette, which stays distinguishable for colour-blind readers.

- ``basics``: the task, the loss, the gradient check and one training run;
- ``sweeps``: many runs against the sequence length;
- ``gradients``: the vanishing gradient;
- ``lstm``: the LSTM's cell and its comparison with the RNN;
- ``speed``: what makes the fast models fast.

Every figure a chapter draws is importable from here, as ``memrnn.plots.plot_...``;
the learner's two (``Learner.plot_loss``, ``Learner.scatter_plot``) are reached through it.
"""

from .basics import plot_constant_predictor, plot_eps_sweep, plot_sequences
from .gradients import (
    plot_cliff_timing,
    plot_gradient_heatmap,
    plot_probe_curves,
    plot_reach_two_ways,
    plot_training_series,
)
from .lstm import plot_cell_memory, plot_contest, plot_gradient_reach, plot_lengths
from .speed import plot_ablation, plot_kernel_times
from .sweeps import (
    plot_budget,
    plot_clipping,
    plot_success_rate,
    plot_sweep_curves,
    plot_sweep_mse,
    plot_threshold_sensitivity,
)

__all__ = ["plot_sequences", "plot_constant_predictor", "plot_eps_sweep", "plot_sweep_mse",
           "plot_success_rate", "plot_sweep_curves", "plot_budget", "plot_probe_curves",
           "plot_cliff_timing", "plot_reach_two_ways", "plot_threshold_sensitivity",
           "plot_clipping", "plot_gradient_heatmap", "plot_training_series", "plot_ablation",
           "plot_kernel_times", "plot_gradient_reach", "plot_cell_memory", "plot_contest",
           "plot_lengths"]
