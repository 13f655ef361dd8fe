"""What every self-check returns, and how it turns a student's crash or slip into a finding."""

from __future__ import annotations

import html
import os
import sysconfig
import traceback

import numpy as np


class Report:
    """The outcome of one self-check: a list of (check, passed, explanation).

    ``bool(report)`` and ``report.passed`` are True when every check passed.
    """

    def __init__(self, title: str):
        self.title = title
        self.items: list[tuple[str, bool, str]] = []

    def add(self, name: str, ok: bool, explanation: str = "") -> bool:
        self.items.append((name, bool(ok), explanation))
        return bool(ok)

    @property
    def passed(self) -> bool:
        return bool(self.items) and all(ok for _, ok, _ in self.items)

    def __bool__(self):
        return self.passed

    @property
    def failures(self) -> list[str]:
        return [f"{name}: {why}" for name, ok, why in self.items if not ok]

    def __str__(self):
        n_ok = sum(ok for _, ok, _ in self.items)
        head = f"{self.title}: {n_ok} of {len(self.items)} checks passed"
        lines = [head]
        for name, ok, why in self.items:
            detail = "" if ok or not why else f"\n         {why}"
            lines.append(f"  [{'ok' if ok else 'FAIL'}] {name}{detail}")
        if self.passed:
            lines.append("  Well done: your implementation behaves as it should.")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        rows = "".join(
            f"<li>{'&#10004;' if ok else '&#10008;'} <b>{html.escape(name)}</b>"
            + ("" if ok or not why else f"<br><span>{html.escape(why)}</span>") + "</li>"
            for name, ok, why in self.items)
        verdict = ("All checks passed." if self.passed else
                   f"{len(self.failures)} check(s) failed; read the explanations below.")
        return f"<div><p><b>{html.escape(self.title)}</b>: {verdict}</p><ul>{rows}</ul></div>"



_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARIES = tuple({os.path.abspath(p) for key in ("stdlib", "platstdlib", "purelib", "platlib")
                    if (p := sysconfig.get_paths().get(key))})


def _is_students(filename: str) -> bool:
    """Is this frame's file the student's (a notebook cell, a script), not memrnn or a library?"""
    if filename.startswith("<frozen"):
        return False
    path = os.path.abspath(filename)
    return not (path.startswith(_PACKAGE + os.sep) or path.startswith(_LIBRARIES))


def students_line(err: BaseException) -> str:
    """Where the student's own code was when ``err`` was raised: "line 7: y = x[0]", or ""."""
    for frame in reversed(traceback.extract_tb(err.__traceback__)):
        if _is_students(frame.filename):
            code = (frame.line or "").strip()
            return f"line {frame.lineno}" + (f": {code}" if code else "")
    return ""


def crash(report: Report, what: str, err: BaseException) -> Report:
    """Report an exception raised in the student's code as their finding, with their line."""
    last = traceback.format_exception_only(type(err), err)[-1].strip()
    where = students_line(err)
    if isinstance(err, NotImplementedError):
        why = f"not written yet: your code raised {last}; replace the stub's raise with your code"
    else:
        why = f"your code raised {last}" + (f", at your {where}" if where else "")
    report.add(what, False, why)
    return report


def as_numbers(report: Report, what: str, value, check: str, hint: str):
    """The student's returned ``value`` as a float array, or None after adding why it is not one.

    ``what`` names the student's function, ``check`` the finding, ``hint`` what to return.
    """
    if returned_nothing(report, what, value, hint):
        return None
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        report.add(check, False, f"{what} returned a {type(value).__name__}; {hint}")
        return None


def returned_nothing(report: Report, what: str, value, hint: str) -> bool:
    """Add a failure if the student's ``what`` returned None; True if it did."""
    if value is None:
        report.add(f"{what} returns a value", False, f"{what} returned None; {hint}")
        return True
    return False
