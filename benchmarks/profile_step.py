"""Line-by-line profiles of the plain and the fast RNN's training step at T = 50, batch 1024.

    python -m benchmarks.profile_step [--dtype float64] [--T 50] [--steps 40]

Writes ``profiles/plain-<dtype>.txt`` (``RNN.forward`` and ``RNN.backward``)
and ``profiles/fast-<dtype>.txt`` (``FastRNN.forward`` and
``FastRNN.backward``). Needs line_profiler (``bash scripts/setup.sh bench``).
A line profile slows every line down by about the same few hundred
nanoseconds, so it shows where the time goes, not how long a step takes.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from line_profiler import LineProfiler

import memrnn
from benchmarks.common import set_threads
from memrnn import _io
from memrnn.fast import FastRNN
from memrnn.rnn import RNN


def profile(cls, T, steps, dtype) -> str:
    x, y = next(memrnn.generate_samples(1024, T, seed=0, dtype=dtype))
    model = cls(1, 10, 1, seed=0, dtype=dtype)
    loss = memrnn.MSELoss()
    prof = LineProfiler(cls.forward, cls.backward)
    with set_threads(1):
        for _ in range(3):                                   # warm-up, unprofiled
            loss.forward(model.forward(x), y)
            model.backward(loss.backward())
        prof.enable_by_count()
        for _ in range(steps):
            loss.forward(model.forward(x), y)
            model.backward(loss.backward())
            model.update(1e-2)
        prof.disable_by_count()
    buf = io.StringIO()
    prof.print_stats(stream=buf, output_unit=1e-3, stripzeros=True)
    tanh = f", float64 tanh {model.tanh}" if hasattr(model, "tanh") else ""
    return (f"# {cls.__name__}: {steps} steps, T = {T}, batch 1024, hidden 10, {np.dtype(dtype).name}"
            f"{tanh}, 1 BLAS thread\n" + buf.getvalue())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--T", type=int, default=50)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    p.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "profiles")
    args = p.parse_args(argv)
    dtype = np.dtype(args.dtype)
    for name, cls in (("plain", RNN), ("fast", FastRNN)):
        text = profile(cls, args.T, args.steps, dtype)
        out = args.out_dir / f"{name}-{args.dtype}.txt"
        _io.write_text(out, text)
        print(text)
        print(f"written to {out}")


if __name__ == "__main__":
    main()
