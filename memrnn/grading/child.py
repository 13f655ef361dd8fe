"""The student's side of ``memrnn grade``: run a notebook's cells, record the exercise's answers.

Started by ``memrnn.grading.sandbox`` as ``python -I -m memrnn.grading.child
--job JOB --result-fd N`` in the sandbox. ``JOB`` (read-only) holds the cells
to run and the exercise to record. It sends back data only, in the pipe ``N``
(``memrnn.grading.stream``): the outcome, the log of the check's calls and
their arrays (``memrnn.grading.record``), and the notebook's own printed
output, cut at ``MAX_OUTPUT`` characters.

Nothing sent from here is trusted: the grader re-runs the check itself on the
recorded answers, within bounds, and treats a missing record as a crash and a
malformed one as an invalid record.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import types

__all__: list[str] = []       # run as a program inside the sandbox, never imported for its names

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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--job", required=True)
    parser.add_argument("--result-fd", type=int, required=True)
    args = parser.parse_args(argv)
    with open(args.job, encoding="utf-8") as fh:
        job = json.load(fh)
    result = os.fdopen(args.result_fd, "wb", buffering=0)
    # Everything trusted is imported before the student's first line runs.
    import matplotlib
    matplotlib.use("Agg")
    from memrnn.grading import record as _record
    from memrnn.grading import stream
    from memrnn.grading.exercises import EXERCISES

    exercise = EXERCISES[job["exercise"]]
    recorder = _record.Recorder()
    _record.guard(exercise.guarded, recorder)
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
        outcome["delegated"] = sorted(set(recorder.delegated))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        outcome["cpu_seconds"] = usage.ru_utime + usage.ru_stime      # for the benchmark
    finally:
        sys.stdout, sys.stderr = real_out, real_err
    events, arrays = recorder.payload({"is_class": isinstance(namespace.get(exercise.name), type)})
    data = stream.encode(outcome, events, "".join(output), arrays)
    view = memoryview(data)
    while view:
        view = view[result.write(view):]
    result.close()
    return 0


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main())
