"""What each exercise asks, as the signature and docstring of its stub in the student edition.

A chapter's solution cell names one of these in its ``stub`` metadata ("of"); the student
edition turns it into a stub that raises ``NotImplementedError``. Each says exactly what the
chapter's "Your turn" exercise asks, no more: the package's own solution often does more
(seeds, dtypes, checks of its input), which the exercise leaves out. None of these is ever
called.
"""

from __future__ import annotations

import memrnn


def generate_samples(batch_size, seq_length):
    """Yield batches of the memory task for ever.

    Each ``next()`` draws new numbers.

    Yields
    ------
    x : ndarray, shape (T, B, 1) = (seq_length, batch_size, 1)
        The input sequences, time first, i.i.d. uniform on [-1, 1].
    y : ndarray, shape (B, 1)
        The targets, ``x[0]``: the first element of each sequence.
    """


class MSELoss:
    """Mean squared error and its gradient."""

    def forward(self, y_hat, y_true):
        """Return the mean of ``(y_hat - y_true) ** 2`` over all N elements, as a float.

        ``y_hat`` and ``y_true`` are arrays of the same shape (B, out). Keep what
        ``backward`` needs.
        """

    def backward(self):
        """Return dL/dy_hat = 2 (y_hat - y_true) / N for the last ``forward``, shaped like y_hat."""


def numerical_gradient(f, x, eps):
    """Estimate the gradient of ``f`` at ``x`` by two-sided differences.

    For each entry ``x[i]``: ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``.

    Parameters
    ----------
    f : callable
        Returns a float. It may read ``x`` through its argument or directly (as a
        loss reads a model's weight), so change ``x`` itself, in place.
    x : ndarray
        The point. Perturb one entry at a time and restore it exactly.
    eps : float
        The step.

    Returns
    -------
    ndarray, shape of ``x``
    """


class Learner(memrnn.Learner):
    """Learner with ``train_step`` written by you; ``train`` and the rest are memrnn.Learner's."""

    def train_step(self, lr):
        """One update on a fresh batch; return that batch's loss.

        Draw ``(x, y)`` from ``self.data_generator``, predict with ``self.model``,
        measure the loss with ``self.loss_obj``, backpropagate, and move every
        weight by ``-lr`` times its gradient.
        """


class RNN(memrnn.RNN):
    """RNN with ``backward`` written by you; ``forward`` and the rest are memrnn.RNN's."""

    def backward(self, d_loss):
        """Backpropagation through time: the gradient of the loss for every weight.

        Parameters
        ----------
        d_loss : ndarray, shape (B, out)
            dL/dy_hat for the last ``forward``.

        The last ``forward`` kept its input ``self.x``, shape (T, B, in), with
        ``x[t - 1]`` holding x_t, and its states ``self.A``, shape (T + 1, B, H),
        with ``A[t]`` holding a_t and ``A[0] = 0``.

        Returns
        -------
        dict
            ``d_W``, ``d_R``, ``d_bs``, ``d_V`` and ``d_by``, each shaped like its
            weight (``bs`` and ``by`` are rows, (1, H) and (1, out)) and summed
            over time steps.
        """


def sweep_loop(training, lengths, repeats):
    """Train and evaluate one run per length and repetition.

    Parameters
    ----------
    training : Training
        The settings every run uses, passed on to ``run.run_one``.
    lengths : sequence of int
        Sequence lengths T.
    repeats : int
        Runs per length; repetition r of length T is ``run.run_one(training, T, r)``.

    Returns
    -------
    dict int -> list of float
        For each length, the held-out MSE (``"eval_mse"``) of its runs, in
        repetition order.
    """


def hidden_grad_norms(model):
    """The norm of dL/da_t for every time step, after ``model.backward(...)``.

    ``model.hidden_grads`` holds dL/da_t, shape (T, B, H).

    Returns
    -------
    ndarray, shape (T,)
        Entry ``t - 1`` is the norm of dL/da_t over the batch and the hidden units.
    """


def lstm_cell_backward(d_h, d_c_next, c_prev, c, gates):
    """One step back through the LSTM cell.

    Parameters
    ----------
    d_h : ndarray, shape (B, H)
        dL/dh_t.
    d_c_next : ndarray, shape (B, H)
        What reaches c_t along the cell path from c_{t+1}; zero at t = T.
    c_prev, c : ndarray, shape (B, H)
        The cell states c_{t-1} and c_t.
    gates : ndarray, shape (B, 4H)
        The gate values [i_t, f_t, g_t, o_t] of step t, side by side.

    Returns
    -------
    d_z : ndarray, shape (B, 4H)
        dL/dz_t for the four gates, in the order i, f, g, o.
    d_c_prev : ndarray, shape (B, H)
        What goes back along the cell path to c_{t-1}.
    """


class FastRNN(memrnn.fast.FastRNN):
    """FastRNN with ``backward`` written by you; ``forward`` and the rest are FastRNN's."""

    def backward(self, d_loss):
        """The backward pass of this chapter: the same gradients as ``RNN.backward``, faster.

        No fresh (T, B, H) arrays in the loop, every step in place, and the
        gradients of all weights summed inside the loop. The last ``forward``
        kept ``self.x``, shape (T, B, in), and ``self.A``, shape (T + 1, B, H).

        Parameters
        ----------
        d_loss : ndarray, shape (B, out)
            dL/dy_hat for the last ``forward``.

        Returns
        -------
        dict
            ``d_W``, ``d_R``, ``d_bs``, ``d_V`` and ``d_by``, as ``RNN.backward``
            returns them.
        """
