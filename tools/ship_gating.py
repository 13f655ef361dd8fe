"""Copy the gating experiments' results into the package, without what the book does not read.

    python -m tools.ship_gating [RUNS] [--out FOLDER] [--confirm {all,grid,none}]
                                [--confirm-out FOLDER] [--partial-grid]

RUNS (default ``experiments/gating/runs``) holds one folder per sweep, as
``scripts/run-gating.py`` writes them; the raw files stay there, in the
repository. The contest's sweeps (``gating-*``) go to
``memrnn/results/gating/NAME.json``: the same format, every run with its
settings, seeds, held-out MSE, checkpoints, cost and machine, but without the
loss curve and the per-log gradient maxima, and for the grid's selection runs
also without the gradient probes.

The confirmatory experiment's own sweeps (``memrnn.confirm``: the grids
``confirm-grid-*`` and ``chrono-grid-*``, then the fresh seeds at the chosen
rates) go, thinned the same way, to ``memrnn/results/confirm/``, a folder of
their own: the contest's folder holds exactly the contest, whose runs the
confirmatory experiment reuses from there and never copies. A stage ships
whole or not at all: with ``--confirm all`` (the default) every planned sweep
of both stages must hold all its runs, with ``--confirm grid`` those of the
grid; a short or missing sweep, a sweep with other settings than the plan's,
or a folder the plan does not name stops the shipping before any file is
written. ``--partial-grid`` ships a grid that is not complete yet, as far as
it goes (``confirm.load`` then lists what is missing).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from memrnn import _io, confirm
from memrnn import settings as S

DROP = ("loss_steps", "losses", "grad_max_per_log")
DROP_GRID = DROP + ("probe",)
#: Folders the confirmatory experiment writes: its grids, then its fresh seeds.
CONFIRM_GRID = re.compile(r"^(confirm|chrono)-grid-")
CONFIRM_ANY = re.compile(r"^(confirm|chrono)-")


def thin(data: dict, grid: bool) -> dict:
    drop = DROP_GRID if grid else DROP
    return {**data, "runs": [{k: v for k, v in r.items() if k not in drop} for r in data["runs"]]}


def _write_thinned(path: Path, out: Path, grid: bool) -> None:
    data = thin(json.loads(path.read_text(encoding="utf-8")), grid)
    # Atomic, so a reader never sees half a file; and with the permissions of any new file
    # (a mkstemp file would be readable by its owner only).
    _io.write_text(out / f"{path.parent.name}.json", json.dumps(data, separators=(",", ":")))


def ship(runs: Path, out: Path) -> list[str]:
    """Ship the contest's sweeps (``gating-*``) from ``runs`` to ``out``; their names."""
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for path in sorted(runs.glob("gating-*/results.json")):
        _write_thinned(path, out, path.parent.name.startswith("gating-grid-"))
        names.append(path.parent.name)
    return names


def confirm_sweeps(runs: Path, stage: str = "all", partial_grid: bool = False,
                   contest_folder=None) -> list[str]:
    """The confirmatory sweeps in ``runs`` that ship for ``stage``, checked against the plan.

    ``stage`` is ``"all"`` (grids and fresh seeds) or ``"grid"``. Raises
    ValueError, naming every problem, when a planned sweep of the stage is
    missing or short (a grid may be, with ``partial_grid``), holds other
    settings than the plan's, or when a confirm or chrono folder is not a
    sweep of the plan. The chosen rates, which name the fresh-seed sweeps,
    come from the complete grid, the contest's reused selection runs read from
    ``runs`` or else from ``contest_folder`` (default: the contest's shipped
    folder).
    """
    if stage not in ("all", "grid"):
        raise ValueError(f"stage must be 'all' or 'grid', got {stage!r}")
    data = confirm.load(runs, contest_folder)          # refuses a sweep with other settings
    grid = set(confirm.grid_profiles())
    problems, names = [], []
    short_grid = {n: v for n, v in data["incomplete"].items() if n in grid}
    if short_grid and not partial_grid:
        problems.append("the grid is not complete: " + "; ".join(
            f"{n} has {have} of {planned} runs" for n, (have, planned) in sorted(short_grid.items()))
            + " (--partial-grid ships it as far as it goes)")
    names += sorted(n for n in grid if (runs / n / S.RESULTS_NAME).exists())
    final = set()
    if stage == "all":
        if short_grid:
            problems.append("the fresh-seed stage cannot ship before the grid is complete, which "
                            "chooses its rates (--confirm grid ships the grid alone)")
        else:
            final = set(confirm.final_profiles({k: lr for k, (lr, _) in data["rates"].items()}))
            short = {n: v for n, v in data["incomplete"].items() if n in final}
            if short:
                problems.append("the fresh-seed stage is not complete: " + "; ".join(
                    f"{n} has {have} of {planned} runs" for n, (have, planned) in sorted(short.items()))
                    + " (--confirm grid ships the grid alone)")
            names += sorted(final)
    for folder in sorted(p.parent.name for p in runs.glob(f"*/{S.RESULTS_NAME}")):
        if CONFIRM_ANY.match(folder) and folder not in grid | final:
            if CONFIRM_GRID.match(folder) or stage == "all" and not short_grid:
                problems.append(f"{runs / folder} is not a sweep of the plan"
                                + ("" if CONFIRM_GRID.match(folder) else " at the chosen rates"))
    if problems:
        raise ValueError("not shipping the confirmatory experiment: " + "; ".join(problems))
    return names


def ship_confirm(runs: Path, out: Path, stage: str = "all", partial_grid: bool = False,
                 contest_folder=None) -> list[str]:
    """Ship the confirmatory sweeps (``confirm_sweeps``) from ``runs`` to ``out``; their names.

    Every check runs before the first file is written; each file is written
    atomically.
    """
    names = confirm_sweeps(runs, stage, partial_grid, contest_folder)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        _write_thinned(runs / name / S.RESULTS_NAME, out, bool(CONFIRM_GRID.match(name)))
    return names


def main():
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="?", type=Path, default=root / "experiments" / "gating" / "runs")
    ap.add_argument("--out", type=Path, default=root / "memrnn" / "results" / "gating")
    ap.add_argument("--confirm", choices=("all", "grid", "none"), default="all",
                    help="which stages of the confirmatory experiment ship (default: all)")
    ap.add_argument("--confirm-out", type=Path, default=root / "memrnn" / "results" / "confirm")
    ap.add_argument("--partial-grid", action="store_true",
                    help="ship the confirmatory grid even if some of its runs are missing")
    a = ap.parse_args()
    try:
        # Checked first, so that a refusal leaves every shipped file as it was.
        if a.confirm != "none":
            confirm_sweeps(a.runs, a.confirm, a.partial_grid, contest_folder=a.out)
    except ValueError as err:
        raise SystemExit(f"ship_gating: {err}") from None
    shipped = [(a.out, ship(a.runs, a.out))]
    if a.confirm != "none":
        shipped.append((a.confirm_out, ship_confirm(a.runs, a.confirm_out, a.confirm, a.partial_grid,
                                                    contest_folder=a.out)))
    for out, names in shipped:
        size = sum((out / f"{n}.json").stat().st_size for n in names)
        print(f"{len(names)} sweeps, {size / 1e6:.2f} MB in {out}")

if __name__ == "__main__":
    main()
