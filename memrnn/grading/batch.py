"""Grade a folder of handed-in notebooks: ``python -m memrnn grade SUBMISSIONS_DIR -o OUT_DIR``.

For each notebook (several side by side):

1. The grader reads the notebook as JSON, never running it: the chapter, the
   student's name and number, and the code cells up to the chapter's last
   check, the check cells left out (``memrnn.grading.submission``).
2. For each exercise of the chapter (``BY_CHAPTER``; a chapter may have several),
   in a bubblewrap sandbox of its own (``memrnn.grading.sandbox``), a fresh Python
   runs those cells, then that exercise's self-check on the student's object,
   recording every call the check makes into the student's code and what came
   back (``memrnn.grading.record``). Meanwhile the package's own solution of
   the exercise is refused to the student's code. It sends back data only,
   through a pipe (``memrnn.grading.stream``).
3. The grader reads that record within bounds and runs the same self-check in
   its own process, on stand-ins that replay those answers
   (``memrnn.grading.replay``). The verdicts are the package's: a notebook that
   patches the check in its own process changes nothing here.

Every submission gets a row in ``grades.csv``, whatever happened to it, with
the points of each of its chapter's exercises and the most serious of their
runs' statuses (``STATUSES``); ``feedback/<file>.md`` holds a section per
exercise, each check's verdict in words; ``summary.md`` the pass rate per exercise and the
most common mistakes, each a check's message with the values that differ from student to
student (numbers, shapes, names, the student's line) left out; ``logs/<file>.txt`` what the
notebook printed. Text the
student controls is escaped (``memrnn.grading.output``). A second run with the
same ``OUT_DIR`` regrades only new or changed files (``.state/``). Submissions
are only ever read.
"""

from __future__ import annotations

import csv
import io
import json
import numbers
import os
import queue
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__, _io, selfcheck
from . import sandbox as _sandbox
from . import stream
from .exercises import BY_CHAPTER, EXERCISES, Exercise, chapter_max_points, max_points
from .output import csv_cell, md_text, safe_stem
from .submission import Submission, read_notebook

__all__ = ["grade", "STATUSES"]

#: Every status a submission can get, most serious first.
STATUSES = ("unreadable", "timeout", "memory", "crashed", "invalid record", "missing name/number",
            "ok")
DEFAULT_TIMEOUT = 120.0
DEFAULT_MEMORY = 2 * 2**30
#: The record of one run: bytes read from its pipe, then copies made from it while judging.
MAX_RECORD = 320 * 2**20
JUDGE_BYTES = 512 * 2**20
JUDGE_SECONDS = 60.0
LOG_BYTES = 20_000
ERROR_CHARS = 200               # of the student's own error, in the feedback


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


def facts() -> dict:
    """The grader's defaults and bounds as the instructor's appendix quotes them, as text."""
    return {"timeout": f"{DEFAULT_TIMEOUT:g}", "memory": f"{DEFAULT_MEMORY / 2**30:g}",
            "exercises": str(len(EXERCISES)), "processes": str(_sandbox.PROCESSES),
            "tmpfs": f"{_sandbox.tmpfs_size(DEFAULT_MEMORY) / 2**20:.0f}",
            "record": f"{MAX_RECORD / 2**20:.0f}", "judge": f"{JUDGE_BYTES / 2**20:.0f}",
            "judge_seconds": f"{JUDGE_SECONDS:g}"}


# ------------------------------------------------------------ grading one file
@dataclass
class Row:
    file: str               # the file's name, with bytes that are not UTF-8 escaped
    name: str
    number: str
    chapter: str
    status: str
    points: dict            # exercise key -> points
    seconds: float
    note: str = ""
    failures: list = field(default_factory=list)    # [check, why] of each failed check
    stem: str = ""          # of its feedback and log files
    cpu_seconds: float = 0.0    # the run's own CPU time, as it reported it (for benchmarks only)

    def total(self):
        return sum(self.points.values())


def _judge(exercise: Exercise, record: dict):
    """The package's check, run here on the answers in ``record``: (report, why it is invalid)."""
    from .replay import Replayer

    replayer = Replayer(record, budget=JUDGE_BYTES, deadline=time.monotonic() + JUDGE_SECONDS)
    # A class or a function: which one the student wrote only decides the stand-in's kind.
    is_class = replayer.info.get("is_class", exercise.is_class)
    try:
        report = exercise.check(replayer.stand_in(exercise.key, is_class is True))
    except stream.InvalidRecord:
        report = None
    except Exception as err:      # a call the record does not answer, outside the check's own try
        report = selfcheck.Report(exercise.title)
        report.add("answers every call of the check", False, f"{type(err).__name__}: {err}")
    return report, replayer.arrays.exceeded


def _status_text(status, timeout, memory) -> str:
    return {
        "timeout": f"Your notebook did not finish within {timeout:g} s, so it was stopped. Look "
                   f"for a loop that never ends, or training far longer than the chapter's.",
        "memory": f"Your notebook tried to use more than {memory / 2**30:.3g} GiB of memory, so it "
                  f"was stopped.",
        "crashed": "The Python process running your notebook ended before it finished (a call to "
                   "os._exit, sys.exit in a thread, or a crash of Python itself). Nothing of it "
                   "could be graded.",
        "invalid record": "What your notebook's run sent back to the grader was not a record "
                          "the grader reads (too large, or not in its format), so nothing of it "
                          "could be graded. Did the notebook write to the grader's pipe?",
        "missing name/number": "Your notebook has no name or no student number: enter them in "
                               "the page before downloading, or in the first cell as "
                               "'Name: ...' and 'Student number: ...'.",
    }.get(status, "")


def _shown(path) -> str:
    name = os.path.basename(os.fsencode(path))
    return name.decode("utf-8", errors="backslashreplace")


def grade_one(path, *, timeout: float, memory: int, slot: int = 0,
              no_sandbox: bool = False) -> tuple[Row, str, str]:
    """Grade one submission: its row, its feedback (Markdown) and what it printed.

    Each exercise of the chapter is graded in a run of its own, with the full
    limits; the row holds the points of each, the most serious status of the
    runs and their notes, and the feedback a section per exercise.
    """
    started = time.monotonic()
    shown = _shown(path)
    sub = read_submission(path)
    if sub.problem:
        row = Row(shown, "", "", "", "unreadable", {}, 0.0, sub.problem)
        return row, _feedback(row, [f"This file could not be graded: it is {md_text(sub.problem)}."]), ""
    exercises = BY_CHAPTER[sub.chapter]
    several = len(exercises) > 1
    points, parts, logs, notes, failures, statuses, cpu = {}, [], [], [], [], [], 0.0
    for exercise in exercises:
        run = _grade_exercise(exercise, sub.cells, timeout=timeout, memory=memory, slot=slot,
                              no_sandbox=no_sandbox)
        points[exercise.key] = run.points
        statuses.append(run.status)
        parts.append(run.section)
        failures += run.failures
        cpu += run.cpu_seconds
        # Which exercise a note or a log is of, where the chapter has several; there, a run
        # stopped without a note of its own is named by its status.
        note = run.note or (run.status if several and run.status != "ok" else "")
        if note:
            notes.append(f"{exercise.name}: {note}" if several else note)
        logs.append(f"=== {exercise.name} ===\n{run.log}" if several else run.log)
    status = min(statuses, key=STATUSES.index)
    if status == "ok" and (not sub.name or not sub.number):
        status = "missing name/number"
        parts.insert(0, _status_text(status, timeout, memory))
    row = Row(shown, sub.name, sub.number, sub.chapter, status, points,
              time.monotonic() - started, "; ".join(notes), failures)
    row.cpu_seconds = cpu
    return row, _feedback(row, parts), "\n".join(logs)


@dataclass
class _Run:
    """One exercise of a submission, graded in a run of its own."""

    status: str
    points: int
    section: str            # its part of the feedback (Markdown)
    note: str = ""
    failures: list = field(default_factory=list)
    log: str = ""
    cpu_seconds: float = 0.0


def _grade_exercise(exercise: Exercise, cells: list, *, timeout: float, memory: int, slot: int,
                    no_sandbox: bool) -> _Run:
    """Run ``cells`` and then ``exercise``'s check in a sandbox; judge the record here."""
    private = tempfile.mkdtemp(prefix="memrnn-grade-")      # 0700, the grader's own
    try:
        job = os.path.join(private, "job.json")
        with open(job, "w", encoding="utf-8") as fh:
            json.dump({"exercise": exercise.key, "cells": cells}, fh)
        os.chmod(job, 0o644)        # the sandbox's user reads it, read-only, and nothing else here
        workdir = None
        if no_sandbox:
            workdir = os.path.join(private, "work")
            os.mkdir(workdir, 0o700)
        run = _sandbox.run(["-m", "memrnn.grading.child"], job_file=job, workdir=workdir,
                           slot=slot, timeout=timeout, memory=memory, result_cap=MAX_RECORD,
                           log_cap=LOG_BYTES, no_sandbox=no_sandbox)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    stderr = run.log.decode("utf-8", errors="replace")
    record, invalid, note, report = None, "", "", None
    if run.result_overflow:
        invalid = f"more than {MAX_RECORD} bytes"
    elif run.result:
        try:
            record = stream.decode(run.result)
        except stream.InvalidRecord as err:
            invalid = str(err)
    outcome = record["outcome"] if record else None
    log = (record or {}).get("output", "") + ("\n--- stderr ---\n" + stderr if stderr else "")
    if run.timed_out or run.returncode in (-24, 128 + 24):
        status = "timeout"
    elif (outcome and outcome.get("memory") is True) or "MemoryError" in stderr:
        status = "memory"
    elif invalid:
        status, note = "invalid record", f"its record was invalid: {invalid}"
    elif outcome is None or run.returncode != 0:
        status = "crashed"
        note = f"exit status {run.returncode}"
    else:
        status = "ok"
    delegated = []
    if status == "ok":
        delegated = [d for d in outcome.get("delegated", []) if isinstance(d, str)][:5]
        if outcome.get("missing"):
            report = selfcheck.Report(exercise.title)
            report.add(f"defines {exercise.name}", False,
                       f"no {exercise.name} after running the notebook: keep the stub's name")
        else:
            report, why = _judge(exercise, record)
            if why or report is None:
                status, note = "invalid record", f"its record was invalid: {why or 'unreadable'}"
                report = None
    maximum = max_points(exercise)
    cpu = outcome.get("cpu_seconds") if outcome else None
    cpu = float(cpu) if isinstance(cpu, (int, float)) and 0 <= cpu < 1e6 else 0.0
    if report is None:
        section = (f"## {md_text(exercise.title, 100)}: 0 of {maximum} points\n\n"
                   + _status_text(status, timeout, memory))
        return _Run(status, 0, section, note, [], log, cpu)
    earned = min(sum(ok for _, ok, _ in report.items), maximum)
    lines = []
    if delegated:
        earned = 0
        names = ", ".join(f"memrnn's {d}" for d in dict.fromkeys(delegated))
        note = f"no points: the code hands the exercise to {names}"
        lines.append(f"**No points for this exercise**: your code calls {md_text(names)}, the "
                     f"package's own solution, instead of doing the work itself. Write it "
                     f"yourself, without memrnn's version.")
    error = outcome.get("error")
    if isinstance(error, dict):      # the student's own error, one short line
        text = f"{error.get('type', 'Error')}: {error.get('message', '')}".rstrip(": ")
        lines.append(f"Your notebook stopped at code cell {md_text(error.get('cell', '?'), 10)}: "
                     f"{md_text(text, ERROR_CHARS)}")
    failures = [[name, why] for name, ok, why in report.items if not ok]
    return _Run(status, earned, _report_markdown(report, maximum, delegated, lines), note,
                failures, log, cpu)


def _report_markdown(report, maximum, delegated=(), lines=()) -> str:
    passed = sum(ok for _, ok, _ in report.items)
    earned = 0 if delegated else passed
    out = [f"## {md_text(report.title, 100)}: {earned} of {maximum} points", ""]
    if lines:
        out += ["\n\n".join(lines), ""]
    for name, ok, why in report.items:
        out.append(f"- {'passed' if ok else '**not yet**'}: {md_text(name, 200)}"
                   + ("" if ok or not why else f"  \n  {md_text(why)}"))
    if report.passed and passed == maximum and not delegated:
        out += ["", "Well done: your implementation behaves as it should."]
    return "\n".join(out)


def _feedback(row: Row, parts) -> str:
    who = ", ".join(md_text(x, 200) for x in (row.name, row.number) if x) or "no name given"
    head = f"# Feedback on {md_text(row.file, 200)}\n\n{who}. Status: {row.status}."
    return "\n\n".join([head, *[p for p in parts if p]]) + "\n"


# ------------------------------------------------------------ the batch
def grade(submissions, out, *, timeout: float = DEFAULT_TIMEOUT, memory: int = DEFAULT_MEMORY,
          jobs: int | None = None, progress: bool = True, no_sandbox: bool = False) -> list[Row]:
    """Grade every ``*.ipynb`` in the folder ``submissions``; write the results into ``out``.

    ``jobs`` notebooks are graded side by side (a positive whole number;
    default: one per core), each in a bubblewrap sandbox. Where bubblewrap
    cannot run, this raises ``SandboxUnavailable``, unless ``no_sandbox``: then
    the notebooks run unprotected, and stderr and every row's note say so.
    Returns the rows of ``grades.csv``. A second call with the same ``out``
    regrades only the files that are new or changed (or were graded with other
    limits or another memrnn).
    """
    from tqdm.auto import tqdm

    submissions, out = Path(os.fsdecode(submissions)), Path(os.fsdecode(out))
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
    box = _sandbox.sandbox()
    if not box.works and not no_sandbox:
        raise _sandbox.SandboxUnavailable(
            f"bubblewrap cannot run here ({box.why_not}), and the grader does not run untrusted "
            f"notebooks without it; --no-sandbox runs them unprotected")
    folder = os.fsencode(submissions)
    # Anything named *.ipynb but a folder gets a row: a FIFO or a link to a device is unreadable.
    names = sorted(n for n in os.listdir(folder) if n.endswith(b".ipynb")
                   and not os.path.isdir(os.path.join(folder, n)))
    files = [os.path.join(folder, n) for n in names]
    taken: set = set()
    stems = {f: safe_stem(os.path.basename(f), _shown(f), taken) for f in files}
    state_dir = out / ".state"
    settings = {"timeout": timeout, "memory": memory, "memrnn": __version__,
                "sandbox": not no_sandbox}
    rows: dict[bytes, Row] = {}
    digests: dict[bytes, str] = {}
    todo = []
    for path in files:
        digests[path] = read_submission(path).sha256
        try:
            saved = json.loads((state_dir / f"{stems[path]}.json").read_text(encoding="utf-8"))
            if saved["sha256"] == digests[path] and saved["settings"] == settings:
                rows[path] = Row(**saved["row"])
                continue
        except (OSError, ValueError, KeyError, TypeError):
            pass
        todo.append(path)
    warning = ""
    if no_sandbox:
        warning = _sandbox.NOT_SANDBOXED
        print(f"memrnn grade: WARNING: {warning}.", file=sys.stderr)
    print(f"memrnn grade: {len(files)} notebooks, {len(files) - len(todo)} already graded in "
          f"{out}; each runs with {memory / 2**30:.3g} GiB and {timeout:g} s. "
          f"Isolation on this machine:\n{box.describe()}", file=sys.stderr)
    jobs = int(jobs) if jobs is not None else os.cpu_count() or 1
    slots: queue.Queue = queue.Queue()
    for k in range(jobs):
        slots.put(k)

    def one(path):
        slot = slots.get()
        try:
            return path, *grade_one(path, timeout=timeout, memory=memory, slot=slot,
                                    no_sandbox=no_sandbox)
        except _sandbox.SandboxUnavailable:
            raise
        except Exception as err:         # the grader's own failure: still a row, still a batch
            row = Row(_shown(path), "", "", "", "crashed", {}, 0.0,
                      f"grader error: {type(err).__name__}")
            return path, row, _feedback(row, ["The grader could not grade this file."]), ""
        finally:
            slots.put(slot)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(one, p) for p in todo]
        bar = tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress)
        for future in as_completed(futures):
            path, row, feedback, log = future.result()
            row.stem = stems[path]
            if warning:
                row.note = f"{warning}; {row.note}".rstrip("; ")
            _io.write_text(out / "feedback" / f"{row.stem}.md", feedback)
            _io.write_text(out / "logs" / f"{row.stem}.txt", log)
            _io.write_json(state_dir / f"{row.stem}.json",
                           {"sha256": digests[path], "settings": settings, "row": vars(row)})
            rows[path] = row
            bar.update(1)
        bar.close()
    ordered = [rows[p] for p in files]
    for p, r in zip(files, ordered):
        r.stem = stems[p]
    _write_csv(out / "grades.csv", ordered)
    _io.write_text(out / "summary.md", _summary(ordered))
    return ordered


def _write_csv(path: Path, rows: list[Row]) -> None:
    keys = [k for k in EXERCISES if any(k in r.points for r in rows)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["file", "name", "student_number", "chapter", "status",
                     *[f"points_{k}" for k in keys], "total", "max_total", "seconds", "note",
                     "feedback"])
    for r in rows:
        chapter_max = chapter_max_points(r.chapter) if r.chapter in BY_CHAPTER else ""
        writer.writerow([csv_cell(v) for v in [
            r.file, r.name, r.number, r.chapter, r.status, *[r.points.get(k, "") for k in keys],
            r.total(), chapter_max, f"{r.seconds:.2f}", r.note, f"feedback/{r.stem}.md"]])
    _io.write_text(path, buffer.getvalue())


# What varies from one student to the next in a check's explanation, and what stands in for it,
# applied in this order: the student's own line of a crash, quoted names and strings, numbers
# (a shape's sizes, an index, a measured value), then the tuples and lists they made up.
_STUDENTS_VALUES = [
    (re.compile(r"(at your line) \d+(?::.*)?$", re.S), r"\1 …"),
    (re.compile(r"(?<!\w)(?:'[^'\n]*'|\"[^\"\n]*\")(?!\w)"), "'…'"),
    (re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?!\w|\.\d)"), "…"),
    (re.compile(r"\((?:\s*'?…'?\s*,?)+\)"), "(…)"),
    (re.compile(r"\[(?:\s*'?…'?\s*,?)+\]"), "[…]"),
]


def _mistake(check: str, why: str) -> str:
    """A failed check as the class summary groups it: its name and its explanation, with the
    values that are the student's own (numbers, shapes, names, their line) replaced by "…"."""
    text = " ".join(str(why).split())
    for pattern, stand_in in _STUDENTS_VALUES:
        text = pattern.sub(stand_in, text)
    return f"{check}: {text or 'failed'}"


def _summary(rows: list[Row]) -> str:
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
        for check, why in r.failures:
            mistakes[_mistake(check, why)] += 1
    lines += ["", "## Most common mistakes", ""]
    lines += [f"- {n} x {md_text(text, 280)}" for text, n in mistakes.most_common(10)] or ["- none"]
    return "\n".join(lines) + "\n"
