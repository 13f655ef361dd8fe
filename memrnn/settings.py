"""What defines an experiment: the settings of a sweep, and the named profiles (chapters 5 to 7).

A sweep trains one model per (sequence length, repetition). ``SweepSettings``
holds everything that decides what those runs compute, plus how to judge
them; ``PROFILES`` names the settings the book uses. ``base_seed`` is the one
place where the book reads its base seed.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from . import _checks
from .information import mse_for_bits

__all__ = ["SweepSettings", "PROFILES", "FORMAT", "RESULTS_NAME", "MODELS", "OPTIMIZERS",
           "IMPLEMENTATIONS", "SEED_VARIABLE", "base_seed"]

#: The results file format written by this version of memrnn.
FORMAT = "memrnn-sweep/2"
#: The name of a sweep's results file inside its output folder.
RESULTS_NAME = "results.json"
MODELS = ("rnn", "lstm")
OPTIMIZERS = ("sgd", "adam")
IMPLEMENTATIONS = ("fast", "plain")
#: The environment variable that sets the book's base seed (default 0).
SEED_VARIABLE = "MEMRNN_SEED"


def base_seed() -> int:
    """The base seed of the book's own runs: ``$MEMRNN_SEED``, or 0 (chapters 4 to 7).

    The published book is built with 0. The test command builds the training
    chapters again with other seeds, to check that every claim they assert
    holds for other runs too, not only for the published ones.
    """
    text = os.environ.get(SEED_VARIABLE, "0").strip() or "0"
    try:
        seed = int(text)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE} must be a non-negative integer, got {text!r}") from None
    if seed < 0:
        raise ValueError(f"{SEED_VARIABLE} must be a non-negative integer, got {seed}")
    return seed


@dataclasses.dataclass(frozen=True)
class SweepSettings:
    """Everything that defines a sweep (chapters 5 to 7).

    The training settings (``TRAINING_KEYS``) must match for a results file to
    be resumed; the others only choose which runs to do and how to judge them.

    Parameters
    ----------
    lengths : tuple of int
        Sequence lengths T to try.
    repeats : int
        Independent runs per length, each with its own seed.
    steps, hidden, batch, lr, eval_batches, log_steps :
        Training updates, hidden size, batch size, learning rate, held-out
        batches for the evaluation MSE, and the loss-logging interval.
    seed : int
        Base seed. Run (T, r) uses ``SeedSequence([seed, T, r])``.
    dtype : {"float64", "float32"}
    clip : float or None
        Gradient-norm clipping threshold (chapter 6), or None.
    model : {"rnn", "lstm"}
        The vanilla tanh RNN (chapters 3 to 6) or the LSTM (chapter 7).
    optimizer : {"sgd", "adam"}
        Plain SGD (the book's reference) or Adam (chapter 7).
    implementation : {"fast", "plain"}
        ``FastRNN`` (default) or the plain ``RNN`` the book shows; they agree
        to rounding, so results differ only in the last bits.
    forget_bias : float
        The LSTM's initial forget-gate bias (chapter 7); ignored by the RNN.
    checkpoints : tuple of int
        Update counts below ``steps`` at which each run is also evaluated on
        its held-out batches (chapter 7's reach against budget). The run is
        the same run; a checkpoint at 5000 is what a 5000-update run would end
        with.
    threshold_bits : float
        A run succeeds when its evaluation MSE is at most
        ``mse_for_bits(threshold_bits)``: 1 bit means MSE <= 1/12, a quarter of 1/3.
    reliable : float
        A length counts as reliably solved when at least this share of its runs
        succeed.
    """

    lengths: tuple = (5, 10, 12, 15, 17, 20, 25, 30, 40)
    repeats: int = 20
    steps: int = 5000
    hidden: int = 10
    batch: int = 1024
    lr: float = 1e-2
    eval_batches: int = 10
    log_steps: int = 50
    seed: int = 0
    dtype: str = "float64"
    clip: float | None = None
    model: str = "rnn"
    optimizer: str = "sgd"
    implementation: str = "fast"
    forget_bias: float = 1.0
    checkpoints: tuple = ()
    threshold_bits: float = 1.0
    reliable: float = 0.8

    TRAINING_KEYS = ("steps", "hidden", "batch", "lr", "eval_batches", "log_steps", "seed",
                     "dtype", "clip", "model", "optimizer", "implementation", "forget_bias",
                     "checkpoints")

    def __post_init__(self):
        lengths = self.lengths
        if isinstance(lengths, (int, np.integer)) or not hasattr(lengths, "__iter__"):
            raise TypeError(f"lengths must be a sequence of positive ints, got {lengths!r}")
        lengths = tuple(_checks.positive_int(T, "each length") for T in lengths)
        if not lengths:
            raise ValueError("lengths is empty: give at least one sequence length")
        if len(set(lengths)) != len(lengths):
            raise ValueError(f"lengths has duplicates: {lengths}")
        object.__setattr__(self, "lengths", tuple(sorted(lengths)))
        for name in ("repeats", "steps", "hidden", "batch", "eval_batches", "log_steps"):
            object.__setattr__(self, name, _checks.positive_int(getattr(self, name), name))
        object.__setattr__(self, "lr", _checks.positive_float(self.lr, "lr"))
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))
        for name, allowed in (("dtype", ("float64", "float32")), ("model", MODELS),
                              ("optimizer", OPTIMIZERS), ("implementation", IMPLEMENTATIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.clip is not None:
            object.__setattr__(self, "clip", _checks.positive_float(self.clip, "clip"))
        marks = self.checkpoints
        if isinstance(marks, (int, np.integer)) or not hasattr(marks, "__iter__"):
            raise TypeError(f"checkpoints must be a sequence of update counts, got {marks!r}")
        marks = tuple(sorted({_checks.positive_int(k, "each checkpoint") for k in marks}))
        if marks and marks[-1] >= self.steps:
            raise ValueError(f"checkpoints must lie below steps = {self.steps}, got {marks}")
        object.__setattr__(self, "checkpoints", marks)
        bias = float(self.forget_bias)
        if not np.isfinite(bias):
            raise ValueError(f"forget_bias must be a finite number, got {self.forget_bias!r}")
        object.__setattr__(self, "forget_bias", bias)
        bits = float(self.threshold_bits)
        if not (np.isfinite(bits) and bits > 0):
            raise ValueError(f"threshold_bits must be a positive number, got {self.threshold_bits!r}")
        object.__setattr__(self, "threshold_bits", bits)
        if not 0 < float(self.reliable) <= 1:
            raise ValueError(f"reliable must be a share in (0, 1], got {self.reliable!r}")
        object.__setattr__(self, "reliable", float(self.reliable))

    @property
    def threshold_mse(self) -> float:
        """The evaluation MSE at or below which a run succeeds."""
        return float(mse_for_bits(self.threshold_bits))

    def training(self) -> dict:
        """The settings that change what a run computes."""
        return {k: getattr(self, k) for k in self.TRAINING_KEYS}

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["lengths"] = list(self.lengths)
        d["checkpoints"] = list(self.checkpoints)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SweepSettings:
        return cls(**{k: (tuple(v) if k in ("lengths", "checkpoints") else v)
                      for k, v in d.items()})

    def replace(self, **changes) -> SweepSettings:
        return dataclasses.replace(self, **changes)

    def describe(self) -> str:
        """One line naming what the runs train: model, optimizer, budget, precision."""
        model = f"LSTM (forget bias {self.forget_bias:g})" if self.model == "lstm" else "RNN"
        opt = "Adam" if self.optimizer == "adam" else "SGD"
        clip = f", clip {self.clip:g}" if self.clip is not None else ""
        return (f"{model} H = {self.hidden}, {opt} lr {self.lr:g}, {self.steps} updates of "
                f"{self.batch}, {self.dtype}{clip}")


_REFERENCE = SweepSettings()
_CLIP_LENGTHS = (15, 20, 25, 30)

#: Chapter 7's comparison: the LSTM (with the usual forget-gate bias of 1, and with 3), the
#: RNN of chapters 3 to 6 and an RNN of about the LSTM's size (H = 21: 505 parameters against
#: the LSTM's 491), each under plain SGD at the reference rate and under Adam, for 20 000
#: updates of batches of 256, evaluated after 5000, 10 000 and 20 000 of them.
_CH7 = SweepSettings(lengths=(20, 50, 100), repeats=5, steps=20_000, batch=256,
                     checkpoints=(5000, 10_000))
CH7_MODELS = {"lstm": {"model": "lstm", "hidden": 10},
              "lstm3": {"model": "lstm", "hidden": 10, "forget_bias": 3.0},
              "rnn": {"model": "rnn", "hidden": 10}, "rnn21": {"model": "rnn", "hidden": 21}}
CH7_OPTIMIZERS = {"sgd": {"optimizer": "sgd", "lr": 1e-2}, "adam": {"optimizer": "adam", "lr": 1e-3}}


def _chapter7_profiles() -> dict:
    return {f"ch7-{m}-{o}": _CH7.replace(**CH7_MODELS[m], **CH7_OPTIMIZERS[o])
            for m in CH7_MODELS for o in CH7_OPTIMIZERS}


#: Named settings. The ``reference*`` profiles are the experiments whose
#: results ship with the package (``memrnn.results.REFERENCES``): the full
#: protocol of chapter 5, float32 at T = 20 against it, four times the budget
#: at T = 12 and 15 (the first 5000 updates are the reference's own runs), and
#: gradient clipping at 1 and 5 (chapter 6; the unclipped runs are the
#: reference's own). "book"
#: is the smaller sweep chapter 5 runs at every build, as a reader would on
#: their own machine; "smoke" is for tests.
PROFILES = {
    "reference": _REFERENCE,
    "reference-float32-T20": _REFERENCE.replace(lengths=(20,), dtype="float32"),
    "reference-clip1": _REFERENCE.replace(lengths=_CLIP_LENGTHS, clip=1.0),
    "reference-clip5": _REFERENCE.replace(lengths=_CLIP_LENGTHS, clip=5.0),
    "reference-long": _REFERENCE.replace(lengths=(12, 15), steps=20_000, checkpoints=(5000, 10_000)),
    **_chapter7_profiles(),
    "book": SweepSettings(lengths=(5, 10, 15, 20, 30), repeats=5, dtype="float32"),
    "smoke": SweepSettings(lengths=(2, 4), repeats=2, steps=40, batch=64, eval_batches=2,
                           log_steps=10),
}
