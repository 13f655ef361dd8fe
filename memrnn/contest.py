"""The contest of "What gating buys": its arms, its comparisons and the rules that grow it.

The design is fixed in ``experiments/gating/PLAN.md`` before the fresh-seed
runs exist; this module is that plan as code, used by the script that runs the
experiment (``scripts/run-gating.py``), by the chapter that reports it and by
the tests that check what the chapter says.

An *arm* is a model (a key of ``settings.GATING_ARMS``) under an optimizer
(``"sgd"`` or ``"adam"``). Its sweeps are named ``gating-grid-ARM-OPT-LR``
(the learning-rate grid, selection seeds) and ``gating-ARM-OPT`` (fresh seeds
at ``settings.GRID_LENGTH``), ``gating-ARM-OPT-T100`` and so on for the longer
lengths. Run r at length T has the seed (1, T, r) in every arm, so two arms are
compared seed by seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import settings as S
from . import stats
from .results import SweepResult, choose_learning_rate, load_results, run_bits

__all__ = ["PRIMARY", "load_experiment", "chosen_rates", "compare", "hop_probe"]

#: The model of each arm of the contest (a key of ``settings.GATING_ARMS``), in the order of
#: every table, with the label a table gives it. The models a run can train are
#: ``settings.MODELS``.
MODEL_LABELS = {"rnn": "RNN, H = 10", "rnnclip": "RNN, H = 10, clipped at 5", "rnn21": "RNN, H = 21",
                "lstm0": "LSTM, forget bias 0", "lstm": "LSTM, forget bias 1",
                "lstm3": "LSTM, forget bias 3", "chrono": "LSTM, chrono"}
#: The same models as a sentence names them.
NAMES = {"rnn": "the RNN", "rnnclip": "the clipped RNN", "rnn21": "the RNN with H = 21",
         "lstm0": "the LSTM with bias 0", "lstm": "the LSTM with bias 1",
         "lstm3": "the LSTM with bias 3", "chrono": "the LSTM with the chrono start"}
#: The optimizer of each arm, with its label; the optimizers themselves are ``optim.OPTIMIZERS``.
OPTIMIZER_LABELS = {"sgd": "SGD", "adam": "Adam"}
LSTM_INITS = ("lstm0", "lstm", "lstm3", "chrono")
_SHORT = {"lstm0": "bias 0", "lstm": "bias 1", "lstm3": "bias 3", "chrono": "chrono"}

#: The primary comparison, declared before the fresh-seed runs: the LSTM with the standard
#: forget-gate bias of 1 against the RNN of its size, both under Adam, at GRID_LENGTH.
PRIMARY = (("lstm", "adam"), ("rnn21", "adam"))
#: The pilot of chapter 7 that preceded the plan, on the primary's two arms: runs solved of
#: seeds run at GRID_LENGTH under Adam (rate 0.001 for both, base seed 0, 20 000 updates of 256).
#: Its results no longer ship; these counts are those of ``memrnn/results/ch7-lstm-adam.json`` and
#: ``ch7-rnn21-adam.json`` at commit 95b2297.
PILOT = {"lstm": (0, 5), "rnn21": (1, 5)}


def comparisons() -> list[tuple[str, str, tuple, tuple]]:
    """The planned comparisons at ``GRID_LENGTH``: (family, label, arm A, arm B).

    The first is the primary one; the others are exploratory and are
    Holm-adjusted together. A is the treatment, so "rescued" counts the seeds
    A solves and B does not.
    """
    out = [("primary", "LSTM (bias 1) against RNN (H = 21), Adam", *PRIMARY)]
    out += [("optimizer", f"Adam against SGD: {MODEL_LABELS[m]}", (m, "adam"), (m, "sgd"))
            for m in MODEL_LABELS]
    for o, oname in OPTIMIZER_LABELS.items():
        out += [("initialisation", f"bias 1 against bias 0, {oname}", ("lstm", o), ("lstm0", o)),
                ("initialisation", f"bias 3 against bias 1, {oname}", ("lstm3", o), ("lstm", o)),
                ("initialisation", f"chrono against bias 3, {oname}", ("chrono", o), ("lstm3", o)),
                ("clipping", f"clipping at 5, {oname}", ("rnnclip", o), ("rnn", o)),
                ("size", f"H = 21 against H = 10, {oname}", ("rnn21", o), ("rnn", o))]
    return out


def sweep_name(arm: tuple, length: int = S.GRID_LENGTH) -> str:
    """The folder (and shipped file) name of an arm's fresh-seed sweep at ``length``."""
    model, opt = arm
    return f"gating-{model}-{opt}" + ("" if length == S.GRID_LENGTH else f"-T{length}")


def shipped_folder() -> Path:
    """Where the experiment's results ship inside the package."""
    return Path(__file__).parent / "results" / "gating"


def load_experiment(folder=None) -> dict:
    """Every sweep of the experiment found in ``folder`` (default: the shipped one).

    Returns
    -------
    dict
        ``"grid"``: (model, optimizer, lr) -> SweepResult;
        ``"final"``: (model, optimizer, T) -> SweepResult of the fresh seeds.
    """
    folder = shipped_folder() if folder is None else Path(folder)
    grid, final = {}, {}
    for m in MODEL_LABELS:
        for o, rates in S.LR_GRID.items():
            for lr in rates:
                res = _load(folder, f"gating-grid-{m}-{o}-{lr:g}")
                if res is not None:
                    grid[m, o, lr] = res
            for T in (S.GRID_LENGTH, 100, 200):
                res = _load(folder, sweep_name((m, o), T))
                if res is not None:
                    final[m, o, T] = res
    return {"grid": grid, "final": final}


def _load(folder: Path, name: str) -> SweepResult | None:
    for path in (folder / name / "results.json", folder / f"{name}.json"):
        if path.exists():
            return load_results(path)
    return None


def chosen_rates(grid: dict) -> dict:
    """(model, optimizer) -> the learning rate the grid picks (``results.choose_learning_rate``)."""
    arms = sorted({(m, o) for m, o, _ in grid}, key=lambda a: (list(MODEL_LABELS).index(a[0]), a[1]))
    for m, o in arms:
        missing = [lr for lr in S.LR_GRID[o] if (m, o, lr) not in grid]
        if missing:
            raise ValueError(f"the grid of {m}-{o} lacks the rates {missing}; "
                             f"a rate is chosen from all of {list(S.LR_GRID[o])}")
    return {(m, o): choose_learning_rate({lr: grid[m, o, lr] for lr in S.LR_GRID[o]})
            for m, o in arms}


def _by_seed(res: SweepResult, length: int) -> dict:
    return {r["repeat"]: r for r in res.runs if r["length"] == length}


def compare(final: dict, a: tuple, b: tuple, length: int = S.GRID_LENGTH) -> dict:
    """``stats.compare_paired`` of two arms over the seeds both ran at ``length``."""
    ra, rb = _by_seed(final[a + (length,)], length), _by_seed(final[b + (length,)], length)
    keys = sorted(set(ra) & set(rb))
    if not keys:
        raise ValueError(f"arms {a} and {b} share no seeds at T = {length}")

    return stats.compare_paired([ra[k]["success"] for k in keys], [rb[k]["success"] for k in keys],
                                [run_bits(ra[k]) for k in keys], [run_bits(rb[k]) for k in keys])


def compare_at(final: dict, a: tuple, b: tuple, length: int = S.GRID_LENGTH, *, threshold_bits=None,
               budget=None) -> dict:
    """``compare`` with success judged at ``threshold_bits`` bits and after ``budget`` updates.

    The defaults are the plan's: the sweeps' own threshold (one bit) and their
    full budget. A run diverged by ``budget`` counts as 0 bits.
    """
    ra, rb = (final[arm + (length,)] for arm in (a, b))
    if budget is not None:
        ra, rb = ra.at_budget(budget), rb.at_budget(budget)
    ra, rb = _by_seed(ra, length), _by_seed(rb, length)
    keys = sorted(set(ra) & set(rb))
    if not keys:
        raise ValueError(f"arms {a} and {b} share no seeds at T = {length}")
    bits_a, bits_b = [run_bits(ra[k]) for k in keys], [run_bits(rb[k]) for k in keys]
    if threshold_bits is None:
        win_a, win_b = [ra[k]["success"] for k in keys], [rb[k]["success"] for k in keys]
    else:
        win_a = [x >= threshold_bits for x in bits_a]
        win_b = [x >= threshold_bits for x in bits_b]
    return stats.compare_paired(win_a, win_b, bits_a, bits_b)


def unsolved_grid_arms(grid: dict) -> list[tuple]:
    """The arms (model, optimizer) none of whose selection runs succeeded at any rate of the grid.

    For these the grid's choice rests on differences among failed runs: the
    rate is chosen by noise.
    """
    arms = [(m, o) for m in MODEL_LABELS for o in OPTIMIZER_LABELS
            if any((m, o, lr) in grid for lr in S.LR_GRID[o])]
    return [(m, o) for m, o in arms
            if not any(r["success"] for lr in S.LR_GRID[o] if (m, o, lr) in grid
                       for r in grid[m, o, lr].runs)]


def long_comparisons(final: dict) -> list[tuple[str, str, tuple, tuple, int]]:
    """The comparisons at the longer lengths: (family, label, arm A, arm B, T).

    At each longer length the plan runs (``long_arms``), the chrono start
    against every constant-bias LSTM that ran there too, on their shared seeds.
    Exploratory, Holm-adjusted with the others.
    """
    out = []
    for T in (100, 200):
        arms = sorted((m, o) for m, o, length in final if length == T)
        for a in arms:
            for b in arms:
                if a[0] == "chrono" and b[0] != "chrono":
                    opt = (OPTIMIZER_LABELS[a[1]] if a[1] == b[1]
                           else f"{OPTIMIZER_LABELS[a[1]]} against {OPTIMIZER_LABELS[b[1]]}")
                    out.append(("length", f"chrono against {_SHORT[b[0]]}, {opt}, T = {T}", a, b, T))
    return out


def compare_family(final: dict) -> list[dict]:
    """Every planned comparison that can be made on ``final``, with ``p_holm`` and ``length``.

    The comparisons at GRID_LENGTH (``comparisons()``), then those at the
    longer lengths (``long_comparisons``). Holm's adjustment runs over all the
    exploratory ones together; the primary keeps its p.
    """
    planned = [(*c, S.GRID_LENGTH) for c in comparisons()] + long_comparisons(final)
    rows = [{"family": fam, "label": label, "a": a, "b": b, "length": T, **compare(final, a, b, T)}
            for fam, label, a, b, T in planned
            if a + (T,) in final and b + (T,) in final]
    explore = [r for r in rows if r["family"] != "primary"]
    for r, p in zip(explore, stats.holm([r["p"] for r in explore])):
        r["p_holm"] = float(p)
    for r in rows:
        r.setdefault("p_holm", r["p"])
    return rows


def is_close(row: dict) -> bool:
    """The plan's rule for 10 more seeds: 0.01 <= p <= 0.2, or an interval bound within 10 points of 0."""
    return 0.01 <= row["p"] <= 0.2 or min(abs(row["low"]), abs(row["high"])) <= 0.10


def _score(res: SweepResult, length: int) -> tuple:
    runs = [r for r in res.runs if r["length"] == length]
    return (sum(r["success"] for r in runs) / len(runs), float(np.mean([run_bits(r) for r in runs])))


def better_optimizer(final: dict, model: str, length: int = S.GRID_LENGTH) -> str:
    """The optimizer under which ``model`` did better at ``length``: more successes, then more bits."""
    have = [o for o in OPTIMIZER_LABELS if (model, o, length) in final]
    if not have:
        raise ValueError(f"no fresh-seed runs of {model!r} at T = {length}")
    return max(have, key=lambda o: (_score(final[model, o, length], length), o == "adam"))


def long_arms(final: dict, length: int) -> list[tuple]:
    """The arms the plan runs at ``length`` (100 or 200), given the runs so far.

    T = 100: every LSTM initialisation that solved at least half of its runs
    at GRID_LENGTH, under the optimizer that did better for it there. T = 200:
    the chrono initialisation, and the constant bias that did best at T = 100
    if it solved at least half of its runs there.
    """
    if length == 100:
        arms = []
        for m in LSTM_INITS:
            if not any((m, o, S.GRID_LENGTH) in final for o in OPTIMIZER_LABELS):
                continue
            o = better_optimizer(final, m)
            if _score(final[m, o, S.GRID_LENGTH], S.GRID_LENGTH)[0] >= 0.5:
                arms.append((m, o))
        return arms
    if length == 200:
        at100 = [(m, o) for m, o, T in final if T == 100]
        arms = [(m, o) for m, o in at100 if m == "chrono"]
        constant = [(m, o) for m, o in at100 if m != "chrono"]
        if constant:
            best = max(constant, key=lambda a: _score(final[a + (100,)], 100))
            if _score(final[best + (100,)], 100)[0] >= 0.5:
                arms.append(best)
        return arms
    raise ValueError(f"the plan has longer stages at T = 100 and 200, got {length!r}")


def _fmt_p(p: float) -> str:
    return f"{p:.2g}" if p >= 0.001 else "< 0.001"


def _p_is(p: float) -> str:
    """``= 0.07`` or ``< 0.001``: what follows "p" in a sentence."""
    text = _fmt_p(p)
    return text if text.startswith("<") else f"= {text}"


def grid_table(grid: dict) -> str:
    """Markdown: per arm and rate, the selection runs' mean bits and how many solved; the chosen rate bold."""
    rates = chosen_rates(grid)
    lines = []
    for o, oname in OPTIMIZER_LABELS.items():
        lines += [f"| {oname} | " + " | ".join(f"$\\eta = {lr:g}$" for lr in S.LR_GRID[o]) + " |",
                  "|---|" + "---:|" * len(S.LR_GRID[o])]
        for m in MODEL_LABELS:
            cells = []
            for lr in S.LR_GRID[o]:
                res = grid[m, o, lr]
                bits, wins = np.mean([run_bits(r) for r in res.runs]), sum(r["success"] for r in res.runs)
                cell = f"{bits:.2f} ({wins}/{len(res.runs)})"
                cells.append(f"**{cell}**" if rates[m, o] == lr else cell)
            lines.append(f"| {MODEL_LABELS[m]} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines[:-1])


def arm_table(final: dict, rates: dict, lengths=(S.GRID_LENGTH, 100, 200), arms=None) -> str:
    """Markdown: per arm, its rate and, per length, runs solved of seeds run (median bits).

    ``arms`` (default: every arm that ran at GRID_LENGTH) picks the rows; a
    length no arm of the table ran gets no column.
    """
    arms = [(m, o) for m in MODEL_LABELS for o in OPTIMIZER_LABELS
            if (m, o, S.GRID_LENGTH) in final and (arms is None or (m, o) in arms)]
    lengths = [T for T in lengths if any(a + (T,) in final for a in arms)]
    lines = ["| model | optimizer | $\\eta$ | " + " | ".join(f"$T = {T}$" for T in lengths) + " |",
             "|---|---|---:|" + "---|" * len(lengths)]
    for m, o in arms:
        cells = []
        for T in lengths:
            runs = [r for r in final[m, o, T].runs if r["length"] == T] if (m, o, T) in final else []
            if runs:
                bits = np.median([run_bits(r) for r in runs])
                cells.append(f"{sum(r['success'] for r in runs)}/{len(runs)} ({bits:.2f})")
            else:
                cells.append("")
        lines.append(f"| {MODEL_LABELS[m]} | {OPTIMIZER_LABELS[o]} | {rates[m, o]:g} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def family_table(rows: list[dict]) -> str:
    """Markdown: every comparison with its rescued and lost seeds, p, Holm's p and both intervals."""
    lines = ["| comparison (A against B) | A | B | only A | only B | $p$ | Holm | A − B, points | "
             "bits, A − B |", "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        holm = "primary" if r["family"] == "primary" else _fmt_p(r["p_holm"])
        lines.append(f"| {r['label']} | {r['wins_a']}/{r['n']} | {r['wins_b']}/{r['n']} | {r['only_a']} | "
                     f"{r['only_b']} | {_fmt_p(r['p'])} | {holm} | {100 * r['low']:+.0f} to "
                     f"{100 * r['high']:+.0f} | {r['bits_low']:+.2f} to {r['bits_high']:+.2f} |")
    return "\n".join(lines)


def budget_rows(final: dict, length: int = S.GRID_LENGTH) -> dict:
    """(model, optimizer) -> runs solved after each checkpoint and at the end, at ``length``."""
    out = {}
    for (m, o, T), res in final.items():
        if T != length:
            continue
        marks = res.settings.checkpoints + (res.settings.steps,)
        out[m, o] = {k: sum(r["success"] for r in res.at_budget(k).runs if r["length"] == length)
                     for k in marks}
    return out


def path_probes(final: dict, length: int = S.GRID_LENGTH) -> dict:
    """(model, optimizer, stage) -> medians over runs of the gradient at c_1 relative to c_T.

    ``full`` over all paths, ``carousel`` along the cell state alone, and
    ``share``, the median per run of carousel / full: how the carousel's part
    compares with what all paths deliver (above 1 where the other paths cancel
    some of it).
    """
    out = {}
    for (m, o, T), res in final.items():
        if T != length or m not in LSTM_INITS:
            continue
        for stage in ("init", "final"):
            runs = [r for r in res.runs if r["length"] == T and r.get("probe")
                    and "carousel_norms" in (r["probe"].get(stage) or {})]
            full = np.array([r["probe"][stage]["cell_norms"][0] / r["probe"][stage]["cell_norms"][-1]
                             for r in runs])
            car = np.array([r["probe"][stage]["carousel_norms"][0] / r["probe"][stage]["carousel_norms"][-1]
                            for r in runs])
            out[m, o, stage] = {"full": float(np.median(full)), "carousel": float(np.median(car)),
                                "share": float(np.median(car / full)), "runs": len(runs)}
    return out


def hop_probe(arm: tuple, lr: float, repeat: int, length: int = S.GRID_LENGTH, max_hops: int = 2,
              train: bool = True) -> dict:
    """The gradient at c_1 by the number of passes through ``U``, for run ``repeat`` of an arm.

    The run is rebuilt from its seed (``run.train_one``: the same initial
    weights, training batches and held-out batches as the shipped run) and
    probed on its first held-out batch, as the shipped probes are, with
    ``vanishing.hop_ratios``: at initialisation, and after training if
    ``train``. ``eval_mse`` lets a reader check the retrained run against the
    shipped one.

    Returns
    -------
    dict
        ``arm``, ``lr``, ``length``, ``repeat``, ``init`` and (if ``train``)
        ``final``: ``{"0": ..., "1": ..., "all": ...}`` ratios to ``||dL/dc_T||``;
        ``eval_mse`` and ``cpu_time`` (s) of the retrained run.
    """
    import time

    from threadpoolctl import threadpool_limits

    from . import vanishing
    from .data import generate_samples
    from .losses import MSELoss
    from .run import make_model, run_seed, train_one

    model_name, opt = arm
    t = S.gating_final(model_name, opt, lr, lengths=(length,))
    start = time.process_time()

    def ratios(model, x, y):
        loss = MSELoss()
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        return {str(k): v for k, v in vanishing.hop_ratios(model, x, max_hops).items()}

    init_ss, _, eval_ss = run_seed(t.seed, length, repeat).spawn(3)
    x, y = next(generate_samples(t.batch, length, seed=eval_ss, dtype=np.dtype(t.dtype)))
    with threadpool_limits(1, "blas"):
        out = {"arm": list(arm), "lr": lr, "length": length, "repeat": repeat,
               "init": ratios(make_model(t, init_ss, length), x, y)}
        if train:
            record, learner = train_one(t, length, repeat, probe=False)
            out["final"] = ratios(learner.model, x, y)
            out["eval_mse"] = record["eval_mse"]
    out["cpu_time"] = time.process_time() - start
    return out


def load_hop_probes(path=None) -> list[dict]:
    """The shipped ``hop_probe`` records (``scripts/probe-hops.py``), or those at ``path``."""
    import json

    path = Path(__file__).parent / "results" / "gating-hops.json" if path is None else Path(path)
    return json.loads(Path(path).read_text())["probes"]


def hop_table(probes: list[dict], stage: str = "final", trained_only: bool = False) -> dict:
    """(model, optimizer) -> median over the probed runs of each ratio of ``hop_probe`` at ``stage``.

    With ``trained_only`` only the runs that were also trained count, so that
    both stages describe the same runs.
    """
    out, seen = {}, set()
    for p in probes:
        key = (tuple(p["arm"]), p["length"], p["repeat"])
        if stage in p and (not trained_only or "final" in p) and key not in seen:
            seen.add(key)                                   # a trained run also holds its start
            out.setdefault(key[0], []).append(p[stage])
    return {arm: {k: float(np.median([r[k] for r in rows])) for k in rows[0]} | {"runs": len(rows)}
            for arm, rows in out.items()}


def _hop_markdown(probes: list[dict]) -> str:
    """Markdown: per trained arm, the gradient at c_1 by passes through U, at the start and trained.

    Each cell is the median over the trained runs of ``||dL/dc_1|| / ||dL/dc_T||``
    for the paths with at most k passes (k = 0 is the carousel alone) and for all.
    """
    init, final = hop_table(probes, "init", trained_only=True), hop_table(probes, "final")
    keys = [k for k in next(iter(final.values())) if k != "runs"]
    head = ["none" if k == "0" else ("all" if k == "all" else f"$\\le {k}$") for k in keys]
    lines = ["| start | optimizer | runs | " + " | ".join(f"start: {h}" for h in head) + " | "
             + " | ".join(f"trained: {h}" for h in head) + " |",
             "|---|---|---:|" + "---:|" * (2 * len(keys))]
    for m in MODEL_LABELS:
        for o in OPTIMIZER_LABELS:
            if (m, o) in final:
                cells = [f"{init[m, o][k]:.2g}" for k in keys] + [f"{final[m, o][k]:.2g}" for k in keys]
                lines.append(f"| {MODEL_LABELS[m]} | {OPTIMIZER_LABELS[o]} | {final[m, o]['runs']} | "
                             + " | ".join(cells) + " |")
    return "\n".join(lines)


def _words(items) -> str:
    items = list(items)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def unsolved_numbers(grid: dict) -> dict:
    """The grid's arms whose rate was chosen among failed runs (``unsolved_grid_arms``), by glue name.

    ``n_never`` and ``never_grid`` (the arms in words); ``lstm_grid_bits``, the
    mean bits of the primary LSTM's selection runs at each rate, and
    ``lstm_grid_rate``, the rate kept.
    """
    never = unsolved_grid_arms(grid)
    model, opt = PRIMARY[0]
    bits = [np.mean([run_bits(r) for r in grid[model, opt, lr].runs]) for lr in S.LR_GRID[opt]]
    return {"n_never": len(never),
            "never_grid": _words(f"{NAMES[m]} under {OPTIMIZER_LABELS[o]}" for m, o in never) or "no arm",
            "lstm_grid_bits": _words(f"{b:.5f}" for b in bits),
            "lstm_grid_rate": f"{chosen_rates(grid)[PRIMARY[0]]:g}"}


def primary_numbers(final: dict, budgets, thresholds=(0.5, 0.75, 0.9)) -> dict:
    """What the chapter says of the primary comparison's design and robustness, by glue name.

    The pilot's counts (``PILOT``); the power of the exact test on 10 and 20
    seeds (``stats.mcnemar_power``) at the discordant shares the fresh
    seeds show; the counts and exact p at other thresholds of success and at
    each budget; the RNN's runs that end just under one bit.
    """
    row = compare(final, *PRIMARY)
    pa, pb = row["only_a"] / row["n"], row["only_b"] / row["n"]
    out = {"pilot_n": PILOT["lstm"][1], "pilot_lstm": PILOT["lstm"][0], "pilot_rnn21": PILOT["rnn21"][0],
           "pow_pa": f"{100 * pa:.0f}", "pow_pb": f"{100 * pb:.0f}", "pow_gap": f"{100 * abs(pa - pb):.0f}",
           "pow_10": 100 * stats.mcnemar_power(10, pa, pb),
           "pow_20": 100 * stats.mcnemar_power(20, pa, pb)}
    at = {t: compare_at(final, *PRIMARY, threshold_bits=t) for t in thresholds}
    out["prim_thresholds"] = _words(f"{t:g} bits, {r['wins_a']} against {r['wins_b']} "
                                    f"(exact p = {r['p']:.2g})" for t, r in at.items())
    rnn = final[PRIMARY[1] + (S.GRID_LENGTH,)]
    near = sorted(b for b in (run_bits(r) for r in rnn.runs) if min(thresholds[1:]) <= b < 1)
    out["rnn_near"] = (f"{len(near)} runs of the RNN end between {near[0]:.2f} and {near[-1]:.2f} bits"
                       if near else "no run of the RNN ends just under 1 bit")
    by_budget = {k: compare_at(final, *PRIMARY, budget=k) for k in budgets}
    out["prim_budgets"] = _words(f"{r['wins_a']} against {r['wins_b']} after {k:,}".replace(",", " ")
                                 for k, r in by_budget.items())
    out["budget_tie"] = _words(f"{k:,}".replace(",", " ") for k, r in by_budget.items()
                               if r["wins_a"] == r["wins_b"]) or "none of the budgets"
    return out


def hop_numbers(probes: list[dict], threshold_mse: float) -> dict:
    """What the chapter says of the gradient by passes through ``U``, by glue name.

    ``hop_init_START_K`` (medians at the start over every probed seed, K in
    0, 1, 2, all, and ``share2``: at most two passes over all),
    ``hop_final_MODEL_OPT_K`` and ``..._share2`` for the trained runs,
    ``hop_mixed_MODEL`` (median per run of the "at most 2" norm minus the
    carousel's, a lower bound on the norm of the 1-2 pass part), counts, and
    ``hop_sgd_text``, a sentence per SGD arm.
    """
    start, trained = hop_table(probes, "init"), hop_table(probes, "final")
    out = {}
    for m in LSTM_INITS:
        for k in ("0", "1", "2", "all"):
            out[f"hop_init_{m}_{k}"] = start[m, "adam"][k]
        out[f"hop_init_{m}_share2"] = start[m, "adam"]["2"] / start[m, "adam"]["all"]
    for (m, o), row in trained.items():
        for k in ("0", "1", "2", "all"):
            out[f"hop_final_{m}_{o}_{k}"] = row[k]
        out[f"hop_final_{m}_{o}_share2"] = row["2"] / row["all"]
        runs = [p["final"] for p in probes if "final" in p and tuple(p["arm"]) == (m, o)]
        out[f"hop_mixed_{m}_{o}"] = float(np.median([r["2"] - r["0"] for r in runs]))
    out["hop_n_trained"] = " or ".join(str(n) for n in sorted({row["runs"] for row in trained.values()}))
    out["hop_n_arms"], out["hop_n_total"] = len(trained), sum(row["runs"] for row in trained.values())
    lstm = [p for p in probes if "final" in p and tuple(p["arm"]) == ("lstm", "adam")]
    solved = sum(p["eval_mse"] is not None and p["eval_mse"] < threshold_mse for p in lstm)
    out["hop_lstm_solved"] = f"{solved} of {len(lstm)} of these runs solved"
    out["hop_sgd_text"] = " ".join(
        f"After SGD, {NAMES[m]}: at most two passes carry {row['2']:.2g} of {row['all']:.2g} "
        f"({row['2'] / row['all']:.0%}), the carousel alone {row['0']:.2g}."
        for (m, o), row in trained.items() if o == "sgd")
    rows = [f"| {MODEL_LABELS[m]} | {start[m, 'adam']['runs']} | "
            + " | ".join(f"{start[m, 'adam'][k]:.2g}" for k in ("0", "1", "2", "all")) + " |"
            for m in LSTM_INITS]
    head = "| start | runs | no pass (carousel) | at most 1 | at most 2 | all paths |"
    out["hop_start_table"] = "\n".join([head, "|---|---:|---:|---:|---:|---:|", *rows])
    out["hop_trained_table"] = _hop_markdown(probes)
    out["hop_seeds"] = _hop_seeds(probes)
    return out


def _hop_seeds(probes: list[dict]) -> str:
    """Which seeds (repeats) of each arm were trained again, in words: the usual set, then exceptions."""
    seeds = {}
    for p in probes:
        if "final" in p:
            seeds.setdefault(tuple(p["arm"]), set()).add(p["repeat"])
    sets = [tuple(sorted(v)) for v in seeds.values()]
    usual = max(set(sets), key=sets.count)
    out = f"seed{'s' if len(usual) > 1 else ''} {_words(map(str, usual))} of each"
    odd = [f"for {NAMES[m]} under {OPTIMIZER_LABELS[o]} seed{'s' if len(v) > 1 else ''} "
           f"{_words(map(str, sorted(v)))} only" for (m, o), v in seeds.items() if tuple(sorted(v)) != usual]
    return out + (f", but {_words(odd)}" if odd else "")


def budget_numbers(final: dict, budgets, length: int = S.GRID_LENGTH) -> dict:
    """The primary comparison at each budget, and what the primary's RNN gains over the last one.

    ``budget_p`` (the exact McNemar p at each budget, in words), ``budget_min_p``
    (the smallest of them), and, for the primary's RNN between the last two
    budgets, the seeds it gains (``rnn_gained``) and loses (``rnn_lost``), with
    the two budgets as ``budget_from`` and ``budget_to``.
    """
    rows = {k: compare_at(final, *PRIMARY, length, budget=k) for k in budgets}
    res = final[PRIMARY[1] + (length,)]
    before, after = ({r["repeat"]: r["success"] for r in res.at_budget(k).runs if r["length"] == length}
                     for k in budgets[-2:])
    return {"budget_p": _words(f"{r['p']:.2g}" for r in rows.values()),
            "budget_min_p": min(r["p"] for r in rows.values()),
            "rnn_gained": sum(after[k] and not before[k] for k in before),
            "rnn_lost": sum(before[k] and not after[k] for k in before),
            "budget_from": f"{budgets[-2]:,}".replace(",", " "),
            "budget_to": f"{budgets[-1]:,}".replace(",", " ")}


def first_state_reach(final: dict, model: str = "rnn21", length: int = S.GRID_LENGTH) -> dict:
    """What the trained runs of ``model`` pass back to the first state, under Adam and under SGD.

    The ratio of the gradient at the first hidden state to that at the last
    (the probe after training, on the first held-out batch): ``reach_adam_lo``
    and ``reach_adam_hi`` over the runs that succeeded under Adam, and
    ``reach_sgd``, the median over all runs under SGD.
    """
    def ratios(res, keep):
        return [r["probe"]["final"]["hidden_norms"][0] / r["probe"]["final"]["hidden_norms"][-1]
                for r in res.runs if r["length"] == length and keep(r) and r["probe"]["final"]]

    adam = ratios(final[model, "adam", length], lambda r: r["success"])
    sgd = ratios(final[model, "sgd", length], lambda r: True)
    if not adam or not sgd:
        raise ValueError(f"no probes of {model!r} to compare at T = {length}")
    return {"reach_adam_lo": min(adam), "reach_adam_hi": max(adam), "reach_adam_n": len(adam),
            "reach_sgd": float(np.median(sgd))}


def primary_tuning(grid: dict) -> dict:
    """How well the grid tuned the primary's two arms: the selection runs each solved at its rate.

    ``tune_lstm`` and ``tune_rnn``: "k of n" at the rate kept; ``tune_lstm_any``:
    whether any selection run of the LSTM succeeded at any rate.
    """
    rates = chosen_rates(grid)
    out = {}
    for name, arm in zip(("lstm", "rnn"), PRIMARY):
        runs = grid[arm + (rates[arm],)].runs
        out[f"tune_{name}"] = f"{sum(r['success'] for r in runs)} of {len(runs)}"
    out["tune_lstm_any"] = PRIMARY[0] not in unsolved_grid_arms(grid)
    return out


def extension_size(first: int = 10, more: int = 10, alpha: float = 0.05, grid: int = 21,
                   points=None) -> dict:
    """The chance that the plan's two-stage rule rejects two arms that do not differ.

    Under the null of the paired test, each seed is solved by A alone and by B
    alone with the same probability q, by both with probability s. The rule
    runs ``first`` seeds, adds ``more`` when ``is_close``, and rejects when the
    exact McNemar p of all its seeds is below ``alpha``. Computed exactly,
    over a grid of (s, q) with s + 2q <= 1, or at the (s, q) of ``points``.

    Returns
    -------
    dict
        ``size`` (the largest rejection probability over the grid) and
        ``fixed`` (the largest for ``first + more`` seeds planned from the
        start), both as fractions.
    """
    from math import comb

    tables = [(a, b, c, first - a - b - c) for a in range(first + 1) for b in range(first + 1 - a)
              for c in range(first + 1 - a - b)]
    close, p1 = {}, {}
    for t in tables:                       # the first stage's verdict depends on the whole table
        both, oa, ob, nei = t
        row = stats.compare_paired([1] * (both + oa) + [0] * (ob + nei),
                                   [1] * both + [0] * oa + [1] * ob + [0] * nei)
        close[t], p1[t] = is_close(row), row["p"]
    n_all = first + more
    reject = np.array([[stats.mcnemar_exact(a, b) < alpha if a + b <= n_all else False
                        for b in range(n_all + 1)] for a in range(n_all + 1)])

    def trinomial(n, a, b, q):              # a seeds A alone, b B alone, the rest concordant
        return comb(n, a) * comb(n - a, b) * q ** (a + b) * (1 - 2 * q) ** (n - a - b)

    if points is None:
        points = [(s, q) for s in np.linspace(0, 1, grid) for q in np.linspace(0, 0.5, grid)[1:]
                  if s + 2 * q <= 1 + 1e-12]
    size = fixed = 0.0
    for s, q in points:
        rest = max(0.0, 1 - s - 2 * q)
        total = 0.0
        for t in tables:
            both, oa, ob, nei = t
            pr = (comb(first, both) * comb(first - both, oa) * comb(first - both - oa, ob)
                  * s ** both * q ** (oa + ob) * rest ** nei)
            if close[t]:
                total += pr * sum(trinomial(more, a, b, q) for a in range(more + 1)
                                  for b in range(more + 1 - a) if reject[oa + a, ob + b])
            elif p1[t] < alpha:
                total += pr
        one = sum(trinomial(n_all, a, b, q) for a in range(n_all + 1) for b in range(n_all + 1 - a)
                  if reject[a, b])
        size, fixed = max(size, total), max(fixed, one)
    return {"size": float(size), "fixed": float(fixed)}


def cpu_hours(experiment: dict) -> dict:
    """CPU hours (process time of the runs) by stage and model kind, and in all.

    Stages: ``grid``, ``final`` (fresh seeds at GRID_LENGTH) and ``long`` (the
    longer lengths). A run recorded before runs kept their CPU time counts its
    wall time (``wall_only`` says how many: on an idle core the two agree).
    """
    out = {"grid": 0.0, "final": 0.0, "long": 0.0, "rnn": 0.0, "lstm": 0.0, "runs": 0, "wall_only": 0}
    for part in ("grid", "final"):
        for key, res in experiment[part].items():
            hours = sum(r["cpu_time"] if r.get("cpu_time") is not None else r["wall_time"]
                        for r in res.runs) / 3600
            out["wall_only"] += sum(r.get("cpu_time") is None for r in res.runs)
            out["long" if part == "final" and key[2] != S.GRID_LENGTH else part] += hours
            out["lstm" if key[0] in LSTM_INITS else "rnn"] += hours
            out["runs"] += len(res.runs)
    out["total"] = out["grid"] + out["final"] + out["long"]
    return out


def planned_p(row: dict) -> tuple[float, str]:
    """The p-value of the test the plan names for ``row``, and the test's name.

    The primary comparison (and a row of ``compare`` alone) is judged by its
    exact McNemar p; an exploratory row of ``compare_family`` by that p after
    Holm's adjustment over the family.
    """
    if row.get("family", "primary") == "primary":
        return row["p"], "exact McNemar"
    return row["p_holm"], "exact McNemar, Holm-adjusted"


def describe(row: dict, name_a: str, name_b: str, alpha: float = 0.05) -> str:
    """A paired comparison (``compare`` or a row of ``compare_family``) in words bound to its test.

    It says that one arm beats the other only when the planned test
    (``planned_p``) rejects at ``alpha``; otherwise that no advantage is
    shown, with the 95 % interval for the difference in the share solved.
    The interval is approximate and can exclude 0 when the exact test does
    not reject; the sentence then says so, and the test decides.
    """
    n, lo, hi = row["n"], 100 * row["low"], 100 * row["high"]
    p, test = planned_p(row)
    pname = "p" if test == "exact McNemar" else r"p_{\mathrm{Holm}}"
    a, b = f"{name_a[:1].upper()}{name_a[1:]}", name_b
    text = (f"{a} solves {row['wins_a']} of the {n} seeds and {b}, {row['wins_b']}; "
            f"on {row['only_a']} seed{'' if row['only_a'] == 1 else 's'} only {name_a} succeeds, "
            f"on {row['only_b']} only {name_b} ({test}, ${pname} {_p_is(p)}$). ")
    interval = (f"the 95 % interval for the difference in the share solved, {name_a} minus "
                f"{name_b}, runs from {lo:+.0f} to {hi:+.0f} points")
    if p < alpha and row["only_a"] != row["only_b"]:
        winner, loser = (name_a, name_b) if row["only_a"] > row["only_b"] else (name_b, name_a)
        kind = ("" if test == "exact McNemar" else
                " (an exploratory comparison, judged after Holm's adjustment over its family)")
        return text + (f"The planned test rejects at the {100 * alpha:g} % level{kind}: {winner} "
                       f"beats {loser} on these seeds, and {interval}.")
    text += (f"The planned test does not reject at the {100 * alpha:g} % level, so neither is shown "
             f"to be better; {interval}")
    if hi < 0 or lo > 0:
        return text + (". That interval is approximate: it excludes 0, but the planned test does not "
                       "reject, and the planned test decides.")
    return text + (f": the data leave room for an advantage of up to {hi:.0f} points for {name_a} "
                   f"and up to {-lo:.0f} for {name_b}.")
