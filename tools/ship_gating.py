"""Copy the gating experiment's results into the package, without what the book does not read.

    python -m tools.ship_gating [RUNS] [--out FOLDER]

RUNS (default ``experiments/gating/runs``) holds one folder per sweep, as
``scripts/run-gating.py`` writes them; the raw files stay there, in the
repository. The package gets ``memrnn/results/gating/NAME.json``: the same
format, every run with its settings, seeds, held-out MSE, checkpoints, cost
and machine, but without the loss curve and the per-log gradient maxima, and
for the grid's selection runs also without the gradient probes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from memrnn import _io

DROP = ("loss_steps", "losses", "grad_max_per_log")
DROP_GRID = DROP + ("probe",)


def thin(data: dict, grid: bool) -> dict:
    drop = DROP_GRID if grid else DROP
    return {**data, "runs": [{k: v for k, v in r.items() if k not in drop} for r in data["runs"]]}


def ship(runs: Path, out: Path) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for path in sorted(runs.glob("gating-*/results.json")):
        name = path.parent.name
        data = thin(json.loads(path.read_text(encoding="utf-8")), name.startswith("gating-grid-"))
        # Atomic, so a reader never sees half a file; and with the permissions of any new file
        # (a mkstemp file would be readable by its owner only).
        _io.write_text(out / f"{name}.json", json.dumps(data, separators=(",", ":")))
        names.append(name)
    return names


def main():
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="?", type=Path, default=root / "experiments" / "gating" / "runs")
    ap.add_argument("--out", type=Path, default=root / "memrnn" / "results" / "gating")
    a = ap.parse_args()
    names = ship(a.runs, a.out)
    size = sum((a.out / f"{n}.json").stat().st_size for n in names)
    print(f"{len(names)} sweeps, {size / 1e6:.2f} MB in {a.out}")


if __name__ == "__main__":
    main()
