"""The training loop.

A ``Learner`` ties a model, a loss and a data stream together. Each update
draws a fresh batch, runs forward, backward and one SGD step, and every
``log_steps`` updates it records the batch loss.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _blas, _checks
from .optim import SGD

__all__ = ["Learner", "TrainingDiverged"]


def _progress_bar():
    """Return ``tqdm.auto.tqdm``, imported on first use.

    In a Jupyter kernel without ipywidgets, importing ``tqdm.auto`` warns
    (TqdmWarning, on stderr) and falls back to the text bar. Importing it here
    rather than with memrnn keeps that warning out of every notebook that
    never shows a bar, and the fallback is exactly what such a notebook can
    display, so the warning is silenced.
    """
    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TqdmWarning)
        from tqdm.auto import tqdm
    return tqdm


def _short(value, limit: int = 60) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[:limit - 3] + "..."


class TrainingDiverged(ArithmeticError):
    """Training produced a NaN or infinite loss, prediction or gradient.

    Attributes
    ----------
    step : int
        Number of updates completed before the failure; the model keeps the
        weights it had then (the bad update is not applied).
    lr : float
        The learning rate in use.
    what : str
        Which quantity stopped being finite.
    """

    def __init__(self, step: int, lr: float, what: str):
        self.step, self.lr, self.what = step, lr, what
        super().__init__(f"training diverged at update {step + 1} (lr={lr:g}): {what} is not "
                         f"finite. Try a smaller learning rate.")


class Learner:
    """Train a model on a data stream, with plain SGD unless told otherwise.

    Parameters
    ----------
    model : RNN
        Anything with ``forward(x)``, ``backward(d_loss)`` and what an
        optimizer reads: ``parameters()`` and the last gradients, ``grads``.
    loss_obj : MSELoss
        Anything with ``forward(y_hat, y) -> float`` and ``backward()``.
    data_generator : iterator of (x, y)
        For example ``generate_samples(1024, 10, seed=0)``. Every update and
        every prediction draws a fresh batch from it.
    optimizer : object with ``step(model, lr)``, optional
        ``memrnn.optim.SGD()`` by default; ``memrnn.optim.Adam()`` for Adam.
        Its state (Adam's running means) lives as long as the learner.

    Attributes
    ----------
    loss_values : dict int -> float
        ``loss_values[k]`` is the loss of the model after ``k`` updates, on the
        batch that update ``k + 1`` then trains on; logged for ``k`` divisible
        by ``log_steps``. Keys keep growing when ``train`` is called again.
    step : int
        Updates done so far.
    grad_norms : list of float
        The total gradient norm (all parameters, before any clipping) of
        every update, in order.
    clip, callback :
        The options of the current ``train`` call.
    clipped : int
        How many updates were clipped.
    last_loss : float or None
        The batch loss of the latest update.
    y_hats, y_trues : ndarray or None
        The last ``make_predictions`` output.
    """

    def __init__(self, model, loss_obj, data_generator, optimizer=None):
        for obj, name, methods in ((model, "model", ("forward", "backward")),
                                   (loss_obj, "loss_obj", ("forward", "backward"))):
            missing = [m for m in methods if not callable(getattr(obj, m, None))]
            if missing:
                raise TypeError(f"{name} needs the method(s) {missing}; got {type(obj).__name__}")
        if not hasattr(data_generator, "__next__"):
            raise TypeError(f"data_generator must be an iterator of (x, y) batches such as "
                            f"generate_samples(...), got {type(data_generator).__name__}")
        if optimizer is not None and not callable(getattr(optimizer, "step", None)):
            raise TypeError(f"optimizer must be None or an object with step(model, lr), such as "
                            f"memrnn.optim.Adam(), got {type(optimizer).__name__}")
        self.model = model
        self.loss_obj = loss_obj
        self.data_generator = data_generator
        self.optimizer = SGD() if optimizer is None else optimizer
        self.loss_values: dict[int, float] = {}
        self.grad_norms: list[float] = []
        self.last_loss = None
        self.clip = self.callback = None
        self.clipped = 0
        self.step = 0
        self.y_hats = None
        self.y_trues = None

    def train(self, iter_steps, lr, log_steps=50, *, progress=True, blas_threads=_blas.THREADS, clip=None,
              callback=None):
        """Run exactly ``iter_steps`` updates.

        Parameters
        ----------
        iter_steps : int
            Number of updates (``train_step``) to perform.
        lr : float
            Learning rate.
        log_steps : int
            Record the batch loss every ``log_steps`` updates, and at the last
            update of the call, so that the end of a run is always logged.
        progress : bool
            Show a ``tqdm.auto`` progress bar with the current loss.
        blas_threads : int or None
            Threads the BLAS library may use while training. The matrix
            products of a small RNN are too small to share between cores: at
            hidden size 10 a second thread did not make a step measurably
            faster. ``None`` leaves the setting alone.
        clip : float or None
            Gradient-norm clipping: when the total norm :math:`\\|g\\|` of all
            gradients exceeds ``clip``, every gradient is scaled by
            ``clip / \\|g\\|`` before the update, which keeps its direction and
            caps its length. ``None`` (default) never clips.
        callback : callable or None
            Called as ``callback(learner)`` at every update, after the
            backward pass and before the weights change. Everything it can see
            then belongs to one state of the model, the one after
            ``learner.step`` updates: its weights, its forward and backward
            pass (``A``, ``hidden_grads``, ``grads`` before any clipping),
            ``learner.last_loss`` and ``learner.grad_norms[-1]``.
            ``vanishing.Monitor`` is such a callback.

        Returns
        -------
        dict
            ``self.loss_values``.

        Raises
        ------
        TrainingDiverged
            As soon as a prediction, the loss or a gradient is NaN or infinite.
            Nothing non-finite is logged and the bad update is not applied.
        """
        iter_steps = _checks.positive_int(iter_steps, "iter_steps")
        lr = _checks.positive_float(lr, "lr")
        log_steps = _checks.positive_int(log_steps, "log_steps")
        self.clip = None if clip is None else _checks.positive_float(clip, "clip")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
        self.callback = callback
        limit = _blas.limit(blas_threads)
        # Overflow is caught by _finite and _guard and reported as divergence, so
        # NumPy's own warnings would only be noise. The bar is advanced by hand,
        # once per update: iterating over it as well would count every step twice.
        with limit, np.errstate(over="ignore", invalid="ignore"), _progress_bar()(
                total=iter_steps, disable=not progress, desc="training", unit="update",
                leave=True, dynamic_ncols=True) as bar:
            for i in range(iter_steps):
                loss = self._loss_of_step(self.train_step(lr))
                if self.step % log_steps == 0 or i == iter_steps - 1:
                    self.loss_values[self.step] = loss
                    bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
                self.step += 1
                bar.update(1)
        return self.loss_values

    def train_step(self, lr: float) -> float:
        """One update on a fresh batch; returns that batch's loss."""
        x, y = next(self.data_generator)
        y_hat = self._finite(self.model.forward(x), "the prediction", lr)
        loss = self._finite(self.loss_obj.forward(y_hat, y), "the loss", lr)
        self.model.backward(self.loss_obj.backward())
        self._guard(lr, loss)
        self.optimizer.step(self.model, lr)
        return loss

    def _loss_of_step(self, loss) -> float:
        """What ``train_step`` returned, if it is the batch loss (a number); else a clear error.

        A subclass's own ``train_step`` that forgets ``return loss`` is the
        author's mistake, and is named as theirs here rather than as an error
        deep inside the progress bar.
        """
        if loss is None:
            raise TypeError(f"{type(self).__name__}.train_step returned None; return the loss "
                            f"of its batch (add `return loss`)")
        try:
            if not isinstance(loss, (str, bytes)) and np.ndim(loss) == 0:
                return float(loss)
        except (TypeError, ValueError):
            pass
        raise TypeError(f"{type(self).__name__}.train_step returned {type(loss).__name__} "
                        f"{_short(loss)}; return the loss of its batch, one number")

    def _finite(self, value, what: str, lr: float):
        """``value``, if every entry is finite; else stop training before the update."""
        if not np.all(np.isfinite(value)):
            raise TrainingDiverged(self.step, lr, what)
        return value

    def _guard(self, lr: float, loss: float) -> None:
        """Between backward and update: check the gradient, call back, clip."""
        norm = self._finite(self.model.grad_norm(), "the gradient", lr)
        self.grad_norms.append(norm)
        self.last_loss = loss
        if self.callback is not None:
            self.callback(self)                 # sees the gradients before any clipping
        if self.clip is not None and norm > self.clip:
            for g in self.model.grads.values():
                g *= self.clip / norm           # in place: the optimizer takes these arrays
            self.clipped += 1

    def make_predictions(self, n_batches=1, data_generator=None):
        """Predict on ``n_batches`` fresh batches and store the result.

        Parameters
        ----------
        n_batches : int
        data_generator : iterator of (x, y), optional
            A held-out stream; by default the learner's own, whose batches
            are fresh too since every draw is new.

        Returns
        -------
        y_hats, y_trues : ndarray, shape (n_batches * B, out)
            Also stored as ``self.y_hats`` and ``self.y_trues``.
        """
        n_batches = _checks.positive_int(n_batches, "n_batches")
        stream = self.data_generator if data_generator is None else data_generator
        y_hats, y_trues = [], []
        for _ in range(n_batches):
            x, y = next(stream)
            y_hats.append(self.model.forward(x))
            y_trues.append(np.asarray(y))
        self.y_hats, self.y_trues = np.concatenate(y_hats), np.concatenate(y_trues)
        return self.y_hats, self.y_trues

    def evaluate(self, n_batches=10, data_generator=None) -> float:
        """Mean squared error over ``n_batches`` fresh batches (no training).

        Uses ``make_predictions``, so the predictions are stored as well.
        Returns ``inf`` if the model predicts a non-finite value.
        """
        y_hats, y_trues = self.make_predictions(n_batches, data_generator)
        with np.errstate(over="ignore", invalid="ignore"):
            mse = float(np.mean((y_hats - y_trues) ** 2))
        return mse if np.isfinite(mse) else float("inf")

    def plot_loss(self, ax=None, **kwargs):
        """Plot ``loss_values`` on a log scale with the 1/3 level; returns the Axes."""
        from .plots.basics import plot_loss_curve  # only here: training never needs matplotlib

        return plot_loss_curve(self.loss_values, ax=ax, **kwargs)

    def scatter_plot(self, ax=None, **kwargs):
        """Scatter stored predictions against targets; returns the Axes.

        Makes predictions on one fresh batch first if there are none yet.
        """
        from .plots.basics import plot_predictions

        if self.y_hats is None:
            self.make_predictions(1)
        return plot_predictions(self.y_trues, self.y_hats, ax=ax, **kwargs)
