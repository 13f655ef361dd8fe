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
    "sign flipped in tanh'": ("dtanh = 1.0 - A[1:] ** 2", "dtanh = 1.0 + A[1:] ** 2"),
    "sign flipped in the recurrence": ("g = d_s[t - 1] @ self.R.T", "g = -d_s[t - 1] @ self.R.T"),
    "sign flipped in the read-out": ("g = dy @ self.V.T", "g = -dy @ self.V.T"),
    "tanh' dropped": ("d_s[t - 1] = g * dtanh[t - 1]", "d_s[t - 1] = g"),
    "R not transposed": ("g = d_s[t - 1] @ self.R.T", "g = d_s[t - 1] @ self.R"),
    "off by one: a_t instead of a_(t-1) in dR": ("d_R = A[:-1].reshape", "d_R = A[1:].reshape"),
    "off by one: tanh' of the previous step": ("d_s[t - 1] = g * dtanh[t - 1]",
                                               "d_s[t - 1] = g * dtanh[t - 2]"),
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
    # The loop-bound mutation leaves d_s[0] uninitialised; make it visible.
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
    model = mutated_model("dtanh = 1.0 - A[1:] ** 2", "dtanh = 1.0 - A[1:] ** 2")
    errors = check_rnn(seq_length=5, batch_size=3, model=model, seed=1)
    assert max(errors.values()) < 1e-6
