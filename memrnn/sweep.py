"""The sequence-length sweep: how long a sequence can the network remember?

One training run per (sequence length, repetition), each from its own seed
(``memrnn.run.run_one``), judged against a threshold in bits remembered
(``memrnn.results``). Runs go to worker processes, or to any
``concurrent.futures.Executor`` such as a Dask cluster's, and the results do
not depend on which worker ran what, or in which order: each run's seed is
derived from (base seed, length, repetition).

Results go to a JSON file, rewritten atomically after every finished run. The
same call with the same file resumes: finished runs are kept, not repeated.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path

from . import _checks, _io
from .results import SweepResult, load_for_resume
from .run import run_one
from .settings import PROFILES, RESULTS_NAME, SweepSettings, Training

__all__ = ["run_sweep", "sweep_loop", "default_jobs"]


def sweep_loop(training: Training, lengths, repeats) -> dict:
    """The loop at the heart of a sweep, without workers or files.

    Parameters
    ----------
    training : Training
        ``SweepSettings.training()``: the settings every run uses.
    lengths : sequence of int
        Sequence lengths T.
    repeats : int
        Runs per length; repetition r of length T is ``run_one(training, T, r)``.

    Returns
    -------
    dict int -> list of float or None
        For each length, the held-out MSE of its runs in repetition order
        (None for a run that diverged). ``run_sweep`` computes the same runs,
        in parallel and with a results file.
    """
    results = {}
    for length in lengths:
        results[length] = [run_one(training, length, r)["eval_mse"] for r in range(repeats)]
    return results


def default_jobs() -> int:
    """Worker processes to use by default: every core this process may run on.

    In a web browser (Pyodide, ``sys.platform == "emscripten"``) there are no
    processes to start, so 1: the sweep then runs in this process.
    """
    if sys.platform == "emscripten":
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1


class _InlineExecutor(cf.Executor):
    """An executor that runs each task in this process, when it is submitted.

    ``run_sweep(jobs=1)`` uses it, so one worker and many take the same path
    through the code. It also works where processes cannot be started, such
    as Python in a web browser.
    """

    def submit(self, fn, /, *args, **kwargs):
        """Run ``fn`` with these arguments now; return a finished future with its result."""
        future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:   # a run's error goes to its future; Ctrl-C does not
            future.set_exception(exc)
        return future


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker when the sweep's main process is gone.

    Without it, a main process killed outright (``kill -9``) would leave its
    workers training for nobody. On Linux the kernel signals the worker at
    once (``PR_SET_PDEATHSIG``); everywhere, a thread checks the parent
    every half second.
    """
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)          # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):                        # not Linux
        pass
    if os.getppid() != parent_pid:                           # died before we got here
        os._exit(1)

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="memrnn-parent-watch", daemon=True).start()


def _resolve(settings, changes) -> SweepSettings:
    if settings is None:
        settings = PROFILES["reference"]
    elif isinstance(settings, str):
        if settings not in PROFILES:
            raise ValueError(f"unknown profile {settings!r}; choose one of {sorted(PROFILES)}")
        settings = PROFILES[settings]
    elif not isinstance(settings, SweepSettings):
        raise TypeError(f"settings must be a SweepSettings or a profile name, "
                        f"got {type(settings).__name__}")
    return settings.replace(**changes) if changes else settings


def run_sweep(settings=None, out=None, *, jobs=None, executor=None, progress=True,
              **changes) -> SweepResult:
    """Run (or resume) a sequence-length sweep.

    Parameters
    ----------
    settings : SweepSettings, str or None
        The settings, or the name of one of ``PROFILES``; default "reference".
    out : path or None
        Folder for ``results.json``. If the file exists with the same training
        settings, its finished runs are kept and only the missing ones are
        trained; with different settings (another model, say) it is refused
        (ValueError). The file is rewritten atomically after every finished
        run, so an interrupted sweep loses only the runs in flight.
    jobs : int or None
        Worker processes (default: all cores). 1 runs everything in this
        process. Ignored when ``executor`` is given.
    executor : concurrent.futures.Executor, optional
        Where to run, for example ``dask.distributed.Client(...).get_executor()``
        for a cluster. Results are identical whatever runs them.
    progress : bool
        Show a bar of runs done out of the total, with the time left.
    **changes
        Overrides of single settings, e.g. ``lengths=(5, 10)``.

    Returns
    -------
    SweepResult
    """
    settings = _resolve(settings, changes)
    if executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor, "
                        f"got {type(executor).__name__}")
    if executor is None:
        jobs = default_jobs() if jobs is None else _checks.positive_int(jobs, "jobs")

    path = None if out is None else Path(out) / RESULTS_NAME
    finished = load_for_resume(path, settings) if path is not None else {}
    wanted = [(T, r) for T in settings.lengths for r in range(settings.repeats)]
    todo = [key for key in wanted if key not in finished]
    # Runs of other lengths or repeats in the file stay in it, but this
    # sweep's result holds only the ones it asked for.
    done = dict(finished)
    start = time.perf_counter()
    training = settings.training()
    # Longest runs first: the pool then ends on short runs, and no worker idles
    # at the end waiting for one long straggler. The order of execution does
    # not change any result.
    todo.sort(key=lambda key: (-key[0], key[1]))

    if executor is not None:
        pool, own, in_flight = executor, False, len(todo)
    elif jobs == 1 or len(todo) <= 1:
        pool, own, in_flight = _InlineExecutor(), True, 1
    else:
        pool = cf.ProcessPoolExecutor(
            max_workers=min(jobs, len(todo)), mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent, initargs=(os.getpid(),))
        own, in_flight = True, 2 * jobs

    bar = _SweepProgress(wanted, todo, settings.steps, enabled=progress)
    pending = set()

    def collect():
        finished_now, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        for fut in finished_now:
            pending.discard(fut)
            run = fut.result()
            done[(run["length"], run["repeat"])] = run
            if path is not None:
                _io.write_text(path, SweepResult(settings, list(done.values())).to_text())
            bar.finished(run["length"])

    try:
        for T, r in todo:
            pending.add(pool.submit(run_one, training, T, r))
            while len(pending) >= in_flight:
                collect()
        while pending:
            collect()
    except BaseException:
        for fut in pending:
            fut.cancel()
        raise
    finally:
        bar.close()
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    runs = [done[key] for key in wanted]
    return SweepResult(settings, runs, computed=len(todo), wall_time=time.perf_counter() - start)


class _SweepProgress:
    """A bar of runs done out of the total, whose time estimate weighs each run
    by its cost (updates x length): a run at T = 40 takes eight times one at T = 5."""

    def __init__(self, wanted, todo, steps, enabled=True):
        from .learner import _progress_bar

        self.total_runs = len(wanted)
        self.done_runs = len(wanted) - len(todo)
        total = sum(T for T, _ in wanted) * steps
        left = sum(T for T, _ in todo) * steps
        self.steps = steps
        self.bar = _progress_bar()(
            total=total, initial=total - left, disable=not enabled, unit=" updates",
            dynamic_ncols=True,
            bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed} elapsed, {remaining} left]")
        self._show()

    def _show(self):
        self.bar.set_description_str(f"sweep: {self.done_runs}/{self.total_runs} runs",
                                     refresh=False)

    def finished(self, length):
        self.done_runs += 1
        self._show()
        self.bar.update(length * self.steps)

    def close(self):
        self.bar.close()
