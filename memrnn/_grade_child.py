"""The student's side of ``memrnn grade``: run a notebook's cells, record the exercise's answers.

Started by ``memrnn._sandbox`` as ``python -I -m memrnn._grade_child`` in a
fresh, limited process whose working directory holds ``job.json`` (written by
the grader: the cells to run and the exercise to record) and nothing else of
the grader's. It writes back data only: ``outcome.json``, ``events.json``,
``arrays.npz`` (see ``memrnn._record``) and ``output.txt``, the notebook's own
printed output, cut at ``MAX_OUTPUT`` characters.

Nothing written here is trusted: the grader re-runs the check itself on the
recorded answers, and treats a missing or malformed file as a crash.
"""

from __future__ import annotations

import io
import json
import os
import sys
import types
from pathlib import Path

MAX_OUTPUT = 200_000


class _Capped(io.TextIOBase):
    """stdout and stderr of the notebook, kept up to MAX_OUTPUT characters in all."""

    def __init__(self, sink: list):
        self.sink = sink

    def writable(self):
        return True

    def write(self, text):
        used = sum(map(len, self.sink))
        if used < MAX_OUTPUT:
            self.sink.append(str(text)[:MAX_OUTPUT - used])
        return len(text)


def _stand_ins() -> None:
    """Light stand-ins for what a notebook kernel provides and grading does not need."""
    glue = types.ModuleType("myst_nb")
    glue.glue = lambda name, value=None, display=True: None
    sys.modules["myst_nb"] = glue
    try:
        import IPython.display  # noqa: F401
    except ImportError:
        display = types.ModuleType("IPython.display")
        display.display = lambda *a, **k: None
        display.Markdown = display.HTML = display.Image = lambda *a, **k: None
        ipython = types.ModuleType("IPython")
        ipython.display = display
        sys.modules.setdefault("IPython", ipython)
        sys.modules["IPython.display"] = display


def _without_magics(source: str) -> str:
    # IPython syntax (%matplotlib inline, !pip ...) is not Python: comment it out.
    return "\n".join("# " + line if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def main() -> int:
    job = json.loads(Path("job.json").read_text(encoding="utf-8"))
    # Everything trusted is imported before the student's first line runs.
    import matplotlib
    matplotlib.use("Agg")
    from memrnn import _record
    from memrnn.grade import EXERCISES

    exercise = EXERCISES[job["exercise"]]
    _stand_ins()
    output: list[str] = []
    outcome = {"cells": len(job["cells"]), "ran": 0, "error": None, "missing": False,
               "memory": False}
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = _Capped(output)
    try:
        for number, source in enumerate(job["cells"], start=1):
            try:
                exec(compile(_without_magics(source), f"<cell {number}>", "exec"), namespace)
            except MemoryError:
                outcome["memory"] = True
                outcome["error"] = {"cell": number, "type": "MemoryError", "message": ""}
                break
            except BaseException as err:         # SystemExit too: Run All stops there
                outcome["error"] = {"cell": number, "type": type(err).__name__,
                                    "message": str(err)[:2000]}
                break
            outcome["ran"] = number
        recorder = _record.Recorder()
        student = namespace.get(exercise.name)
        if student is None:
            outcome["missing"] = True
        else:
            try:
                exercise.check(recorder.wrap(student, exercise.key))
            except MemoryError:
                recorder.memory_error = True
            except BaseException:                # the check's findings are judged by the grader
                pass
        outcome["memory"] = outcome["memory"] or recorder.memory_error
    finally:
        sys.stdout, sys.stderr = real_out, real_err
    Path("output.txt").write_text("".join(output), encoding="utf-8", errors="replace")
    recorder.save(Path("."), {"is_class": isinstance(namespace.get(exercise.name), type)})
    # Written last: its presence says the run got to the end.
    Path("outcome.json").write_text(json.dumps(outcome), encoding="utf-8")
    return 0


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main())
