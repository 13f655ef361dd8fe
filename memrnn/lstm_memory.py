"""Where a trained LSTM keeps the first input: on its carousel, or written again."""

from __future__ import annotations

import numpy as np

from .data import generate_samples
from .lstm import LSTM

__all__ = ["where_x1_is_kept"]


def _corr_with(v, x1):
    """Correlation of ``v`` (T, B, ...) with ``x1`` (B,) over the sequences, for every step and unit."""
    v = v - v.mean(axis=1, keepdims=True)
    u = (x1 - x1.mean()).reshape((1, -1) + (1,) * (v.ndim - 2))
    return (v * u).sum(axis=1) / (np.sqrt((v ** 2).sum(axis=1) * (u ** 2).sum(axis=1)) + 1e-300)


def where_x1_is_kept(model, seq_length, seed, n_sequences=2048) -> dict:
    """Run a trained LSTM on fresh sequences and find the unit whose cell state follows x_1.

    Parameters
    ----------
    model : LSTM or FastLSTM
        The trained network (one input, one output); its weights are copied into a plain
        ``memrnn.LSTM``, which keeps the gates and cell states of every step.
    seq_length : int
        The length of the sequences, T.
    seed : int or numpy.random.SeedSequence
        Seeds the fresh sequences.
    n_sequences : int
        How many sequences the correlations are taken over.

    Returns
    -------
    dict
        ``x1`` (B,), the first inputs; ``corr`` (T, H), the correlation of each unit's cell
        state with x_1 at each step; ``unit``, the unit with the largest mean absolute
        correlation (the rule is fixed before looking); for that unit, ``f`` and ``c`` (T, B),
        its forget gate and cell state, ``written`` (T,), the correlation of what it writes,
        i_t g_t, with x_1, ``keep`` (B,), the product f_2 ... f_T of its forget gates (the share
        of c_1 that the carousel keeps to the end) and ``f_med``, the median of f_2 ... f_T;
        ``show``, four sequences from a small x_1 to a large one.
    """
    if not (hasattr(model, "hidden_size") and hasattr(model, "get_weights")):
        raise TypeError(f"model must be a trained LSTM or FastLSTM, got {type(model).__name__}")
    net = LSTM(1, model.hidden_size, 1)
    net.set_weights(model.get_weights())
    x, _ = next(generate_samples(n_sequences, seq_length, seed=seed))
    net.forward(x)
    i_g, f_g, g_g, _ = np.split(net.gates, 4, axis=2)
    x1 = x[0, :, 0]
    corr = _corr_with(net.C[1:], x1)                               # c_1 .. c_T
    unit = int(np.argmax(np.abs(corr).mean(axis=0)))
    order = np.argsort(x1)
    return {"x1": x1, "corr": corr, "unit": unit, "f": f_g[:, :, unit], "c": net.C[1:, :, unit],
            "written": _corr_with(i_g[:, :, unit] * g_g[:, :, unit], x1),
            "keep": np.prod(f_g[1:, :, unit], axis=0), "f_med": float(np.median(f_g[1:, :, unit])),
            "show": order[(np.array([0.05, 0.35, 0.65, 0.95]) * (len(order) - 1)).astype(int)]}
