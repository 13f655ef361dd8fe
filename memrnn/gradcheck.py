"""Gradient checking by two-sided finite differences.

A backward pass is easy to get almost right. These functions compare it with
the definition of the derivative, one coordinate at a time. They return
numbers; printing and thresholds are left to the caller. ``check_rnn`` is
the check written out for the RNN, a loop over its parameters; ``check_model``
does the same for any of memrnn's models and every state they keep.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .losses import MSELoss
from .rnn import PARAM_NAMES as RNN_PARAM_NAMES
from .rnn import RNN

__all__ = ["numerical_gradient", "relative_error", "check_loss", "check_rnn", "check_model",
           "randomize_weights", "eps_sweep"]

_SCHEMES = ("central", "forward")


def numerical_gradient(f, x, eps=1e-6, scheme="central") -> np.ndarray:
    r"""Estimate the gradient of a scalar function by central differences.

    For each coordinate :math:`i`,
    :math:`\partial f/\partial x_i \approx (f(x + \epsilon e_i) - f(x - \epsilon e_i)) / 2\epsilon`,
    whose truncation error is :math:`O(\epsilon^2)` where a one-sided
    difference has :math:`O(\epsilon)`.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a real scalar. It may also ignore its argument and read
        ``x`` through a closure, for example when ``x`` is a model's weight.
    x : ndarray of float64
        The point. It is changed **in place** during the call, one entry at a
        time, and every entry is restored to its exact original value.
    eps : float
        Step size. About 1e-6 balances truncation against round-off in float64.
    scheme : {"central", "forward"}
        ``"central"`` (the default, two-sided) or ``"forward"``, the one-sided
        :math:`(f(x + \epsilon e_i) - f(x)) / \epsilon`, kept for comparison.

    Returns
    -------
    ndarray, shape of ``x``
    """
    eps = _checks.positive_float(eps, "eps")
    if scheme not in _SCHEMES:
        raise ValueError(f"scheme must be one of {_SCHEMES}, got {scheme!r}")
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must be a float ndarray (it is perturbed in place), "
                        f"got {type(x).__name__}")
    grad = np.empty(x.shape, dtype=np.float64)
    flat = x.reshape(-1)           # a view for contiguous x, so edits reach f
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    central = scheme == "central"
    f_0 = None if central else float(f(x))
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + eps
        f_plus = float(f(x))
        if central:
            flat[i] = orig - eps
            f_minus = float(f(x))
        flat[i] = orig
        if central:
            grad.reshape(-1)[i] = (f_plus - f_minus) / (2.0 * eps)
        else:
            grad.reshape(-1)[i] = (f_plus - f_0) / eps
    return grad


def relative_error(analytic, numeric) -> float:
    r"""Norm-wise relative error :math:`\|a - n\| / (\|a\| + \|n\|)`.

    Why this formula: it does not care which argument is "right" (it is
    symmetric), it does not depend on the gradient's scale, and it stays in
    [0, 1]. An element-wise ratio would blow up on entries that are zero in
    exact arithmetic. It is 0 when both are exactly zero.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"analytic and numeric gradients differ in shape: {a.shape} vs {n.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(n)
    if denom == 0.0:
        return 0.0
    return float(np.linalg.norm(a - n) / denom)


def check_loss(batch_size=16, output_size=1, seed=0, eps=1e-6) -> float:
    """Relative error of ``MSELoss.backward`` against finite differences.

    Draws random predictions and targets from ``seed`` and returns a float;
    a correct loss gives about 1e-10 or less.
    """
    rng = _checks.rng_from(seed)
    shape = (_checks.positive_int(batch_size, "batch_size"),
             _checks.positive_int(output_size, "output_size"))
    y_hat, y = rng.normal(size=shape), rng.normal(size=shape)
    loss = MSELoss()
    loss.forward(y_hat, y)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda p: MSELoss().forward(p, y), y_hat, eps)
    return relative_error(analytic, numeric)


#: Recurrent weight matrices (rows indexed by the hidden units), which
#: ``randomize_weights`` scales by 1/sqrt(H) rather than by ``scale``.
_RECURRENT_NAMES = ("R", "U")


def _param_names(model) -> tuple:
    # A student's own RNN class (memrnn.selfcheck) may not declare PARAM_NAMES.
    return tuple(getattr(model, "PARAM_NAMES", RNN_PARAM_NAMES))


def randomize_weights(model, seed=0, scale=0.5) -> None:
    """Give every parameter of ``model`` random, non-special values.

    At initialisation R is the identity and the biases are zero, so a backward
    pass that transposes R or drops a bias term can still look right.
    Random weights of moderate size (``scale``) expose such bugs while keeping
    tanh and the sigmoid out of saturation.

    Parameters
    ----------
    model : RNN, LSTM or any model with ``PARAM_NAMES`` and ``set_weights``
    seed : int or Generator
    scale : float
        Standard deviation of the normal draws for every parameter except the
        recurrent matrix (``R`` of the RNN, ``U`` of the LSTM), which gets
        ``0.9 / sqrt(H)`` so that the recurrence neither explodes nor dies
        over the few steps of a check.
    """
    rng = _checks.rng_from(seed)
    names = _param_names(model)
    weights = {name: scale * rng.normal(size=getattr(model, name).shape) for name in names}
    recurrent_scale = 0.9 / np.sqrt(model.hidden_size)
    for name in _RECURRENT_NAMES:
        if name in weights:
            weights[name] = rng.normal(size=weights[name].shape) * recurrent_scale
    model.set_weights(weights)


def check_rnn(model, x, y, eps=1e-6) -> dict:
    """Compare every gradient of ``model.backward`` with finite differences of the MSE.

    Parameters
    ----------
    model : RNN
        A float64 RNN, checked with its weights as they are.
    x : ndarray, shape (T, B, in)
        Input sequences.
    y : ndarray, shape (B, out)
        Targets of the MSE.
    eps : float
        Finite-difference step.

    Returns
    -------
    dict
        The relative error (``relative_error``) of ``d_W d_R d_bs d_V d_by``
        and of ``d_a``, dL/da_t for every t, as floats.
    """
    def loss_value(_=None, state_offset=None):
        return MSELoss().forward(model.forward(x, state_offset=state_offset), y)

    loss = MSELoss()
    loss.forward(model.forward(x), y)
    grads = model.backward(loss.backward())
    errors = {}
    for name in ("W", "R", "bs", "V", "by"):
        numeric = numerical_gradient(loss_value, getattr(model, name), eps)
        errors["d_" + name] = relative_error(grads["d_" + name], numeric)
    offset = np.zeros(model.hidden_grads.shape)            # one entry for every a_t
    numeric = numerical_gradient(lambda o: loss_value(state_offset=o), offset, eps)
    errors["d_a"] = relative_error(model.hidden_grads, numeric)
    return errors


def check_model(model=None, seq_length=4, batch_size=3, hidden_size=5, seed=0, eps=1e-6,
                include_hidden=True) -> dict:
    """Check every gradient of a model's backward pass through time.

    The scalar function is the MSE between the model's output and random
    targets. Each parameter is perturbed in turn and the loss recomputed by
    a full forward pass over all time steps, so the whole chain of
    backpropagation through time is tested, not one step.

    Parameters
    ----------
    model : RNN, LSTM or a model like them, optional
        A float64 model with ``PARAM_NAMES``, ``forward(x, state_offset=...)``
        and ``backward``, checked with its weights as they are. By default an
        ``RNN(1, hidden_size, 1)`` with ``randomize_weights`` applied.
    seq_length, batch_size : int
        T and B of the random inputs, drawn uniformly from [-1, 1].
    hidden_size : int
        H of the default RNN; unused when ``model`` is given.
    seed : int or Generator
        Draws the inputs, targets and, with no ``model``, the weights.
    eps : float
        Finite-difference step.
    include_hidden : bool
        Also check the gradients with respect to the states, each of
        ``model.STATE_GRADS`` (dL/da_t of every model, dL/dc_t of the LSTM), by
        shifting the states through the forward pass's offsets.

    Returns
    -------
    dict
        ``"d_" + name`` for every name in ``model.PARAM_NAMES`` and, with
        ``include_hidden``, one key per state (``"d_a"``, and ``"d_c"`` for the
        LSTM): relative errors as floats.
    """
    rng = _checks.rng_from(seed)
    if model is None:
        model = RNN(1, _checks.positive_int(hidden_size, "hidden_size"), 1, seed=rng)
        randomize_weights(model, seed=rng)
    if model.dtype != np.float64:
        raise TypeError(f"gradient checks need a float64 model, got {model.dtype}")
    T = _checks.positive_int(seq_length, "seq_length")
    B = _checks.positive_int(batch_size, "batch_size")
    x = rng.uniform(-1.0, 1.0, size=(T, B, model.input_size))
    y = rng.normal(size=(B, model.output_size))

    def loss_value(_=None, **offset):
        return MSELoss().forward(model.forward(x, **offset), y)

    loss = MSELoss()
    loss.forward(model.forward(x), y)
    grads = {k: v.copy() for k, v in model.backward(loss.backward()).items()}
    # Copies: a fast model overwrites these buffers in the forward passes below.
    states = {key: (keyword, getattr(model, attribute).copy())
              for key, keyword, attribute in getattr(model, "STATE_GRADS", RNN.STATE_GRADS)}

    errors = {}
    for name in _param_names(model):
        numeric = numerical_gradient(loss_value, getattr(model, name), eps)
        errors["d_" + name] = relative_error(grads["d_" + name], numeric)
    if include_hidden:
        for key, (keyword, analytic) in states.items():
            offset = np.zeros((T, B, model.hidden_size))
            numeric = numerical_gradient(lambda o, k=keyword: loss_value(**{k: o}), offset, eps)
            errors[key] = relative_error(analytic, numeric)
    return errors


def eps_sweep(eps_values, seq_length=4, batch_size=3, hidden_size=5, seed=0) -> dict:
    """Relative error of finite differences against the exact gradient, per step size.

    The function is the RNN's loss as a function of all of ``W``, ``R`` and
    ``V`` at random weights (``randomize_weights``); the reference is the
    analytic backward pass, itself verified by the tests against an
    independent complex-step oracle. Large steps suffer from truncation,
    tiny steps from round-off in the two loss values being subtracted.

    Parameters
    ----------
    eps_values : sequence of float
        Step sizes to try, each > 0.
    seq_length, batch_size, hidden_size : int
        Size of the small problem (T, B, H).
    seed : int or Generator
        Draws the weights, inputs and targets.

    Returns
    -------
    dict
        ``{"eps": ndarray, "central": ndarray, "forward": ndarray}``: for each
        step size, the relative error (``relative_error``) of the two-sided
        and of the one-sided estimate.
    """
    eps = np.asarray([_checks.positive_float(e, "eps") for e in eps_values], dtype=np.float64)
    if eps.size == 0:
        raise ValueError("eps_values is empty: give at least one step size")
    rng = _checks.rng_from(seed)
    model = RNN(1, _checks.positive_int(hidden_size, "hidden_size"), 1, seed=rng)
    randomize_weights(model, seed=rng)
    T = _checks.positive_int(seq_length, "seq_length")
    B = _checks.positive_int(batch_size, "batch_size")
    x = rng.uniform(-1.0, 1.0, size=(T, B, 1))
    y = rng.uniform(-1.0, 1.0, size=(B, 1))

    loss = MSELoss()
    loss.forward(model.forward(x), y)
    grads = model.backward(loss.backward())
    names = ("W", "R", "V")
    analytic = np.concatenate([grads["d_" + n].ravel() for n in names])

    def loss_value(_):
        return MSELoss().forward(model.forward(x), y)

    out = {"eps": eps, "central": np.empty(eps.size), "forward": np.empty(eps.size)}
    for j, e in enumerate(eps):
        for scheme in ("central", "forward"):
            numeric = np.concatenate([numerical_gradient(loss_value, getattr(model, n), e, scheme)
                                      .ravel() for n in names])
            out[scheme][j] = relative_error(analytic, numeric)
    return out
