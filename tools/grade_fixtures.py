"""Correct answers to exercises, as a student would write them, for the grader's tests and its
benchmark (both hand them in as the student's code): chapter 1's, and chapter 3's two."""

CORRECT_GENERATOR = '''import numpy as np

def my_generate_samples(batch_size, seq_length, seed=None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    while True:
        x = rng.uniform(-1.0, 1.0, size=(seq_length, batch_size, 1)).astype(dtype)
        yield x, x[0]
'''

# Chapter 3's two exercises, each in a style of its own: a loop over np.ndindex, and BPTT as
# the equations read, one step back in time at a time.
CORRECT_NUMERICAL_GRADIENT = '''import numpy as np

def my_numerical_gradient(f, x, eps):
    grad = np.zeros(x.shape)
    for index in np.ndindex(*x.shape):
        kept = x[index]
        x[index] = kept + eps
        above = f(x)
        x[index] = kept - eps
        below = f(x)
        x[index] = kept
        grad[index] = (above - below) / (2 * eps)
    return grad
'''

CORRECT_BPTT = '''import numpy as np
import memrnn

class MyRNN(memrnn.RNN):
    def backward(self, d_loss):
        x, A = self.x, self.A
        steps = x.shape[0]
        d_W, d_R, d_bs = np.zeros_like(self.W), np.zeros_like(self.R), np.zeros_like(self.bs)
        d_a = d_loss @ self.V.T                    # dL/da_T
        for t in range(steps, 0, -1):
            delta = d_a * (1.0 - A[t] ** 2)        # through tanh at step t
            d_W += x[t - 1].T @ delta
            d_R += A[t - 1].T @ delta
            d_bs += delta.sum(axis=0, keepdims=True)
            d_a = delta @ self.R.T                 # on to a_{t-1}
        return {"d_W": d_W, "d_R": d_R, "d_bs": d_bs, "d_V": A[steps].T @ d_loss,
                "d_by": d_loss.sum(axis=0, keepdims=True)}
'''
