"""The sequence-length sweep: how long a sequence can the RNN remember? (chapter 5)

One training run per (sequence length, repetition), each from its own seed,
evaluated on held-out batches and judged against a threshold stated in *bits
remembered* (see ``bits_remembered``). Runs are spread over worker processes,
or over any ``concurrent.futures.Executor`` such as a Dask cluster's, and the
results do not depend on which worker ran what, or in which order: each run's
seed is derived from (base seed, length, repetition).

Results go to a JSON file, rewritten atomically after every finished run. The
same call with the same file resumes: finished runs are kept, not repeated.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import math
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np

from . import _checks, _io
from .data import TRIVIAL_MSE, generate_samples
from .learner import Learner, TrainingDiverged
from .losses import MSELoss
from .rnn import RNN

__all__ = ["SweepSettings", "PROFILES", "SweepResult", "run_sweep", "run_one", "load_results",
           "bits_remembered", "mse_for_bits", "wilson_interval", "default_jobs", "finished_runs",
           "reference_results", "sweep_loop"]

FORMAT = "memrnn-sweep/1"
RESULTS_NAME = "results.json"


def mse_for_bits(bits):
    """The MSE of a network that knows ``bits`` bits of the first element (chapter 5).

    Knowing b bits of a number uniform on [-1, 1] places it in one of 2^b equal
    cells of width 2 / 2^b; the best answer is the cell's midpoint, and the
    error left is the variance of a uniform variable on the cell:
    ``(2 / 2**b) ** 2 / 12 = 1 / (3 * 4**b)``. 0 bits give the trivial 1/3,
    1 bit (the sign) gives 1/12.
    """
    return TRIVIAL_MSE / 4.0 ** np.asarray(bits, dtype=float)


def bits_remembered(mse):
    """Effective bits of memory of the first element for an MSE: the inverse of ``mse_for_bits``.

    ``log4(1 / (3 * mse))``, clipped at 0: an MSE at or above 1/3 carries
    no information about the first element. Infinite MSE (a diverged run)
    gives 0.
    """
    mse = np.asarray(mse, dtype=float)
    with np.errstate(divide="ignore"):
        bits = 0.5 * np.log2(TRIVIAL_MSE / mse)
    out = np.where(np.isfinite(bits), np.maximum(bits, 0.0), np.where(mse <= 0, np.inf, 0.0))
    return float(out) if out.ndim == 0 else out


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a success rate (95 % by default), chapter 5.

    Unlike the normal approximation it stays inside [0, 1] and is sensible for
    0 or n successes out of a handful of runs.
    """
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclasses.dataclass(frozen=True)
class SweepSettings:
    """Everything that defines a sweep (chapter 5).

    The training settings (all but ``lengths``, ``repeats``, ``threshold_bits``
    and ``reliable``) must match for a results file to be resumed; the others
    only choose which runs to do and how to judge them.

    Parameters
    ----------
    lengths : tuple of int
        Sequence lengths T to try.
    repeats : int
        Independent runs per length, each with its own seed.
    steps, hidden, batch, lr, eval_batches, log_steps :
        Training updates, hidden size, batch size, SGD learning rate, held-out
        batches for the evaluation MSE, and the loss-logging interval.
    seed : int
        Base seed. Run (T, r) uses ``SeedSequence([seed, T, r])``.
    dtype : {"float64", "float32"}
    clip : float or None
        Gradient-norm clipping threshold (chapter 6), or None.
    threshold_bits : float
        A run succeeds when its evaluation MSE is at most
        ``mse_for_bits(threshold_bits)``: 1 bit means MSE <= 1/12, a quarter of 1/3.
    reliable : float
        A length counts as reliably solved when at least this share of its runs
        succeed.
    """

    lengths: tuple = (5, 10, 15, 20, 30, 40)
    repeats: int = 10
    steps: int = 5000
    hidden: int = 10
    batch: int = 1024
    lr: float = 1e-2
    eval_batches: int = 10
    log_steps: int = 50
    seed: int = 0
    dtype: str = "float64"
    clip: float | None = None
    threshold_bits: float = 1.0
    reliable: float = 0.8

    TRAINING_KEYS = ("steps", "hidden", "batch", "lr", "eval_batches", "log_steps", "seed",
                     "dtype", "clip")

    def __post_init__(self):
        lengths = self.lengths
        if isinstance(lengths, (int, np.integer)) or not hasattr(lengths, "__iter__"):
            raise TypeError(f"lengths must be a sequence of positive ints, got {lengths!r}")
        lengths = tuple(_checks.positive_int(T, "each length") for T in lengths)
        if not lengths:
            raise ValueError("lengths is empty: give at least one sequence length")
        if len(set(lengths)) != len(lengths):
            raise ValueError(f"lengths has duplicates: {lengths}")
        object.__setattr__(self, "lengths", tuple(sorted(lengths)))
        for name in ("repeats", "steps", "hidden", "batch", "eval_batches", "log_steps"):
            object.__setattr__(self, name, _checks.positive_int(getattr(self, name), name))
        object.__setattr__(self, "lr", _checks.positive_float(self.lr, "lr"))
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        if self.clip is not None:
            object.__setattr__(self, "clip", _checks.positive_float(self.clip, "clip"))
        bits = float(self.threshold_bits)
        if not (np.isfinite(bits) and bits > 0):
            raise ValueError(f"threshold_bits must be a positive number, got {self.threshold_bits!r}")
        object.__setattr__(self, "threshold_bits", bits)
        if not 0 < float(self.reliable) <= 1:
            raise ValueError(f"reliable must be a share in (0, 1], got {self.reliable!r}")
        object.__setattr__(self, "reliable", float(self.reliable))

    @property
    def threshold_mse(self) -> float:
        """The evaluation MSE at or below which a run succeeds."""
        return float(mse_for_bits(self.threshold_bits))

    def training(self) -> dict:
        """The settings that change what a run computes."""
        return {k: getattr(self, k) for k in self.TRAINING_KEYS}

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["lengths"] = list(self.lengths)
        return d

    def replace(self, **changes) -> "SweepSettings":
        return dataclasses.replace(self, **changes)


#: Named settings. "reference" is the full protocol of the book; "book" is
#: what chapter 5 runs inside the build's time budget; "smoke" is for tests.
PROFILES = {
    "reference": SweepSettings(),
    "book": SweepSettings(lengths=(5, 10, 15, 20, 30), repeats=5, dtype="float32"),
    "smoke": SweepSettings(lengths=(2, 4), repeats=2, steps=40, batch=64, eval_batches=2,
                           log_steps=10),
}


def run_seed(seed: int, length: int, repeat: int) -> np.random.SeedSequence:
    """The seed of run (length, repeat): independent of the order runs execute in."""
    return np.random.SeedSequence([int(seed), int(length), int(repeat)])


def run_one(training: dict, length: int, repeat: int) -> dict:
    """Train and evaluate one model; the unit of work of a sweep (chapter 5).

    A module-level function of plain arguments, so that worker processes and
    cluster executors can pickle it. BLAS is held to one thread, so that
    parallel workers do not oversubscribe the cores.

    Parameters
    ----------
    training : dict
        ``SweepSettings.training()``.
    length, repeat : int

    Returns
    -------
    dict
        ``length``, ``repeat``, ``seed`` (the entropy of its SeedSequence),
        ``eval_mse`` (None if diverged), ``diverged``, ``diverged_at`` (update
        or None), ``loss_steps`` and ``losses`` (the logged curve),
        ``max_grad_norm``, ``clipped`` (updates clipped) and ``wall_time`` (s).
    """
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    t = dict(training)
    init_ss, train_ss, eval_ss = run_seed(t["seed"], length, repeat).spawn(3)
    dtype = np.dtype(t["dtype"])
    with threadpool_limits(1, "blas"):
        model = RNN(1, t["hidden"], 1, seed=init_ss, dtype=dtype)
        learner = Learner(model, MSELoss(),
                          generate_samples(t["batch"], length, seed=train_ss, dtype=dtype))
        diverged_at = None
        try:
            learner.train(t["steps"], t["lr"], log_steps=t["log_steps"], progress=False,
                          blas_threads=None, clip=t["clip"])
        except TrainingDiverged as err:
            diverged_at = err.step
        eval_mse = None
        if diverged_at is None:
            eval_mse = learner.evaluate(t["eval_batches"],
                                        generate_samples(t["batch"], length, seed=eval_ss,
                                                         dtype=dtype))
            if not np.isfinite(eval_mse):
                diverged_at, eval_mse = t["steps"], None
    steps = sorted(learner.loss_values)
    return {
        "length": int(length),
        "repeat": int(repeat),
        "seed": [int(t["seed"]), int(length), int(repeat)],
        "eval_mse": eval_mse,
        "diverged": diverged_at is not None,
        "diverged_at": diverged_at,
        "loss_steps": steps,
        "losses": [float(learner.loss_values[k]) for k in steps],
        "max_grad_norm": float(max(learner.grad_norms)) if learner.grad_norms else None,
        "clipped": int(learner.clipped),
        "wall_time": time.perf_counter() - start,
    }


def sweep_loop(training: dict, lengths, repeats) -> dict:
    """The loop at the heart of a sweep, without workers or files (chapter 5).

    Parameters
    ----------
    training : dict
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


class SweepResult:
    """The runs of a sweep and what they say (chapter 5).

    Attributes
    ----------
    settings : SweepSettings
    runs : list of dict
        One record per finished run (see ``run_one``), sorted by (length,
        repeat), each with a ``success`` flag for ``settings.threshold_bits``.
    computed : int
        How many runs this call trained (the rest came from the results file).
    wall_time : float
        Seconds this call took.
    """

    def __init__(self, settings: SweepSettings, runs, computed=0, wall_time=0.0):
        self.settings = settings
        self.runs = sorted(runs, key=lambda r: (r["length"], r["repeat"]))
        for r in self.runs:
            r["success"] = _success(r, settings)
        self.computed, self.wall_time = computed, wall_time

    def by_length(self) -> dict:
        out = {}
        for r in self.runs:
            out.setdefault(r["length"], []).append(r)
        return out

    def summary(self) -> list[dict]:
        """Per length: runs, successes, success rate with its 95 % Wilson interval,
        diverged runs, and the median, quartiles and range of the evaluation MSE
        (diverged runs count as failures and are left out of the MSE statistics)."""
        rows = []
        for length, runs in sorted(self.by_length().items()):
            mses = np.array([r["eval_mse"] for r in runs if not r["diverged"]], dtype=float)
            n, wins = len(runs), sum(r["success"] for r in runs)
            lo, hi = wilson_interval(wins, n)
            row = {"length": length, "runs": n, "successes": wins, "success_rate": wins / n,
                   "rate_low": lo, "rate_high": hi,
                   "diverged": sum(r["diverged"] for r in runs)}
            if mses.size:
                q25, med, q75 = np.percentile(mses, [25, 50, 75])
                row.update(median_mse=float(med), q25_mse=float(q25), q75_mse=float(q75),
                           min_mse=float(mses.min()), max_mse=float(mses.max()),
                           median_bits=float(bits_remembered(med)))
            else:
                row.update(median_mse=None, q25_mse=None, q75_mse=None, min_mse=None,
                           max_mse=None, median_bits=0.0)
            rows.append(row)
        return rows

    def largest_reliable_length(self):
        """The largest length L such that every swept length up to L is reliably
        solved (success rate >= ``settings.reliable``); None if not even the
        shortest one is."""
        best = None
        for row in self.summary():
            if row["success_rate"] >= self.settings.reliable:
                best = row["length"]
            else:
                break
        return best

    def summary_table(self) -> str:
        """The summary as a Markdown table."""
        lines = ["| T | runs | solved | success rate (95 % CI) | diverged | median MSE "
                 "| IQR of MSE | median bits |",
                 "|---|---|---|---|---|---|---|---|"]
        for r in self.summary():
            mse = "n/a" if r["median_mse"] is None else f"{r['median_mse']:.4f}"
            iqr = ("n/a" if r["median_mse"] is None
                   else f"{r['q25_mse']:.4f} to {r['q75_mse']:.4f}")
            lines.append(f"| {r['length']} | {r['runs']} | {r['successes']} | "
                         f"{r['success_rate']:.0%} ({r['rate_low']:.0%} to {r['rate_high']:.0%}) | "
                         f"{r['diverged']} | {mse} | {iqr} | {r['median_bits']:.2f} |")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict:
        runs = [{k: v for k, v in r.items() if k != "success"} for r in self.runs]
        from . import __version__
        return {"format": FORMAT, "memrnn_version": __version__,
                "settings": self.settings.as_dict(), "runs": runs}


def _success(run: dict, settings: SweepSettings) -> bool:
    return (not run["diverged"]) and run["eval_mse"] is not None and \
        run["eval_mse"] <= settings.threshold_mse


def load_results(path) -> SweepResult:
    """Read a results file written by ``run_sweep``; its own settings judge it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no sweep results at {path}") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not a sweep results file (invalid JSON: {err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a memrnn sweep results file (format "
                         f"{data.get('format') if isinstance(data, dict) else None!r}, "
                         f"expected {FORMAT!r})")
    settings = SweepSettings(**{k: (tuple(v) if k == "lengths" else v)
                                for k, v in data["settings"].items()})
    return SweepResult(settings, data["runs"])


def reference_results() -> SweepResult:
    """The full reference protocol's results, as shipped with memrnn (chapter 5).

    ``python -m memrnn sweep --profile reference`` made them (10 repetitions of
    lengths 5 to 40, 5000 updates each, float64, on 2 worker processes; about
    15 minutes on the 2-core machine the book is built on). Chapter 5 shows
    them next to the smaller sweep it runs live; rerunning the command on your
    machine gives the same settings and seeds, and results equal to these up
    to floating-point differences between machines.
    """
    from importlib import resources

    with resources.as_file(resources.files("memrnn") / "results" / "reference-sweep.json") as p:
        return load_results(p)


def default_jobs() -> int:
    """Worker processes to use by default: every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1


def run_sweep(settings=None, out=None, *, jobs=None, executor=None, progress=True,
              **changes) -> SweepResult:
    """Run (or resume) a sequence-length sweep (chapter 5).

    Parameters
    ----------
    settings : SweepSettings, str or None
        The settings, or the name of one of ``PROFILES``; default "reference".
    out : path or None
        Folder for ``results.json``. If the file exists with the same training
        settings, its finished runs are kept and only the missing ones are
        trained; with different settings it is refused (ValueError). The file
        is rewritten atomically after every finished run, so an interrupted
        sweep loses only the runs in flight.
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
    if settings is None:
        settings = PROFILES["reference"]
    elif isinstance(settings, str):
        if settings not in PROFILES:
            raise ValueError(f"unknown profile {settings!r}; choose one of {sorted(PROFILES)}")
        settings = PROFILES[settings]
    elif not isinstance(settings, SweepSettings):
        raise TypeError(f"settings must be a SweepSettings or a profile name, "
                        f"got {type(settings).__name__}")
    if changes:
        settings = settings.replace(**changes)
    if executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor, "
                        f"got {type(executor).__name__}")
    if executor is None:
        jobs = default_jobs() if jobs is None else _checks.positive_int(jobs, "jobs")

    path = None if out is None else Path(out) / RESULTS_NAME
    finished = _load_for_resume(path, settings) if path is not None else {}
    wanted = [(T, r) for T in settings.lengths for r in range(settings.repeats)]
    todo = [key for key in wanted if key not in finished]
    # Runs of other lengths or repeats in the file stay in it, but this
    # sweep's result holds only the ones it asked for.
    done = dict(finished)
    start = time.perf_counter()
    training = settings.training()

    def record(run):
        done[(run["length"], run["repeat"])] = run
        if path is not None:
            _io.write_json(path, SweepResult(settings, list(done.values())).to_json())

    # Longest runs first: the pool then ends on short runs, and no worker idles
    # at the end waiting for one long straggler. The order of execution does
    # not change any result.
    todo.sort(key=lambda key: (-key[0], key[1]))
    bar = _SweepProgress(wanted, todo, settings.steps, enabled=progress)
    try:
        if not todo:
            pass
        elif executor is None and jobs == 1:
            for T, r in todo:
                record(run_one(training, T, r))
                bar.finished(T)
        else:
            own = executor is None
            pool = executor if not own else cf.ProcessPoolExecutor(
                max_workers=min(jobs, len(todo)), mp_context=multiprocessing.get_context("spawn"))
            try:
                futures = [pool.submit(run_one, training, T, r) for T, r in todo]
                try:
                    for fut in cf.as_completed(futures):
                        run = fut.result()
                        record(run)
                        bar.finished(run["length"])
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
            finally:
                if own:
                    pool.shutdown(wait=True, cancel_futures=True)
    finally:
        bar.close()
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


def finished_runs(out, settings: SweepSettings) -> int:
    """How many of ``settings``' runs the results file in ``out`` already holds.

    Raises ValueError, as ``run_sweep`` would, if the file is foreign or has
    other training settings; 0 if there is no file.
    """
    path = Path(out) / RESULTS_NAME
    done = _load_for_resume(path, settings)
    return sum((T, r) in done for T in settings.lengths for r in range(settings.repeats))


def _load_for_resume(path: Path, settings: SweepSettings) -> dict:
    if not path.exists():
        return {}
    old = load_results(path)
    theirs, ours = old.settings.training(), settings.training()
    diff = [f"{k} {theirs[k]!r} (file) vs {ours[k]!r} (now)" for k in ours if theirs[k] != ours[k]]
    if diff:
        raise ValueError(f"{path} holds a sweep with different settings: " + "; ".join(diff)
                         + ". Use another output folder, or delete the file to start over.")
    return {(r["length"], r["repeat"]): r for r in old.runs}
