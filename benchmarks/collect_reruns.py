"""Gather reruns of ``benchmarks.bench_step`` at one length into the file "Making it fast" reads.

    python -m benchmarks.bench_step --T 50 --samples 20 --out benchmarks/results/step-T50-rerun-N.json
    python -m benchmarks.collect_reruns benchmarks/results/step-T50-rerun-*.json

Writes ``memrnn/results/speed-reruns-T50.json`` atomically: ``{"format", "runs": [...]}``,
each run the benchmark's own JSON (its machine, load averages and timings), in the order given.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from memrnn import _io

OUT = Path(__file__).resolve().parents[1] / "memrnn" / "results" / "speed-reruns-T50.json"


def main(paths):
    if not paths:
        raise SystemExit("give the rerun files to gather")
    runs = [json.loads(Path(p).read_text()) for p in paths]
    for p, run in zip(paths, runs):
        if [e["T"] for e in run["results"]] != [50]:
            raise SystemExit(f"{p}: expected one length, T = 50, got {[e['T'] for e in run['results']]}")
    _io.write_json(OUT, {"format": "memrnn-speed-reruns-1", "runs": runs})
    print(f"{len(runs)} reruns written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
