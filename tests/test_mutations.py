"""The gradient tests must catch the classic backpropagation-through-time bugs.

Each case rewrites one line of ``RNN.backward``'s source, the way a student's
mistake would, and checks that both the finite-difference check and the
independent complex-step oracle reject the result. If the source changes so
that a mutation no longer applies, the test fails rather than passing vacuously.
"""

import inspect
import textwrap

import numpy as np
import pytest

import memrnn.rnn
import oracle
from memrnn import RNN, MSELoss
from memrnn.gradcheck import check_rnn, randomize_weights

MUTATIONS = {
    "sign flipped in tanh'": ("np.subtract(1.0, dtanh, out=dtanh)", "np.add(1.0, dtanh, out=dtanh)"),
    "sign flipped in the recurrence": ("np.matmul(d_s, self.R.T, out=d_a[t - 2])",
                                       "np.matmul(-d_s, self.R.T, out=d_a[t - 2])"),
    "sign flipped in the read-out": ("d_a[T - 1] = dy @ self.V.T", "d_a[T - 1] = -dy @ self.V.T"),
    "tanh' dropped": ("np.multiply(d_a[t - 1], dtanh, out=d_s)", "np.copyto(d_s, d_a[t - 1])"),
    "R not transposed": ("np.matmul(d_s, self.R.T, out=d_a[t - 2])",
                         "np.matmul(d_s, self.R, out=d_a[t - 2])"),
    "off by one: a_t instead of a_(t-1) in dR": ("z[:, :H] = A[t - 1]", "z[:, :H] = A[t]"),
    "off by one: x_(t-1) instead of x_t in dW": ("z[:, H:H + n_in] = self.x[t - 1]",
                                                 "z[:, H:H + n_in] = self.x[t - 2]"),
    "off by one: tanh' of the previous step": ("np.multiply(A[t], A[t], out=dtanh)",
                                               "np.multiply(A[t - 1], A[t - 1], out=dtanh)"),
    "off by one: loop stops before step 1": ("for t in range(T, 0, -1):",
                                             "for t in range(T, 1, -1):"),
}


def mutated_model(old, new, seed=0, hidden=4):
    source = textwrap.dedent(inspect.getsource(RNN.backward))
    assert source.count(old) == 1, f"mutation target not found once: {old!r}"
    namespace = dict(vars(memrnn.rnn))
    exec(compile(source.replace(old, new), "<mutant>", "exec"), namespace)
    mutant_cls = type("MutantRNN", (RNN,), {"backward": namespace["backward"]})
    model = mutant_cls(1, hidden, 1, seed=seed)
    randomize_weights(model, seed=seed)
    return model


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_gradient_check_catches(name):
    old, new = MUTATIONS[name]
    model = mutated_model(old, new)
    with np.errstate(all="ignore"):
        errors = check_rnn(seq_length=5, batch_size=3, model=model, seed=1)
    assert max(errors.values()) > 1e-3, errors


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_oracle_catches(name):
    old, new = MUTATIONS[name]
    model = mutated_model(old, new, seed=2)
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(5, 3, 1))
    y = rng.normal(size=(3, 1))
    loss = MSELoss()
    loss.forward(model.forward(x), y)
    with np.errstate(all="ignore"):
        grads = model.backward(loss.backward())
    ref = oracle.complex_step_grads(model.get_weights(), x, y)
    assert any(not np.allclose(grads[k], ref[k], rtol=1e-6, atol=1e-9) for k in ref)


def test_unmutated_source_passes_the_same_checks():
    model = mutated_model("for t in range(T, 0, -1):", "for t in range(T, 0, -1):")
    errors = check_rnn(seq_length=5, batch_size=3, model=model, seed=1)
    assert max(errors.values()) < 1e-6
