"""Time one SGD step (forward, backpropagation through time, update) of each contender.

    python -m benchmarks.bench_step [--dispatch default|avx2] [--T 10 50 100] [--out FILE]

Batch 1024, hidden 10, one BLAS and PyTorch thread. The contenders are timed
in CPU time (wall-clock time recorded next to it), twice, each time alternating
round after round: all in this one process, and each in a worker process of its
own, as a training run has it (see ``benchmarks/common.py`` for why both).
``--dispatch avx2`` runs the benchmark again in a subprocess whose NumPy
dispatches as on an AVX2-only CPU (its AVX-512 kernels switched off). Prints
tables of median CPU ms per step and writes JSON (default
``memrnn/results/speed-step-<dispatch>.json``, shipped with the package for the
book's "Making it fast", named by the SIMD level NumPy used).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from benchmarks import common
from memrnn import _io
from memrnn.fast import FastRNN
from memrnn.fast_lstm import FastLSTM
from memrnn.lstm import LSTM
from memrnn.rnn import RNN

MODULE = "benchmarks.bench_step"
BASE = "plain f64"
MODES = ("in_process", "isolated")


def contender(name, T, batch, hidden):
    """Build the step of one contender by name (in this process or in a worker)."""
    if name.startswith("torch"):
        return common.torch_step(T, batch, hidden, np.float64 if "f64" in name else np.float32)
    models = {
        "plain f64": lambda: RNN(1, hidden, 1, seed=0),
        "fast f64 np.tanh": lambda: FastRNN(1, hidden, 1, seed=0, tanh="numpy"),
        "fast f64 exp": lambda: FastRNN(1, hidden, 1, seed=0, tanh="exp"),
        "fast f32": lambda: FastRNN(1, hidden, 1, seed=0, dtype=np.float32),
        "LSTM f64": lambda: LSTM(1, hidden, 1, seed=0),
        "fast LSTM f64": lambda: FastLSTM(1, hidden, 1, seed=0),
    }
    return common.model_step(models[name](), T, batch)


def contender_names():
    names = ["plain f64", "fast f64 np.tanh", "fast f64 exp", "fast f32", "LSTM f64", "fast LSTM f64"]
    if common.has_torch():
        names += ["torch f64", "torch f32"]
    return names


def run(Ts, batch, hidden, threads, samples, warmup, modes):
    names = contender_names()
    results = []
    for T in Ts:
        entry = {"T": T, "batch": batch, "hidden": hidden}
        with common.set_threads(threads):
            steps = {name: contender(name, T, batch, hidden) for name in names}
            # Same start, same step: every RNN contender in float64 computes what the
            # plain RNN computes. (These steps are not timed.)
            same = [n for n in names if "f64" in n and "LSTM" not in n and n != BASE]
            entry["max_weight_diff_vs_plain"] = common.check_same_step(steps, BASE, same)
            for mode in modes:
                load_before = common.loadavg()
                if mode == "in_process":
                    timing = common.time_alternating(steps, samples, warmup)
                else:
                    timing = common.time_isolated(MODULE, names, T, batch, hidden, samples, warmup,
                                                  threads)
                base, base_wall = timing[BASE]["median_cpu_ms"], timing[BASE]["median_ms"]
                entry[mode] = {"timing": timing,
                               "speedup_vs_plain": {n: base / t["median_cpu_ms"] for n, t in timing.items()},
                               "speedup_vs_plain_wall": {n: base_wall / t["median_ms"]
                                                         for n, t in timing.items()},
                               "loadavg_before": load_before, "loadavg_after": common.loadavg()}
                print(f"T = {T}, {mode}: done, load average {common.loadavg()}", flush=True)
            del steps
        results.append(entry)
    return results


def table(results, mode) -> str:
    names = list(results[0][mode]["timing"])
    head = ["T"] + names
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [str(r["T"])]
        for n in names:
            ms, x = r[mode]["timing"][n]["median_cpu_ms"], r[mode]["speedup_vs_plain"][n]
            cells.append(f"{ms:.2f}" if n == BASE else f"{ms:.2f} ({x:.2f}x)")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    p = common.timing_parser(__doc__, MODES)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    if common.run_with_dispatch(args.dispatch, MODULE, argv):
        return
    label = common.dispatch_label()
    out = args.out or Path(__file__).parents[1] / "memrnn" / "results" / f"speed-step-{label}.json"
    info = common.machine_info(args.threads, " ".join(["python -m", MODULE, *argv]))
    info["loadavg_start"] = common.loadavg()
    results = run(args.T, args.batch, args.hidden, args.threads, args.samples, args.warmup,
                  args.modes)
    info["loadavg_end"] = common.loadavg()
    tables = {mode: table(results, mode) for mode in args.modes}
    for mode, text in tables.items():
        print(f"\nOne SGD step, batch {args.batch}, hidden {args.hidden}, {args.threads} thread(s), "
              f"NumPy dispatch {label}{' (emulated)' if info['emulated'] else ''}, {mode}: median "
              f"CPU ms of {args.samples} alternating rounds (speed-up against {BASE}):\n")
        print(text)
    _io.write_json(out, {"machine": info, "clock": "process_time", "base": BASE, "samples": args.samples,
                         "results": results, "tables_markdown": tables})
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
