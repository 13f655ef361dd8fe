"""Shared pieces of the benchmarks: contenders, timing, machine facts."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
import time

import numpy as np

import memrnn
from benchmarks.baseline import BaselineRNN, mse_loss

LR = 1e-2   # the reference learning rate; every contender trains on one fixed batch


def make_batch(T, batch, seed=0):
    x, y = next(memrnn.generate_samples(batch, T, seed=seed))
    return x, y


def baseline_step(T, batch, hidden, dtype):
    if np.dtype(dtype) != np.float64:
        return None                        # the baseline is float64 only, as written
    x, y = make_batch(T, batch)
    model = BaselineRNN(1, hidden, 1, seed=0)

    def step():
        _, d_loss = mse_loss(model.forward(x), y)
        model.backward(d_loss)
        model.update(LR)
    return step


def memrnn_step(T, batch, hidden, dtype):
    x, y = make_batch(T, batch)
    x, y = x.astype(dtype), y.astype(dtype)
    model = memrnn.RNN(1, hidden, 1, seed=0, dtype=dtype)
    loss = memrnn.MSELoss()

    def step():
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        model.update(LR)
    return step


def torch_step(T, batch, hidden, dtype):
    try:
        import torch
    except ImportError:
        return None
    tdtype = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]
    x, y = make_batch(T, batch)
    xt = torch.tensor(x, dtype=tdtype)
    yt = torch.tensor(y, dtype=tdtype)
    rnn = torch.nn.RNN(1, hidden, nonlinearity="tanh", dtype=tdtype)
    readout = torch.nn.Linear(hidden, 1, dtype=tdtype)
    with torch.no_grad():                  # the same start as memrnn: R = I, zero biases
        rnn.weight_hh_l0.copy_(torch.eye(hidden))
        rnn.bias_hh_l0.zero_()
        rnn.bias_ih_l0.zero_()
        readout.bias.zero_()
    params = list(rnn.parameters()) + list(readout.parameters())
    opt = torch.optim.SGD(params, lr=LR)

    def step():
        opt.zero_grad(set_to_none=True)
        out, _ = rnn(xt)
        loss = torch.mean((readout(out[-1]) - yt) ** 2)
        loss.backward()
        opt.step()
    return step


CONTENDERS = {   # name -> (factory, dtype)
    "baseline f64": (baseline_step, np.float64),
    "memrnn f64": (memrnn_step, np.float64),
    "memrnn f32": (memrnn_step, np.float32),
    "torch f64": (torch_step, np.float64),
    "torch f32": (torch_step, np.float32),
}


def time_alternating(steps: dict, samples: int, warmup: int) -> dict:
    """Median and quartiles (ms) of one call of each step, alternating them.

    Every round runs each contender in a rotated order, so that slow phases of
    the machine hit all of them alike. Within a round, each contender first
    takes one untimed step: the step before it belonged to another contender
    and left the caches full of that one's arrays, whereas in training every
    step follows a step of the same model.
    """
    names = list(steps)
    times = {n: [] for n in names}
    for r in range(warmup + samples):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            steps[name]()
            t0 = time.perf_counter()
            steps[name]()
            dt = time.perf_counter() - t0
            if r >= warmup:
                times[name].append(dt * 1e3)
    return {n: {"median_ms": float(np.median(v)), "p25_ms": float(np.percentile(v, 25)),
                "p75_ms": float(np.percentile(v, 75)), "samples": len(v)} for n, v in times.items()}


def set_threads(threads: int):
    """Limit BLAS/OpenMP (NumPy) and PyTorch to ``threads``; returns the limiter."""
    from threadpoolctl import threadpool_limits
    limiter = threadpool_limits(threads)
    try:
        import torch
        torch.set_num_threads(threads)
    except ImportError:
        pass
    return limiter


def machine_info(threads: int) -> dict:
    from threadpoolctl import threadpool_info
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu, "cores": os.cpu_count(), "python": sys.version.split()[0],
        "numpy": np.__version__, "memrnn": memrnn.__version__, "torch": torch_version,
        "threads": threads,
        "blas_default": [{k: lib.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                 for lib in threadpool_info() if lib["user_api"] == "blas"],
        "command": " ".join([os.path.basename(sys.executable), "-m"] + sys.argv),
    }
