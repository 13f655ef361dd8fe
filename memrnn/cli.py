"""Command line: ``python -m memrnn train ...`` (chapter 4) and ``sweep ...`` (chapter 5).

Bad arguments end with one line on stderr and exit status 2; a diverged run
ends with exit status 1 and a JSON summary that says so.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__, _io
from . import sweep as sweep_mod
from .data import TRIVIAL_MSE, generate_samples
from .learner import Learner, TrainingDiverged
from .losses import MSELoss
from .rnn import RNN


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are a single line, not usage plus error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _int_at_least(minimum: int, what: str):
    """An argparse type: an integer >= ``minimum``, with a one-line error."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}")
        return value
    return parse


_positive_int = _int_at_least(1, "positive")
_nonnegative_int = _int_at_least(0, "non-negative")


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m memrnn",
                     description="Train a NumPy RNN on the memory task: output the first "
                                 "element of a sequence after reading all of it.")
    parser.add_argument("--version", action="version", version=f"memrnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    train = sub.add_parser(
        "train", help="train one model and write its loss curve, scatter plot and summary",
        description="Train one RNN at the given settings, evaluate it on fresh batches, and "
                    "write loss.png, scatter.png and summary.json to --out.")
    train.add_argument("--seq-length", type=_positive_int, default=10, metavar="T",
                       help="sequence length T (default: 10)")
    train.add_argument("--steps", type=_positive_int, default=5000,
                       help="number of SGD updates (default: 5000)")
    train.add_argument("--hidden", type=_positive_int, default=10,
                       help="hidden units H (default: 10)")
    train.add_argument("--batch", type=_positive_int, default=1024,
                       help="sequences per batch (default: 1024)")
    train.add_argument("--lr", type=_positive_float, default=1e-2,
                       help="learning rate (default: 1e-2)")
    train.add_argument("--seed", type=_nonnegative_int, default=0,
                       help="base seed for weights, training and evaluation data (default: 0)")
    train.add_argument("--eval-batches", type=_positive_int, default=10,
                       help="fresh batches for the final evaluation (default: 10)")
    train.add_argument("--log-steps", type=_positive_int, default=50,
                       help="log the training loss every N updates (default: 50)")
    train.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                       help="floating-point precision (default: float64)")
    train.add_argument("--out", type=Path, default=Path("memrnn-output"),
                       help="output folder (default: ./memrnn-output)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--clip", type=_positive_float, default=None,
                       help="clip the gradient norm at this value (default: no clipping)")

    ref = sweep_mod.PROFILES["reference"]
    sweep = sub.add_parser(
        "sweep", help="train repeated runs over sequence lengths; results, table, figures",
        description="Train one model per (sequence length, repetition), in parallel worker "
                    "processes, and write results.json (after every finished run, so that a "
                    "rerun with the same --out resumes), summary.md and the figures to --out. "
                    "--profile sets every default; the options below override it.")
    sweep.add_argument("--profile", choices=sorted(sweep_mod.PROFILES), default="reference",
                       help="named settings to start from (default: reference, the book's "
                            "full protocol)")
    sweep.add_argument("--lengths", type=_positive_int, nargs="+", metavar="T",
                       help=f"sequence lengths (reference: {' '.join(map(str, ref.lengths))})")
    sweep.add_argument("--repeats", type=_positive_int, help=f"runs per length (reference: {ref.repeats})")
    sweep.add_argument("--steps", type=_positive_int, help=f"SGD updates per run (reference: {ref.steps})")
    sweep.add_argument("--hidden", type=_positive_int, help=f"hidden units (reference: {ref.hidden})")
    sweep.add_argument("--batch", type=_positive_int, help=f"batch size (reference: {ref.batch})")
    sweep.add_argument("--lr", type=_positive_float, help=f"learning rate (reference: {ref.lr:g})")
    sweep.add_argument("--seed", type=_nonnegative_int, help=f"base seed (reference: {ref.seed})")
    sweep.add_argument("--eval-batches", type=_positive_int,
                       help=f"held-out batches per run (reference: {ref.eval_batches})")
    sweep.add_argument("--dtype", choices=("float64", "float32"),
                       help=f"precision (reference: {ref.dtype})")
    sweep.add_argument("--clip", type=_positive_float,
                       help="clip the gradient norm at this value (reference: no clipping)")
    sweep.add_argument("--threshold-bits", type=_positive_float,
                       help=f"a run succeeds with at least this many bits remembered "
                            f"(reference: {ref.threshold_bits:g}, i.e. MSE <= 1/12)")
    sweep.add_argument("--jobs", type=_positive_int, default=None,
                       help="worker processes (default: one per core)")
    sweep.add_argument("--out", type=Path, default=Path("memrnn-sweep"),
                       help="output folder (default: ./memrnn-sweep)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run_train(args) -> int:
    import matplotlib
    matplotlib.use("Agg")          # files only: never open a window
    import matplotlib.pyplot as plt

    # Independent streams for weights, training data and evaluation data, so
    # that the evaluation batches are never batches the model trained on.
    init_ss, train_ss, eval_ss = np.random.SeedSequence(args.seed).spawn(3)
    dtype = np.dtype(args.dtype)
    model = RNN(1, args.hidden, 1, seed=init_ss, dtype=dtype)
    learner = Learner(model, MSELoss(),
                      generate_samples(args.batch, args.seq_length, seed=train_ss, dtype=dtype))
    settings = {"seq_length": args.seq_length, "steps": args.steps, "hidden": args.hidden,
                "batch": args.batch, "lr": args.lr, "seed": args.seed, "dtype": args.dtype,
                "eval_batches": args.eval_batches, "log_steps": args.log_steps, "clip": args.clip}
    summary = {"memrnn_version": __version__, "settings": settings, "trivial_mse": TRIVIAL_MSE}

    out = args.out
    out.mkdir(parents=True, exist_ok=True)   # fail before training, not after
    start = time.perf_counter()
    try:
        learner.train(args.steps, args.lr, log_steps=args.log_steps, progress=not args.quiet,
                      clip=args.clip)
    except TrainingDiverged as exc:
        summary.update(diverged=True, error=str(exc), steps_done=learner.step,
                       wall_time_s=time.perf_counter() - start,
                       loss_values={str(k): v for k, v in learner.loss_values.items()})
        _io.write_json(out / "summary.json", summary)
        print(f"memrnn train: {exc} Summary written to {out / 'summary.json'}", file=sys.stderr)
        return 1
    wall = time.perf_counter() - start

    eval_stream = generate_samples(args.batch, args.seq_length, seed=eval_ss, dtype=dtype)
    mse = learner.evaluate(args.eval_batches, eval_stream)
    summary.update(diverged=False, steps_done=learner.step, wall_time_s=wall, eval_mse=mse,
                   eval_mse_over_trivial=mse / TRIVIAL_MSE,
                   loss_values={str(k): v for k, v in learner.loss_values.items()})

    ax = learner.plot_loss()
    ax.set_title(f"T = {args.seq_length}, H = {args.hidden}, lr = {args.lr:g}")
    _io.save_figure(ax.figure, out / "loss.png")
    plt.close(ax.figure)
    ax = learner.scatter_plot()
    ax.set_title(f"T = {args.seq_length}: held-out predictions")
    _io.save_figure(ax.figure, out / "scatter.png")
    plt.close(ax.figure)
    _io.write_json(out / "summary.json", summary)

    print(f"evaluation MSE on {args.eval_batches} fresh batches of {args.batch}: {mse:.4g} "
          f"({mse / TRIVIAL_MSE:.2%} of the trivial predictor's 1/3)")
    print(f"wrote {out / 'loss.png'}, {out / 'scatter.png'} and {out / 'summary.json'}")
    return 0


_SWEEP_OPTIONS = {"lengths": "lengths", "repeats": "repeats", "steps": "steps", "hidden": "hidden",
                  "batch": "batch", "lr": "lr", "seed": "seed", "eval_batches": "eval_batches",
                  "dtype": "dtype", "clip": "clip", "threshold_bits": "threshold_bits"}


def run_sweep_command(args) -> int:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plots

    changes = {field: getattr(args, opt) for opt, field in _SWEEP_OPTIONS.items()
               if getattr(args, opt) is not None}
    if "lengths" in changes:
        changes["lengths"] = tuple(changes["lengths"])
    settings = sweep_mod.PROFILES[args.profile].replace(**changes)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    total = len(settings.lengths) * settings.repeats
    jobs = args.jobs or sweep_mod.default_jobs()
    done = sweep_mod.finished_runs(out, settings)      # refuses a mismatched file up front
    print(f"sweep: {total} runs ({len(settings.lengths)} lengths x {settings.repeats} repeats) of "
          f"{settings.steps} updates, {done} already in {out / sweep_mod.RESULTS_NAME}; "
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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return run_train(args)
        if args.command == "sweep":
            return run_sweep_command(args)
    except (ValueError, TypeError, OSError) as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{parser.prog} {args.command}: interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return 2  # pragma: no cover
