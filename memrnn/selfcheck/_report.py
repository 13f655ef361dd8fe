"""What every self-check returns, and how it turns a student's crash or slip into a finding."""

from __future__ import annotations

import html
import inspect
import textwrap
import traceback


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



def crash(report: Report, what: str, err: BaseException) -> Report:
    last = traceback.format_exception_only(type(err), err)[-1].strip()
    report.add(what, False, f"your code raised {last}")
    return report


def mutants(func, mistakes: dict) -> dict:
    """``func`` with each of ``mistakes`` made: {what the slip does: the slipped function}.

    ``mistakes`` maps a description to (a piece of ``func``'s source, what the
    slip writes instead). A piece that is not in the source exactly once is
    skipped: when the package's code changes, the check names fewer slips
    rather than wrong ones.
    """
    source = textwrap.dedent(inspect.getsource(func))
    out = {}
    for what, (right, wrong) in mistakes.items():
        if source.count(right) != 1:
            continue
        namespace = dict(vars(inspect.getmodule(func)))
        exec(compile(source.replace(right, wrong), f"<{func.__qualname__} that {what}>", "exec"),
             namespace)
        out[what] = namespace[func.__name__]
    return out
