"""The results of a sweep: what the runs say, the files they live in.

``SweepResult`` judges a sweep's runs against its settings (success, rates
with Wilson intervals, the median MSE, the largest length solved reliably,
where the success rate crosses 80 %). Results files are JSON, one run per
line, rewritten atomically after every finished run. The reference results
that the book shows ship with the package (``reference_results``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from .data import TRIVIAL_MSE
from .information import bits_remembered
from .settings import FORMAT, RESULTS_NAME, SweepSettings
from .stats import crossing_length, logistic_fit_check, wilson_interval

__all__ = ["SweepResult", "load_results", "reference_results", "REFERENCES", "run_bits",
           "choose_learning_rate", "fall_index", "threshold_sensitivity"]

#: The shipped reference results: profile name -> file in ``memrnn/results``.
#: ``python -m memrnn sweep --profile NAME`` recomputes one (``scripts/make-references.sh``
#: recomputes them all).
REFERENCES = {
    "reference": "rnn-reference.json",
    "reference-float32-T20": "rnn-float32-T20.json",
    "reference-clip1": "rnn-clip1.json",
    "reference-clip5": "rnn-clip5.json",
    "reference-long": "rnn-long.json",
}


class SweepResult:
    """The runs of a sweep and what they say.

    Attributes
    ----------
    settings : SweepSettings
    runs : list of dict
        One record per finished run (see ``memrnn.run.train_one``), sorted by
        (length, repeat), each with a ``success`` flag for
        ``settings.threshold_bits``.
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
        """Length -> its runs, in repetition order."""
        out = {}
        for r in self.runs:
            out.setdefault(r["length"], []).append(r)
        return out

    def restricted(self, lengths) -> SweepResult:
        """The runs at ``lengths`` only, as a sweep of those lengths."""
        lengths = tuple(lengths)
        return SweepResult(self.settings.replace(lengths=lengths),
                           [dict(r) for r in self.runs if r["length"] in lengths])

    def rejudged(self, **changes) -> SweepResult:
        """The same runs judged with other settings, e.g. ``threshold_bits=2``."""
        return SweepResult(self.settings.replace(**changes), [dict(r) for r in self.runs])

    def at_budget(self, updates: int) -> SweepResult:
        """The runs as they stood after ``updates`` updates (a checkpoint), judged like a sweep.

        A run that had diverged by then has no MSE and counts as a failure.
        """
        if updates == self.settings.steps:
            return self
        if updates not in self.settings.checkpoints:
            raise ValueError(f"no checkpoint at {updates!r} updates; the runs were evaluated at "
                             f"{list(self.settings.checkpoints) + [self.settings.steps]}")
        runs = []
        for r in self.runs:
            mse = dict((int(k), v) for k, v in r["checkpoints"]).get(updates)
            runs.append(dict(r, eval_mse=mse, diverged=mse is None))
        return SweepResult(self.settings.replace(steps=updates, checkpoints=()), runs)

    def summary(self) -> list[dict]:
        """Per length: runs, successes, success rate with its 95 % Wilson interval,
        diverged runs, the median, quartiles and range of the evaluation MSE
        (diverged runs count as failures and are left out of the MSE statistics),
        and ``median_bits``, the median over all runs of each run's bits
        remembered (``run_bits``; a diverged run counts as 0 bits). With an even
        number of runs that is not the bits of the median MSE: the median
        averages the two middle runs in bits, not in MSE."""
        rows = []
        for length, runs in sorted(self.by_length().items()):
            mses = np.array([r["eval_mse"] for r in runs if not r["diverged"]], dtype=float)
            n, wins = len(runs), sum(r["success"] for r in runs)
            lo, hi = wilson_interval(wins, n)
            bits = [0.0 if r["diverged"] else run_bits(r) for r in runs]
            row = {"length": length, "runs": n, "successes": wins, "success_rate": wins / n,
                   "rate_low": lo, "rate_high": hi,
                   "diverged": sum(r["diverged"] for r in runs),
                   "median_bits": float(np.median(bits))}
            if mses.size:
                q25, med, q75 = np.percentile(mses, [25, 50, 75])
                row.update(median_mse=float(med), q25_mse=float(q25), q75_mse=float(q75),
                           min_mse=float(mses.min()), max_mse=float(mses.max()))
            else:
                row.update(median_mse=None, q25_mse=None, q75_mse=None, min_mse=None,
                           max_mse=None)
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

    def crossing(self, level=None, n_boot=2000, seed=0) -> dict:
        """The length where the success rate falls through ``level`` (default
        ``settings.reliable``), with a 95 % bootstrap interval.

        See ``memrnn.stats.crossing_length``.
        """
        level = self.settings.reliable if level is None else level
        lengths = [r["length"] for r in self.runs]
        wins = [r["success"] for r in self.runs]
        return crossing_length(lengths, wins, level=level, n_boot=n_boot, seed=seed)

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

    def machines(self) -> list[dict]:
        """The distinct machines (``memrnn.run.machine_info``) that computed the runs."""
        seen = []
        for r in self.runs:
            m = r.get("machine")
            if m is not None and m not in seen:
                seen.append(m)
        return seen

    def to_json(self) -> dict:
        from . import __version__

        runs = [{k: v for k, v in r.items() if k != "success"} for r in self.runs]
        return {"format": FORMAT, "memrnn_version": __version__,
                "settings": self.settings.as_dict(), "runs": runs}

    def to_text(self) -> str:
        """The results file's text: JSON with one run per line, so a diff shows runs."""
        data = self.to_json()
        runs = data.pop("runs")
        head = json.dumps(data, indent=1, allow_nan=False)
        body = ",\n".join("  " + json.dumps(r, allow_nan=False, separators=(",", ":"))
                          for r in runs)
        return head[:-2] + ',\n "runs": [\n' + body + "\n ]\n}\n"


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
        raise ValueError(f"{path} is not a memrnn sweep results file of this version (format "
                         f"{data.get('format') if isinstance(data, dict) else None!r}, "
                         f"expected {FORMAT!r})")
    try:
        settings = SweepSettings.from_dict(data["settings"])
    except TypeError as err:
        raise ValueError(f"{path} has settings this version of memrnn does not know: {err}") from None
    return SweepResult(settings, data["runs"])


def reference_results(name: str = "reference") -> SweepResult:
    """Reference results shipped with memrnn.

    ``name`` is a key of ``REFERENCES`` and of ``PROFILES``: ``"reference"`` is
    chapter 5's reference protocol. Rerunning its sweep on your machine
    gives the same settings and seeds, and results that agree with these
    statistically; bitwise only on the same CPU and library versions (see
    each run's ``machine``).
    """
    from importlib import resources

    if name not in REFERENCES:
        raise ValueError(f"no reference results named {name!r}; choose one of {sorted(REFERENCES)}")
    with resources.as_file(resources.files("memrnn") / "results" / REFERENCES[name]) as p:
        return load_results(p)


def finished_runs(out, settings: SweepSettings) -> int:
    """How many of ``settings``' runs the results file in ``out`` already holds.

    Raises ValueError, as ``run_sweep`` would, if the file is foreign or has
    other training settings; 0 if there is no file.
    """
    path = Path(out) / RESULTS_NAME
    done = load_for_resume(path, settings)
    return sum((T, r) in done for T in settings.lengths for r in range(settings.repeats))


def load_for_resume(path: Path, settings: SweepSettings) -> dict:
    """The finished runs in the results file at ``path``, by (length, repeat).

    Refuses (ValueError) a file whose training settings, the model among
    them, differ from ``settings``': its runs would not belong to this sweep.
    """
    if not Path(path).exists():
        return {}
    old = load_results(path)
    theirs, ours = dataclasses.asdict(old.settings.training()), dataclasses.asdict(settings.training())
    diff = [f"{k} {theirs[k]!r} (file) vs {ours[k]!r} (now)" for k in ours if theirs[k] != ours[k]]
    if diff:
        raise ValueError(f"{path} holds a sweep with different settings: " + "; ".join(diff)
                         + ". Use another output folder, or delete the file to start over.")
    return {(r["length"], r["repeat"]): r for r in old.runs}


def choose_learning_rate(grid: dict) -> float:
    """The learning rate a grid search picks for one arm.

    Parameters
    ----------
    grid : dict float -> SweepResult
        For each learning rate tried, the sweep of its selection runs.

    Returns
    -------
    float
        The rate whose runs remember the most bits on average (a diverged run
        remembers 0); a tie goes to the lower mean held-out MSE, then to the
        smaller rate.
    """
    if not grid:
        raise ValueError("the grid is empty: give at least one learning rate and its runs")

    def score(lr):
        runs = grid[lr].runs
        mses = [np.inf if r["eval_mse"] is None else r["eval_mse"] for r in runs]
        bits = float(np.mean([bits_remembered(m) for m in mses]))
        return (-bits, float(np.mean(np.minimum(mses, TRIVIAL_MSE * 10))), lr)

    return min(grid, key=score)


#: A run has *learned* once its batch loss is below this share of 1/3, and is *back at* 1/3
#: while its loss is above that share (chapters 5 and 6).
LEARNED, STUCK = 0.75, 0.8


def fall_index(losses, trivial=TRIVIAL_MSE):
    """Where a loss curve fell back to the trivial level for good, or None.

    A run *fell back* when its batch loss, after having been below
    ``LEARNED`` times 1/3, rises above ``STUCK`` times 1/3 and stays there to
    the end of the curve. Returns the index of the first point of that last
    stretch above ``STUCK`` times 1/3, or None if the run never learned or
    does not end near 1/3.
    """
    loss = np.asarray(losses, dtype=float)
    if loss.size == 0:
        return None
    above = ~(loss <= STUCK * trivial)                 # NaN (a diverged update) counts as above
    if not above[-1]:
        return None
    start = loss.size - int(np.argmin(above[::-1])) if not above.all() else 0
    before = loss[:start]
    if before.size and np.nanmin(before) < LEARNED * trivial:
        return start
    return None


def run_bits(run: dict) -> float:
    """Bits of x_1 a run remembers (``information.bits_remembered`` of its held-out MSE).

    A diverged run has no held-out MSE (``eval_mse`` None) and counts as 0 bits.
    """
    return 0.0 if run["eval_mse"] is None else float(bits_remembered(run["eval_mse"]))


def run_outcome(run, threshold_mse, trivial=TRIVIAL_MSE) -> str:
    """How one run ended: "success", "partial", "fell back" or "failed".

    A run that misses the threshold is *partial* if it still ends clearly
    below 1/3 (under ``STUCK`` times it): it remembers something, less than
    asked. One that ends near 1/3 *fell back* if its logged loss curve did
    (``fall_index``), and *failed* if it never learned.
    """
    mse = run["eval_mse"]
    if mse is not None and not run["diverged"]:
        if mse <= threshold_mse:
            return "success"
        if mse < STUCK * trivial:
            return "partial"
    return "fell back" if fall_index(run["losses"], trivial) is not None else "failed"


def cliff_timing(result: SweepResult) -> dict:
    """Does the largest gradient of a run that fell back come just before the fall?

    For each run that fell back, the *window* runs from the logged update
    with the lowest loss to the first logged update of the fall. If the
    largest gradient of the run fell at a random update, it would land in its
    window with probability (window length) / (updates); summed over the runs
    that is the count expected by chance, and ``p`` is the chance of seeing at
    least the observed count (an exact Poisson-binomial tail).

    Returns
    -------
    dict
        ``runs`` (that fell back), ``in_window``, ``expected``, ``p``, and
        ``position``: per run, where its largest gradient lies, with 0 at the
        loss minimum and 1 at the fall.
    """
    thr = result.settings.threshold_mse
    probs, hits, position = [], 0, []
    for r in result.runs:
        if run_outcome(r, thr) != "fell back" or r.get("max_grad_step") is None:
            continue
        steps, loss = np.asarray(r["loss_steps"]), np.asarray(r["losses"], dtype=float)
        rise = int(steps[fall_index(loss)])
        low = int(steps[int(np.nanargmin(loss))])
        spike = int(r["max_grad_step"])
        hits += low <= spike <= rise
        probs.append((rise - low + 1) / result.settings.steps)
        position.append((spike - low) / max(rise - low, 1))
    dist = np.zeros(len(probs) + 1)
    dist[0] = 1.0
    for q in probs:                                  # P(k of the runs land in their window)
        dist[1:] = dist[1:] * (1 - q) + dist[:-1] * q
        dist[0] *= 1 - q
    return {"runs": len(probs), "in_window": int(hits), "expected": float(np.sum(probs)),
            "p": float(min(1.0, dist[hits:].sum())), "position": position}


def threshold_sensitivity(result: SweepResult, bits=None, n_boot=2000, seed=0) -> list[dict]:
    """The chapter's verdicts at other success thresholds.

    Returns, for each threshold in ``bits`` (default 0.5 to 2 bits in steps
    of 0.125), the ``reach`` (largest reliably solved length, or None), the
    80 % ``crossing`` with its interval, and the set of ``reliable`` lengths.
    The bootstrap defaults are those of ``SweepResult.crossing``, so at the
    sweep's own threshold the interval is the one ``crossing()`` gives.
    """
    bits = np.arange(0.5, 2.0001, 0.125) if bits is None else np.asarray(bits, dtype=float)
    rows = []
    for b in bits:
        judged = result.rejudged(threshold_bits=float(b))
        cross = judged.crossing(n_boot=n_boot, seed=seed)
        rows.append({"bits": float(b), "reach": judged.largest_reliable_length(),
                     "crossing": cross["estimate"], "low": cross["low"], "high": cross["high"],
                     "reliable": [row["length"] for row in judged.summary()
                                  if row["success_rate"] >= judged.settings.reliable]})
    return rows


def budget_table(result: SweepResult, threshold_mse=None) -> dict:
    """Successes by training budget, from runs evaluated at checkpoints.

    Returns
    -------
    dict
        ``{length: {updates: (successes, runs)}}`` for every checkpoint of
        ``result.settings`` and for its final budget. A run that diverged
        before a checkpoint counts as a failure there.
    """
    thr = result.settings.threshold_mse if threshold_mse is None else threshold_mse
    table = {}
    for k in list(result.settings.checkpoints) + [result.settings.steps]:
        for length, runs in result.at_budget(k).by_length().items():
            wins = sum(r["eval_mse"] is not None and r["eval_mse"] <= thr for r in runs)
            table.setdefault(length, {})[k] = (wins, len(runs))
    return dict(sorted(table.items()))


def first_to_last(result: SweepResult, length: int, key: str, stage: str) -> np.ndarray:
    """How much of the gradient reaches the first step, relative to the last.

    For every run of ``result`` at ``length`` that kept its gradient probe at
    ``stage`` ("init" or "final"), the norm of the gradient at the first state
    over the norm at the last, ``probe[stage][key][0] / probe[stage][key][-1]``,
    where ``key`` names the state ("hidden_norms", or "cell_norms" for an LSTM).
    """
    runs = result.by_length().get(length)
    if runs is None:
        raise ValueError(f"no runs at length {length!r}; the lengths are {sorted(result.by_length())}")
    return np.array([r["probe"][stage][key][0] / r["probe"][stage][key][-1]
                     for r in runs if r.get("probe") and r["probe"].get(stage)], dtype=float)


def crossing_fit_numbers(sweep: SweepResult, crossing: dict) -> dict:
    """How well the crossing's logistic curve fits each length, by the names chapter 5 glues.

    ``fit_T`` is the length whose count the curve fits worst (smallest
    binomial tail, ``stats.logistic_fit_check``), with its ``fit_expected``,
    ``fit_observed``, ``fit_runs``, ``fit_p`` and ``fit_side``; ``fit_rest_p``
    and ``fit_rest_dev`` the smallest tail and the largest difference of
    counts elsewhere; ``wilson_below`` the first length whose Wilson interval
    lies wholly below ``settings.reliable`` (None if none).
    """
    fit = logistic_fit_check([r["length"] for r in sweep.runs], [r["success"] for r in sweep.runs],
                             crossing["a"], crossing["b"])
    worst = min(fit, key=lambda row: min(row["p_low"], row["p_high"]))
    rest = [row for row in fit if row is not worst]
    below = [row["length"] for row in fit
             if wilson_interval(row["observed"], row["runs"])[1] < sweep.settings.reliable]
    return {"fit_T": int(worst["length"]), "fit_expected": worst["expected"],
            "fit_observed": worst["observed"], "fit_runs": worst["runs"],
            "fit_p": min(worst["p_low"], worst["p_high"]),
            "fit_side": "or fewer" if worst["p_low"] < worst["p_high"] else "or more",
            "fit_rest_p": min(min(row["p_low"], row["p_high"]) for row in rest),
            "fit_rest_dev": max(abs(row["observed"] - row["expected"]) for row in rest),
            "wilson_below": int(below[0]) if below else None}


def clipping_counts(arms: dict, labels=("clipped at 5", "clipped at 1", "no clipping")) -> dict:
    """Runs solved per length for chapter 6's clipping arms (label -> SweepResult), by glue name.

    ``clip_counts_T`` lists the counts of ``labels`` at each of the first two
    lengths ``clip_T_first`` and ``clip_T_second``; ``clip_per_T`` is the runs
    per length; ``clip_edge`` the counts of the last two labels at the first length.
    """
    counts = {label: {row["length"]: row["successes"] for row in arms[label].summary()} for label in labels}
    lengths = list(counts[labels[-1]])
    out = {f"clip_counts_{T}": ", ".join(str(counts[k][T]) for k in labels) for T in lengths[:2]}
    out.update(clip_T_first=lengths[0], clip_T_second=lengths[1],
               clip_per_T=arms[labels[-1]].summary()[0]["runs"],
               clip_edge=f"{counts[labels[1]][lengths[0]]} and {counts[labels[2]][lengths[0]]}")
    return out

