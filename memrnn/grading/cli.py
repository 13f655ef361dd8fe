"""The ``grade`` command of ``python -m memrnn``: the instructor's half of the command line."""

from __future__ import annotations

from pathlib import Path

__all__: list[str] = []       # the grade command's parser; the entry is memrnn.cli.main


def add_grade_command(sub) -> None:
    """``grade``: the instructor's command (``memrnn.grading``)."""
    from .batch import DEFAULT_MEMORY, DEFAULT_TIMEOUT

    grade = sub.add_parser(
        "grade", help="grade handed-in student notebooks: grades.csv, feedback, class summary",
        description="Run every .ipynb in SUBMISSIONS_DIR, once per exercise of its chapter, in "
                    "a bubblewrap sandbox of its own (no network, no files but its own, limits "
                    "on CPU, memory and processes), judge each exercise with memrnn's "
                    "self-checks in this process, and write "
                    "grades.csv, feedback/, logs/ and summary.md to OUT_DIR. A rerun with the "
                    "same OUT_DIR regrades only new or changed files. Without a working "
                    "bubblewrap it refuses to run, unless --no-sandbox. What the sandbox does "
                    "and does not block: the book's appendix 'Using this book in a course'.")
    grade.add_argument("submissions", type=Path, metavar="SUBMISSIONS_DIR",
                       help="folder of handed-in notebooks (only read)")
    grade.add_argument("-o", "--out", type=Path, required=True, metavar="OUT_DIR",
                       help="output folder")
    # memrnn.grading checks the values; main() turns its ValueError into exit status 2.
    grade.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                       help=f"seconds per run of a notebook, one run per exercise "
                            f"(default: {DEFAULT_TIMEOUT:g})")
    grade.add_argument("--memory", default=f"{DEFAULT_MEMORY // 2**30}G", metavar="SIZE",
                       help=f"memory per run of a notebook, its tmpfs included, e.g. 1G or 512M "
                            f"(default: {DEFAULT_MEMORY // 2**30}G)")
    grade.add_argument("--jobs", type=int, default=None,
                       help="notebooks graded side by side (default: one per core)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run the notebooks without bubblewrap where it cannot run: they can "
                            "then read and write your files and reach the network (every row "
                            "says so)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")


def run_grade(args) -> int:
    from .batch import grade, parse_size

    rows = grade(args.submissions, args.out, timeout=args.timeout, memory=parse_size(args.memory),
                 jobs=args.jobs, progress=not args.quiet, no_sandbox=args.no_sandbox)
    statuses = ", ".join(f"{sum(r.status == s for r in rows)} {s}"
                         for s in dict.fromkeys(r.status for r in rows))
    print(f"graded {len(rows)} notebooks ({statuses}); wrote {args.out / 'grades.csv'}, "
          f"{args.out / 'summary.md'} and {args.out / 'feedback'}")
    return 0
