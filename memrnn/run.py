"""One training run, from settings and (sequence length, repetition).

Everything that trains a model for an experiment goes through ``train_one``:
the sweep's workers (``run_one``), chapter 6's watched runs
(``monitored_run``) and ``python -m memrnn train``. So a run is the same run
wherever it is made: ``memrnn train --seq-length T --repeat r`` reproduces run
(T, r) of a sweep with the same settings, bit for bit on the same machine.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pickle
import platform
import time
from pathlib import Path

import numpy as np

from . import _blas, _checks, _io, vanishing
from .data import generate_samples
from .learner import Learner, TrainingDiverged
from .losses import MSELoss
from .lstm import chrono_biases
from .optim import OPTIMIZERS
from .settings import Training

__all__ = ["run_seed", "make_model", "train_one", "run_one", "monitored_run", "machine_info"]


def run_seed(seed: int, length: int, repeat: int) -> np.random.SeedSequence:
    """The seed of run (length, repeat): independent of the order runs execute in.

    ``spawn(3)`` of it gives the three streams of a run: initial weights,
    training batches and held-out batches.
    """
    return np.random.SeedSequence([_checks.nonnegative_int(seed, "seed"),
                                   _checks.positive_int(length, "length"),
                                   _checks.nonnegative_int(repeat, "repeat")])


def make_model(training: Training, seed, length: int | None = None):
    """The model that ``training`` describes, with initial weights drawn from ``seed``.

    Parameters
    ----------
    training : Training
        Uses ``model``, ``implementation``, ``hidden``, ``dtype`` and, for the
        LSTM, ``forget_bias`` and ``gate_init``.
    seed : SeedSequence, int or Generator
    length : int or None
        The sequence length T: the chrono initialisation draws its biases
        from ``U(1, T - 1)``; no other model uses it.
    """
    dtype = np.dtype(training.dtype)
    hidden = training.hidden
    if training.model == "rnn":
        if training.implementation == "plain":
            from .rnn import RNN as cls
        else:
            from .fast import FastRNN as cls
        return cls(1, hidden, 1, seed=seed, dtype=dtype)
    if training.model == "lstm":
        if training.implementation == "plain":
            from .lstm import LSTM as cls
        else:
            from .fast_lstm import FastLSTM as cls
        model = cls(1, hidden, 1, seed=seed, dtype=dtype, forget_bias=training.forget_bias)
        if training.gate_init == "chrono":
            if training.chrono_tmax is None and (length is None or length < 3):
                raise ValueError(f"the chrono initialisation needs a sequence length of at "
                                 f"least 3, got {length!r}")
            chrono_biases(model, training.chrono_tmax or length, _side_stream(seed))
        return model
    raise ValueError(f"model must be 'rnn' or 'lstm', got {training.model!r}")


def _side_stream(seed) -> np.random.Generator:
    """A stream independent of the weights' one, derived from the same ``seed``."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(
            np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (1 << 20,)))
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng([int(seed), 1 << 20])


@functools.lru_cache(maxsize=1)
def machine_info() -> dict:
    """Where a run was computed: CPU, NumPy and its SIMD targets, OpenBLAS, Python.

    float64 results agree across machines only statistically: NumPy picks its
    SIMD kernels, and OpenBLAS its matrix kernels, by CPU at run time, and the
    last bits they give differ. Bitwise equal results need the same CPU and
    the same library versions, so every results file says which ones made it.
    """
    from threadpoolctl import threadpool_info

    from . import __version__
    from .fast import TANH_FLOAT32, TANH_FLOAT64

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:                                    # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    # NumPy's own BLAS: another library imported into the process (SciPy's) brings its own,
    # which computes nothing here and would make the record depend on what else is loaded.
    libs = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    libs = [lib for lib in libs if Path(lib.get("filepath", "")).parent.name.startswith("numpy")] or libs
    blas = [f"{lib.get('internal_api')} {lib.get('version')} ({lib.get('architecture')})" for lib in libs]
    return {
        "cpu": cpu,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_simd": [k for k in __cpu_dispatch__ if __cpu_features__.get(k)],
        "blas": blas,
        "fast_tanh": TANH_FLOAT64,
        "fast_tanh_float32": TANH_FLOAT32,
        "memrnn": __version__,
    }


def train_one(training: Training, length: int, repeat: int, *, callback=None, progress=False,
              probe=True):
    """Train and evaluate run (length, repeat) of an experiment.

    The run draws its initial weights, its training batches and its held-out
    batches from three independent streams of ``run_seed(seed, length,
    repeat)``. BLAS is held to one thread: the products are small, and
    parallel runs must not oversubscribe the cores.

    Parameters
    ----------
    training : Training
        For example ``SweepSettings.training()``, or the settings themselves.
    length, repeat : int
        The sequence length T and the repetition r.
    callback : callable or None
        Passed to ``Learner.train``: called at every update (a
        ``vanishing.Monitor``, for example).
    progress : bool
        Show a progress bar (the command line does).
    probe : bool
        Record ``vanishing.summarize`` of the model at initialisation and
        after training, on the first held-out batch.

    Returns
    -------
    record : dict
        JSON-ready: ``length``, ``repeat``, ``seed``, ``eval_mse`` (None if
        diverged), ``diverged``, ``diverged_at`` (update or None),
        ``loss_steps`` and ``losses`` (the logged curve, last update
        included), ``max_grad_norm``, ``median_grad_norm``, ``max_grad_step``,
        ``grad_max_per_log`` (the largest gradient norm of each block of
        ``log_steps`` updates), ``clipped``, ``checkpoints`` ([update,
        held-out MSE or None] for each of ``training.checkpoints``), ``probe`` (``init`` and
        ``final`` summaries, or None), ``machine`` and ``wall_time`` (s).
    learner : Learner
        The trained learner, with its model.
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    t = training
    init_ss, train_ss, eval_ss = run_seed(t.seed, length, repeat).spawn(3)
    dtype = np.dtype(t.dtype)
    with _blas.limit():
        model = make_model(t, init_ss, length)
        x_probe, y_probe = next(generate_samples(t.batch, length, seed=eval_ss, dtype=dtype))
        before = vanishing.summarize(model, x_probe, y_probe) if probe else None
        learner = Learner(model, MSELoss(),
                          generate_samples(t.batch, length, seed=train_ss, dtype=dtype),
                          optimizer=OPTIMIZERS[t.optimizer]())

        def evaluate():
            mse = learner.evaluate(t.eval_batches,
                                   generate_samples(t.batch, length, seed=eval_ss, dtype=dtype))
            return mse if np.isfinite(mse) else None

        # Training stops at each checkpoint to be evaluated, then goes on: the
        # same stream of batches and the same optimizer state, so the run is
        # the one it would be without stops.
        marks = list(t.checkpoints) + [t.steps]
        diverged_at, at_checkpoint = None, {}
        for mark in marks:
            try:
                learner.train(mark - learner.step, t.lr, log_steps=t.log_steps,
                              progress=progress, blas_threads=None, clip=t.clip,
                              callback=callback)
            except TrainingDiverged as err:
                diverged_at = err.step
                break
            if mark < t.steps:
                at_checkpoint[mark] = evaluate()
        eval_mse = None
        if diverged_at is None:
            eval_mse = evaluate()
            if eval_mse is None:
                diverged_at = t.steps
        after = (vanishing.summarize(model, x_probe, y_probe)
                 if probe and diverged_at is None else None)
    # The curve logged every log_steps updates and at the last one; a stop at a
    # checkpoint also logs the update before it, which is left out here.
    steps = [k for k in sorted(learner.loss_values)
             if k % t.log_steps == 0 or k == learner.step - 1]
    g = np.asarray(learner.grad_norms, dtype=float)
    blocks = [g[i:i + t.log_steps].max() for i in range(0, g.size, t.log_steps)]
    record = {
        "length": int(length),
        "repeat": int(repeat),
        "seed": [t.seed, int(length), int(repeat)],
        "eval_mse": eval_mse,
        "diverged": diverged_at is not None,
        "diverged_at": diverged_at,
        "loss_steps": steps,
        "losses": [float(learner.loss_values[k]) for k in steps],
        "max_grad_norm": float(g.max()) if g.size else None,
        "median_grad_norm": float(np.median(g)) if g.size else None,
        "max_grad_step": int(np.argmax(g)) if g.size else None,
        "grad_max_per_log": vanishing._rounded(blocks, 4),
        "clipped": int(learner.clipped),
        "checkpoints": [[k, at_checkpoint.get(k)] for k in marks[:-1]],
        "probe": {"init": before, "final": after} if probe else None,
        "machine": machine_info(),
        "wall_time": time.perf_counter() - start,
        "cpu_time": time.process_time() - cpu_start,
    }
    return record, learner


def run_one(training: Training, length: int, repeat: int) -> dict:
    """Train and evaluate one run and return its record: the unit of work of a sweep.

    A module-level function of plain arguments, so that worker processes and
    cluster executors can pickle it. See ``train_one``.
    """
    return train_one(training, length, repeat)[0]


def monitored_run(training: Training, length: int, repeat: int = 0, every: int = 25, n_seq: int = 64,
                  cache=None) -> dict:
    """Train run (length, repeat) watched by a ``vanishing.Monitor``.

    The same run, update for update, as ``run_one(training, length, repeat)``
    in a sweep on the same machine, with a monitor attached and the full
    ``vanishing.diagnose`` taken before and after training on the first
    held-out batch.

    Parameters
    ----------
    training : Training
    length, repeat : int
    every : int
        Monitor snapshot interval.
    n_seq : int
        Sequences used for the Jacobian products.
    cache : path or None
        A folder: the result is stored there and taken from there the next
        time the same run is asked for, so that several notebooks of one book
        build train it once.

    Returns
    -------
    dict
        ``record`` (as from ``run_one``), ``monitor``, ``grad_norms``,
        ``loss_values``, ``eval_mse``, ``diverged_at``, and ``init`` and
        ``final``: ``vanishing.diagnose`` results (``final`` None if diverged).
    """
    key = None
    if cache is not None:
        fields = dataclasses.asdict(training.training())
        name = "|".join(f"{k}={fields[k]!r}" for k in sorted(fields))
        key = Path(cache) / "monitored" / (
            f"T{length}-r{repeat}-e{every}-n{n_seq}-{_hash_text(name):016x}.pickle")
        if key.exists():
            with open(key, "rb") as fh:
                return pickle.load(fh)
    monitor = vanishing.Monitor(every)
    init_ss, _, eval_ss = run_seed(training.seed, length, repeat).spawn(3)
    dtype = np.dtype(training.dtype)
    x_probe, y_probe = next(generate_samples(training.batch, length, seed=eval_ss, dtype=dtype))
    init_model = make_model(training, init_ss, length)
    before = vanishing.diagnose(init_model, x_probe, y_probe, n_seq)
    record, learner = train_one(training, length, repeat, callback=monitor)
    after = (vanishing.diagnose(learner.model, x_probe, y_probe, n_seq)
             if not record["diverged"] else None)
    out = {"record": record, "length": length, "repeat": repeat, "monitor": monitor,
           "grad_norms": list(learner.grad_norms), "loss_values": dict(learner.loss_values),
           "eval_mse": record["eval_mse"], "diverged_at": record["diverged_at"],
           "init": before, "final": after}
    if key is not None:
        _io.write_bytes(key, pickle.dumps(out))
    return out


def _hash_text(text: str) -> int:
    """A stable 64-bit hash of ``text`` (Python's own ``hash`` changes per process)."""
    import hashlib

    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def cache_folder():
    """The book build's shared cache folder (``$MEMRNN_BOOK_CACHE``), or None."""
    folder = os.environ.get("MEMRNN_BOOK_CACHE")
    return Path(folder) if folder else None
