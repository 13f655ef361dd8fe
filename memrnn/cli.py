"""Command line: ``python -m memrnn train ...``, ``sweep ...`` and ``grade ...`` (``memrnn.grading.cli``).

Bad arguments end with one line on stderr and exit status 2; a diverged run
ends with exit status 1 and a JSON summary that says so.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from . import __version__, _io
from . import sweep as sweep_mod
from .data import TRIVIAL_MSE
from .optim import OPTIMIZERS
from .results import finished_runs
from .run import train_one
from .settings import GATE_INITS, IMPLEMENTATIONS, MODELS, PROFILES, RESULTS_NAME, SweepSettings

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are a single line, not usage plus error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


# Options are only parsed here (text to int or float); the settings check the values, once,
# and main() turns their ValueError into one line and exit status 2.
_TRAINING_OPTIONS = {   # option -> (Training field, argparse type, help)
    "--steps": ("steps", int, "training updates per run"),
    "--hidden": ("hidden", int, "hidden units H"),
    "--batch": ("batch", int, "sequences per batch"),
    "--lr": ("lr", float, "learning rate"),
    "--seed": ("seed", int, "base seed; run (T, r) is seeded by (seed, T, r)"),
    "--eval-batches": ("eval_batches", int, "fresh held-out batches for the evaluation"),
    "--log-steps": ("log_steps", int, "log the training loss every N updates"),
    "--clip": ("clip", float, "clip the gradient norm at this value (chapter 6)"),
    "--forget-bias": ("forget_bias", float, "initial forget-gate bias of the LSTM (chapter 7)"),
}
_CHOICES = {            # option -> (field, choices, help)
    "--dtype": ("dtype", ("float64", "float32"), "floating-point precision"),
    "--model": ("model", MODELS, "the vanilla RNN or the LSTM (chapter 7)"),
    "--optimizer": ("optimizer", tuple(OPTIMIZERS), "plain SGD or Adam (chapter 7)"),
    "--implementation": ("implementation", IMPLEMENTATIONS,
                         "FastRNN or the plain RNN the book shows (same numbers to rounding)"),
    "--gate-init": ("gate_init", GATE_INITS,
                    "the LSTM's gate biases: the constant --forget-bias, or the chrono "
                    "initialisation (chapter 8)"),
}


def _add_training_options(parser, defaults: SweepSettings, *, override: bool):
    """The options every run has. With ``override`` they default to None, and
    only those given change the profile; otherwise the defaults are shown."""
    for option, (field, kind, text) in _TRAINING_OPTIONS.items():
        value = getattr(defaults, field)
        shown = "none" if value is None else f"{value:g}" if isinstance(value, float) else value
        parser.add_argument(option, type=kind, default=None if override else value,
                            dest=field, help=f"{text} (reference: {shown})")
    for option, (field, choices, text) in _CHOICES.items():
        parser.add_argument(option, choices=choices, dest=field,
                            default=None if override else getattr(defaults, field),
                            help=f"{text} (reference: {getattr(defaults, field)})")
    parser.add_argument("--checkpoints", type=int, nargs="+", metavar="K",
                        default=None, help="also evaluate each run after K updates, for each K "
                                           "below --steps (chapter 7; reference: none)")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m memrnn",
                     description="Train a NumPy RNN on the memory task: output the first "
                                 "element of a sequence after reading all of it.")
    parser.add_argument("--version", action="version", version=f"memrnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    ref = PROFILES["reference"]

    train = sub.add_parser(
        "train", help="train one model and write its loss curve, scatter plot and summary",
        description="Train run (T, r) of the reference protocol, or of the settings given, "
                    "evaluate it on fresh held-out batches, and write loss.png, scatter.png "
                    "and summary.json to --out. With the same settings, run (T, r) is "
                    "exactly run (T, r) of a sweep.")
    train.add_argument("--seq-length", type=int, default=10, metavar="T",
                       help="sequence length T (default: 10)")
    train.add_argument("--repeat", type=int, default=0, metavar="R",
                       help="repetition r: which of a sweep's runs at this length (default: 0)")
    _add_training_options(train, ref, override=False)
    train.add_argument("--out", type=Path, default=Path("memrnn-output"),
                       help="output folder (default: ./memrnn-output)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    sweep = sub.add_parser(
        "sweep", help="train repeated runs over sequence lengths; results, table, figures",
        description="Train one model per (sequence length, repetition), in parallel worker "
                    "processes, and write results.json (after every finished run, so that a "
                    "rerun with the same --out resumes), summary.md and the figures to --out. "
                    "--profile sets every default; the options below override it.")
    sweep.add_argument("--profile", choices=sorted(PROFILES), default="reference",
                       help="named settings to start from (default: reference, the book's "
                            "full protocol)")
    sweep.add_argument("--lengths", type=int, nargs="+", metavar="T",
                       help=f"sequence lengths (reference: {' '.join(map(str, ref.lengths))})")
    sweep.add_argument("--repeats", type=int,
                       help=f"runs per length (reference: {ref.repeats})")
    _add_training_options(sweep, ref, override=True)
    sweep.add_argument("--threshold-bits", type=float, dest="threshold_bits",
                       help=f"a run succeeds with at least this many bits remembered "
                            f"(reference: {ref.threshold_bits:g}, i.e. MSE <= 1/12)")
    sweep.add_argument("--jobs", type=int, default=None,
                       help="worker processes (default: one per core)")
    sweep.add_argument("--out", type=Path, default=Path("memrnn-sweep"),
                       help="output folder (default: ./memrnn-sweep)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    from .grading.cli import add_grade_command
    add_grade_command(sub)
    return parser


def _settings_of(args, base: SweepSettings) -> SweepSettings:
    fields = [f for f, *_ in _TRAINING_OPTIONS.values()] + [f for f, *_ in _CHOICES.values()]
    fields += ["lengths", "repeats", "threshold_bits", "checkpoints"]
    changes = {f: getattr(args, f) for f in fields if getattr(args, f, None) is not None}
    for f in ("lengths", "checkpoints"):
        if f in changes:
            changes[f] = tuple(changes[f])
    return base.replace(**changes)


def _run_train(args) -> int:
    import matplotlib
    matplotlib.use("Agg")          # files only: never open a window
    import matplotlib.pyplot as plt

    settings = _settings_of(args, PROFILES["reference"])
    training = settings.training()
    T, repeat = args.seq_length, args.repeat
    summary = {"memrnn_version": __version__,
               "settings": {"seq_length": T, "repeat": repeat, **dataclasses.asdict(training)},
               "trivial_mse": TRIVIAL_MSE}
    out = args.out
    out.mkdir(parents=True, exist_ok=True)   # fail before training, not after
    record, learner = train_one(training, T, repeat, progress=not args.quiet)
    summary.update(record=record, steps_done=learner.step, wall_time_s=record["wall_time"],
                   diverged=record["diverged"], eval_mse=record["eval_mse"],
                   loss_values={str(k): v for k, v in learner.loss_values.items()})
    if record["diverged"]:
        summary["error"] = (f"training diverged at update {record['diverged_at'] + 1} "
                            f"(lr={settings.lr:g}): try a smaller learning rate")
        _io.write_json(out / "summary.json", summary)
        print(f"memrnn train: {summary['error']}. Summary written to {out / 'summary.json'}",
              file=sys.stderr)
        return 1
    mse = record["eval_mse"]
    summary["eval_mse_over_trivial"] = mse / TRIVIAL_MSE

    ax = learner.plot_loss()
    ax.set_title(f"T = {T}, {settings.describe()}", fontsize="small")
    _io.save_figure(ax.figure, out / "loss.png")
    plt.close(ax.figure)
    ax = learner.scatter_plot()
    ax.set_title(f"T = {T}: held-out predictions")
    _io.save_figure(ax.figure, out / "scatter.png")
    plt.close(ax.figure)
    _io.write_json(out / "summary.json", summary)

    print(f"evaluation MSE on {settings.eval_batches} fresh batches of {settings.batch}: "
          f"{mse:.4g} ({mse / TRIVIAL_MSE:.2%} of the trivial predictor's 1/3)")
    print(f"wrote {out / 'loss.png'}, {out / 'scatter.png'} and {out / 'summary.json'}")
    return 0


def _run_sweep(args) -> int:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plots

    settings = _settings_of(args, PROFILES[args.profile])
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    total = len(settings.lengths) * settings.repeats
    jobs = sweep_mod.default_jobs() if args.jobs is None else args.jobs
    done = finished_runs(out, settings)      # refuses a mismatched file up front
    print(f"sweep: {total} runs ({len(settings.lengths)} lengths x {settings.repeats} repeats), "
          f"{settings.describe()}; {done} already in {out / RESULTS_NAME}; "
          f"{jobs} worker process(es)", file=sys.stderr)
    result = sweep_mod.run_sweep(settings, out=out, jobs=jobs, progress=not args.quiet)

    table = result.summary_table()
    best = result.largest_reliable_length()
    verdict = (f"Largest length solved reliably (at least {settings.reliable:.0%} of runs with "
               f"at least {settings.threshold_bits:g} bit remembered, and every shorter length "
               f"too): {best if best is not None else 'none'}.")
    header = (f"# Sweep summary\n\n{result.computed} runs trained now, "
              f"{total - result.computed} taken from results.json; wall time "
              f"{result.wall_time:.1f} s on {jobs} worker(s).\n\n")
    _io.write_text(out / "summary.md", header + table + "\n" + verdict + "\n")

    ax = plots.plot_sweep_mse(result)
    _io.save_figure(ax.figure, out / "mse_vs_length.png")
    plt.close(ax.figure)
    ax = plots.plot_success_rate(result)
    _io.save_figure(ax.figure, out / "success_rate.png")
    plt.close(ax.figure)
    rows = result.summary()
    picks = _curve_lengths(rows)
    axes = plots.plot_sweep_curves(result, picks)
    _io.save_figure(axes[0].figure, out / "loss_curves.png")
    plt.close(axes[0].figure)

    print(table + verdict)
    print(f"wrote {out / 'results.json'}, {out / 'summary.md'}, {out / 'mse_vs_length.png'}, "
          f"{out / 'success_rate.png'} and {out / 'loss_curves.png'}")
    return 0


def _curve_lengths(rows):
    """Up to three lengths to show loss curves for: the shortest, the first that is not
    always solved (borderline), and the longest."""
    lengths = [r["length"] for r in rows]
    border = next((r["length"] for r in rows if 0 < r["success_rate"] < 1), None)
    picks = [lengths[0]] + ([border] if border is not None else []) + [lengths[-1]]
    return sorted(set(picks))


def main(argv=None) -> int:
    """The ``memrnn`` command: ``train``, ``sweep`` or ``grade``, from ``argv`` (default: the
    command line). Returns the exit status: 0, 1 for a diverged run, 2 for bad arguments."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return _run_train(args)
        if args.command == "sweep":
            return _run_sweep(args)
        if args.command == "grade":
            from .grading.cli import run_grade
            return run_grade(args)
    except (ValueError, TypeError, OSError) as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{parser.prog} {args.command}: interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return 2  # pragma: no cover
