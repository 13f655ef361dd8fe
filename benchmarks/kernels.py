"""CPU time per call of the operations of one time step, on each x86 SIMD level NumPy dispatches to.

    python -m benchmarks.kernels [--out FILE]

Runs ``common.kernel_times`` at (B, H) = (1024, 10) in one subprocess per level:
NumPy as it is (AVX-512 on the machine that made the shipped results), with its
AVX-512 kernels switched off (as on an AVX2 CPU), and with its AVX2 kernels off
too (SSE, NumPy's baseline, as on a CPU older than AVX2). OpenBLAS keeps its
own kernels. At each level it records the tanh that ``memrnn.fast`` picks for
float64 and float32, so the timings say whether the choice is right. Writes
``memrnn/results/speed-kernels.json``, shipped for the book's "Making it fast".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks import common
from memrnn import _io

MODULE = "benchmarks.kernels"
LEVELS = ("default", "avx2", "sse")


def child(samples):
    import memrnn.fast

    with common.set_threads(1):
        load = common.loadavg()
        kernels = common.kernel_times(samples=samples)
    print(json.dumps({"dispatch": common.dispatch_label(),
                      "emulated": os.environ.get("NPY_DISABLE_CPU_FEATURES") is not None,
                      "env": {k: os.environ[k] for k in ("NPY_DISABLE_CPU_FEATURES",) if k in os.environ},
                      "fast_tanh": {"float64": memrnn.fast.TANH_FLOAT64, "float32": memrnn.fast.TANH_FLOAT32},
                      "loadavg_before": load, "loadavg_after": common.loadavg(),
                      "kernels_us": kernels}))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=200, help="rounds per operation and level")
    p.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "memrnn" / "results"
                   / "speed-kernels.json")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args.samples)
    info = common.machine_info(1, " ".join(["python -m", MODULE, *(argv or sys.argv[1:])]))
    info["loadavg_start"] = common.loadavg()
    levels = {}
    for level in LEVELS:
        env = dict(os.environ) if level == "default" else common.emulate(level)
        out = subprocess.run([sys.executable, "-m", MODULE, "--child", "--samples", str(args.samples)],
                             env=env, check=True, capture_output=True, text=True).stdout
        got = json.loads(out.strip().splitlines()[-1])
        if got["dispatch"] in levels:           # a CPU below AVX-512: nothing more to emulate
            continue
        levels[got["dispatch"]] = got
        print(f"==> {got['dispatch']}: fast tanh {got['fast_tanh']}, load {got['loadavg_after']}")
        for name, k in got["kernels_us"].items():
            print(f"  {name:32s} {k['median_us']:8.1f} µs")
    info["loadavg_end"] = common.loadavg()
    _io.write_json(args.out, {"machine": info, "clock": "process_time", "samples": args.samples,
                              "levels": levels})
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
