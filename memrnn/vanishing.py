r"""Seeing the vanishing gradient: diagnostics of backpropagation through time.

Everything here reads what ``RNN.forward`` and ``RNN.backward`` recorded
(``A``, ``hidden_grads``, ``per_step_grads()``), so it shows the gradients
the model actually trained with.

In row-vector convention a change ``da_{k-1}`` of the hidden state moves the
next one by ``da_k = da_{k-1} R D_k`` with ``D_k = diag(1 - a_k^2)``, so

.. math::

    \frac{\partial a_T}{\partial a_t} \;\hat=\; P_t = \prod_{k=t+1}^{T} R D_k ,
    \qquad \frac{\partial L}{\partial a_t} = \frac{\partial L}{\partial a_T} P_t^\top ,

and ``||P_t|| <= prod_k ||R|| max_j (1 - a_{k,j}^2)`` (Pascanu, Mikolov and
Bengio, 2013). With R = I the bound is the product of the tanh slopes alone.
"""

from __future__ import annotations

import numpy as np

from . import _checks

__all__ = ["hidden_grad_norms", "cell_grad_norms", "carousel_grad_norms", "cell_grads_by_hops",
           "jacobian_products", "jacobian_bound", "Monitor", "diagnose", "summarize"]


def _needs_backward(model):
    if getattr(model, "hidden_grads", None) is None or getattr(model, "A", None) is None:
        raise RuntimeError("run model.forward(x) and model.backward(d_loss) first: "
                           "the diagnostics read what they recorded")


def hidden_grad_norms(model) -> np.ndarray:
    """Norm of dL/da_t for every time step t = 1..T.

    Returns
    -------
    ndarray, shape (T,)
        Entry ``t - 1`` is the Frobenius norm, over the batch and the hidden
        units, of the gradient of the loss with respect to ``a_t``. A norm,
        not a mean of signed entries, which would cancel.
    """
    _needs_backward(model)
    g = model.hidden_grads
    return np.sqrt(np.einsum("tbh,tbh->t", g, g, dtype=np.float64))


def cell_grad_norms(model) -> np.ndarray:
    """Norm of dL/dc_t for every time step t = 1..T, for a model with a cell state.

    Returns
    -------
    ndarray, shape (T,)
        As ``hidden_grad_norms``, for ``model.cell_grads``.
    """
    _needs_backward(model)
    g = getattr(model, "cell_grads", None)
    if g is None:
        raise TypeError(f"{type(model).__name__} has no cell state: cell_grad_norms is for the LSTM")
    return np.sqrt(np.einsum("tbh,tbh->t", g, g, dtype=np.float64))


def carousel_grad_norms(model, x) -> np.ndarray:
    """The part of dL/dc_t that travels back along the cell state alone, for every t.

    Along the carousel ``c_t = f_t * c_{t-1} + ...`` one step back multiplies
    the gradient by the forget gate, so this path alone brings
    ``dL/dc_T * f_T * ... * f_{t+1}`` to step t. Every other path leaves the
    cell through ``h_t`` and comes back through the recurrent weights ``U``.
    With ``U = 0`` there are no other paths and this equals
    ``cell_grad_norms``. Otherwise dL/dc_t is this part plus the sum over
    every path that passes through ``U`` at least once, mixed paths (some
    steps through ``U``, the rest along the carousel) included; the two parts
    need not be orthogonal, so their norms do not subtract
    (``cell_grads_by_hops`` splits the gradient by the number of passes
    through ``U``). Needs ``forward(x)`` and ``backward`` of an LSTM first.

    Returns
    -------
    ndarray, shape (T,)
        The norm over the batch of the carousel-only gradient at each step.
    """
    _needs_backward(model)
    if getattr(model, "cell_grads", None) is None:
        raise TypeError(f"{type(model).__name__} has no cell state: carousel_grad_norms is for the LSTM")
    H = model.hidden_size
    h_prev = model.A[:-1].astype(np.float64)                        # h_0 .. h_{T-1}
    z_f = (np.asarray(x, dtype=np.float64) @ model.W[:, H:2 * H] + h_prev @ model.U[:, H:2 * H]
           + model.b[:, H:2 * H])
    with np.errstate(over="ignore"):
        f = 1.0 / (1.0 + np.exp(-z_f))                              # f_1 .. f_T, (T, B, H)
    T = f.shape[0]
    keep = np.ones_like(f)                                          # keep[t-1] = f_{t+1} ... f_T
    keep[:T - 1] = np.cumprod(f[:0:-1], axis=0)[::-1]
    g = model.cell_grads[T - 1].astype(np.float64) * keep
    return np.sqrt(np.einsum("tbh,tbh->t", g, g))


def cell_grads_by_hops(model, x, max_hops: int = 2) -> np.ndarray:
    """dL/dc_t split by how many times its path passed back through the recurrent weights ``U``.

    A path from the loss to c_t runs back along the carousel (``c_t`` enters
    ``c_{t+1}`` times ``f_{t+1}``) and, any number of times, out of the cell
    through ``h`` and back into an earlier step through ``U`` (``h_{t-1}``
    enters every gate of step t through ``U``). The backward pass is linear in
    the gradients it carries, so it can carry one copy per number of passes
    through ``U``: a copy that crosses ``U`` moves to the next count. The
    copies sum to the full dL/dc_t; the copy of 0 passes is the carousel
    alone (``carousel_grad_norms``).

    Parameters
    ----------
    model : LSTM or FastLSTM
        After ``forward(x)`` and ``backward``: the split starts from the
        dL/dh_T that ``backward`` recorded.
    x : array_like, shape (T, B, 1)
        The input of that forward pass.
    max_hops : int
        Paths with more passes than this are pooled in the last copy.

    Returns
    -------
    ndarray, shape (max_hops + 2, T, B, H)
        Index k < max_hops + 1 holds the part of dL/dc_t carried by paths
        with exactly k passes through ``U``; the last index, paths with more
        than ``max_hops``. Index t - 1 of the second axis belongs to step t.
    """
    from .lstm import cell_backward

    _needs_backward(model)
    if getattr(model, "cell_grads", None) is None:
        raise TypeError(f"{type(model).__name__} has no cell state: cell_grads_by_hops is for the LSTM")
    max_hops = _checks.nonnegative_int(max_hops, "max_hops")
    A, C = model.A.astype(np.float64), model.C.astype(np.float64)
    W, U = model.W.astype(np.float64), model.U.astype(np.float64)
    b = model.b.astype(np.float64)                                 # (1, 4H), a row
    x = np.asarray(x, dtype=np.float64)
    T, B, H = model.cell_grads.shape
    K = max_hops + 2                                               # copies 0 .. max_hops, then "more"
    d_h = np.zeros((K, B, H))
    d_h[0] = model.hidden_grads[T - 1]                             # dL/dh_T from the read-out
    d_c_next = np.zeros((K, B, H))
    out = np.empty((K, T, B, H))
    for t in range(T, 0, -1):
        z = x[t - 1] @ W + A[t - 1] @ U + b                        # the gates of step t, anew
        with np.errstate(over="ignore"):
            s = 1.0 / (1.0 + np.exp(-z))
        gates = np.concatenate([s[:, :2 * H], np.tanh(z[:, 2 * H:3 * H]), s[:, 3 * H:]], axis=1)
        back = np.zeros((K, B, H))
        for k in range(K):
            d_z, d_c_next[k] = cell_backward(d_h[k], d_c_next[k], C[t - 1], C[t], gates,
                                             d_c_out=out[k, t - 1])
            back[min(k + 1, K - 1)] += d_z @ U.T                   # one more pass through U
        d_h = back
    return out


def hop_ratios(model, x, max_hops: int = 2) -> dict:
    """``||dL/dc_1|| / ||dL/dc_T||`` for the paths with at most k passes through ``U``, and for all.

    Needs ``forward(x)`` and ``backward`` first. Returns ``{0: ..., 1: ...,
    ..., max_hops: ..., "all": ...}``: each the norm over the batch of the
    cumulative sum of ``cell_grads_by_hops`` at step 1, over the norm of the
    full gradient at c_T. Key 0 is the carousel alone; ``"all"`` equals
    ``cell_path_ratios``' ``full``.
    """
    parts = cell_grads_by_hops(model, x, max_hops)
    cum = np.cumsum(parts[:, 0], axis=0)
    end = float(np.linalg.norm(parts[:, -1].sum(axis=0)))
    out = {k: float(np.linalg.norm(cum[k])) / end for k in range(max_hops + 1)}
    out["all"] = float(np.linalg.norm(cum[-1])) / end
    return out


def cell_path_ratios(model, x, y) -> dict:
    """How much of the gradient at the end reaches the first cell state, by path.

    Runs a forward and backward pass of the MSE on ``(x, y)`` and returns
    ``full``, ``||dL/dc_1|| / ||dL/dc_T||`` over all paths, and ``carousel``,
    the same ratio for the part that came along the cell state alone
    (``carousel_grad_norms``). The rest of the gradient is the sum over every
    path that passes through ``U`` at least once, mixed paths included; it is
    not ``full - carousel``, since norms of parts that are not orthogonal do
    not subtract (see ``cell_grads_by_hops``).
    """
    from .losses import MSELoss

    loss = MSELoss()
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    full, carousel = cell_grad_norms(model), carousel_grad_norms(model, x)
    return {"full": float(full[0] / full[-1]), "carousel": float(carousel[0] / carousel[-1])}


def _step_contributions(model) -> dict:
    """Size of each time step's term in the recurrent gradients.

    ``dR = sum_t a_{t-1}^T delta_t``; this is the Frobenius norm of each term,
    and the same for ``dW`` and ``dbs``.

    Returns
    -------
    dict of ndarray, shape (T,)
        ``"d_R"``, ``"d_W"`` and ``"d_bs"``; entry ``t - 1`` belongs to step t.
        Early steps are where the memory of the first element must be learned.
    """
    _needs_backward(model)
    per = model.per_step_grads()
    return {k: np.linalg.norm(v.reshape(v.shape[0], -1).astype(np.float64), axis=1)
            for k, v in per.items()}


def jacobian_products(model, n_seq=None, products=False):
    """Singular values of ``P_t = da_T/da_t`` for every t and sequence.

    Parameters
    ----------
    model : RNN
        After a ``forward`` pass.
    n_seq : int or None
        Use the first ``n_seq`` sequences of the batch (all by default).
    products : bool
        Also return the products themselves.

    Returns
    -------
    sv : ndarray, shape (T, n_seq, H)
        ``sv[t - 1, b]`` are the singular values of the product
        ``R D_{t+1} ... R D_T`` for sequence b, largest first. For t = T the
        product is empty (the identity), so they are all 1. The largest one
        is the most that any change of ``a_t`` can be amplified by the time it
        reaches ``a_T``.
    P : ndarray, shape (T, n_seq, H, H)
        Only with ``products=True``: ``P[t - 1, b]`` is ``da_T/da_t`` for
        sequence b, so that ``hidden_grads[t - 1, b] = hidden_grads[T - 1, b] @ P[t - 1, b].T``.
    """
    if getattr(model, "A", None) is None:
        raise RuntimeError("run model.forward(x) first")
    A = model.A
    T, B, H = A.shape[0] - 1, A.shape[1], A.shape[2]
    n = B if n_seq is None else min(_checks.positive_int(n_seq, "n_seq"), B)
    R = model.R.astype(np.float64)
    P = np.broadcast_to(np.eye(H), (n, H, H)).copy()     # P_T = I
    sv = np.empty((T, n, H))
    sv[T - 1] = 1.0
    kept = np.empty((T, n, H, H)) if products else None
    if products:
        kept[T - 1] = P
    for t in range(T - 1, 0, -1):                        # P_t = R D_{t+1} P_{t+1}
        d = 1.0 - A[t + 1, :n].astype(np.float64) ** 2   # (n, H): diagonal of D_{t+1}
        P = np.einsum("ij,bj,bjk->bik", R, d, P)
        sv[t - 1] = np.linalg.svd(P, compute_uv=False)
        if products:
            kept[t - 1] = P
    return (sv, kept) if products else sv


def jacobian_bound(model, n_seq=None) -> np.ndarray:
    """Pascanu et al.'s bound on ``||da_T/da_t||`` for every t and sequence.

    ``prod_{k=t+1}^{T} ||R||_2 * max_j (1 - a_{k,j}^2)``: the spectral norm of R
    times the largest tanh slope at each step. Returns shape (T, n_seq).
    """
    if getattr(model, "A", None) is None:
        raise RuntimeError("run model.forward(x) first")
    A = model.A
    T, B = A.shape[0] - 1, A.shape[1]
    n = B if n_seq is None else min(_checks.positive_int(n_seq, "n_seq"), B)
    r_norm = float(np.linalg.norm(model.R.astype(np.float64), 2))
    gamma = (1.0 - A[2:, :n].astype(np.float64) ** 2).max(axis=2)     # (T-1, n): steps 2..T
    factors = r_norm * gamma
    bound = np.ones((T, n))
    # bound[t-1] = prod over k = t+1..T, i.e. factors[t-1:] (factors[k-2] is step k).
    bound[:T - 1] = np.cumprod(factors[::-1], axis=0)[::-1]
    return bound


class Monitor:
    """Record how a run trains, update by update; a ``Learner.train`` callback.

    Parameters
    ----------
    every : int
        Take a snapshot every ``every`` updates (the gradient norm is kept for
        every update anyway, in ``Learner.grad_norms``).

    Attributes
    ----------
    steps : list of int
        Update counts of the snapshots.
    losses : list of float
        The batch loss of the update each snapshot was taken at.
    hidden_norms : list of ndarray (T,)
        ``hidden_grad_norms`` at each snapshot: rows of the (training step,
        time step) heatmap.
    grad_norm : list of float
        The total gradient norm at each snapshot.
    cell_norms : list of ndarray (T,)
        ``cell_grad_norms`` at each snapshot, for a model with a cell state (LSTM).
    r_norm, r_radius : list of float
        For the RNN: largest singular value and spectral radius (largest
        absolute eigenvalue) of R.
    mean_slope : list of float
        For the RNN: mean tanh slope ``1 - a^2`` over all steps, sequences and
        units; near 0 means saturated units.
    saturated : list of float
        For the RNN: share of hidden activations with ``|a| > 0.99``.

    Examples
    --------
    >>> monitor = Monitor(every=50)
    >>> learner.train(5000, lr=1e-2, callback=monitor)   # doctest: +SKIP
    """

    def __init__(self, every=50):
        self.every = _checks.positive_int(every, "every")
        self.steps, self.losses, self.hidden_norms = [], [], []
        self.r_norm, self.r_radius, self.mean_slope, self.saturated = [], [], [], []
        self.grad_norm, self.cell_norms = [], []

    def __call__(self, learner):
        step = learner.step             # updates done before the one about to be applied
        if step % self.every:
            return
        model = learner.model
        A = model.A[1:]
        self.steps.append(step)
        self.losses.append(float(learner.last_loss))
        self.hidden_norms.append(hidden_grad_norms(model))
        self.grad_norm.append(float(learner.grad_norms[-1]))
        if getattr(model, "cell_grads", None) is not None:
            self.cell_norms.append(cell_grad_norms(model))
        if hasattr(model, "R"):           # the RNN's recurrence and tanh slopes
            R = model.R.astype(np.float64)
            self.r_norm.append(float(np.linalg.norm(R, 2)))
            self.r_radius.append(float(np.max(np.abs(np.linalg.eigvals(R)))))
            self.mean_slope.append(float(np.mean(1.0 - A.astype(np.float64) ** 2)))
            self.saturated.append(float(np.mean(np.abs(A) > 0.99)))

    def heatmap(self) -> np.ndarray:
        """The snapshots' ``hidden_grad_norms`` as one array, shape (snapshots, T)."""
        if not self.hidden_norms:
            raise RuntimeError("the monitor has no snapshots yet: pass it to Learner.train")
        return np.vstack(self.hidden_norms)


def diagnose(model, x, y, n_seq=64) -> dict:
    """Run one forward and backward pass of the MSE on (x, y) and collect every diagnostic.

    Returns
    -------
    dict
        ``loss``, ``hidden_norms`` (T,), ``contributions`` (dict of (T,)),
        ``sv`` (T, n_seq, H), ``bound`` (T, n_seq) and ``mean_slope``.
    """
    from .losses import MSELoss

    loss = MSELoss()
    value = loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    return {
        "loss": value,
        "hidden_norms": hidden_grad_norms(model),
        "contributions": _step_contributions(model),
        "sv": jacobian_products(model, n_seq=n_seq),
        "bound": jacobian_bound(model, n_seq=n_seq),
        "mean_slope": float(np.mean(1.0 - model.A[1:].astype(np.float64) ** 2)),
    }


def _rounded(values, digits=5) -> list:
    """Floats rounded to ``digits`` significant digits, for compact results files."""
    return [float(f"{v:.{digits}g}") for v in np.asarray(values, dtype=float).ravel()]


def summarize(model, x, y, n_seq=64) -> dict:
    """A compact record of ``diagnose`` for a results file.

    Every run of a sweep keeps this for the model at initialisation and after
    training, on the same held-out batch, so that chapters 6 and 7 can show
    the spread of the diagnostics over many runs without training them again.

    Returns
    -------
    dict of lists and floats
        ``loss``; ``hidden_norms`` (T values of ||dL/da_t||); for a model with
        a cell state ``cell_norms`` (||dL/dc_t||) and ``carousel_norms`` (the part of it
        that came along the cell state alone); for the RNN ``sv_median`` and
        ``bound_median`` (median over ``n_seq`` sequences of the largest
        singular value of ``P_t`` and of its bound, per t), ``mean_slope`` and
        ``saturated``.
    """
    from .losses import MSELoss

    loss = MSELoss()
    value = loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    out = {"loss": float(value), "hidden_norms": _rounded(hidden_grad_norms(model))}
    if getattr(model, "cell_grads", None) is not None:
        out["cell_norms"] = _rounded(cell_grad_norms(model))
        out["carousel_norms"] = _rounded(carousel_grad_norms(model, x))
    if hasattr(model, "R"):
        sv = jacobian_products(model, n_seq=n_seq)
        out["sv_median"] = _rounded(np.median(sv[:, :, 0], axis=1))
        out["bound_median"] = _rounded(np.median(jacobian_bound(model, n_seq=n_seq), axis=1))
        A = model.A[1:].astype(np.float64)
        out["mean_slope"] = float(np.mean(1.0 - A ** 2))
        out["saturated"] = float(np.mean(np.abs(A) > 0.99))
    return out


def find_fall(monitor, grad_norms):
    """Where a watched run fell back to the trivial level, and the update that threw it.

    The fall is ``results.fall_index`` of the monitor's batch losses: the run
    had learned (loss below ``results.LEARNED`` times 1/3) and then rose above
    ``results.STUCK`` times 1/3 for good, the definition chapter 5 uses. The
    *spike* is the update with the largest gradient norm between the snapshot
    with the lowest loss and the fall.

    Parameters
    ----------
    monitor : Monitor
        The run's snapshots.
    grad_norms : sequence of float
        ``Learner.grad_norms``: every update's gradient norm.

    Returns
    -------
    dict or None
        ``fall`` (index of the snapshot), ``fall_step`` (its update),
        ``low_step`` (the update of the lowest loss before it), ``spike_step``
        and ``spike_norm``; None if the run did not fall back.
    """
    from .results import fall_index

    loss = np.asarray(monitor.losses, dtype=float)
    steps = np.asarray(monitor.steps)
    g = np.asarray(grad_norms, dtype=float)
    i = fall_index(loss)
    if i is None:
        return None
    low = int(steps[int(np.nanargmin(loss[:i]))])
    hi = min(int(steps[i]) + 1, g.size)
    spike = int(low + np.argmax(g[low:hi]))
    return {"fall": i, "fall_step": int(steps[i]), "low_step": low, "spike_step": spike,
            "spike_norm": float(g[spike])}
