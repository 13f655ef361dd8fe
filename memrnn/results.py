"""The results of a sweep: what the runs say, the files they live in (chapters 5 to 7).

``SweepResult`` judges a sweep's runs against its settings (success, rates
with Wilson intervals, the median MSE, the largest length solved reliably,
where the success rate crosses 80 %). Results files are JSON, one run per
line, rewritten atomically after every finished run. The reference results
that the book shows ship with the package (``reference_results``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .information import bits_remembered, crossing_length, wilson_interval
from .settings import FORMAT, RESULTS_NAME, SweepSettings

__all__ = ["SweepResult", "load_results", "reference_results", "REFERENCES", "finished_runs",
           "load_for_resume"]

#: The shipped reference results: profile name -> file in ``memrnn/results``.
#: ``python -m memrnn sweep --profile NAME`` recomputes one (``scripts/make-references.sh``
#: recomputes them all).
REFERENCES = {
    "reference": "rnn-reference.json",
    "reference-float32-T20": "rnn-float32-T20.json",
    "reference-clip1": "rnn-clip1.json",
    "reference-clip5": "rnn-clip5.json",
    "reference-long": "rnn-long.json",
    **{f"ch7-{m}-{o}": f"ch7-{m}-{o}.json"
       for m, o in (("lstm", "adam"), ("lstm3", "adam"), ("lstm3", "sgd"), ("rnn", "adam"),
                    ("rnn", "sgd"), ("rnn21", "adam"), ("rnn21", "sgd"))},
}


class SweepResult:
    """The runs of a sweep and what they say (chapters 5 to 7).

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

    def rejudged(self, **changes) -> SweepResult:
        """The same runs judged with other settings, e.g. ``threshold_bits=2`` (chapter 5)."""
        return SweepResult(self.settings.replace(**changes), [dict(r) for r in self.runs])

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

    def crossing(self, level=None, n_boot=2000, seed=0) -> dict:
        """The length where the success rate falls through ``level`` (default
        ``settings.reliable``), with a 95 % bootstrap interval (chapter 5).

        See ``memrnn.information.crossing_length``.
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
    """Reference results shipped with memrnn (chapters 5 to 7).

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
    theirs, ours = old.settings.training(), settings.training()
    diff = [f"{k} {theirs[k]!r} (file) vs {ours[k]!r} (now)" for k in ours if theirs[k] != ours[k]]
    if diff:
        raise ValueError(f"{path} holds a sweep with different settings: " + "; ".join(diff)
                         + ". Use another output folder, or delete the file to start over.")
    return {(r["length"], r["repeat"]): r for r in old.runs}
