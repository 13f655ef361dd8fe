"""Optimizers: plain SGD and Adam.

An optimizer turns the gradients of the last ``backward``, which the model
keeps as ``model.grads``, into a change of the weights, with
``step(model, lr)``: each parameter array changes in place, ``p -= ...``, as
a student's own loop would change it. ``lr`` is checked where it enters, by
``Learner.train`` or ``Model.update``, not at every step.
"""

from __future__ import annotations

import numpy as np

from . import _checks

__all__ = ["SGD", "Adam", "OPTIMIZERS"]


def _last_grads(model) -> dict:
    """The gradients of the model's last ``backward``."""
    grads = getattr(model, "grads", None)
    if grads is None:
        raise RuntimeError(f"{type(model).__name__}: an update needs gradients: call forward() "
                           f"and backward() first")
    return grads


class SGD:
    """Plain stochastic gradient descent, ``p -= lr * d_p``."""

    def step(self, model, lr) -> None:
        """Move every parameter of ``model`` against its last gradient, by ``lr`` times it."""
        grads = _last_grads(model)
        for name, p in model.parameters().items():
            p -= lr * grads["d_" + name]                 # in place: the model's own array

    def __repr__(self):
        return "SGD()"


class Adam:
    r"""Adam, adaptive moment estimation (Kingma & Ba 2015).

    For each parameter :math:`p` with gradient :math:`g`, at step
    :math:`k = 1, 2, \dots`::

        m = beta1 m + (1 - beta1) g            running mean of g
        v = beta2 v + (1 - beta2) g^2          running mean of g^2
        p -= lr * (m / (1 - beta1^k)) / (sqrt(v / (1 - beta2^k)) + eps)

    ``m`` and ``v`` start at zero, so early on they are too small; dividing by
    ``1 - beta^k`` removes that bias. Each weight gets its own step size,
    about ``lr`` whatever the scale of its gradient, which helps when some
    gradients are far smaller than others (as across time steps).

    Parameters
    ----------
    beta1, beta2 : float in [0, 1)
        Decay of the running means of the gradient and of its square.
    eps : float > 0
        Keeps the division finite when ``v`` is zero.

    Attributes
    ----------
    t : int
        Number of steps taken.
    m, v : dict of ndarray
        The running means, by parameter name, shaped like the parameters.
    """

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1 = _checks.unit_interval(beta1, "beta1")
        self.beta2 = _checks.unit_interval(beta2, "beta2")
        self.eps = _checks.positive_float(eps, "eps")
        self.t = 0
        self.m, self.v = {}, {}

    def __repr__(self):
        return f"Adam(beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"

    def step(self, model, lr) -> None:
        """Change ``model.parameters()`` in place by one Adam step with the last gradients.

        Raises
        ------
        RuntimeError
            If the model has had no ``backward`` yet.
        ValueError
            If the parameters' names or shapes differ from those of the first
            step: the state belongs to one model.
        """
        params = model.parameters()
        if self.m and ({n: p.shape for n, p in params.items()}
                       != {n: m.shape for n, m in self.m.items()}):
            raise ValueError("Adam: the model's parameters differ in name or shape from those "
                             "of the first step; use a new Adam for a new model")
        grads = _last_grads(model)
        self.t += 1
        for name, p in params.items():
            g = grads["d_" + name]
            m = self.m.setdefault(name, np.zeros_like(p))
            v = self.v.setdefault(name, np.zeros_like(p))
            m[...] = self.beta1 * m + (1.0 - self.beta1) * g
            v[...] = self.beta2 * v + (1.0 - self.beta2) * g * g
            m_hat = m / (1.0 - self.beta1 ** self.t)
            v_hat = v / (1.0 - self.beta2 ** self.t)
            p -= lr * m_hat / (np.sqrt(v_hat) + self.eps)


#: Every optimizer by the name that settings and the command line use.
OPTIMIZERS = {"sgd": SGD, "adam": Adam}
