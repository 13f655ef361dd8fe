"""Time one SGD step (forward, BPTT, update) for each contender.

    python -m benchmarks.bench_step [--T 10 50 100] [--threads 1] [--out FILE]

Batch 1024 and hidden 10 by default. Prints a table of median ms/step with
the speed-up ratios and writes it as JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from memrnn import _io
from benchmarks.common import CONTENDERS, machine_info, set_threads, time_alternating

RATIOS = [  # (label, slower, faster)
    ("baseline f64 / memrnn f64", "baseline f64", "memrnn f64"),
    ("baseline f64 / memrnn f32", "baseline f64", "memrnn f32"),
    ("torch f64 / memrnn f64", "torch f64", "memrnn f64"),
    ("torch f32 / memrnn f32", "torch f32", "memrnn f32"),
]


def run(Ts, batch, hidden, threads, samples, warmup):
    results = []
    with set_threads(threads):
        for T in Ts:
            steps = {}
            for name, (factory, dtype) in CONTENDERS.items():
                step = factory(T, batch, hidden, dtype)
                if step is not None:
                    steps[name] = step
            timing = time_alternating(steps, samples, warmup)
            ratios = {label: timing[a]["median_ms"] / timing[b]["median_ms"]
                      for label, a, b in RATIOS if a in timing and b in timing}
            results.append({"T": T, "batch": batch, "hidden": hidden, "timing": timing,
                            "ratios": ratios})
    return results


def table(results) -> str:
    names = [n for n in CONTENDERS if n in results[0]["timing"]]
    ratio_labels = [label for label, _, _ in RATIOS if label in results[0]["ratios"]]
    head = ["T"] + [f"{n} (ms)" for n in names] + ratio_labels
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [str(r["T"])] + [f"{r['timing'][n]['median_ms']:.2f}" for n in names]
        cells += [f"{r['ratios'][label]:.2f}x" for label in ratio_labels]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--T", type=int, nargs="+", default=[10, 50, 100])
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--samples", type=int, default=40, help="timed rounds per T")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    out = args.out or Path(__file__).parent / "results" / f"step-threads{args.threads}.json"
    results = run(args.T, args.batch, args.hidden, args.threads, args.samples, args.warmup)
    text = table(results)
    print(f"One SGD step, batch {args.batch}, hidden {args.hidden}, {args.threads} thread(s), "
          f"median of {args.samples} alternating rounds:\n")
    print(text)
    _io.write_json(out, {"machine": machine_info(args.threads), "results": results,
                         "table_markdown": text})
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
