"""The gradient tests must catch the classic backpropagation-through-time bugs.

Each case rewrites one line of ``RNN.backward``'s source, or of the LSTM's
(``LSTM.backward`` and the cell step ``lstm.cell_backward`` it calls), the way
a student's mistake would, and checks that both the
finite-difference check (``check_model``) and the independent complex-step
oracle reject the result. If the source changes so that a mutation no longer
applies (its target is not found exactly once), the test fails rather than
passing vacuously.
"""

import inspect
import textwrap

import numpy as np
import pytest

import memrnn.lstm
import memrnn.rnn
import oracle
from memrnn import RNN, MSELoss
from memrnn.gradcheck import check_model, randomize_weights
from memrnn.lstm import LSTM

RNN_MUTATIONS = {
    "sign flipped in tanh'": ("(1.0 - A[t] ** 2)", "(1.0 + A[t] ** 2)"),
    "sign flipped in the recurrence": ("d_a[t - 1] = delta @ self.R.T",
                                       "d_a[t - 1] = -delta @ self.R.T"),
    "sign flipped in the read-out": ("d_a[T] = dy @ self.V.T", "d_a[T] = -dy @ self.V.T"),
    "tanh' dropped": ("delta = d_a[t] * (1.0 - A[t] ** 2)", "delta = d_a[t]"),
    "R not transposed": ("delta @ self.R.T", "delta @ self.R"),
    "off by one: a_t instead of a_(t-1) in dR": ("d_R += A[t - 1].T @ delta",
                                                 "d_R += A[t].T @ delta"),
    "off by one: x_(t-1) instead of x_t in dW": ("d_W += x[t - 1].T @ delta",
                                                 "d_W += x[t - 2].T @ delta"),
    "off by one: tanh' of the previous step": ("(1.0 - A[t] ** 2)", "(1.0 - A[t - 1] ** 2)"),
    "off by one: loop stops before step 1": ("for t in range(T, 0, -1):",
                                             "for t in range(T, 1, -1):"),
}

#: The LSTM's slips, each in the cell step (``lstm.cell_backward``) or in the loop of
#: ``LSTM.backward`` around it: name -> (where, line as written, line with the slip).
LSTM_MUTATIONS = {
    "sigmoid' of the input gate dropped": ("cell", "d_i * i * (1.0 - i)", "d_i"),
    "sigmoid' of the output gate dropped": ("cell", "d_o * o * (1.0 - o)", "d_o"),
    "tanh' of the candidate dropped": ("cell", "d_g * (1.0 - g ** 2)", "d_g"),
    "forget gate missing on the cell path": ("cell", "return d_z, d_c * f", "return d_z, d_c"),
    "cell path through c_(t+1) ignored": ("cell", "d_c = d_c_next + d_h", "d_c = d_h"),
    "off by one: c_t instead of c_(t-1) in df": ("cell", "d_c * c_prev,", "d_c * c,"),
    "sign flipped in tanh'(c_t)": ("cell", "(1.0 - tanh_c ** 2)", "(1.0 + tanh_c ** 2)"),
    "tanh'(c_t) dropped on the h -> c path": ("cell", "d_h * o * (1.0 - tanh_c ** 2)", "d_h * o"),
    "o_t missing on the h -> c path": ("cell", "d_h * o * (1.0 - tanh_c ** 2)",
                                       "d_h * (1.0 - tanh_c ** 2)"),
    "g_t and i_t mixed up in di": ("cell", "d_c * g, d_c * c_prev, d_c * i",
                                   "d_c * i, d_c * c_prev, d_c * i"),
    "off by one: h_t instead of h_(t-1) in dU": ("loop", "d_U += A[t - 1].T @ d_z",
                                                 "d_U += A[t].T @ d_z"),
    "sign flipped in the recurrence": ("loop", "d_h[t - 1] = d_z @ self.U.T",
                                       "d_h[t - 1] = -d_z @ self.U.T"),
    "off by one: c_t handed to the step as c_(t-1)": ("loop", "C[t - 1], C[t], self.gates",
                                                      "C[t], C[t], self.gates"),
    "off by one: loop stops before step 1": ("loop", "for t in range(T, 0, -1):",
                                             "for t in range(T, 1, -1):"),
}

CASES = ([("RNN", name) for name in RNN_MUTATIONS]
         + [("LSTM", name) for name in LSTM_MUTATIONS])
UNDER_TEST = {"RNN": (RNN, memrnn.rnn, oracle.complex_step_grads),
          "LSTM": (LSTM, memrnn.lstm, oracle.lstm_complex_step_grads)}


def _mutated_source(func, old, new, where):
    source = textwrap.dedent(inspect.getsource(func))
    assert source.count(old) == 1, f"mutation target not found once in {where}: {old!r}"
    return source.replace(old, new)


def mutated_model(kind, old, new, seed=0, hidden=4, where="loop"):
    """The model with one line of its backward pass (``where="loop"``) or, for the LSTM, of the
    cell step it calls (``where="cell"``) changed from ``old`` to ``new``."""
    cls, module, _ = UNDER_TEST[kind]
    namespace = dict(vars(module))
    backward = textwrap.dedent(inspect.getsource(cls.backward))
    if where == "cell":
        exec(compile(_mutated_source(module.cell_backward, old, new, "cell_backward"), "<mutant>",
                     "exec"), namespace)
    else:
        backward = _mutated_source(cls.backward, old, new, f"{kind}.backward")
    # backward calls whatever cell_backward its namespace holds: the mutant's, if there is one.
    exec(compile(backward, "<mutant>", "exec"), namespace)
    mutant_cls = type("Mutant" + kind, (cls,), {"backward": namespace["backward"]})
    model = mutant_cls(1, hidden, 1, seed=seed)
    randomize_weights(model, seed=seed)
    return model


def mutation(kind, name):
    """The arguments of ``mutated_model`` that plant the slip ``name``."""
    if kind == "RNN":
        old, new = RNN_MUTATIONS[name]
        return {"old": old, "new": new}
    where, old, new = LSTM_MUTATIONS[name]
    return {"old": old, "new": new, "where": where}


@pytest.mark.parametrize("kind, name", CASES)
def test_gradient_check_catches(kind, name):
    model = mutated_model(kind, **mutation(kind, name))
    with np.errstate(all="ignore"):
        errors = check_model(model, seq_length=5, batch_size=3, seed=1)
    assert max(errors.values()) > 1e-3, errors


@pytest.mark.parametrize("kind, name", CASES)
def test_oracle_catches(kind, name):
    model = mutated_model(kind, **mutation(kind, name), seed=2)
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(5, 3, 1))
    y = rng.normal(size=(3, 1))
    loss = MSELoss()
    loss.forward(model.forward(x), y)
    with np.errstate(all="ignore"):
        grads = model.backward(loss.backward())
    ref = UNDER_TEST[kind][2](model.get_weights(), x, y)
    assert any(not np.allclose(grads[k], ref[k], rtol=1e-6, atol=1e-9) for k in ref)


@pytest.mark.parametrize("kind", list(UNDER_TEST))
def test_unmutated_source_passes_the_same_checks(kind):
    same = "for t in range(T, 0, -1):"
    model = mutated_model(kind, same, same)
    assert type(model).backward is not UNDER_TEST[kind][0].backward      # the recompiled source
    errors = check_model(model, seq_length=5, batch_size=3, seed=1)
    assert max(errors.values()) < 1e-6, errors
    model = mutated_model(kind, same, same, seed=2)
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(5, 3, 1))
    y = rng.normal(size=(3, 1))
    loss = MSELoss()
    loss.forward(model.forward(x), y)
    grads = model.backward(loss.backward())
    ref = UNDER_TEST[kind][2](model.get_weights(), x, y)
    for k in ref:
        np.testing.assert_allclose(grads[k], ref[k], rtol=1e-6, atol=1e-9, err_msg=k)


def test_a_missing_target_fails_loudly():
    with pytest.raises(AssertionError, match="not found once"):
        mutated_model("LSTM", "this line is not in the source", "")
    with pytest.raises(AssertionError, match="not found once"):
        mutated_model("RNN", "t - 1", "t")          # appears many times: ambiguous
    with pytest.raises(AssertionError, match="not found once in cell_backward"):
        mutated_model("LSTM", "this line is not in the step", "", where="cell")


def test_the_unmutated_cell_step_passes_through_the_same_path():
    same = "return d_z, d_c * f"
    model = mutated_model("LSTM", same, same, where="cell")
    assert type(model).backward.__globals__["cell_backward"] is not memrnn.lstm.cell_backward
    errors = check_model(model, seq_length=5, batch_size=3, seed=1)
    assert max(errors.values()) < 1e-6, errors
