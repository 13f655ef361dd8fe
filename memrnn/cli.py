"""Command line: ``python -m memrnn train ...`` (chapter 4).

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
                "eval_batches": args.eval_batches, "log_steps": args.log_steps}
    summary = {"memrnn_version": __version__, "settings": settings, "trivial_mse": TRIVIAL_MSE}

    out = args.out
    out.mkdir(parents=True, exist_ok=True)   # fail before training, not after
    start = time.perf_counter()
    try:
        learner.train(args.steps, args.lr, log_steps=args.log_steps, progress=not args.quiet)
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


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return run_train(args)
    except (ValueError, TypeError, OSError) as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{parser.prog} {args.command}: interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return 2  # pragma: no cover
