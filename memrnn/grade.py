"""Grade handed-in notebooks: ``python -m memrnn grade SUBMISSIONS_DIR -o OUT_DIR``.

Each submission is one chapter of the student edition, with the student's
code in place of the stub. For each, in turn (several side by side):

1. The grader reads the notebook as JSON (never running it): the chapter, the
   student's name and number, and the code cells above the chapter's check
   (``memrnn._submission``).
2. A fresh, limited process (``memrnn._sandbox``) runs those cells, then the
   chapter's self-check on the student's object, recording every call the
   check makes into the student's code and what came back
   (``memrnn._record``). It writes back data only: JSON and numeric arrays.
3. The grader runs the same self-check from ``memrnn.selfcheck`` in its own
   process, on stand-ins that replay those answers. The verdicts are the
   package's: a notebook that patches the check in its own process changes
   nothing here.

Every submission gets a row in ``grades.csv``, whatever happened to it, with
one of the statuses in ``STATUSES``; ``feedback/<file>.md`` holds each
check's verdict in words, without tracebacks; ``summary.md`` the pass rate
per exercise and the most common mistakes; ``logs/<file>.txt`` what the
notebook printed. A second run with the same ``OUT_DIR`` regrades only new
or changed files (``.state/``). Submissions are only ever read.

This is not a sandbox against a determined attacker: see the book's appendix
"Using this book in a course" for what the isolation does and does not do.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import numbers
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from . import __version__, _io, selfcheck
from ._submission import MAX_NOTEBOOK, Submission, read_notebook

__all__ = ["EXERCISES", "MAX_NOTEBOOK", "STATUSES", "Exercise", "Submission", "grade", "parse_size",
           "read_submission"]

#: Every status a submission can get, most serious first.
STATUSES = ("unreadable", "timeout", "memory", "crashed", "missing name/number", "ok")
DEFAULT_TIMEOUT = 120.0
DEFAULT_MEMORY = 2 * 2**30


@dataclass(frozen=True)
class Exercise:
    """One chapter's exercise: the name the student defines and the self-check that judges it."""

    key: str
    chapter: str
    name: str                       # the stub's name in the student edition
    title: str
    # check(student_object) -> selfcheck.Report, bound when this module is imported:
    # a notebook that replaces selfcheck.check_... later changes nothing here.
    check: Callable
    reference: Callable             # () -> the package's own solution
    is_class: bool


def _ref(dotted):
    def get():
        import importlib
        module, _, attr = dotted.rpartition(".")
        return getattr(importlib.import_module(module), attr)
    return get


EXERCISES = {e.key: e for e in [
    Exercise("generator", "01-data", "my_generate_samples", "generate_samples (chapter 1)",
             selfcheck.check_generator, _ref("memrnn.data.generate_samples"), False),
    Exercise("mse", "02-loss", "MyMSELoss", "MSE loss (chapter 2)",
             selfcheck.check_mse, _ref("memrnn.losses.MSELoss"), True),
    Exercise("numerical_gradient", "03-gradcheck", "my_numerical_gradient",
             "numerical_gradient (chapter 3)", selfcheck.check_numerical_gradient,
             _ref("memrnn.gradcheck.numerical_gradient"), False),
    Exercise("learner", "04-learner", "MyLearner", "Learner (chapter 4)",
             selfcheck.check_learner, _ref("memrnn.learner.Learner"), True),
    Exercise("sweep_loop", "05-sweep", "my_sweep_loop", "sweep_loop (chapter 5)",
             selfcheck.check_sweep_loop, _ref("memrnn.sweep.sweep_loop"), False),
    Exercise("grad_norms", "06-vanishing", "my_hidden_grad_norms", "hidden_grad_norms (chapter 6)",
             selfcheck.check_grad_norms, _ref("memrnn.vanishing.hidden_grad_norms"),
             False),
    Exercise("lstm_cell_backward", "07-lstm", "my_lstm_cell_backward",
             "LSTM backward step (chapter 7)", selfcheck.check_lstm_cell_backward,
             _ref("memrnn.selfcheck.lstm_cell_backward"), False),
    Exercise("rnn_backward", "fast", "MyFastRNN", "FastRNN backward (Making it fast)",
             lambda c, check=selfcheck.check_rnn_backward: check(c(1, 4, 1, seed=0)),
             _ref("memrnn.fast.FastRNN"), True),
]}
BY_CHAPTER = {e.chapter: e for e in EXERCISES.values()}


def max_points(exercise: Exercise) -> int:
    """Points of an exercise: the number of checks the package's own solution passes."""
    return _max_points(exercise.key)


_MAX_CACHE: dict = {}
_MAX_LOCK = threading.Lock()


def _max_points(key):
    with _MAX_LOCK:
        if key not in _MAX_CACHE:
            report = EXERCISES[key].check(EXERCISES[key].reference())
            _MAX_CACHE[key] = len(report.items)
        return _MAX_CACHE[key]


def read_submission(path) -> Submission:
    """Read a submission as data; ``problem`` says why it cannot be graded, if it cannot."""
    return read_notebook(path, BY_CHAPTER)


def parse_size(text) -> int:
    """``"1G"``, ``"512M"``, ``"2GiB"`` or a number of bytes, as bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*", str(text), re.IGNORECASE)
    if not match:
        raise ValueError(f"expected a memory size such as 1G or 512M, got {text!r}")
    value = float(match.group(1)) * 1024 ** " kmgt".index((match.group(2) or " ").lower())
    if value < 64 * 2**20:
        raise ValueError(f"expected at least 64M of memory for Python and NumPy, got {text!r}")
    return int(value)


# ------------------------------------------------------------ grading one file
@dataclass
class Row:
    file: str
    name: str
    number: str
    chapter: str
    status: str
    points: dict            # exercise key -> points
    seconds: float
    note: str = ""

    def total(self):
        return sum(self.points.values())


def _judge(exercise: Exercise, folder: Path) -> selfcheck.Report:
    """The package's check, run here on the answers recorded in ``folder``.

    Raises OSError or ValueError when the record cannot be read.
    """
    from ._replay import Replayer
    try:
        replayer = Replayer(folder)
    except (KeyError, TypeError, RecursionError, EOFError) as err:
        raise ValueError(err) from None
    try:
        # A class or a function: which one the student wrote only decides the stand-in's kind.
        is_class = bool(replayer.info.get("is_class", exercise.is_class))
        return exercise.check(replayer.stand_in(exercise.key, is_class))
    except Exception as err:      # a call the record does not answer, outside the check's own try
        report = selfcheck.Report(exercise.title)
        report.add("answers every call of the check", False, f"{type(err).__name__}: {err}")
        return report


def _status_text(status, timeout, memory, outcome) -> str:
    return {
        "timeout": f"Your notebook did not finish within {timeout:g} s, so it was stopped. Look "
                   f"for a loop that never ends, or training far longer than the chapter's.",
        "memory": f"Your notebook tried to use more than {memory / 2**30:.3g} GiB of memory, so it "
                  f"was stopped.",
        "crashed": "The Python process running your notebook ended before it finished (a call to "
                   "os._exit, sys.exit in a thread, or a crash of Python itself). Nothing of it "
                   "could be graded.",
        "missing name/number": "Your notebook has no name or no student number: enter them in "
                               "the page before downloading, or in the first cell as "
                               "'Name: ...' and 'Student number: ...'.",
    }.get(status, "")


def grade_one(path: Path, *, timeout: float, memory: int) -> tuple[Row, str, str]:
    """Grade one submission: its row, its feedback (Markdown) and what it printed."""
    from . import _sandbox

    started = time.monotonic()
    sub = read_submission(path)
    points, feedback, log = {}, [], ""
    if sub.problem:
        row = Row(path.name, "", "", "", "unreadable", {}, 0.0, sub.problem)
        feedback.append(f"This file could not be graded: it is {sub.problem}.")
        return row, _feedback(row, feedback), log
    exercise = BY_CHAPTER[sub.chapter]
    work = Path(tempfile.mkdtemp(prefix="memrnn-grade-"))
    try:
        shutil.copyfile(path, work / "submission.ipynb")
        (work / "job.json").write_text(json.dumps({"exercise": exercise.key, "cells": sub.cells}),
                                       encoding="utf-8")
        run = _sandbox.run(_sandbox.python_argv("memrnn._grade_child"), work, timeout, memory)
        outcome = _read_outcome(work)
        stderr = _tail(work / "stderr.txt")
        log = _tail(work / "output.txt", 200_000)
        note = ""
        if run.timed_out or (run.returncode is not None and run.returncode in (-24, 128 + 24)):
            status = "timeout"
        elif (outcome and outcome.get("memory")) or "MemoryError" in stderr:
            status = "memory"
        elif outcome is None or run.returncode != 0:
            status = "crashed"
            note = f"exit status {run.returncode}"
        else:
            status = "ok"
        if status == "ok":
            if outcome.get("missing"):
                report = selfcheck.Report(exercise.title)
                report.add(f"defines {exercise.name}", False,
                           f"no {exercise.name} after running the notebook: keep the stub's name")
            else:
                try:
                    report = _judge(exercise, work)
                except (OSError, ValueError) as err:
                    status, note = "crashed", f"its results were unreadable ({err})"
                    report = None
            if report is not None:
                points[exercise.key] = min(sum(ok for _, ok, _ in report.items),
                                           max_points(exercise))
                error = outcome.get("error")
                if isinstance(error, dict):      # the student's own error, one line
                    text = f"{error.get('type', 'Error')}: {error.get('message', '')}".rstrip(": ")
                    feedback.append(f"Your notebook stopped at code cell {error.get('cell', '?')}: "
                                    f"{text[:500]}")
                feedback.append(_report_markdown(report, max_points(exercise)))
        if status != "ok":
            points[exercise.key] = 0
            feedback.insert(0, _status_text(status, timeout, memory, outcome))
        if status == "ok" and (not sub.name or not sub.number):
            status = "missing name/number"
            feedback.insert(0, _status_text(status, timeout, memory, outcome))
        row = Row(path.name, sub.name, sub.number, sub.chapter, status, points,
                  time.monotonic() - started, note)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return row, _feedback(row, feedback), log


def _read_outcome(work: Path):
    try:
        if (work / "outcome.json").stat().st_size > 2**20:
            return None
        data = json.loads((work / "outcome.json").read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def _tail(path: Path, limit=20_000) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - limit))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _report_markdown(report, maximum) -> str:
    passed = sum(ok for _, ok, _ in report.items)
    lines = [f"## {report.title}: {passed} of {maximum} points", ""]
    for name, ok, why in report.items:
        lines.append(f"- {'passed' if ok else '**not yet**'}: {name}"
                     + ("" if ok or not why else f"  \n  {why}"))
    if report.passed and passed == maximum:
        lines += ["", "Well done: your implementation behaves as it should."]
    return "\n".join(lines)


def _feedback(row: Row, parts) -> str:
    who = ", ".join(x for x in (row.name, row.number) if x) or "no name given"
    head = f"# Feedback on {row.file}\n\n{who}. Status: {row.status}."
    return "\n\n".join([head, *[p for p in parts if p]]) + "\n"


# ------------------------------------------------------------ the batch
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _safe_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:150] or "submission"


def grade(submissions, out, *, timeout: float = DEFAULT_TIMEOUT, memory: int = DEFAULT_MEMORY,
          jobs: int | None = None, progress: bool = True) -> list[Row]:
    """Grade every ``*.ipynb`` in the folder ``submissions``; write the results into ``out``.

    ``jobs`` notebooks are graded side by side (a positive whole number;
    default: one per core). Returns the rows of ``grades.csv``. A second
    call with the same ``out`` regrades only the files that are new or
    changed (or were graded with other limits or another memrnn).
    """
    from tqdm.auto import tqdm

    from . import _sandbox

    submissions, out = Path(submissions), Path(out)
    if not submissions.is_dir():
        raise ValueError(f"expected a folder of notebooks, got {str(submissions)!r}")
    if not 0 < timeout < float("inf"):
        raise ValueError(f"expected a positive timeout in seconds, got {timeout!r}")
    # A bool is an int to Python, but "jobs=True" is a mistake, not one job.
    if jobs is not None and (not isinstance(jobs, numbers.Integral) or isinstance(jobs, bool)
                             or jobs < 1):
        raise ValueError(f"expected a positive number of jobs (a whole number), got {jobs!r}")
    if not isinstance(memory, (int, float)) or memory < 64 * 2**20:
        raise ValueError(f"expected a memory size in bytes of at least 64 MiB, got {memory!r}")
    memory = int(memory)
    if out.resolve() == submissions.resolve() or submissions.resolve() in out.resolve().parents:
        raise ValueError(f"OUT_DIR {str(out)!r} must not be inside SUBMISSIONS_DIR: the "
                         f"submissions are never modified")
    files = sorted(p for p in submissions.iterdir() if p.suffix == ".ipynb" and p.is_file())
    state_dir = out / ".state"
    settings = {"timeout": timeout, "memory": memory, "memrnn": __version__}
    rows: dict[str, Row] = {}
    todo = []
    for path in files:
        state = state_dir / f"{_safe_stem(path.name)}.json"
        try:
            saved = json.loads(state.read_text(encoding="utf-8"))
            if saved["sha256"] == _digest(path) and saved["settings"] == settings:
                rows[path.name] = Row(**saved["row"])
                continue
        except (OSError, ValueError, KeyError, TypeError):
            pass
        todo.append(path)
    iso = _sandbox.isolation()
    print(f"memrnn grade: {len(files)} notebooks, {len(files) - len(todo)} already graded in "
          f"{out}; each runs in its own process with {memory / 2**30:.3g} GiB and {timeout:g} s. "
          f"Isolation on this machine:\n{iso.describe()}", file=sys.stderr)
    jobs = int(jobs) if jobs is not None else os.cpu_count() or 1

    def one(path):
        try:
            return path, *grade_one(path, timeout=timeout, memory=memory)
        except Exception as err:         # the grader's own failure: still a row, still a batch
            row = Row(path.name, "", "", "", "crashed", {}, 0.0, f"grader error: {err}")
            return path, row, _feedback(row, [f"The grader could not grade this file ({err})."]), ""

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(one, p) for p in todo]
        bar = tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress)
        for future in as_completed(futures):
            path, row, feedback, log = future.result()
            stem = _safe_stem(path.name)
            _io.write_text(out / "feedback" / f"{stem}.md", feedback)
            _io.write_text(out / "logs" / f"{stem}.txt", log)
            _io.write_json(state_dir / f"{stem}.json",
                           {"sha256": _digest(path), "settings": settings, "row": vars(row)})
            rows[path.name] = row
            bar.update(1)
        bar.close()
    ordered = [rows[p.name] for p in files]
    _write_csv(out / "grades.csv", ordered)
    _io.write_text(out / "summary.md", _summary(ordered, out))
    return ordered


def _write_csv(path: Path, rows: list[Row]) -> None:
    keys = [k for k in EXERCISES if any(k in r.points for r in rows)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["file", "name", "student_number", "chapter", "status",
                     *[f"points_{k}" for k in keys], "total", "max_total", "seconds", "note"])
    for r in rows:
        chapter_max = max_points(BY_CHAPTER[r.chapter]) if r.chapter in BY_CHAPTER else ""
        writer.writerow([r.file, r.name, r.number, r.chapter, r.status,
                         *[r.points.get(k, "") for k in keys], r.total(), chapter_max,
                         f"{r.seconds:.2f}", r.note])
    _io.write_text(path, buffer.getvalue())


_DIAGNOSIS = re.compile(r"((?:yours|you )[^.]*)", re.IGNORECASE)


def _summary(rows: list[Row], out: Path) -> str:
    lines = ["# Class summary", "", f"{len(rows)} submissions. Status: "
             + ", ".join(f"{n} {s}" for s, n in Counter(r.status for r in rows).most_common()) + ".",
             "", "| exercise | handed in | full marks | pass rate |", "|---|---|---|---|"]
    mistakes = Counter()
    for key, exercise in EXERCISES.items():
        mine = [r for r in rows if r.chapter == exercise.chapter]
        if not mine:
            continue
        full = sum(r.points.get(key, 0) == max_points(exercise) for r in mine)
        lines.append(f"| {exercise.title} | {len(mine)} | {full} | {full / len(mine):.0%} |")
    for r in rows:
        try:
            text = (out / "feedback" / f"{_safe_stem(r.file)}.md").read_text(encoding="utf-8")
        except OSError:
            continue
        for block in text.split("\n- ")[1:]:
            if block.startswith("**not yet**"):
                check, _, why = block.partition("  \n  ")
                found = _DIAGNOSIS.search(why)
                label = check.replace("**not yet**: ", "").strip()
                mistakes[f"{label}: {found.group(1).strip() if found else 'failed'}"] += 1
    lines += ["", "## Most common mistakes", ""]
    lines += [f"- {n} x {text}" for text, n in mistakes.most_common(10)] or ["- none"]
    return "\n".join(lines) + "\n"
