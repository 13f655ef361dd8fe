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
from pathlib import Path

import numpy as np

from . import contest, stats
from . import settings as S
from .stats import mcnemar_exact

#: The runs and the planned test, for a reader who checks the chapter; the rest is the plan as
#: code, for scripts/run-gating.py and the chapter's glue.
__all__ = ["load", "primary"]

#: The commit that added the plan (PLAN.md, "Confirmatory experiment"), before any of its runs.
PLAN_COMMIT = "a8f1f24"
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
PRIMARY_ARMS = {"lstm": {"model": "lstm", "hidden": 10, "forget_bias": 1.0},
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
        return _BASE.replace(lr=lr, **PRIMARY_SELECTION, **PRIMARY_ARMS[arm])
    if stage == "primary":
        return _BASE.replace(lr=lr, steps=max(BUDGETS), checkpoints=BUDGETS[:-1],
                             **PRIMARY_FRESH, **PRIMARY_ARMS[arm])
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
           for a in PRIMARY_ARMS for lr in PRIMARY_GRID}
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
    return [("primary", a) for a in PRIMARY_ARMS] + [("chrono", a) for a in CHRONO_ARMS]


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


#: The held-out MSE the rate rule gives a diverged run: ten times the 1/3 of answering 0.
DIVERGED_MSE = 10 / 3


def run_mse(run: dict) -> float:
    """A selection run's held-out MSE as the rate rule reads it.

    A diverged run (no MSE) counts as ``DIVERGED_MSE``, 10/3, and so does any
    MSE above it. A run whose MSE is not a number is refused.
    """
    if run["diverged"] or run["eval_mse"] is None:
        return DIVERGED_MSE
    mse = float(run["eval_mse"])
    if math.isnan(mse) or mse < 0:
        raise ValueError(f"run {run.get('repeat')!r} has the held-out MSE {run['eval_mse']!r}; "
                         f"expected a number >= 0, or None for a diverged run")
    return min(mse, DIVERGED_MSE)


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
        if not runs:
            raise ValueError(f"the grid has no run at the rate {lr!r}")
        mses = [run_mse(r) for r in runs]
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


# --- The shipped runs, read as the plan says ---------------------------------------------------

#: The sequence length each part compares its arms at.
PART_LENGTH = {"primary": S.GRID_LENGTH, "chrono": CHRONO_LENGTH}
#: The stage (``arm_settings``) of each part's selection runs.
GRID_STAGE = {"primary": "primary-grid", "chrono": "chrono-grid"}
#: The arms as a table row names them.
LABELS = {"lstm": "LSTM, forget bias 1", "rnn21": "RNN, H = 21", "chrono": "chrono, as run",
          "chrono50": "chrono, T fixed at 50",
          "lstmlog": f"constant bias {CHRONO_ARMS['lstmlog']['forget_bias']:.2f}",
          "lstmmean": f"constant bias {CHRONO_ARMS['lstmmean']['forget_bias']:.2f}",
          "lstm3": "constant bias 3"}
#: The primary arms in a table's header.
SHORT = {"lstm": "LSTM", "rnn21": "RNN"}
#: The arms as a sentence names them.
NAMES = {"lstm": "the LSTM with bias 1", "rnn21": "the RNN with H = 21", "chrono": "chrono as run",
         "chrono50": "chrono with T fixed at 50", "lstmlog": "the constant bias log(T - 1)",
         "lstmmean": "the constant bias of chrono's mean", "lstm3": "the constant bias of 3"}
#: Part B: chrono as run against each of these, Holm-adjusted over the three; bias 3 is shown beside.
CHRONO_FAMILY = ("chrono50", "lstmlog", "lstmmean")
CHRONO_SHOWN = ("lstm3",)


def shipped_folder() -> Path:
    """Where the confirmatory experiment's results ship inside the package.

    Its own sweeps only; the contest's runs it reuses stay where the contest
    ships them (``contest.shipped_folder()``).
    """
    return Path(__file__).parent / "results" / "confirm"


def _planned(part: str, arm: str, lr: float, final: bool) -> S.SweepSettings:
    if final:
        return arm_settings(arm, lr, stage=part)
    return arm_settings(GRID_TWIN.get(arm, arm) if part == "chrono" else arm, lr, stage=GRID_STAGE[part])


def _check_settings(res, expected: S.SweepSettings, where) -> None:
    got = res.settings
    same = (got.training() == expected.training() and got.lengths == expected.lengths
            and got.threshold_bits == expected.threshold_bits)
    if not same:
        raise ValueError(f"{where} holds the sweep {got.describe()} (seed {got.seed}, T {got.lengths}); the "
                         f"plan expects {expected.describe()} (seed {expected.seed}, T {expected.lengths})")


def load(folder=None, contest_folder=None) -> dict:
    """The confirmatory experiment's runs, as far as they exist, and what the plan makes of them.

    Each sweep is read from ``folder`` (default: ``shipped_folder()``), else
    from ``contest_folder`` (default: the contest's shipped folder), where the
    contest's own runs that the plan reuses are: the selection runs of chrono
    and bias 3 at 0.001, 0.003 and 0.01, and their T = 200 runs when the
    chosen rate is 0.01. A raw ``experiments/gating/runs`` folder holds both
    kinds and can be given as ``folder`` alone. A sweep whose settings are not
    the plan's is refused (ValueError).

    Returns
    -------
    dict
        ``"grid"``: (part, arm, lr) -> SweepResult of the selection runs
        (chrono50's entries are chrono's); ``"rates"``: (part, arm) ->
        (lr, how) from ``choose_rate``, for the arms whose grid is complete;
        ``"final"``: (part, arm) -> SweepResult at the chosen rate;
        ``"sources"``: the same keys -> the sweep's name; ``"incomplete"``:
        sweep name -> (runs found, runs planned) for every planned sweep
        that is missing or short, the finals of arms without a chosen rate
        not counted (their rate is not known yet).
    """
    folders = [shipped_folder() if folder is None else Path(folder),
               contest.shipped_folder() if contest_folder is None else Path(contest_folder)]

    read = {}

    def get(name, expected):            # a sweep two arms share is read once, and is the same object
        if name not in read:
            read[name] = None
            for f in folders:
                res = contest._load(f, name)
                if res is not None:
                    _check_settings(res, expected, f / name)
                    read[name] = res
                    break
        return read[name]

    out = {"grid": {}, "final": {}, "rates": {}, "sources": {}, "incomplete": {}}

    def take(key, name, expected, into):
        planned = expected.repeats * len(expected.lengths)
        res = get(name, expected)
        if res is not None:
            out[into][key], out["sources"][key] = res, name
        if res is None or len(res.runs) < planned:
            out["incomplete"][name] = (0 if res is None else len(res.runs), planned)

    for part, arm in arms():
        for lr in rate_grid(part):
            take((part, arm, lr), grid_sweep_name(part, arm, lr), _planned(part, arm, lr, False), "grid")
        names = [grid_sweep_name(part, arm, lr) for lr in rate_grid(part)]
        if not any(n in out["incomplete"] for n in names):
            out["rates"][part, arm] = choose_rate({lr: out["grid"][part, arm, lr] for lr in rate_grid(part)})
    for (part, arm), (lr, _) in out["rates"].items():
        take((part, arm), final_sweep_name(part, arm, lr), _planned(part, arm, lr, True), "final")
    return out


def grid_rows(data: dict, part: str) -> list[dict]:
    """Per arm of ``part`` ("primary" or "chrono"), its selection runs at each rate, and the rate kept.

    Returns
    -------
    list of dict
        ``arm``, ``label``; ``cells``: lr -> {``solved`` (runs that remember
        at least 1 bit), ``runs`` (found), ``planned``, ``mse`` (mean held-out
        MSE, a diverged run counted as 10/3; None without runs), ``source``
        (the sweep's name), ``reused`` (the contest's own run)}; ``rate``
        (None while the grid is incomplete), ``how`` (``choose_rate``'s),
        ``noise`` (True when no selection run at any rate solved: the rate is
        chosen by noise, not tuned) and ``twin`` (the arm whose grid it shares,
        or None).
    """
    if part not in PART_LENGTH:
        raise ValueError(f"part must be 'primary' or 'chrono', got {part!r}")
    rows = []
    for p, arm in arms():
        if p != part:
            continue
        cells = {}
        for lr in rate_grid(part):
            res = data["grid"].get((part, arm, lr))
            name = grid_sweep_name(part, arm, lr)
            planned = _planned(part, arm, lr, False)
            runs = [] if res is None else res.runs
            cells[lr] = {"solved": sum(bool(r["success"]) for r in runs), "runs": len(runs),
                         "planned": planned.repeats * len(planned.lengths),
                         "mse": float(np.mean([run_mse(r) for r in runs])) if runs else None,
                         "source": name, "reused": name.startswith("gating-")}
        rate, how = data["rates"].get((part, arm), (None, None))
        rows.append({"arm": arm, "label": LABELS[arm], "cells": cells, "rate": rate, "how": how,
                     "noise": how == "mse", "twin": GRID_TWIN.get(arm) if part == "chrono" else None})
    return rows


def grid_markdown(data: dict, part: str, notes: bool = True) -> str:
    """Markdown: ``grid_rows`` as a table, the kept rate's cell in bold, with a line of notes below.

    Each cell: selection runs solved of those run, and their mean held-out
    MSE (a diverged run counted as 10/3). A cell still short of its planned
    runs says so; an arm whose grid is incomplete has no rate yet. With
    ``notes``, a line below the table says what a cell holds and what its
    marks mean (the contest's reused runs, a shared grid).
    """
    rows = grid_rows(data, part)
    rates = rate_grid(part)
    lines = ["| arm | " + " | ".join(f"$\\eta = {lr:g}$" for lr in rates) + " | rate kept |",
             "|---|" + "---:|" * len(rates) + "---|"]
    marks = set()
    for row in rows:
        cells = []
        for lr in rates:
            c = row["cells"][lr]
            if c["runs"] == 0:
                cells.append(f"not run (0 of {c['planned']})")
                continue
            text = f"{c['solved']}/{c['runs']}, {c['mse']:.3g}"
            if c["runs"] < c["planned"]:
                text += f" ({c['runs']} of {c['planned']} run)"
            if c["reused"]:
                text += " †"
                marks.add("† the contest's own selection runs, reused: the same settings and seeds.")
            cells.append(f"**{text}**" if lr == row["rate"] else text)
        if row["rate"] is None:
            kept = "none yet: grid incomplete"
        elif row["noise"]:
            kept = f"{row['rate']:g}, by noise: no selection run solved, lower mean MSE"
        else:
            kept = f"{row['rate']:g}"
        label = row["label"]
        if row["twin"]:
            label += " ‡"
            marks.add(f"‡ the same selection runs as {LABELS[row['twin']]}: at T = 50 the two starts "
                      "draw the same biases.")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {kept} |")
    head = "Each cell: selection runs that remember at least 1 bit, of those run; mean held-out MSE " \
           "(a diverged run counts as 10/3)."
    return "\n".join(lines) + ("\n\n" + " ".join([head, *sorted(marks)]) if notes else "")


def choice_words(data: dict, part: str, arm: str) -> str:
    """How ``choose_rate`` picked the rate of ``arm``, in words, from its selection runs.

    The count of solved selection runs that decided; for a tie, the rates
    tied and the mean held-out MSEs that broke it; for an arm no selection run
    solved, that noise chose. A rate at either end of the grid is named so.
    """
    row = next((r for r in grid_rows(data, part) if r["arm"] == arm), None)
    if row is None or row["rate"] is None:
        raise ValueError(f"no rate chosen yet for {arm!r} of {part!r}: its grid is missing or incomplete")
    cells, rate = row["cells"], row["rate"]
    best = cells[rate]
    grid = rate_grid(part)
    edge = {grid[0]: f"; {rate:g} is the lowest rate of the grid",
            grid[-1]: f"; {rate:g} is the highest rate of the grid"}.get(rate, "")
    tied = [lr for lr in grid if cells[lr]["solved"] == best["solved"]]
    if len(tied) == 1:
        return (f"{best['solved']} of {best['runs']} selection runs solved at {rate:g}, "
                f"more than at any other rate{edge}")
    runner = min((lr for lr in tied if lr != rate), key=lambda lr: cells[lr]["mse"])
    if row["noise"]:
        head = "no selection run solved at any rate, so noise chose"
    else:
        head = f"{best['solved']} of {best['runs']} selection runs solved at each of " + \
            contest._words(f"{lr:g}" for lr in tied)
    return (f"{head}: the lower mean held-out MSE, {best['mse']:.3g} at {rate:g} against "
            f"{cells[runner]['mse']:.3g} at {runner:g}, decided{edge}")


def _final_pair(data: dict, part: str, a: str, b: str) -> dict:
    missing = [arm for arm in (a, b) if (part, arm) not in data["final"]]
    if missing:
        raise ValueError(f"no fresh-seed runs yet of {missing} ({part}); "
                         f"missing or short sweeps: {sorted(data['incomplete'])}")
    T = PART_LENGTH[part]
    return {(a, T): data["final"][part, a], (b, T): data["final"][part, b]}


def compare_arms(data: dict, part: str, a: str, b: str, *, budget=None, threshold_bits=None) -> dict:
    """``contest.compare_at`` of arms ``a`` and ``b`` of ``part`` on their shared seeds.

    ``budget`` (updates; default the sweeps' full budget) and
    ``threshold_bits`` (default the sweeps' own, 1 bit) say when a run counts
    as solved. A run diverged by ``budget`` counts as 0 bits.
    """
    final = _final_pair(data, part, a, b)
    T = PART_LENGTH[part]
    if threshold_bits is not None and all(final[k, T].settings.threshold_bits == threshold_bits
                                          for k in (a, b)):
        threshold_bits = None         # judged by the runs' own success flags, exactly as the plan's
    return contest.compare_at(final, (a,), (b,), T, threshold_bits=threshold_bits, budget=budget)


def verdict(row: dict, alpha: float = ALPHA) -> str:
    """``"rejects"`` when the exact McNemar p of ``row`` is below ``alpha``, else ``"not shown"``."""
    p = row["p"]
    if not 0 <= p <= 1:
        raise ValueError(f"p must lie in [0, 1], got {p!r}")
    return "rejects" if p < alpha and row["only_a"] != row["only_b"] else "not shown"


def _noise_note(data: dict, part: str, arms_: tuple) -> str:
    noisy = [a for a in arms_ if data["rates"].get((part, a), (None, None))[1] == "mse"]
    return "".join(f" The rate of {NAMES[a]}, {data['rates'][part, a][0]:g}, was chosen by noise: no "
                   f"selection run solved at any rate, and the lower mean MSE decided." for a in noisy)


def primary(data: dict, *, partial: bool = False) -> dict:
    """The planned primary comparison: the LSTM with bias 1 minus the RNN with H = 21.

    After ``PRIMARY_BUDGET`` updates, solved meaning at least ``PRIMARY_BITS``
    bit, on the shared fresh seeds: exact McNemar, two-sided, at ``ALPHA``,
    with Newcombe's paired 95 % interval. Refused (ValueError) before both
    arms have all their runs, unless ``partial``.

    Returns
    -------
    dict
        ``compare_arms``' row, and ``verdict`` (``"rejects"`` or
        ``"not shown"``), ``ahead`` (the arm with more seeds to itself, or
        None), ``complete``, ``alpha``, ``budget`` (updates) and
        ``threshold_bits`` (the planned endpoint), and ``text``: ``contest.describe``'s
        sentence bound to the test, with a note for an arm whose rate was
        chosen by noise.
    """
    a, b = PRIMARY_ARMS
    row = compare_arms(data, "primary", a, b, budget=PRIMARY_BUDGET, threshold_bits=PRIMARY_BITS)
    planned = PRIMARY_FRESH["repeats"]
    complete = row["n"] == planned and all(
        len(data["final"]["primary", arm].runs) == planned for arm in (a, b))
    if not complete and not partial:
        raise ValueError(f"the primary needs {planned} shared seeds per arm; found {row['n']}. "
                         f"Pass partial=True to look at the runs so far")
    ahead = None if row["only_a"] == row["only_b"] else (a if row["only_a"] > row["only_b"] else b)
    text = contest.describe(row, NAMES[a], NAMES[b], alpha=ALPHA) + _noise_note(data, "primary", (a, b))
    return {**row, "verdict": verdict(row), "ahead": ahead, "complete": complete, "alpha": ALPHA,
            "budget": PRIMARY_BUDGET, "threshold_bits": PRIMARY_BITS, "text": text}


def exploratory(data: dict) -> list[dict]:
    """The primary's arms at every budget and every threshold: exploratory, unadjusted.

    One row per (``budget``, ``threshold``) of ``BUDGETS`` x ``THRESHOLDS``,
    budgets first: ``compare_arms``' row (counts, discordant seeds, exact p,
    Newcombe's interval, and the signed-rank p on bits, which depends on the
    budget only), with ``primary`` True on the planned cell.
    """
    a, b = PRIMARY_ARMS
    return [{"budget": k, "threshold": t, "primary": (k, t) == (PRIMARY_BUDGET, PRIMARY_BITS),
             **compare_arms(data, "primary", a, b, budget=k, threshold_bits=t)}
            for k in BUDGETS for t in THRESHOLDS]


def _spaced(n: int) -> str:
    return f"{n:,}".replace(",", " ")


_p = contest._fmt_p         # p-values read as the contest's tables print them


def exploratory_markdown(rows: list[dict]) -> str:
    """Markdown: ``exploratory``'s rows, the planned cell marked; every other p is unadjusted."""
    a, b = PRIMARY_ARMS
    a, b = SHORT[a], SHORT[b]
    lines = [f"| updates | bits | {a} solved | {b} solved | only {a} | only {b} | "
             f"exact $p$ | {a} − {b}, points |", "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        cells = [_spaced(r["budget"]), f"{r['threshold']:g}", f"{r['wins_a']}/{r['n']}",
                 f"{r['wins_b']}/{r['n']}", str(r["only_a"]), str(r["only_b"]), _p(r["p"]),
                 f"{100 * r['low']:+.0f} to {100 * r['high']:+.0f}"]
        if r["primary"]:
            cells = [f"**{c}**" for c in cells]
            cells[1] += " (primary)"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bits_markdown(rows: list[dict]) -> str:
    """Markdown: per budget, the signed-rank test on the bits of each pair (exploratory, unadjusted)."""
    a, b = PRIMARY_ARMS
    lines = [f"| updates | signed-rank $p$ | median of {SHORT[a]} − {SHORT[b]}, bits (95 % bootstrap) |",
             "|---:|---:|---|"]
    seen = set()
    for r in rows:
        if r["budget"] in seen:
            continue
        seen.add(r["budget"])
        lines.append(f"| {_spaced(r['budget'])} | {_p(r['p_bits'])} | "
                     f"{r['bits_low']:+.2f} to {r['bits_high']:+.2f} |")
    return "\n".join(lines)


def chrono_rows(data: dict) -> list[dict]:
    """Part B at T = 200: chrono as run (A) against each other arm (B), on the shared seeds.

    ``compare_arms``' row with ``b``; for ``CHRONO_FAMILY`` the exact p and
    the signed-rank p Holm-adjusted over those three (``p_holm``,
    ``p_bits_holm``); bias 3 (``CHRONO_SHOWN``) is shown beside, unadjusted
    (``family`` "shown"). All exploratory. Arms without runs yet are left out.
    """
    rows = []
    for b in CHRONO_FAMILY + CHRONO_SHOWN:
        if ("chrono", "chrono") in data["final"] and ("chrono", b) in data["final"]:
            rows.append({"b": b, "family": "holm" if b in CHRONO_FAMILY else "shown",
                         **compare_arms(data, "chrono", "chrono", b)})
    fam = [r for r in rows if r["family"] == "holm"]
    for key, into in (("p", "p_holm"), ("p_bits", "p_bits_holm")):
        for r, p in zip(fam, stats.holm([r[key] for r in fam])):
            r[into] = float(p)
    for r in rows:
        r["complete"] = r["n"] == arm_settings("chrono", 1e-2, stage="chrono").repeats
    return rows


def chrono_markdown(rows: list[dict]) -> str:
    """Markdown: ``chrono_rows`` as a table, Holm's p beside each raw one (exploratory)."""
    lines = ["| chrono as run (A) against B | A | B | only A | only B | exact $p$ | Holm | A − B, points | "
             "signed-rank $p$ | Holm |", "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for r in rows:
        holm = ((_p(r["p_holm"]), _p(r["p_bits_holm"])) if r["family"] == "holm"
                else ("shown, not in the three",) * 2)
        lines.append(f"| {LABELS[r['b']]} | {r['wins_a']}/{r['n']} | {r['wins_b']}/{r['n']} | "
                     f"{r['only_a']} | {r['only_b']} | {_p(r['p'])} | {holm[0]} | {100 * r['low']:+.0f} to "
                     f"{100 * r['high']:+.0f} | {_p(r['p_bits'])} | {holm[1]} |")
    return "\n".join(lines)


def cpu_hours(data: dict) -> dict:
    """CPU hours of the runs this experiment made, by stage; the contest's reused runs not counted.

    ``grid_primary``, ``grid_chrono``, ``final_primary``, ``final_chrono``,
    ``grid``, ``final``, ``total`` (hours of process time); ``runs`` (new
    runs counted), ``reused`` (the contest's runs read, not counted) and
    ``wall_only`` (runs that recorded no CPU time and count their wall time).
    """
    out = dict.fromkeys(("grid_primary", "grid_chrono", "final_primary", "final_chrono"), 0.0)
    out.update(runs=0, reused=0, wall_only=0)
    seen = set()
    for stage in ("grid", "final"):
        for key, res in data[stage].items():
            name = data["sources"][key]
            if name in seen:              # chrono50 shares chrono's selection runs
                continue
            seen.add(name)
            if name.startswith("gating-"):
                out["reused"] += len(res.runs)
                continue
            out[f"{stage}_{key[0]}"] += sum(r["cpu_time"] if r.get("cpu_time") is not None else r["wall_time"]
                                            for r in res.runs) / 3600
            out["wall_only"] += sum(r.get("cpu_time") is None for r in res.runs)
            out["runs"] += len(res.runs)
    out["grid"] = out["grid_primary"] + out["grid_chrono"]
    out["final"] = out["final_primary"] + out["final_chrono"]
    out["total"] = out["grid"] + out["final"]
    return out


def _lead_words(rows: list[dict]) -> dict:
    """Where in ``exploratory``'s rows the LSTM has more seeds to itself, in words, and its widest lead."""
    leads = [r for r in rows if r["only_a"] > r["only_b"]]
    if not leads:
        return {"conf_lstm_leads": "at no budget or threshold", "conf_lstm_lead_best": "none"}
    where = []
    for k in dict.fromkeys(r["budget"] for r in leads):
        where.append(f"after {_spaced(k)} updates at "
                     + contest._words(f"{r['threshold']:g}" for r in leads if r["budget"] == k) + " bits")
    best = max(leads, key=lambda r: (r["only_a"] - r["only_b"], -r["p"]))
    seeds = f"{best['only_a']} seed{'' if best['only_a'] == 1 else 's'}"
    return {"conf_lstm_leads": "; ".join(where),
            "conf_lstm_lead_best": (f"{seeds} to {best['only_b']} at {best['threshold']:g} bits after "
                                    f"{_spaced(best['budget'])} updates "
                                    f"(exact $p$ {contest._p_is(best['p'])})")}


def _design_numbers(data: dict) -> dict:
    """The plan's settings and what the grids decided by, for ``numbers``."""
    out = {"conf_batch": arm_settings("lstm", 1e-3, stage="primary").batch,
           "conf_fresh_seed": PRIMARY_FRESH["seed"],
           "conf_grid_rates": contest._words(f"{lr:g}" for lr in PRIMARY_GRID),
           "conf_chrono_rates": contest._words(f"{lr:g}" for lr in CHRONO_GRID),
           "conf_fixed_max": math.log(S.GRID_LENGTH - 1), "conf_fixed_mean": chrono_mean_bias(S.GRID_LENGTH),
           "conf_log_bias": CHRONO_ARMS["lstmlog"]["forget_bias"],
           "conf_mean_bias": CHRONO_ARMS["lstmmean"]["forget_bias"]}
    # The primary LSTM's solved selection runs at the rates that tie for the most: the same seed?
    row = next(r for r in grid_rows(data, "primary") if r["arm"] == "lstm")
    most = max(c["solved"] for c in row["cells"].values())
    seeds = {tuple(r["repeat"] for r in data["grid"]["primary", "lstm", lr].runs if r["success"])
             for lr, c in row["cells"].items() if c["solved"] == most}
    out["conf_lstm_tie_seeds"] = ("no selection seed" if most == 0 else "the same selection seed"
                                  if len(seeds) == 1 else "different selection seeds")
    # Part B: the arms kept at the top of the grid, and the largest gap in mean MSE that decided.
    rows = [r for r in grid_rows(data, "chrono") if r["twin"] is None]
    out["conf_chrono_top"] = contest._words(NAMES[r["arm"]] for r in rows if r["rate"] == CHRONO_GRID[-1])
    gaps = []
    for r in rows:
        kept = r["cells"][r["rate"]]
        tied = [c["mse"] for lr, c in r["cells"].items() if lr != r["rate"] and c["solved"] == kept["solved"]]
        if tied:                      # the mean MSE decided
            gaps.append(min(abs(m - kept["mse"]) for m in tied))
    out["conf_chrono_gap"] = max(gaps, default=float("nan"))
    return out


def numbers(data: dict) -> dict:
    """What the chapter's confirmatory section glues, by name, from complete runs.

    ``conf_grid_primary``, ``conf_grid_chrono`` (Markdown tables); per arm
    ``conf_rate_ARM`` and ``conf_how_ARM`` ("tuned" or "chosen by noise");
    ``conf_noise`` (the arms whose rate noise chose, in words); the primary's
    ``conf_n``, ``conf_wins_lstm``, ``conf_wins_rnn21``, ``conf_only_lstm``,
    ``conf_only_rnn21``, ``conf_p``, ``conf_low``, ``conf_high`` (points),
    ``conf_verdict``, ``conf_text`` (Markdown); ``conf_explore_table``,
    ``conf_bits_table``, ``conf_chrono_table`` (Markdown) and
    ``conf_budget_counts`` (the counts at 1 bit after each budget, in words);
    ``conf_early_budgets`` (the budgets before the primary's, in words),
    ``conf_early_last`` (the last of them), ``conf_early_max`` (the most
    runs either arm solves at 1 bit after them) and ``conf_last_budget``;
    ``conf_lstm_leads`` (the budgets and thresholds where the LSTM has more
    seeds to itself, in words) and ``conf_lstm_lead_best`` (its widest such
    lead); ``conf_p_text`` (the primary's "p = ..." or "p < 0.001");
    ``conf_chrono_wins`` (chrono as run, "k of n") and per other arm B of
    part B ``conf_chrono_B_wins``, ``_only_a``, ``_only_b``, ``_p``,
    ``_ci`` (points) and, for the three of Holm's family, ``_p_holm`` and
    ``_text`` (``contest.describe``, bound to Holm's p);
    per arm ``conf_choice_ARM`` (``choice_words``); the design's
    ``conf_batch``, ``conf_fresh_seed`` (the base seed of the fresh runs),
    ``conf_grid_rates``, ``conf_chrono_rates``,
    ``conf_fixed_max`` and ``conf_fixed_mean`` (chrono's largest and mean
    bias drawn for T = 50), ``conf_log_bias``, ``conf_mean_bias``;
    ``conf_lstm_tie_seeds`` (whether the primary LSTM's tied rates were
    solved by the same selection seed), ``conf_chrono_top`` (part B's arms
    kept at the grid's top rate, in words) and ``conf_chrono_gap`` (over
    the arms whose rate the mean MSE decided, the largest gap in mean MSE
    between the kept rate and its nearest rival; NaN if there are none);
    ``conf_cpu_*`` (hours) and ``conf_cpu_runs``; the plan's own numbers
    ``conf_alpha``, ``conf_min_diff`` (points), ``conf_pairs``,
    ``conf_budget``, ``conf_plan_commit`` and the simulated power (``power``, percent) for 40 % and
    45 % against 15 % solved, ``conf_power_40`` and ``conf_power_45``.
    Raises ValueError while a planned sweep is missing or short.
    """
    if data["incomplete"] or len(data["rates"]) < len(arms()):
        raise ValueError(f"the experiment is not complete: {data['incomplete']}")
    out = {"conf_grid_primary": grid_markdown(data, "primary"),
           "conf_grid_chrono": grid_markdown(data, "chrono")}
    for (_, arm), (lr, how) in data["rates"].items():
        out[f"conf_rate_{arm}"] = f"{lr:g}"
        out[f"conf_how_{arm}"] = "chosen by noise" if how == "mse" else "tuned"
    noisy = [NAMES[arm] for (_, arm), (_, how) in data["rates"].items() if how == "mse"]
    out["conf_noise"] = contest._words(noisy) or "no arm"
    prim = primary(data)
    a, b = PRIMARY_ARMS
    out.update(conf_n=prim["n"], conf_wins_lstm=prim["wins_a"], conf_wins_rnn21=prim["wins_b"],
               conf_only_lstm=prim["only_a"], conf_only_rnn21=prim["only_b"], conf_p=prim["p"],
               conf_low=100 * prim["low"], conf_high=100 * prim["high"], conf_verdict=prim["verdict"],
               conf_text=prim["text"])
    rows = exploratory(data)
    out["conf_explore_table"], out["conf_bits_table"] = exploratory_markdown(rows), bits_markdown(rows)
    out["conf_budget_counts"] = contest._words(
        f"{r['wins_a']} against {r['wins_b']} after {_spaced(r['budget'])}"
        for r in rows if r["threshold"] == PRIMARY_BITS)
    early = [r for r in rows if r["threshold"] == PRIMARY_BITS and r["budget"] < PRIMARY_BUDGET]
    out.update(conf_early_budgets=contest._words(_spaced(r["budget"]) for r in early),
               conf_early_max=max(max(r["wins_a"], r["wins_b"]) for r in early),
               conf_early_last=_spaced(early[-1]["budget"]), conf_last_budget=_spaced(max(BUDGETS)))
    out.update(_lead_words(rows))
    out["conf_p_text"] = f"p {contest._p_is(prim['p'])}"
    chrono = chrono_rows(data)
    out["conf_chrono_table"] = chrono_markdown(chrono)
    out["conf_chrono_wins"] = f"{chrono[0]['wins_a']} of {chrono[0]['n']}"
    for r in chrono:
        key = f"conf_chrono_{r['b']}"
        out.update({f"{key}_wins": f"{r['wins_b']} of {r['n']}", f"{key}_only_a": r["only_a"],
                    f"{key}_only_b": r["only_b"], f"{key}_p": r["p"],
                    f"{key}_ci": f"{100 * r['low']:+.0f} to {100 * r['high']:+.0f}"})
        if r["family"] == "holm":     # judged by Holm's p: the sentence says "beats" only if it rejects
            out[f"{key}_p_holm"] = r["p_holm"]
            out[f"{key}_text"] = contest.describe(r, NAMES["chrono"], NAMES[r["b"]], alpha=ALPHA)
    for part, arm in arms():
        out[f"conf_choice_{arm}"] = choice_words(data, part, arm)
    out.update(_design_numbers(data))
    cost = cpu_hours(data)
    for key in ("grid", "final", "total", "grid_primary", "grid_chrono", "final_primary", "final_chrono"):
        out[f"conf_cpu_{key}"] = cost[key]
    out["conf_cpu_runs"] = cost["runs"]
    out.update(conf_plan_commit=PLAN_COMMIT, conf_alpha=ALPHA, conf_min_diff=100 * MIN_DIFFERENCE,
               conf_pairs=PRIMARY_FRESH["repeats"],
               conf_budget=_spaced(PRIMARY_BUDGET),
               conf_power_40=100 * power(PRIMARY_FRESH["repeats"], 0.40, 0.15),
               conf_power_45=100 * power(PRIMARY_FRESH["repeats"], 0.45, 0.15))
    return out
