"""How the fast RNN's step time grows with T, batch and hidden size, and how a sweep of
independent training runs scales from 1 to 2 worker processes.

    python -m benchmarks.scaling [--out FILE]

The model is ``memrnn.fast.FastRNN``, the one the sweep and ``Learner`` train.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

import memrnn
from benchmarks import common
from memrnn import _io
from memrnn.fast import FastRNN


def step_times(param, values, fixed, dtype, samples, warmup):
    steps = {}
    for v in values:
        kw = dict(fixed, **{param: v})
        model = FastRNN(1, kw["hidden"], 1, seed=0, dtype=dtype)
        steps[v] = common.model_step(model, kw["T"], kw["batch"])
    timing = common.time_alternating(steps, samples, warmup)
    return {str(v): timing[v]["median_ms"] for v in values}


def linear_fit(xs, ys):
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    slope, intercept = np.polyfit(xs, ys, 1)
    pred = slope * xs + intercept
    r2 = 1 - np.sum((ys - pred) ** 2) / np.sum((ys - ys.mean()) ** 2)
    return {"ms_per_unit": float(slope), "intercept_ms": float(intercept), "r2": float(r2)}


def _one_run(job):
    """One training run as the sweep does it: its own seed, one BLAS thread."""
    T, steps, seed = job
    model = FastRNN(1, 10, 1, seed=seed)
    learner = memrnn.Learner(model, memrnn.MSELoss(), memrnn.generate_samples(1024, T, seed=seed + 1))
    learner.train(steps, 1e-2, progress=False, blas_threads=1)
    return learner.evaluate(2)


def sweep_throughput(workers, jobs):
    t0 = time.perf_counter()
    if workers == 1:
        results = [_one_run(j) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_one_run, jobs))
    wall = time.perf_counter() - t0
    return {"workers": workers, "runs": len(jobs), "wall_s": wall, "runs_per_s": len(jobs) / wall,
            "results": results}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--sweep-runs", type=int, default=8)
    p.add_argument("--sweep-steps", type=int, default=1000)
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "scaling.json")
    args = p.parse_args(argv)

    fixed = {"T": 50, "batch": 1024, "hidden": 10}
    report = {"machine": common.machine_info(1, "python -m benchmarks.scaling"), "step_ms": {},
              "fits": {}}
    report["machine"]["loadavg_start"] = common.loadavg()
    with common.set_threads(1):
        for dtype in (np.float64, np.float32):
            key = np.dtype(dtype).name
            by_T = step_times("T", [10, 25, 50, 100, 200], fixed, dtype, args.samples, args.warmup)
            by_batch = step_times("batch", [128, 256, 512, 1024, 2048, 4096], fixed, dtype,
                                  args.samples, args.warmup)
            by_hidden = step_times("hidden", [5, 10, 20, 50, 100], fixed, dtype,
                                   args.samples, args.warmup)
            report["step_ms"][key] = {"T": by_T, "batch": by_batch, "hidden": by_hidden}
            report["fits"][key] = {
                "T": linear_fit([int(k) for k in by_T], list(by_T.values())),
                "batch": linear_fit([int(k) for k in by_batch], list(by_batch.values())),
            }
            print(f"{key}: step time (ms) at batch 1024, hidden 10, against T: {by_T}")
            print(f"{key}:   linear in T: {report['fits'][key]['T']}")
            print(f"{key}: against batch (T = 50): {by_batch}")
            print(f"{key}: against hidden (T = 50): {by_hidden}")

    # The sweep: identical independent runs, T = 20, one BLAS thread per process.
    jobs = [(20, args.sweep_steps, seed) for seed in range(args.sweep_runs)]
    one = sweep_throughput(1, jobs)
    two = sweep_throughput(2, jobs)
    assert one["results"] == two["results"], "parallel runs must give identical results"
    report["sweep"] = {"one_worker": one, "two_workers": two,
                       "speedup": two["runs_per_s"] / one["runs_per_s"]}
    report["machine"]["loadavg_end"] = common.loadavg()
    print(f"sweep of {len(jobs)} runs x {args.sweep_steps} updates at T = 20: "
          f"1 worker {one['wall_s']:.1f} s, 2 workers {two['wall_s']:.1f} s, "
          f"speed-up {report['sweep']['speedup']:.2f}x (results identical)")
    _io.write_json(args.out, report)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
