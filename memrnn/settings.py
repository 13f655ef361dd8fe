"""What defines an experiment: the settings of a sweep, and the named profiles.

A sweep trains one model per (sequence length, repetition). ``SweepSettings``
holds everything that decides what those runs compute, plus how to judge
them; ``PROFILES`` names the settings the book uses. ``base_seed`` is the one
place where the book reads its base seed.
"""

from __future__ import annotations

import dataclasses
import os

from . import _checks
from .information import mse_for_bits
from .optim import OPTIMIZERS

__all__ = ["Training", "SweepSettings", "PROFILES", "base_seed"]

#: The results file format written by this version of memrnn.
FORMAT = "memrnn-sweep/2"
#: The name of a sweep's results file inside its output folder.
RESULTS_NAME = "results.json"
#: The models a run can train (``Training.model``); its optimizers are ``optim.OPTIMIZERS``.
MODELS = ("rnn", "lstm")
GATE_INITS = ("constant", "chrono")
IMPLEMENTATIONS = ("fast", "plain")
#: The environment variable that sets the book's base seed (default 0).
_SEED_VARIABLE = "MEMRNN_SEED"


def base_seed() -> int:
    """The base seed of the book's own runs: ``$MEMRNN_SEED``, or 0.

    The published book is built with 0. The test command builds the training
    chapters again with other seeds, to check that every claim they assert
    holds for other runs too, not only for the published ones.
    """
    text = os.environ.get(_SEED_VARIABLE, "0").strip() or "0"
    try:
        seed = int(text)
    except ValueError:
        raise ValueError(f"{_SEED_VARIABLE} must be a non-negative integer, got {text!r}") from None
    if seed < 0:
        raise ValueError(f"{_SEED_VARIABLE} must be a non-negative integer, got {seed}")
    return seed


@dataclasses.dataclass(frozen=True)
class Training:
    """What one run computes: the model, its training and its evaluation.

    Every value is checked once, here; what holds a ``Training`` can trust it.

    Parameters
    ----------
    steps, hidden, batch, lr, eval_batches, log_steps :
        Training updates, hidden size, batch size, learning rate, held-out
        batches for the evaluation MSE, and the loss-logging interval.
    seed : int
        Base seed. Run (T, r) uses ``SeedSequence([seed, T, r])``.
    dtype : {"float64", "float32"}
    clip : float or None
        Gradient-norm clipping threshold, or None.
    model : {"rnn", "lstm"}
        The vanilla tanh RNN or the LSTM.
    optimizer : {"sgd", "adam"}
        A name in ``memrnn.optim.OPTIMIZERS``: plain SGD (the book's
        reference) or Adam.
    implementation : {"fast", "plain"}
        ``FastRNN`` and ``FastLSTM`` (default) or the plain ``RNN`` and
        ``LSTM`` the book shows; they agree to rounding, so results differ only
        in the last bits.
    forget_bias : float
        The LSTM's initial forget-gate bias; ignored by the RNN.
    gate_init : {"constant", "chrono"}
        How the LSTM's gate biases start: "constant" sets the forget gate's to
        ``forget_bias`` and the others to 0; "chrono" draws each unit's forget
        bias as ``log(u)``, ``u ~ U(1, T - 1)``, and sets its input bias to the
        negative (Tallec & Ollivier 2018), with T the run's sequence length.
    chrono_tmax : int or None
        The T of the chrono draw when it is not the run's sequence length
        (None: the run's own T). At least 3.
    checkpoints : tuple of int
        Update counts below ``steps`` at which each run is also evaluated on
        its held-out batches. The run is the same run; a checkpoint at 5000
        is what a 5000-update run would end with.
    """

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
    gate_init: str = "constant"
    chrono_tmax: int | None = None
    checkpoints: tuple = ()

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        for name in ("steps", "hidden", "batch", "eval_batches", "log_steps"):
            put(name, _checks.positive_int(getattr(self, name), name))
        put("lr", _checks.positive_float(self.lr, "lr"))
        put("seed", _checks.nonnegative_int(self.seed, "seed"))
        for name, allowed in (("dtype", ("float64", "float32")), ("model", MODELS),
                              ("optimizer", tuple(OPTIMIZERS)), ("implementation", IMPLEMENTATIONS),
                              ("gate_init", GATE_INITS)):
            _checks.one_of(getattr(self, name), allowed, name)
        if self.clip is not None:
            put("clip", _checks.positive_float(self.clip, "clip"))
        marks = tuple(sorted(set(_checks.int_sequence(self.checkpoints, "checkpoints", empty_ok=True))))
        if marks and marks[-1] >= self.steps:
            raise ValueError(f"checkpoints must lie below steps = {self.steps}, got {marks}")
        put("checkpoints", marks)
        put("forget_bias", _checks.real_number(self.forget_bias, "forget_bias"))
        if self.chrono_tmax is not None:
            tmax = _checks.positive_int(self.chrono_tmax, "chrono_tmax")
            if tmax < 3 or self.gate_init != "chrono":
                raise ValueError(f"chrono_tmax must be an integer of at least 3 and needs "
                                 f"gate_init='chrono', got {self.chrono_tmax!r} with "
                                 f"gate_init={self.gate_init!r}")
            put("chrono_tmax", tmax)

    def training(self) -> Training:
        """Only the settings that change what a run computes."""
        return Training(**{f.name: getattr(self, f.name) for f in dataclasses.fields(Training)})

    def replace(self, **changes):
        """A copy with ``changes``, checked like a new one."""
        return dataclasses.replace(self, **changes)

    def describe(self) -> str:
        """One line naming what the runs train: model, optimizer, budget, precision."""
        if self.model == "rnn":
            model = "RNN"
        elif self.gate_init == "chrono":
            model = ("LSTM (chrono init)" if self.chrono_tmax is None
                     else f"LSTM (chrono init, T = {self.chrono_tmax})")
        else:
            model = f"LSTM (forget bias {self.forget_bias:g})"
        opt = "Adam" if self.optimizer == "adam" else "SGD"
        clip = f", clip {self.clip:g}" if self.clip is not None else ""
        return (f"{model} H = {self.hidden}, {opt} lr {self.lr:g}, {self.steps} updates of "
                f"{self.batch}, {self.dtype}{clip}")


@dataclasses.dataclass(frozen=True)
class SweepSettings(Training):
    """Everything that defines a sweep: the ``Training`` of its runs, which runs, how to judge them.

    The training settings (``training()``) must match for a results file to
    be resumed; the others only choose which runs to do and how to judge them.

    Parameters
    ----------
    lengths : tuple of int
        Sequence lengths T to try.
    repeats : int
        Independent runs per length, each with its own seed.
    threshold_bits : float
        A run succeeds when its evaluation MSE is at most
        ``mse_for_bits(threshold_bits)``: 1 bit means MSE <= 1/12, a quarter of 1/3.
    reliable : float
        A length counts as reliably solved when at least this share of its runs
        succeed.
    **training
        The fields of ``Training``.
    """

    lengths: tuple = (5, 10, 12, 15, 17, 20, 25, 30, 40)
    repeats: int = 20
    threshold_bits: float = 1.0
    reliable: float = 0.8

    def __post_init__(self):
        super().__post_init__()
        lengths = _checks.int_sequence(self.lengths, "lengths")
        if len(set(lengths)) != len(lengths):
            raise ValueError(f"lengths has duplicates: {lengths}")
        object.__setattr__(self, "lengths", lengths)
        object.__setattr__(self, "repeats", _checks.positive_int(self.repeats, "repeats"))
        object.__setattr__(self, "threshold_bits",
                           _checks.positive_float(self.threshold_bits, "threshold_bits"))
        reliable = _checks.real_number(self.reliable, "reliable")
        if not 0 < reliable <= 1:
            raise ValueError(f"reliable must be a share in (0, 1], got {self.reliable!r}")
        object.__setattr__(self, "reliable", reliable)

    @property
    def threshold_mse(self) -> float:
        """The evaluation MSE at or below which a run succeeds."""
        return float(mse_for_bits(self.threshold_bits))

    def as_dict(self) -> dict:
        """The settings as JSON-ready values, in the order of a results file."""
        d = {"lengths": list(self.lengths), "repeats": self.repeats}
        d.update(dataclasses.asdict(self.training()), checkpoints=list(self.checkpoints))
        if d["chrono_tmax"] is None:     # files written before the field existed stay as they were
            del d["chrono_tmax"]
        d.update(threshold_bits=self.threshold_bits, reliable=self.reliable)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SweepSettings:
        return cls(**{k: (tuple(v) if k in ("lengths", "checkpoints") else v)
                      for k, v in d.items()})


_REFERENCE = SweepSettings()
_CLIP_LENGTHS = (15, 20, 25, 30)

#: The LSTM (with the usual forget-gate bias of 1, and with 3), the RNN of chapters 3 to 6
#: and an RNN of about the LSTM's size (H = 21: 505 parameters against the LSTM's 491), each
#: under plain SGD at the reference rate and under Adam, for 20 000 updates of batches of 256
#: (the reference's number of sequences), evaluated after 5000, 10 000 and 20 000 of them.
#: Chapter 7 trains with these settings; chapter 8's contest starts from them.
_CH7 = SweepSettings(lengths=(20, 50, 100), repeats=5, steps=20_000, batch=256,
                     checkpoints=(5000, 10_000))
_CH7_MODELS = {"lstm": {"model": "lstm", "hidden": 10},
              "lstm3": {"model": "lstm", "hidden": 10, "forget_bias": 3.0},
              "rnn": {"model": "rnn", "hidden": 10}, "rnn21": {"model": "rnn", "hidden": 21}}
_CH7_OPTIMIZERS = {"sgd": {"optimizer": "sgd", "lr": 1e-2}, "adam": {"optimizer": "adam", "lr": 1e-3}}


def _chapter7_profiles() -> dict:
    return {f"ch7-{m}-{o}": _CH7.replace(**_CH7_MODELS[m], **_CH7_OPTIMIZERS[o])
            for m in _CH7_MODELS for o in _CH7_OPTIMIZERS}


#: "What gating buys": every arm (model and initialisation) under both
#: optimizers, with the budget of the ch7-* profiles.
GATING_ARMS = {
    "rnn": {"model": "rnn", "hidden": 10},
    "rnnclip": {"model": "rnn", "hidden": 10, "clip": 5.0},
    "rnn21": {"model": "rnn", "hidden": 21},
    "lstm0": {"model": "lstm", "hidden": 10, "forget_bias": 0.0},
    "lstm": {"model": "lstm", "hidden": 10, "forget_bias": 1.0},
    "lstm3": {"model": "lstm", "hidden": 10, "forget_bias": 3.0},
    "chrono": {"model": "lstm", "hidden": 10, "gate_init": "chrono"},
}
#: The learning rates tried for every arm, the same three per optimizer.
LR_GRID = {"sgd": (1e-2, 3e-2, 1e-1), "adam": (1e-3, 3e-3, 1e-2)}
#: The grid is run at this length, on these selection seeds (base seed 0,
#: repetitions 0 to GRID_REPEATS - 1); the chosen rates are then run on fresh
#: seeds (base seed 1).
GRID_LENGTH = 50
GRID_REPEATS = 3


def _gating_grid_profiles() -> dict:
    return {f"gating-grid-{m}-{o}-{lr:g}": _CH7.replace(
                lengths=(GRID_LENGTH,), repeats=GRID_REPEATS, optimizer=o, lr=lr, **GATING_ARMS[m])
            for m in GATING_ARMS for o in LR_GRID for lr in LR_GRID[o]}


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
    **_gating_grid_profiles(),
    "book": SweepSettings(lengths=(5, 10, 15, 20, 30), repeats=5, dtype="float32"),
    "smoke": SweepSettings(lengths=(2, 4), repeats=2, steps=40, batch=64, eval_batches=2,
                           log_steps=10),
}


def gating_final(arm: str, optimizer: str, lr: float, lengths=(GRID_LENGTH,),
                 repeats: int = 10) -> SweepSettings:
    """The settings of one arm of "What gating buys" at its chosen rate, on fresh seeds."""
    return _CH7.replace(lengths=tuple(lengths), repeats=repeats, seed=1, optimizer=optimizer,
                        lr=lr, **GATING_ARMS[arm])
