"""Run the experiment of "What gating buys", stage by stage, as experiments/gating/PLAN.md says.

    .venv/bin/python scripts/run-gating.py OUT [--jobs N] [--stage STAGE]

Stages: ``grid`` (every arm at every rate of the grid, selection seeds), ``final``
(each arm at its chosen rate on 10 fresh seeds at T = 50), ``extra`` (10 more
seeds for the arms of every planned comparison whose verdict is close),
``long`` (T = 100, then T = 200, for the arms ``memrnn.contest.long_arms``
picks); ``all`` runs them in that order, ``both`` only the first two.
The confirmatory experiment (PLAN.md, "Confirmatory experiment";
``memrnn.confirm``): ``confirm-grid`` (its rate grids), ``confirm-final``
(its fresh seeds at the chosen rates), ``confirm`` both in that order.
Every sweep writes OUT/NAME/results.json after each finished run, and a second
call resumes: only missing runs are trained. All sweeps of a stage share one
pool of worker processes, so no core idles while one sweep waits for its last
run.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import threading
from pathlib import Path

from memrnn import confirm, contest
from memrnn import settings as S
from memrnn.results import SweepResult
from memrnn.sweep import _exit_with_parent, run_sweep


def grid_profiles():
    return {k: v for k, v in S.PROFILES.items() if k.startswith("gating-grid-")}


def chosen_rates(out: Path) -> dict:
    return contest.chosen_rates(contest.load_experiment(out)["grid"])


def final_profiles(out: Path, lengths=(S.GRID_LENGTH,)) -> dict:
    return {f"gating-{m}-{o}": S.gating_final(m, o, lr, lengths)
            for (m, o), lr in chosen_rates(out).items()}


def extra_profiles(out: Path) -> dict:
    """20 seeds for the arms of every planned comparison that is close on the first 10.

    The verdict is read on seeds 0 to 9 only, so that a rerun after an
    interruption, with some extra seeds already done, picks the same arms.
    """
    final = {key: SweepResult(res.settings, [r for r in res.runs if r["repeat"] < 10])
             for key, res in contest.load_experiment(out)["final"].items()}
    close = [r for r in contest.compare_family(final)
             if r["length"] == S.GRID_LENGTH and contest.is_close(r)]
    for r in close:
        print(f"close: {r['label']}: {r['only_a']} vs {r['only_b']}, p = {r['p']:.3f}, "
              f"[{r['low']:+.2f}, {r['high']:+.2f}]", flush=True)
    arms = {arm for r in close for arm in (r["a"], r["b"])}
    rates = chosen_rates(out)
    return {contest.sweep_name(a): S.gating_final(*a, rates[a], repeats=20) for a in sorted(arms)}


def long_profiles(out: Path, length: int) -> dict:
    final = contest.load_experiment(out)["final"]
    rates = chosen_rates(out)
    arms = contest.long_arms(final, length)
    print(f"T = {length}:", ", ".join(f"{m}-{o}" for m, o in arms) or "no arm", flush=True)
    return {contest.sweep_name(a, length): S.gating_final(*a, rates[a], lengths=(length,))
            for a in arms}


#: The primary comparison's two arms are run first, so that it is complete first.
PRIMARY = ("gating-lstm-adam", "gating-rnn21-adam")


def run_all(profiles: dict, out: Path, jobs: int) -> None:
    # The primary arms first, then the longest runs, so that the pool ends on short ones.
    def cost(k):
        return (k not in PRIMARY, -(profiles[k].hidden * (4 if profiles[k].model == "lstm" else 1)))
    order = sorted(profiles, key=cost)
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


def confirm_loader(out: Path):
    """name -> SweepResult from OUT/NAME/results.json, else the shipped file, else None."""
    def load(name):
        for folder in (out, contest.shipped_folder()):
            res = contest._load(folder, name)
            if res is not None:
                return res
        return None
    return load


def confirm_final_profiles(out: Path) -> dict:
    chosen = confirm.chosen_rates(confirm_loader(out))
    for (part, arm), (lr, how) in chosen.items():
        print(f"{part} {arm}: lr {lr:g} ({'no selection run solved; by mean MSE' if how == 'mse' else how})",
              flush=True)
    return confirm.final_profiles({k: lr for k, (lr, _) in chosen.items()})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--stage", choices=("grid", "final", "extra", "long", "both", "all",
                                        "confirm-grid", "confirm-final", "confirm"), default="all")
    a = ap.parse_args()
    if a.stage.startswith("confirm"):
        if a.stage in ("confirm-grid", "confirm"):
            retrying(lambda: run_all(confirm.grid_profiles(), a.out, a.jobs))
        if a.stage in ("confirm-final", "confirm"):
            retrying(lambda: run_all(confirm_final_profiles(a.out), a.out, a.jobs))
        return
    if a.stage in ("grid", "both", "all"):
        retrying(lambda: run_all(grid_profiles(), a.out, a.jobs))
    if a.stage in ("final", "both", "all"):
        retrying(lambda: run_all(final_profiles(a.out), a.out, a.jobs))
    if a.stage in ("extra", "all"):
        retrying(lambda: run_all(extra_profiles(a.out), a.out, a.jobs))
    if a.stage in ("long", "all"):
        for length in (100, 200):
            retrying(lambda length=length: run_all(long_profiles(a.out, length), a.out, a.jobs))


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
