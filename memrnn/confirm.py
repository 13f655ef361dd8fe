"""The confirmatory experiment of "What gating buys", as its plan fixes it.

``experiments/gating/PLAN.md``, section "Confirmatory experiment", was
committed before any of these runs existed; this module is that section as
code: the arms, the learning-rate grids, the seeds, the rule that picks a
rate, and the comparisons, the primary one first.

Two parts:

* **The primary comparison, again.** The LSTM with forget bias 1 against the
  RNN with H = 21, both under Adam, at T = 50: a grid of five rates on five
  selection seeds (base seed 2), then 40 fresh seeds (base seed 3) per arm,
  each run trained for 40 000 updates and evaluated after 5000, 10 000,
  20 000 and 40 000 of them.
* **The chrono start taken apart at T = 200.** Chrono as run (its draw told
  the run's T) against chrono with its draw fixed at T = 50, a constant
  forget bias of log(T - 1), and a constant forget bias equal to the mean of
  chrono's draws; each tuned on a grid that reaches above 0.01, then 10 seeds
  at T = 200 (base seed 1, the seeds of chrono as run).
"""

from __future__ import annotations

import math

import numpy as np

from . import settings as S
from .stats import mcnemar_exact

__all__: list[str] = []       # the plan as code, for scripts/run-gating.py: no library

#: Significance level of the primary test (exact McNemar, two-sided).
ALPHA = 0.05
#: The smallest difference in the share of solved runs the experiment is sized to find.
MIN_DIFFERENCE = 0.25
#: The primary comparison is read at this budget and this threshold.
PRIMARY_BUDGET, PRIMARY_BITS = 20_000, 1.0
#: Every budget and threshold the comparison is also given at (exploratory).
BUDGETS = (5000, 10_000, 20_000, 40_000)
THRESHOLDS = (0.5, 0.75, 1.0, 1.5, 2.0)

#: The primary arms: model settings, all under Adam.
_PRIMARY_ARMS = {"lstm": {"model": "lstm", "hidden": 10, "forget_bias": 1.0},
                "rnn21": {"model": "rnn", "hidden": 21}}
#: Adam rates tried for the primary arms: five from 3e-4 to 3e-2.
PRIMARY_GRID = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
PRIMARY_SELECTION = {"seed": 2, "repeats": 5}
PRIMARY_FRESH = {"seed": 3, "repeats": 40}

CHRONO_LENGTH = 200


def chrono_mean_bias(t_max: int = CHRONO_LENGTH) -> float:
    """The mean of chrono's forget biases, E[log u] for u ~ U(1, t_max - 1).

    ``(m log m - m + 1) / (m - 1)`` with ``m = t_max - 1``: about 4.32 at T = 200.
    """
    m = t_max - 1
    return (m * math.log(m) - m + 1) / (m - 1)


#: The arms of the chrono confound, all LSTMs with H = 10 under Adam.
CHRONO_ARMS = {
    "chrono": {"model": "lstm", "hidden": 10, "gate_init": "chrono"},
    "chrono50": {"model": "lstm", "hidden": 10, "gate_init": "chrono", "chrono_tmax": 50},
    "lstmlog": {"model": "lstm", "hidden": 10, "forget_bias": round(math.log(CHRONO_LENGTH - 1), 4)},
    "lstmmean": {"model": "lstm", "hidden": 10, "forget_bias": round(chrono_mean_bias(), 4)},
    "lstm3": {"model": "lstm", "hidden": 10, "forget_bias": 3.0},
}
#: Adam rates for the chrono arms: the contest's three and one above them.
CHRONO_GRID = (1e-3, 3e-3, 1e-2, 3e-2)

_BASE = S.SweepSettings(lengths=(S.GRID_LENGTH,), steps=20_000, batch=256, optimizer="adam",
                        checkpoints=(5000, 10_000))


def arm_settings(arm: str, lr: float, *, stage: str) -> S.SweepSettings:
    """The settings of one arm's sweep at one rate, for ``stage``.

    Stages: ``"primary-grid"`` (T = 50, 20 000 updates, the five selection
    seeds), ``"primary"`` (T = 50, 40 000 updates evaluated at every budget,
    the 40 fresh seeds), ``"chrono-grid"`` (T = 50, 20 000 updates, the
    contest's three selection seeds) and ``"chrono"`` (T = 200, 20 000
    updates, the ten seeds of chrono as run).
    """
    if stage == "primary-grid":
        return _BASE.replace(lr=lr, **PRIMARY_SELECTION, **_PRIMARY_ARMS[arm])
    if stage == "primary":
        return _BASE.replace(lr=lr, steps=max(BUDGETS), checkpoints=BUDGETS[:-1],
                             **PRIMARY_FRESH, **_PRIMARY_ARMS[arm])
    if stage == "chrono-grid":
        return _BASE.replace(lr=lr, seed=0, repeats=S.GRID_REPEATS, **CHRONO_ARMS[arm])
    if stage == "chrono":
        return _BASE.replace(lr=lr, seed=1, repeats=10, lengths=(CHRONO_LENGTH,), **CHRONO_ARMS[arm])
    raise ValueError(f"stage must be one of primary-grid, primary, chrono-grid, chrono; got {stage!r}")


#: Chrono's draw at T = 50 is the same whatever t_max says when T is 50: the fixed
#: start shares chrono's grid runs.
GRID_TWIN = {"chrono50": "chrono"}
#: Grid runs that are the contest's own (same settings and seeds): its sweep
#: ``gating-grid-ARM-adam-LR``.
CONTEST_GRID = {("chrono", lr) for lr in S.LR_GRID["adam"]} | {("lstm3", lr) for lr in S.LR_GRID["adam"]}


def grid_profiles() -> dict:
    """Every grid sweep still to run for both parts, by folder name."""
    out = {f"confirm-grid-{a}-{lr:g}": arm_settings(a, lr, stage="primary-grid")
           for a in _PRIMARY_ARMS for lr in PRIMARY_GRID}
    out.update({f"chrono-grid-{a}-{lr:g}": arm_settings(a, lr, stage="chrono-grid")
                for a in CHRONO_ARMS for lr in CHRONO_GRID
                if a not in GRID_TWIN and (a, lr) not in CONTEST_GRID})
    return out


def grid_sweep_name(part: str, arm: str, lr: float) -> str:
    """Where the selection runs of ``arm`` at ``lr`` are."""
    if part == "primary":
        return f"confirm-grid-{arm}-{lr:g}"
    arm = GRID_TWIN.get(arm, arm)
    if (arm, lr) in CONTEST_GRID:
        return f"gating-grid-{arm}-adam-{lr:g}"
    return f"chrono-grid-{arm}-{lr:g}"


def arms() -> list[tuple[str, str]]:
    """Every (part, arm) of the experiment, the primary arms first."""
    return [("primary", a) for a in _PRIMARY_ARMS] + [("chrono", a) for a in CHRONO_ARMS]


def rate_grid(part: str) -> tuple:
    return PRIMARY_GRID if part == "primary" else CHRONO_GRID


def chosen_rates(load) -> dict:
    """{(part, arm): (lr, how)} from ``load(name) -> SweepResult or None``.

    Raises ValueError naming the grid sweeps that are missing.
    """
    out, missing = {}, []
    for part, arm in arms():
        grid = {}
        for lr in rate_grid(part):
            res = load(grid_sweep_name(part, arm, lr))
            if res is None:
                missing.append(grid_sweep_name(part, arm, lr))
            else:
                grid[lr] = res
        if len(grid) == len(rate_grid(part)):
            out[part, arm] = choose_rate(grid)
    if missing:
        raise ValueError(f"grid sweeps missing: {missing}")
    return out


def final_profiles(rates: dict) -> dict:
    """The fresh-seed sweeps, by folder name, for ``rates``: {(part, arm): lr}.

    ``part`` is ``"primary"`` or ``"chrono"``. Chrono as run and bias 3 at
    T = 200 are the contest's own runs when their rate is the contest's
    (0.01); only a rate that changes gives them a sweep here.
    """
    out = {}
    for (part, arm), lr in rates.items():
        if final_sweep_name(part, arm, lr).startswith("gating-"):
            continue
        out[final_sweep_name(part, arm, lr)] = arm_settings(arm, lr, stage=part)
    return out


def final_sweep_name(part: str, arm: str, lr: float) -> str:
    """Where the fresh-seed runs of ``arm`` at ``lr`` are."""
    if part == "chrono" and arm in ("chrono", "lstm3") and lr == 1e-2:
        return f"gating-{arm}-adam-T{CHRONO_LENGTH}"
    return f"{'confirm' if part == 'primary' else 'chrono'}-{arm}-{lr:g}"


def choose_rate(grid: dict) -> tuple[float, str]:
    """The rate the plan picks for one arm, and how it was picked.

    Parameters
    ----------
    grid : dict float -> SweepResult
        The selection runs at each rate of the arm's grid.

    Returns
    -------
    (float, str)
        The rate with the most selection runs that remember at least the
        sweep's threshold (1 bit); a tie goes to the lower mean held-out MSE
        (a diverged run counts as 10/3), then the smaller rate. The string is
        ``"solved"`` when some run solved, ``"mse"`` when no run at any rate
        did and the lower mean MSE alone decided.
    """
    if not grid:
        raise ValueError("the grid is empty: give at least one learning rate and its runs")

    def score(lr):
        runs = grid[lr].runs
        mses = [10 / 3 if r["eval_mse"] is None else min(r["eval_mse"], 10 / 3) for r in runs]
        return (-sum(bool(r["success"]) for r in runs), sum(mses) / len(mses), lr)

    best = min(grid, key=score)
    how = "solved" if score(best)[0] < 0 else "mse"
    return best, how


def power(pairs: int, share_a: float, share_b: float, *, trials: int = 4000, alpha: float = ALPHA,
          seed: int = 0) -> float:
    """Simulated power of the two-sided exact McNemar test.

    Each of ``pairs`` seeds solves in arm A with probability ``share_a`` and
    in arm B with ``share_b``, independently; the share of ``trials``
    simulated experiments whose p-value is below ``alpha``.
    """
    rng = np.random.default_rng(seed)
    a = rng.random((trials, pairs)) < share_a
    b = rng.random((trials, pairs)) < share_b
    only_a, only_b = (a & ~b).sum(axis=1), (b & ~a).sum(axis=1)
    p = [mcnemar_exact(int(x), int(y)) for x, y in zip(only_a, only_b)]
    return float(np.mean(np.array(p) < alpha))
