"""How long ``memrnn grade`` takes for a class: N correct chapter-1 notebooks, one per core.

    python -m benchmarks.grade_batch [--n 50] [--jobs 2]

Makes the notebooks from the student edition (needs jupytext, memrnn[book]),
grades them into a temporary folder, each in its bubblewrap sandbox, and writes
the wall time, the CPU time, the time per notebook and the machine's load to
``benchmarks/results/grade.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memrnn.grading import batch as grade  # noqa: E402
from memrnn.grading import sandbox as _sandbox  # noqa: E402
from tools.grade_fixtures import CORRECT_GENERATOR  # noqa: E402
from tools.student_edition import student_notebook  # noqa: E402

SOLUTION = CORRECT_GENERATOR


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args(argv)
    nb = student_notebook("01-data")
    stub = next(c for c in nb.cells if "stub" in c.metadata.get("tags", []))
    stub.source = SOLUTION
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        subs.mkdir()
        for i in range(args.n):
            nb.metadata["memrnn_student"] = {"name": f"Student {i}", "number": f"{i:06d}"}
            nbformat.write(nb, subs / f"student-{i:03d}.ipynb")
        load_before = os.getloadavg()
        cpu_before = os.times()
        started = time.perf_counter()
        rows = grade.grade(subs, Path(tmp) / "out", jobs=args.jobs, progress=False)
        wall = time.perf_counter() - started
        cpu_after = os.times()
    full = grade.max_points(grade.EXERCISES["generator"])
    result = {
        "notebooks": args.n, "jobs": args.jobs, "cores": os.cpu_count(),
        "wall_seconds": round(wall, 2), "seconds_per_notebook": round(wall / args.n, 3),
        "mean_seconds_per_process": round(sum(r.seconds for r in rows) / len(rows), 3),
        # CPU time: the grader's own, and each sandboxed run's as it reported it.
        "grader_cpu_seconds": round(sum(cpu_after[:2]) - sum(cpu_before[:2]), 2),
        "runs_cpu_seconds": round(sum(r.cpu_seconds for r in rows), 2),
        "all_full_marks": all(r.status == "ok" and r.total() == full for r in rows),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "isolation": _sandbox.sandbox().describe().splitlines(),
    }
    out = ROOT / "benchmarks" / "results" / "grade.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["all_full_marks"] else 1


if __name__ == "__main__":
    sys.exit(main())
