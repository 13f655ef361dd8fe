"""A correct answer to chapter 1's exercise, as a student would write it, for the grader's tests
and its benchmark (both hand it in as the student's code)."""

CORRECT_GENERATOR = '''import numpy as np

def my_generate_samples(batch_size, seq_length, seed=None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    while True:
        x = rng.uniform(-1.0, 1.0, size=(seq_length, batch_size, 1)).astype(dtype)
        yield x, x[0]
'''
