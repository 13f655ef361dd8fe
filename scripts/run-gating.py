"""Run the learning-rate grid and the fresh-seed runs of "What gating buys" (chapter 7).

    .venv/bin/python scripts/run-gating.py OUT [--jobs N] [--stage grid|final]

Every sweep writes OUT/NAME/results.json after each finished run, and a second
call resumes: only missing runs are trained. All sweeps of a stage share one
pool of worker processes, so no core idles while one sweep waits for its last
run. ``--stage final`` runs each arm at its chosen rate (``memrnn.results.
choose_learning_rate`` on the grid) on the fresh seeds.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import threading
from pathlib import Path

from memrnn import settings as S
from memrnn.results import choose_learning_rate, load_results
from memrnn.sweep import _exit_with_parent, run_sweep


def grid_profiles():
    return {k: v for k, v in S.PROFILES.items() if k.startswith("gating-grid-")}


def chosen_rates(out: Path) -> dict:
    rates = {}
    for m in S.GATING_ARMS:
        for o, lrs in S.LR_GRID.items():
            grid = {lr: load_results(out / f"gating-grid-{m}-{o}-{lr:g}" / "results.json")
                    for lr in lrs}
            rates[(m, o)] = choose_learning_rate(grid)
    return rates


def final_profiles(out: Path, lengths=(S.GRID_LENGTH,)) -> dict:
    return {f"gating-{m}-{o}": S.gating_final(m, o, lr, lengths)
            for (m, o), lr in chosen_rates(out).items()}


def run_all(profiles: dict, out: Path, jobs: int) -> None:
    # The longest runs first, so that the pool ends on short ones.
    order = sorted(profiles, key=lambda k: -(profiles[k].hidden * (4 if profiles[k].model == "lstm" else 1)))
    pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_exit_with_parent, initargs=(os.getpid(),))
    errors = []

    def one(name):
        try:
            run_sweep(profiles[name], out / name, executor=pool, progress=False)
            print("done", name, flush=True)
        except BaseException as exc:   # reported at the end; the other sweeps go on
            errors.append((name, exc))

    threads = [threading.Thread(target=one, args=(n,)) for n in order]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pool.shutdown()
    for name, exc in errors:
        print("FAILED", name, repr(exc), flush=True)
    if errors:
        raise SystemExit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--stage", choices=("grid", "final", "both"), default="both")
    a = ap.parse_args()
    if a.stage in ("grid", "both"):
        retrying(lambda: run_all(grid_profiles(), a.out, a.jobs))
    if a.stage in ("final", "both"):
        retrying(lambda: run_all(final_profiles(a.out), a.out, a.jobs))


def retrying(stage, attempts=50):
    """Run a stage again after a failure (a worker killed from outside): it resumes."""
    import time
    for _ in range(attempts - 1):
        try:
            return stage()
        except SystemExit:
            print("a sweep failed; resuming in 10 s", flush=True)
            time.sleep(10)
    return stage()


if __name__ == "__main__":
    main()
