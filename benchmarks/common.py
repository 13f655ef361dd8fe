"""Shared pieces of the benchmarks: contenders, timing, the dispatch path, machine facts.

A *contender* is a function that takes one SGD step (forward, backpropagation
through time, update) of one model on one fixed batch; data generation is not
timed. A benchmark module names its contenders and builds them with a
module-level ``contender(name, T, batch, hidden)``, so that a worker process
can build one by name.

Two ways of timing them, both alternating the contenders round after round
(each round in a rotated order) so that the machine's slow phases hit them
alike:

- ``time_alternating``: all contenders in this one process.
- ``time_isolated``: each contender in a worker process of its own, as a
  training run has it; this process only tells them in turn to take a step.
  The difference matters for models that allocate fresh arrays at every step:
  whether the C library hands the freed memory back to the kernel (and the
  next step pays a page fault for every 4 KiB page it touches again) depends
  on everything else the process holds. So every timing also counts the page
  faults of the timed step.

The figures reported are CPU times of the process (``time.process_time``:
user and system time, so the kernel's work on a page fault counts). On a
shared machine a wall-clock time also holds the time other processes had the
core, which can be most of it; the wall-clock time is recorded next to the
CPU time. Load averages are recorded before and after every block.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import memrnn
from memrnn.run import machine_info as memrnn_machine_info

LR = 1e-2   # the reference learning rate; every contender trains on one fixed batch

#: What switches NumPy's kernels off above a level, so that it dispatches as on an
#: older x86-64 CPU: AVX2 (no AVX-512) or SSE (NumPy's baseline, no AVX2 either).
#: OpenBLAS chooses its own kernels and is not affected.
DISABLE = {"avx2": "X86_V4 AVX512_ICL AVX512_SPR", "sse": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"}
AVX2_ONLY = DISABLE["avx2"]
DISPATCHES = ("default", "avx2")


# ----------------------------------------------------------------- contenders
def make_batch(T, batch, dtype=np.float64, seed=0):
    return next(memrnn.generate_samples(batch, T, seed=seed, dtype=dtype))


def model_step(model, T, batch):
    """One SGD step of a memrnn model (``RNN``, ``FastRNN``, ``LSTM``, ...), as ``Learner`` takes it."""
    x, y = make_batch(T, batch, model.dtype)
    loss = memrnn.MSELoss()

    def step():
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        model.update(LR)
    step.model = model
    return step



def has_torch() -> bool:
    try:
        import torch  # noqa: F401  (only: is it there?)
    except ImportError:
        return False
    return True


def torch_step(T, batch, hidden, dtype):
    """The same RNN and SGD step written by hand in PyTorch, gradients by autograd.

    Starts from memrnn's initial weights (seed 0), so it computes the same
    numbers as ``memrnn.RNN``, which ``check_same_step`` verifies.
    """
    import torch

    tdtype = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]
    x, y = make_batch(T, batch, dtype)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    start = memrnn.RNN(1, hidden, 1, seed=0, dtype=dtype)
    W, R, bs, V, by = (torch.tensor(getattr(start, n), dtype=tdtype, requires_grad=True)
                       for n in memrnn.RNN.PARAM_NAMES)
    params = (W, R, bs, V, by)

    def step():
        a = torch.zeros(batch, hidden, dtype=tdtype)
        for t in range(T):
            a = torch.tanh(xt[t] @ W + a @ R + bs)
        loss = torch.mean((a @ V + by - yt) ** 2)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
    step.weights = lambda: {n: p.detach().numpy().copy()
                            for n, p in zip(memrnn.RNN.PARAM_NAMES, params)}
    return step


def weights_of(step) -> dict:
    return step.weights() if hasattr(step, "weights") else step.model.get_weights()


def check_same_step(steps: dict, reference: str, names, atol=1e-12, n=2, grads=False):
    """Take ``n`` steps of each named contender and of ``reference`` from the same start;
    raise if any weight (and, with ``grads``, any gradient of the last step) differs
    by more than ``atol``. Returns the largest difference.

    The contenders must start from the same weights (they do: seed 0). The
    steps taken here are not timed.
    """
    for _ in range(n):
        for name in [reference, *names]:
            steps[name]()
    worst = 0.0
    for name in names:
        pairs = [(weights_of(steps[name]), weights_of(steps[reference]))]
        if grads:
            pairs.append((steps[name].model.grads, steps[reference].model.grads))
        for got, ref in pairs:
            diff = max(float(np.max(np.abs(got[k].astype(np.float64) - ref[k]))) for k in ref)
            if not diff <= atol:
                raise AssertionError(f"{name} does not take the step {reference} takes: "
                                     f"they differ by {diff:.2e} > {atol:g}")
            worst = max(worst, diff)
    return worst


# --------------------------------------------------------------------- timing
def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _nothing():
    pass


def timed_step(step) -> tuple[float, float, int]:
    """One untimed step, then one timed step: its wall-clock and CPU milliseconds, page faults.

    The untimed step is there because the step before belonged to another
    contender and left the caches full of its arrays, whereas in training
    every step follows a step of the same model. A step may carry ``before``
    and ``after`` hooks (e.g. to set the BLAS threads); they run untimed.
    """
    getattr(step, "before", _nothing)()
    step()
    f0 = _faults()
    c0 = time.process_time()
    t0 = time.perf_counter()
    step()
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    faults = _faults() - f0
    getattr(step, "after", _nothing)()
    return dt * 1e3, cpu * 1e3, faults


def _rounds(names, samples, warmup, run_one) -> dict:
    times = {n: [] for n in names}
    cpu = {n: [] for n in names}
    faults = {n: [] for n in names}
    for r in range(warmup + samples):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            ms, cpu_ms, f = run_one(name)
            if r >= warmup:
                times[name].append(ms)
                cpu[name].append(cpu_ms)
                faults[name].append(f)
    return {n: summary(times[n], faults[n], cpu[n]) for n in names}


def time_alternating(steps: dict, samples: int, warmup: int) -> dict:
    """Median and quartiles (ms) of one step of each contender, all in this process."""
    return _rounds(list(steps), samples, warmup, lambda name: timed_step(steps[name]))


def _worker(conn, module, name, T, batch, hidden, threads):
    limiter = set_threads(threads)     # noqa: F841  (held for the worker's life)
    step = importlib.import_module(module).contender(name, T, batch, hidden)
    conn.send("ready")
    while conn.recv() == "step":
        conn.send(timed_step(step))
    conn.close()


def time_isolated(module: str, names, T, batch, hidden, samples, warmup, threads=1) -> dict:
    """Like ``time_alternating``, with every contender in a worker process of its own.

    ``module.contender(name, T, batch, hidden)`` builds each one in its
    worker. Only one worker runs at a time: this process tells them in turn
    to take their (untimed and timed) steps and collects the timings they
    measure themselves.
    """
    ctx = multiprocessing.get_context("spawn")
    pipes, procs = {}, []
    try:
        for name in names:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child, module, name, T, batch, hidden, threads),
                               daemon=True)
            proc.start()
            procs.append(proc)
            pipes[name] = parent
        for name in names:
            if pipes[name].recv() != "ready":
                raise RuntimeError(f"worker {name} did not start")

        def run_one(name):
            pipes[name].send("step")
            return pipes[name].recv()
        return _rounds(list(names), samples, warmup, run_one)
    finally:
        for conn in pipes.values():
            try:
                conn.send("stop")
            except (BrokenPipeError, OSError):
                pass
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()


def kernel_times(batch=1024, hidden=10, samples=200, reps=20) -> dict:
    """CPU microseconds per call of the operations one time step is made of, at (B, H) arrays.

    The tanh three ways in float64 (NumPy's, its exp alone, and FastRNN's
    ``1 - 2/(e^{2s} + 1)``) and two ways in float32, the three small matrix
    products of a step and one element-wise pass; all in place, as FastRNN
    calls them, alternating round after round. Median over ``samples`` rounds
    of ``reps`` calls.
    """
    from memrnn.fast import tanh_exp

    rng = np.random.default_rng(0)
    s64 = rng.normal(size=(batch, hidden))
    s32 = s64.astype(np.float32)
    out64, out32 = np.empty_like(s64), np.empty_like(s32)
    x1 = np.ones((batch, 2))
    w = rng.normal(size=(2, hidden))
    r = rng.normal(size=(hidden, hidden))
    term = np.empty((hidden, hidden))

    def exp_tanh(s, out):
        def op():
            with np.errstate(over="ignore"):
                tanh_exp(s, out=out)
        return op

    ops = {
        "np.tanh f64": lambda: np.tanh(s64, out=out64),
        "np.exp f64": lambda: np.exp(s64, out=out64),
        "exp-formula tanh f64": exp_tanh(s64, out64),
        "np.tanh f32": lambda: np.tanh(s32, out=out32),
        "exp-formula tanh f32": exp_tanh(s32, out32),
        "[x_t, 1] [W; b_s] (B,2)x(2,H)": lambda: np.matmul(x1, w, out=out64),
        "a_{t-1} R (B,H)x(H,H)": lambda: np.matmul(s64, r, out=out64),
        "a_{t-1}^T delta (H,B)x(B,H)": lambda: np.matmul(s64.T, out64, out=term),
        "one element-wise pass (B,H)": lambda: np.multiply(s64, s64, out=out64),
    }
    times = {name: [] for name in ops}
    for _ in range(samples):
        for name, op in ops.items():
            op()
            t0 = time.process_time()
            for _ in range(reps):
                op()
            times[name].append((time.process_time() - t0) / reps * 1e6)
    return {name: {"median_us": float(np.median(v)), "p25_us": float(np.percentile(v, 25)),
                   "p75_us": float(np.percentile(v, 75))} for name, v in times.items()}


def summary(ms, faults=None, cpu_ms=None) -> dict:
    """Median and quartiles of the wall-clock times and of the CPU times of the process
    (``time.process_time``, the figures reported), and the median page faults per step."""
    out = {"median_ms": float(np.median(ms)), "p25_ms": float(np.percentile(ms, 25)),
           "p75_ms": float(np.percentile(ms, 75)), "samples": len(ms)}
    if cpu_ms is not None:
        out.update({"median_cpu_ms": float(np.median(cpu_ms)),
                    "p25_cpu_ms": float(np.percentile(cpu_ms, 25)),
                    "p75_cpu_ms": float(np.percentile(cpu_ms, 75))})
    if faults is not None:
        out["median_page_faults"] = float(np.median(faults))
    return out


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


def timing_parser(doc: str, modes) -> argparse.ArgumentParser:
    """The options every step benchmark takes: the dispatch path, lengths, sizes, rounds, output."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--dispatch", choices=DISPATCHES, default="default",
                   help="avx2: switch NumPy's AVX-512 kernels off (in a subprocess)")
    p.add_argument("--T", type=int, nargs="+", default=[10, 50, 100])
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=10)
    p.add_argument("--samples", type=int, default=30, help="timed rounds per T and mode")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--modes", nargs="+", choices=modes, default=list(modes))
    p.add_argument("--out", type=Path, default=None)
    return p


# ------------------------------------------------------------- dispatch path
def dispatch_label() -> str:
    """The x86 SIMD level NumPy dispatches to in this process: "avx512", "avx2", "sse" or "other"."""
    simd = memrnn_machine_info()["numpy_simd"]
    if "X86_V4" in simd or "AVX512_SKX" in simd:
        return "avx512"
    if "X86_V3" in simd or "AVX2" in simd:
        return "avx2"
    from memrnn.fast import _numpy_cpu_features
    if any(_numpy_cpu_features().get(k) for k in ("X86_V2", "SSE2")):
        return "sse"              # NumPy's baseline: no dispatch target above it is switched on
    return "other"


def emulate(dispatch: str) -> dict:
    """The environment under which NumPy (and PyTorch) dispatch as on a CPU of level ``dispatch``."""
    if dispatch not in DISABLE:
        raise ValueError(f"dispatch must be one of {tuple(DISABLE)}, got {dispatch!r}")
    return dict(os.environ, NPY_DISABLE_CPU_FEATURES=DISABLE[dispatch],
                ATEN_CPU_CAPABILITY="avx2" if dispatch == "avx2" else "default")


def run_with_dispatch(dispatch: str, module: str, argv) -> bool:
    """For ``--dispatch avx2``: run ``python -m module argv`` again in a subprocess whose
    NumPy has its AVX-512 kernels switched off, and return True (the caller then stops).

    Returns False when this process already dispatches as asked, and True without
    running anything on a CPU without AVX-512, where the default run is the AVX2
    one (or there is no AVX2 to emulate). The child gets
    ``NPY_DISABLE_CPU_FEATURES`` (NumPy's kernels) and ``ATEN_CPU_CAPABILITY=avx2``
    (PyTorch's); OpenBLAS keeps the kernels it picks for the real CPU.
    """
    if dispatch == "default" or os.environ.get("NPY_DISABLE_CPU_FEATURES") == AVX2_ONLY:
        return False
    if dispatch != "avx2":
        raise ValueError(f"dispatch must be one of {DISPATCHES}, got {dispatch!r}")
    if dispatch_label() != "avx512":
        print(f"==> NumPy dispatches to {dispatch_label()} here already: nothing to emulate, "
              f"the default run is the one", flush=True)
        return True
    env = emulate("avx2")
    print(f"==> again with NPY_DISABLE_CPU_FEATURES={AVX2_ONLY!r} ATEN_CPU_CAPABILITY=avx2",
          flush=True)
    subprocess.run([sys.executable, "-m", module, *argv], env=env, check=True)
    return True


def machine_info(threads: int, command: str) -> dict:
    """``memrnn.run.machine_info()`` and what else a benchmark result needs to be read."""
    info = dict(memrnn_machine_info())
    flags = set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            line = next((ln for ln in fh if ln.startswith("flags")), "")
        flags = set(line.split(":", 1)[-1].split())
    except OSError:
        pass
    torch_info = None
    if has_torch():
        import torch
        torch_info = {"version": torch.__version__,
                      "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    info.update({
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu_flags": sorted(f for f in flags if f.startswith(("avx", "fma", "sse4"))),
        "dispatch": dispatch_label(),
        "emulated": os.environ.get("NPY_DISABLE_CPU_FEATURES") is not None,
        "env": {k: os.environ[k] for k in ("NPY_DISABLE_CPU_FEATURES", "ATEN_CPU_CAPABILITY")
                if k in os.environ},
        "torch": torch_info,
        "threads": threads,
        "command": command,
    })
    return info


def loadavg() -> list:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return []
