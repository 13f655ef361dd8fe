"""The numbers chapters 5 and 6 quote from the shipped experiments, computed in one place.

Each function takes ``SweepResult`` objects and returns a flat dict of named
numbers (and short strings) that a chapter glues into its prose. The tests
check the claims the prose makes about them (``tests/test_reference_claims.py``),
so the chapters only glue.

The comparisons follow the design of each experiment. Clipped and unclipped
runs, and float32 and float64 runs, share their seeds: they are compared seed
by seed (``stats.compare_paired``). Runs at different lengths have
different seeds and are compared unpaired.
"""

from __future__ import annotations

import numpy as np

from . import information, stats
from .results import SweepResult, budget_table, cliff_timing, run_bits, run_outcome, threshold_sensitivity

__all__ = ["paired_arms"]


def sweep_answer(reference: SweepResult) -> dict:
    """The headline of chapter 5: the 80 % crossing, the reach, and how both move with the threshold."""
    rows = {r["length"]: r for r in reference.summary()}
    lengths = sorted(rows)
    best = reference.largest_reliable_length()
    cross = reference.crossing()
    fail = lengths[lengths.index(best) + 1]
    sens = threshold_sensitivity(reference)
    always = [T for T in lengths if all(T in s["reliable"] for s in sens)]
    never = [T for i, T in enumerate(lengths)
             if not any(L in s["reliable"] for s in sens for L in lengths[i:])]
    reaches = [s["reach"] or 0 for s in sens]
    return {
        "ref_repeats": reference.settings.repeats, "ref_runs": len(reference.runs),
        "ref_best": best, "ref_best_rate": 100 * rows[best]["success_rate"],
        "ref_fail": fail, "ref_fail_rate": 100 * rows[fail]["success_rate"],
        "ref_fail_lo": 100 * rows[fail]["rate_low"], "ref_fail_hi": 100 * rows[fail]["rate_high"],
        "cross_est": cross["estimate"], "cross_lo": cross["low"], "cross_hi": cross["high"],
        "first_zero": next(T for T in lengths if rows[T]["successes"] == 0),
        "ref_short": lengths[0], "ref_short_bits": rows[lengths[0]]["median_bits"],
        "ref_long": lengths[-1], "ref_long_mse": rows[lengths[-1]]["median_mse"],
        # Runs that recorded no CPU time give only the wall clock, which on a shared machine
        # also counts the time a run waited for a core.
        "ref_wall_minutes": sum(r["wall_time"] for r in reference.runs) / 60,
        "ref_cpu_recorded": sum("cpu_time" in r for r in reference.runs),
        "ref_cpu": reference.machines()[0]["cpu"],
        "sens_lo_bits": sens[0]["bits"], "sens_hi_bits": sens[-1]["bits"],
        "sens_reach_min": min(reaches), "sens_reach_max": max(reaches),
        "sens_cross_min": min(s["crossing"] for s in sens),
        "sens_cross_max": max(s["crossing"] for s in sens),
        "always_reliable": ", ".join(map(str, always)) or "none",
        "never_reliable": f"{never[0]}" if never else "none",
        "sensitivity": sens,
        # at the reach, the runs that pass one bit but not two
        "mid_bits_n": sum(1 <= run_bits(r) < 2 for r in reference.by_length()[best]),
    }


def failure_kinds(reference: SweepResult) -> dict:
    """How the runs that miss the threshold end, at the edge and beyond."""
    rows = {r["length"]: r for r in reference.summary()}
    lengths = sorted(rows)
    thr = reference.settings.threshold_mse
    kinds = {T: [run_outcome(r, thr) for r in runs] for T, runs in reference.by_length().items()}
    edge = min(lengths, key=lambda T: (abs(rows[T]["success_rate"] - 0.5), T))
    beyond = [k for T in lengths if rows[T]["successes"] == 0 for k in kinds[T]]
    out = {"edge": edge, "edge_wins": rows[edge]["successes"], "edge_runs": rows[edge]["runs"],
           "picks": [lengths[0], edge, lengths[-1]],
           "n_fell_long": kinds[lengths[-1]].count("fell back"),
           "n_never_long": kinds[lengths[-1]].count("failed"),
           "share_fell_beyond": 100 * beyond.count("fell back") / len(beyond),
           "n_beyond": len(beyond), "n_fell_beyond": beyond.count("fell back"),
           "n_never_beyond": beyond.count("failed")}
    for kind in ("partial", "fell back", "failed"):
        out[f"edge_{kind.replace(' ', '_')}"] = kinds[edge].count(kind)
    partial = [r["eval_mse"] for r, k in zip(reference.by_length()[edge], kinds[edge]) if k == "partial"]
    out["edge_partial_lo"] = min(partial, default=float("nan"))
    out["edge_partial_hi"] = max(partial, default=float("nan"))
    return out


def plateau(reference: SweepResult, long: SweepResult) -> dict:
    """The plateau near 1/12 at T = 12 and 15, at 5000 updates and with a longer budget."""
    rows = {r["length"]: r for r in reference.summary()}
    broke = {r["length"]: r["successes"] for r in reference.rejudged(threshold_bits=1.5).summary()}
    at5000 = {(r["length"], r["repeat"]): dict(r["checkpoints"])[5000] for r in long.runs}
    same = [at5000[(r["length"], r["repeat"])] == r["eval_mse"] for r in reference.runs
            if (r["length"], r["repeat"]) in at5000]
    table = budget_table(long.rejudged(threshold_bits=1.5))
    final, n = long.settings.steps, long.settings.repeats
    w12, w15 = table[12][final][0], table[15][final][0]
    lo12, hi12 = stats.wilson_interval(rows[12]["successes"], rows[12]["runs"])
    stalled = sorted(r["eval_mse"] for r in reference.by_length()[12]           # not broken through
                     if r["eval_mse"] is not None and r["eval_mse"] > information.mse_for_bits(1.5))
    near = sorted(r["eval_mse"] for r in reference.by_length()[12]
                  if r["eval_mse"] is not None and 1 / 12 < r["eval_mse"] < 1 / 11)
    at12 = [r["eval_mse"] is not None and r["eval_mse"] <= information.mse_for_bits(1.5)
            for r in reference.by_length()[12]]
    at15 = [r["eval_mse"] is not None and r["eval_mse"] <= information.mse_for_bits(1.5)
            for r in reference.by_length()[15]]
    now = stats.compare_unpaired(at12, at15)
    lo_final, hi_final = stats.difference_interval(w12, n, w15, n)
    out = {"med12": rows[12]["median_mse"], "med15": rows[15]["median_mse"],
           "d_12_15_lo": 100 * now["low"], "d_12_15_hi": 100 * now["high"],
           "d_final_lo": 100 * lo_final, "d_final_hi": 100 * hi_final,
           "p_12_15": stats.fisher_exact(broke[12], rows[12]["runs"], broke[15],
                                         rows[15]["runs"]),
           "same5000": sum(same), "n_long": len(same), "long_runs": n, "long_final": final,
           "p_final": stats.fisher_exact(w12, n, w15, n),
           "grew": all(table[T][final][0] >= table[T][5000][0] for T in (12, 15)),
           "t12_wins": rows[12]["successes"], "t12_runs": rows[12]["runs"],
           "t12_lo": 100 * lo12, "t12_hi": 100 * hi12, "t12_near": len(near),
           "t12_near_lo": near[0] if near else float("nan"),
           "t12_near_hi": near[-1] if near else float("nan"),
           "stall12_n": len(stalled), "stall12_lo": stalled[0], "stall12_hi": stalled[-1]}
    for T in (5, 10, 12, 15, 17):
        out[f"broke{T}"] = broke[T]
    for T in long.settings.lengths:
        for k, (w, _) in table[T].items():
            out[f"long{T}_{k}"] = w
    return out


def paired_arms(a: SweepResult, b: SweepResult) -> dict:
    """``stats.compare_paired`` for two sweeps run on the same seeds, over the runs both have."""
    ka = {(r["length"], r["repeat"], tuple(r["seed"])): r for r in a.runs}
    kb = {(r["length"], r["repeat"], tuple(r["seed"])): r for r in b.runs}
    keys = sorted(set(ka) & set(kb))
    if not keys:
        raise ValueError("the two sweeps share no seeds: compare them unpaired")
    bits = [[information.bits_remembered(np.inf if s[k]["eval_mse"] is None else s[k]["eval_mse"])
             for k in keys] for s in (ka, kb)]
    return stats.compare_paired([ka[k]["success"] for k in keys],
                                [kb[k]["success"] for k in keys], bits[0], bits[1])


def precision(reference: SweepResult, f32: SweepResult) -> dict:
    """float32 against float64 at T = 20, seed by seed."""
    length = f32.settings.lengths[0]
    f64 = SweepResult(reference.settings.replace(lengths=(length,)),
                      [dict(r) for r in reference.runs if r["length"] == length])
    cmp = paired_arms(f32, f64)
    row32, row64 = f32.summary()[0], f64.summary()[0]
    return {"f32_wins": cmp["wins_a"], "f64_wins": cmp["wins_b"], "prec_runs": cmp["n"],
            "prec_only32": cmp["only_a"], "prec_only64": cmp["only_b"], "prec_p": cmp["p"],
            "prec_lo": 100 * cmp["low"], "prec_hi": 100 * cmp["high"],
            "prec_p_bits": cmp["p_bits"], "prec_bits_lo": cmp["bits_low"],
            "prec_bits_hi": cmp["bits_high"],
            "f32_med": row32["median_mse"], "f64_med": row64["median_mse"],
            "same_fate": cmp["n"] - cmp["only_a"] - cmp["only_b"]}


def exploratory(pvalues: dict) -> dict:
    """Holm-adjusted p-values of a chapter's exploratory tests, under the same names + ``_holm``."""
    names = list(pvalues)
    adjusted = stats.holm([pvalues[k] for k in names])
    return {f"{k}_holm": float(p) for k, p in zip(names, adjusted)}


def clipping(reference: SweepResult, clipped: dict) -> dict:
    """Clipping against none, seed by seed, at the lengths the clipped sweeps ran.

    ``clipped`` maps a label ("5", "1") to its sweep. The primary comparison
    is all clipped runs against the same seeds unclipped, for each level.
    """
    out = {}
    lengths = None
    for label, res in clipped.items():
        lengths = res.settings.lengths
        base = SweepResult(reference.settings.replace(lengths=lengths),
                           [dict(r) for r in reference.runs if r["length"] in lengths])
        cmp = paired_arms(res, base)
        share = sum(r["clipped"] for r in res.runs) / (len(res.runs) * res.settings.steps)
        out.update({f"clip{label}_wins": cmp["wins_a"], f"clip{label}_rescued": cmp["only_a"],
                    f"clip{label}_lost": cmp["only_b"], f"clip{label}_p": cmp["p"],
                    f"clip{label}_lo": 100 * cmp["low"], f"clip{label}_hi": 100 * cmp["high"],
                    f"clip{label}_diff": 100 * cmp["diff"], f"clip{label}_p_bits": cmp["p_bits"],
                    f"clip{label}_share": 100 * share,
                    f"clip{label}_reach": res.largest_reliable_length()})
        out["clip_none_wins"], out["clip_runs"] = cmp["wins_b"], cmp["n"]
        out["clip_none_reach"] = base.largest_reliable_length()
    out["clip_lengths"] = ", ".join(map(str, lengths))
    if "5" in clipped and "1" in clipped:       # the two levels against each other, seed by seed
        cmp = paired_arms(clipped["5"], clipped["1"])
        out.update({"clip51_only5": cmp["only_a"], "clip51_only1": cmp["only_b"],
                    "clip51_lo": 100 * cmp["low"], "clip51_hi": 100 * cmp["high"]})
    return out


def fallen_state(reference: SweepResult, lengths=(20, 25, 30, 40)) -> dict:
    """How the reference runs that fell back end, length by length (the probe after training).

    ``fell_lengths``; ``fell_sat``, the median share of saturated hidden values
    (|a| > 0.99) in percent, and ``fell_first``, the median ratio of the gradient
    reaching the first state to that at the last, each as a list over
    ``lengths`` and as text (``_text``).
    """
    thr = reference.settings.threshold_mse
    sat, first = [], []
    for T in lengths:
        probes = [r["probe"]["final"] for r in reference.runs if r["length"] == T
                  and run_outcome(r, thr) == "fell back" and r["probe"] and r["probe"]["final"]]
        if not probes:
            raise ValueError(f"no run at T = {T} fell back")
        sat.append(100 * float(np.median([p["saturated"] for p in probes])))
        first.append(float(np.median([_first_to_last(p) for p in probes])))
    return {"fell_lengths": ", ".join(map(str, lengths)), "fell_sat": sat, "fell_first": first,
            "fell_sat_text": ", ".join(f"{s:.0f}" for s in sat),
            "fell_first_text": ", ".join(f"{f:.0e}" for f in first)}


def watched_origin(watched: dict, reference: SweepResult, seed: int) -> dict:
    """Where the watched runs come from, in a sentence of Markdown, and how they compare.

    ``watched`` maps (length, repeat) to ``run.monitored_run``'s result. With
    the reference's own base seed they are the reference's runs trained again,
    and the sentence counts how many end with the reference's held-out MSE (to
    a relative 1e-9) and how many on the same side of the success threshold;
    with another seed they are new runs.
    """
    thr = reference.settings.threshold_mse
    ref = {(r["length"], r["repeat"]): r for r in reference.runs}
    n = len(watched)
    if seed != reference.settings.seed:
        return {"watch_seed": seed, "watch_same": None, "watch_side": None,
                "watch_origin": (f"This build uses the base seed {seed}, so these are new runs of "
                                 f"the reference protocol; the reference's runs, and every "
                                 f"statistic below, have the base seed {reference.settings.seed}.")}
    same = sum(np.isclose(w["eval_mse"], ref[k]["eval_mse"], rtol=1e-9, atol=0) for k, w in watched.items())
    side = sum((w["eval_mse"] <= thr) == (ref[k]["eval_mse"] <= thr) for k, w in watched.items())
    text = (f"This build uses the base seed {seed}, the reference's, so these are the reference's "
            f"runs of the same lengths and repetitions, from the same starting weights and batches, "
            f"trained again. Arithmetic in float64 differs in its last bits from one CPU to another, "
            f"and training amplifies the difference: ")
    if same == n:
        text += f"on this machine all {n} end with the reference's held-out MSE."
    else:
        count = "none" if same == 0 else f"{same}"
        text += (f"on this machine {count} of the {n} end with the reference's held-out MSE and "
                 f"{side} on the same side of the success line, so the numbers told about them "
                 f"below are this machine's, not the shipped runs'.")
    return {"watch_seed": seed, "watch_same": int(same), "watch_side": int(side), "watch_origin": text}


def cliff(reference: SweepResult) -> dict:
    """How the reference runs ended, and when their largest gradient came."""
    thr = reference.settings.threshold_mse
    outcomes = [run_outcome(r, thr) for r in reference.runs]
    timing = cliff_timing(reference)
    return {"n_failed_all": sum(o != "success" for o in outcomes),
            "n_fell_all": outcomes.count("fell back"), "n_partial_all": outcomes.count("partial"),
            "n_never_all": outcomes.count("failed"), "cliff_in": timing["in_window"],
            "cliff_runs": timing["runs"], "cliff_expected": timing["expected"],
            "cliff_p": timing["p"],
            "cliff_before": sum(p < 0 for p in timing["position"]),
            "cliff_after": sum(p > 1 for p in timing["position"])}


def watched_fall(watched: dict, threshold_mse: float) -> dict:
    """The story of one watched run at the edge, chosen by a rule fixed in advance.

    ``watched`` maps a repetition to ``run.monitored_run``'s result. The run
    shown is the one, of those that fell back (``vanishing.find_fall``),
    whose fall came with the largest gradient; if none fell back, the one with
    the largest gradient relative to its median. Returns the numbers the
    chapter glues, ``pick``, ``spike`` (the update to mark) and ``story``, a
    sentence of Markdown built from the measured values.
    """
    from .vanishing import find_fall

    falls = {r: find_fall(w["monitor"], w["grad_norms"]) for r, w in watched.items()}
    fell = {r: f for r, f in falls.items() if f is not None}
    spikes = {r: max(w["grad_norms"]) / np.median(w["grad_norms"]) for r, w in watched.items()}
    pick = max(fell, key=lambda r: fell[r]["spike_norm"]) if fell else max(spikes, key=spikes.get)
    mon = watched[pick]["monitor"]
    g = np.asarray(watched[pick]["grad_norms"])
    out = {"n_edge": len(watched), "n_fell_edge": len(fell), "pick": pick,
           "median_norm": float(np.median(g)), "r_start": float(mon.r_norm[0]),
           "shown_bits": information.bits_remembered(watched[pick]["eval_mse"])}
    fall = fell.get(pick)
    if fall is None:
        spike = int(np.argmax(g))
        out["story"] = (f"None of the {len(watched)} watched runs fell back this time. The one "
                        f"shown had the largest spike, a gradient of {g[spike]:.0f} at update "
                        f"{spike}, {g[spike] / np.median(g):.0f} times its median of "
                        f"{np.median(g):.2f}, and it got over it.")
        out["spike"] = spike
        return out
    spike = fall["spike_step"]
    steps, loss = np.asarray(mon.steps), np.asarray(mon.losses)
    sat, heat = np.asarray(mon.saturated), mon.heatmap()
    ratio = heat[:, 0] / heat[:, -1]
    near = (steps >= spike - 100) & (steps < spike)
    after = (steps > spike) & (steps <= spike + 250)

    def moved(before, later, fmt):
        return f"{'rises' if later > before else 'falls'} from {before:{fmt}} to {later:{fmt}}"

    out["story"] = (
        f"At update {spike}, one gradient has a norm of {fall['spike_norm']:.0f}, "
        f"{fall['spike_norm'] / np.median(g):.0f} times the run's median of {np.median(g):.2f}, "
        f"and plain SGD takes the full step. Compare the hundred updates before it with the 250 "
        f"after it: the share of saturated units "
        f"{moved(100 * sat[near].mean(), 100 * sat[after].mean(), '.0f')} %; the batch loss "
        f"{moved(loss[near].mean(), loss[after].mean(), '.3f')}, near 1/3; and the gradient "
        f"reaching the first state, as a ratio to the gradient at the last one, "
        f"{moved(float(np.median(ratio[near])), float(np.median(ratio[after])), '.1e')} "
        f"(median; {{numref}}`fig-heatmap`). The largest singular value of $R$ was "
        f"{np.asarray(mon.r_norm)[near].mean():.2f} just before, against {mon.r_norm[0]:.2f} at "
        f"the start.")
    out["spike"] = spike
    out["fell_loss_rose"] = bool(loss[after].mean() > loss[near].mean())
    return out


def comparison_table(experiment: dict) -> str:
    """A Markdown table: successes and median bits per length, one column per sweep."""
    rows = {label: {r["length"]: r for r in res.summary()} for label, res in experiment.items()}
    lengths = sorted(next(iter(rows.values())))
    lines = ["| $T$ | " + " | ".join(experiment) + " |", "|---|" + "---|" * len(experiment)]
    for T in lengths:
        cells = [f"{rows[label][T]['successes']}/{rows[label][T]['runs']}, "
                 f"{rows[label][T]['median_bits']:.2f} bits" for label in experiment]
        lines.append(f"| {T} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _first_to_last(summary):
    h = summary["hidden_norms"]
    return h[0] / h[-1]


def gradient_reach(reference: SweepResult, short_run: dict, long_run: dict) -> dict:
    """How much of the gradient reaches the first state, before and after training.

    ``short_run`` and ``long_run`` are ``run.monitored_run`` results at a
    learnable and at a long length; the reference runs give the spread.
    """
    by_length = reference.by_length()
    longest = max(by_length)
    ratios = {stage: [_first_to_last(r["probe"][stage]) for r in by_length[longest]
                      if r["probe"][stage]] for stage in ("init", "final")}
    wins = [_first_to_last(r["probe"]["final"]) / _first_to_last(r["probe"]["init"])
            for r in reference.runs if r["success"]]
    out = {"longest": longest, "longest_minus_1": longest - 1,
           "ratio_init_long": float(np.median(ratios["init"])),
           "fade_init_long": float(1 / np.median(ratios["init"])),
           "ratio_final_long": float(np.median(ratios["final"])),
           "ratio_init_lo": float(np.min(ratios["init"])),
           "ratio_init_hi": float(np.max(ratios["init"])),
           "win_gain": float(np.median(wins)), "n_wins": len(wins),
           "slope40_init": long_run["init"]["mean_slope"]}
    for name, w in (("10", short_run), ("40", long_run)):
        out[f"mse_{name}"] = w["eval_mse"]
        out[f"bits_{name}"] = information.bits_remembered(w["eval_mse"])
        for stage in ("init", "final"):
            out[f"{stage}{name}_first"] = float(_first_to_last(w[stage]))
    return out


def jacobian_far(reference: SweepResult) -> dict:
    """The Jacobian product over the longest distance and its bound, medians over runs."""
    by_length = reference.by_length()
    longest = max(by_length)

    def far(T, stage, key):      # the median over runs of the per-run median at t = 1
        return float(np.median([r["probe"][stage][key][0] for r in by_length[T]]))

    return {"sv_init_far": far(longest, "init", "sv_median"),
            "bound_init_far": far(longest, "init", "bound_median"),
            "sv_final_far": far(longest, "final", "sv_median"),
            "bound_final_far": far(longest, "final", "bound_median"),
            "sv10_final_far": far(10, "final", "sv_median")}


def own_sweep(own: SweepResult, reference: SweepResult) -> dict:
    """A reader's small sweep next to the reference: its reach by the 80 % rule, how little that
    rule says with few runs (the Wilson interval at its weakest reliably solved length), and a
    direct test against the reference at each length both have (Fisher's exact test,
    unadjusted; the two sweeps have different seeds, so the test is unpaired)."""
    rows = {r["length"]: r for r in own.summary()}
    ref = {r["length"]: r for r in reference.summary()}
    lengths = sorted(rows)
    best = own.largest_reliable_length()
    reliable = [T for T in lengths if best is not None and T <= best]
    weak = min(reliable, key=lambda T: (rows[T]["success_rate"], -T)) if reliable else lengths[0]
    common = [T for T in lengths if T in ref]
    tests = {T: stats.fisher_exact(rows[T]["successes"], rows[T]["runs"],
                                   ref[T]["successes"], ref[T]["runs"]) for T in common}
    most = min(common, key=lambda T: (tests[T], T)) if common else None
    out = {"own_runs": len(own.runs), "own_per_T": own.settings.repeats,
           "own_reach_words": f"lengths up to T = {best}" if best else "no length",
           "own_weak_T": weak, "own_weak_wins": rows[weak]["successes"], "own_weak_runs": rows[weak]["runs"],
           "own_weak_lo": 100 * rows[weak]["rate_low"], "own_weak_hi": 100 * rows[weak]["rate_high"],
           "own_common": len(common),
           "own_first_wins": rows[lengths[0]]["successes"],
           "own_last_wins": rows[lengths[-1]]["successes"]}
    if most is not None:
        out.update(own_p_min=tests[most], own_p_T=most, own_p_wins=rows[most]["successes"],
                   own_p_runs=rows[most]["runs"], own_p_ref_wins=ref[most]["successes"],
                   own_p_ref_runs=ref[most]["runs"])
    return out


def other_recipes() -> dict:
    """How far the same RNN reaches when trained otherwise: the longest length at which any run
    succeeds with the gradient clipped at 5 and at 1 (the shipped clipping sweeps, plain SGD), and
    under Adam with clipping and a longer budget (the gating experiment's clipped RNN, H = 10)."""
    from . import contest
    from .results import load_results, reference_results

    out = {}
    for level in ("5", "1"):
        rows = [r for r in reference_results(f"reference-clip{level}").summary() if r["successes"]]
        out[f"clip{level}_far_T"], out[f"clip{level}_far_wins"] = rows[-1]["length"], rows[-1]["successes"]
        out[f"clip{level}_far_runs"] = rows[-1]["runs"]
    gated = load_results(contest.shipped_folder() / f"{contest.sweep_name(('rnnclip', 'adam'))}.json")
    row = max((r for r in gated.summary() if r["successes"]), key=lambda r: r["length"])
    out.update(adam_far_T=row["length"], adam_far_wins=row["successes"], adam_far_runs=row["runs"],
               adam_steps=gated.settings.steps,
               adam_steps_text=f"{gated.settings.steps:,}".replace(",", " "), adam_batch=gated.settings.batch,
               adam_clip=gated.settings.clip, adam_hidden=gated.settings.hidden)
    return out
