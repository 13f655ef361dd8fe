"""Grading handed-in notebooks: ``python -m memrnn grade SUBMISSIONS_DIR -o OUT_DIR``.

The machinery apart from the teaching modules, which never import it:

=================  ==========================================================
module             what
=================  ==========================================================
``batch``          ``grade``: the folder, the rows, grades.csv and summary.md
``exercises``      the exercises by chapter, their self-checks and points
``submission``     a notebook read as data, never run
``sandbox``        bubblewrap around each run, and the limits
``child``          the student's side: run the cells, record the check
``record``         the recording, the data encoding, the guards
``stream``         the record in one pipe, and its bounded reading
``replay``         the check re-run here on the recorded answers
``output``         escaping for Markdown and CSV
``cli``            the ``grade`` command
=================  ==========================================================
"""

from .batch import STATUSES, grade

__all__ = ["grade", "STATUSES"]
