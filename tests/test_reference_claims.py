"""What chapters 5 and 6 say about the shipped experiments, checked against the shipped files.

The chapters glue numbers from ``memrnn.report``; the claims their prose makes about those
numbers are asserted here, once, rather than in hidden cells of every build.
"""

import pytest

from memrnn import report, results
from memrnn.settings import PROFILES


@pytest.fixture(scope="module")
def reference():
    return results.reference_results("reference")


@pytest.fixture(scope="module")
def answer(reference):
    return report.sweep_answer(reference)


def test_shipped_results_match_their_profiles():
    for name in results.REFERENCES:
        res = results.reference_results(name)
        assert res.settings.training() == PROFILES[name].training(), name
        assert len(res.runs) == len(res.settings.lengths) * res.settings.repeats, name


def test_the_design_brackets_the_answer(reference, answer):
    rows = {r["length"]: r for r in reference.summary()}
    lengths = sorted(rows)
    assert reference.settings.repeats >= 10
    assert rows[lengths[0]]["success_rate"] >= reference.settings.reliable
    assert rows[lengths[-1]]["successes"] == 0
    assert lengths[0] < answer["cross_lo"] <= answer["cross_est"] <= answer["cross_hi"] < lengths[-1]
    # The prose: the first length past the reach has an interval that still holds 80 %.
    assert answer["ref_fail_lo"] < 80 < answer["ref_fail_hi"]


def test_threshold_sensitivity_claims(answer):
    sens = answer["sensitivity"]
    assert sens[0]["bits"] == 0.5 and sens[-1]["bits"] == 2.0
    reaches = [s["reach"] or 0 for s in sens]
    crossings = [s["crossing"] for s in sens]
    # A stricter threshold can only shorten the reach.
    assert reaches == sorted(reaches, reverse=True)
    assert answer["sens_reach_max"] > answer["ref_best"] > answer["sens_reach_min"]
    assert max(crossings) > answer["cross_est"] > min(crossings)
    assert answer["always_reliable"] != "none" and answer["never_reliable"] != "none"


def test_failures_are_mostly_falls(reference):
    kinds = report.failure_kinds(reference)
    assert kinds["n_fell_beyond"] > kinds["n_never_beyond"]
    assert 0 < kinds["edge_wins"] < kinds["edge_runs"]


def test_plateau_and_budget_claims(reference):
    numbers = report.plateau(reference, results.reference_results("reference-long"))
    # Runs sit on both sides of the plateau at 12 and 15.
    assert 0 < numbers["broke12"] < 20 and 0 < numbers["broke15"] < 20
    # The inversion of medians is not a difference between the lengths ...
    assert numbers["med12"] > numbers["med15"] and numbers["p_12_15"] > 0.05
    assert numbers["d_12_15_lo"] < 0 < numbers["d_12_15_hi"]
    assert numbers["d_final_lo"] < 0 < numbers["d_final_hi"]
    # ... the longer budget only adds runs that broke through, and the lengths stay alike.
    assert numbers["grew"] and numbers["p_final"] > 0.05
    # The long runs' first 5000 updates are the reference's own runs.
    assert numbers["same5000"] == numbers["n_long"] == 40
    assert numbers["t12_near"] >= 1


def test_precision_is_compared_seed_by_seed(reference):
    numbers = report.precision(reference, results.reference_results("reference-float32-T20"))
    assert numbers["prec_runs"] >= 10
    assert numbers["prec_only32"] + numbers["prec_only64"] + numbers["same_fate"] == numbers["prec_runs"]
    # "No evidence" with an interval that holds 0 and is stated.
    assert numbers["prec_p"] > 0.05 and numbers["prec_lo"] < 0 < numbers["prec_hi"]


def test_clipping_helps_on_the_same_seeds(reference):
    numbers = report.clipping(reference, {"5": results.reference_results("reference-clip5"),
                                          "1": results.reference_results("reference-clip1")})
    for level in ("5", "1"):
        assert numbers[f"clip{level}_share"] > 0                    # clipping was active
        assert numbers[f"clip{level}_rescued"] > numbers[f"clip{level}_lost"]
        assert numbers[f"clip{level}_p"] < 0.05 and numbers[f"clip{level}_lo"] > 0


def test_the_largest_gradient_comes_before_the_fall(reference):
    numbers = report.cliff(reference)
    assert numbers["n_fell_all"] > numbers["n_failed_all"] / 2
    assert numbers["cliff_in"] > 5 * numbers["cliff_expected"] and numbers["cliff_p"] < 1e-6


def _as_watched(run):
    return {"length": run["length"], "eval_mse": run["eval_mse"], **run["probe"]}


def test_training_splits_what_reaches_the_first_state(reference):
    by = {(r["length"], r["repeat"]): r for r in reference.runs}
    numbers = report.gradient_reach(reference, _as_watched(by[10, 0]), _as_watched(by[40, 0]))
    # At the longest length training cuts what reaches the first state by orders of magnitude;
    # in the runs that succeed, at any length, it grows.
    assert numbers["ratio_final_long"] < 1e-2 * numbers["ratio_init_long"]
    assert numbers["win_gain"] > 1 and numbers["n_wins"] >= 10


def test_the_jacobian_product_collapses_while_its_bound_grows(reference):
    numbers = report.jacobian_far(reference)
    assert numbers["bound_init_far"] < 5 * numbers["sv_init_far"]
    assert numbers["sv_final_far"] < 1e-2 * numbers["sv_init_far"]
    assert numbers["bound_final_far"] > 1


def test_the_logistic_curve_misses_the_edge_at_one_length_and_fits_the_rest(reference):
    """Chapter 5: the crossing leans on a curve that expects 17.5 of 20 at T = 12 where 14 succeeded."""
    from memrnn import stats

    c = reference.crossing()
    fit = stats.logistic_fit_check([r["length"] for r in reference.runs],
                                   [r["success"] for r in reference.runs], c["a"], c["b"])
    worst = min(fit, key=lambda row: min(row["p_low"], row["p_high"]))
    assert worst["length"] == 12 and worst["observed"] < worst["expected"]
    assert worst["p_low"] < 0.05                             # the misfit is named in the text
    rest = [row for row in fit if row is not worst]
    assert max(abs(row["observed"] - row["expected"]) for row in rest) < 2.0
    assert min(min(row["p_low"], row["p_high"]) for row in rest) > 0.2
    # The model-free bracket: every run solves T = 10; 17 is the first length whose Wilson
    # interval lies below 80 %.
    rows = {row["length"]: row for row in fit}
    assert rows[10]["observed"] == rows[10]["runs"]
    below = [T for T, row in rows.items()
             if stats.wilson_interval(row["observed"], row["runs"])[1] < reference.settings.reliable]
    assert below[0] == 17 and c["low"] < below[0]


def test_clipping_counts_length_by_length_and_how_often_each_level_clips(reference):
    """Chapter 6: the counts that replace 'reliably ... and none without', and the clipped shares."""
    clip5, clip1 = (results.reference_results(f"reference-clip{c}") for c in (5, 1))
    arms = (("5", clip5), ("1", clip1), ("none", reference.restricted(clip5.settings.lengths)))
    counts = {name: {row["length"]: row["successes"] for row in res.summary()} for name, res in arms}
    assert [counts[k][15] for k in ("5", "1", "none")] == [18, 16, 15]
    assert [counts[k][20] for k in ("5", "1", "none")] == [9, 8, 4]
    # "Only the clipped runs count as reliable at T = 15, but that line falls between 16 and 15 runs."
    assert clip1.largest_reliable_length() == 15 and clip5.largest_reliable_length() == 15
    assert reference.restricted(clip5.settings.lengths).largest_reliable_length() is None
    numbers = report.clipping(reference, {"5": clip5, "1": clip1})
    assert numbers["clip5_share"] < 5                # the spikes only
    assert numbers["clip1_share"] > 50               # most updates


def test_the_chapters_glue_the_same_fit_and_clipping_numbers(reference):
    fit = results.crossing_fit_numbers(reference, reference.crossing())
    assert (fit["fit_T"], fit["fit_observed"], fit["fit_runs"], fit["wilson_below"]) == (12, 14, 20, 17)
    assert fit["fit_expected"] == pytest.approx(17.5, abs=0.1) and fit["fit_side"] == "or fewer"
    clip1 = results.reference_results("reference-clip1")
    arms = {"no clipping": reference, "clipped at 5": results.reference_results("reference-clip5"),
            "clipped at 1": clip1}
    counts = results.clipping_counts({k: v.restricted(clip1.settings.lengths) for k, v in arms.items()})
    assert counts["clip_counts_15"] == "18, 16, 15" and counts["clip_edge"] == "16 and 15"


def test_clipping_keeps_more_gradient_early_in_the_runs_that_fail():
    """Chapter 6: "in doing so it keeps more of the gradient at the early steps: fewer clipped
    runs fall into saturation" (the failed runs, clipped at 5 against the same seeds unclipped)."""
    import numpy as np

    clipped, plain = results.reference_results("reference-clip5"), results.reference_results()
    for T in (20, 25, 30):
        def failed(res, T=T):
            return [r for r in res.runs if r["length"] == T and not r["success"]
                    and r["probe"] is not None]
        c, p = failed(clipped), failed(plain)
        assert c and p, T
        ratio = [np.median([r["probe"]["final"]["hidden_norms"][0] / r["probe"]["final"]["hidden_norms"][-1]
                            for r in runs]) for runs in (c, p)]
        assert ratio[0] > 10 * ratio[1], (T, ratio)
        if T < 30:
            sat = [np.median([r["probe"]["final"]["saturated"] for r in runs]) for runs in (c, p)]
            assert sat[0] < sat[1], (T, sat)
