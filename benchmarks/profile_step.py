"""Line-by-line profile of RNN.forward and RNN.backward at T = 50, batch 1024.

    python -m benchmarks.profile_step [--dtype float64] [--out FILE]
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from line_profiler import LineProfiler

import memrnn
from memrnn import rnn
from benchmarks.common import set_threads


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--T", type=int, default=50)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    dtype = np.dtype(args.dtype)
    x, y = next(memrnn.generate_samples(1024, args.T, seed=0, dtype=dtype))
    model = memrnn.RNN(1, 10, 1, seed=0, dtype=dtype)
    loss = memrnn.MSELoss()
    prof = LineProfiler(rnn.RNN.forward, rnn.RNN.backward, rnn._tanh)
    with set_threads(1):
        for _ in range(3):                                   # warm-up, unprofiled
            loss.forward(model.forward(x), y)
            model.backward(loss.backward())
        prof.enable_by_count()
        for _ in range(args.steps):
            loss.forward(model.forward(x), y)
            model.backward(loss.backward())
            model.update(1e-2)
        prof.disable_by_count()
    buf = io.StringIO()
    prof.print_stats(stream=buf, output_unit=1e-3, stripzeros=True)
    text = f"# {args.steps} steps, T = {args.T}, batch 1024, hidden 10, {args.dtype}, 1 BLAS thread\n"
    text += buf.getvalue()
    out = args.out or Path(__file__).parent / "profiles" / f"after-{args.dtype}.txt"
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
