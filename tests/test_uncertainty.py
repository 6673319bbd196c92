"""The paired, dataset-stratified bootstrap and the verdict rules of aslo.report.uncertainty."""

import numpy as np
import pandas as pd
import pytest

from aslo.report.claims import (CONTRADICTED, INCONCLUSIVE, NOT_EVALUATED, SUPPORTED, ClaimRules, combine_verdicts,
                                verdict_from_interval)
from aslo.report.uncertainty import (budget_sentence, claim_intervals, claim_verdicts, paired_bootstrap,
                                     percentile_interval, table1_quantities)


def _mean_diff(w, a, b):
    return (w * (a - b)).sum(axis=1) / w.sum(axis=1)


def test_coverage_of_a_known_paired_difference():
    """95 % intervals cover the true difference of means in >= 90 % of 200 seeded repeats."""
    rng = np.random.default_rng(123)
    true_diff, covered = 0.3, 0
    for rep in range(200):
        strata = {}
        for name, n, shift in (("A", 40, 0.0), ("B", 30, 1.0)):
            base = rng.normal(shift, 1.0, n)  # a series' own level, shared by both attacks (paired)
            strata[name] = (base + true_diff + rng.normal(0, 0.5, n), base + rng.normal(0, 0.5, n))
        reps = paired_bootstrap(strata, _mean_diff, n_boot=400, seed=rep)
        lo, hi = percentile_interval(reps, 0.95)
        covered += lo <= true_diff <= hi
    assert covered / 200 >= 0.90


def test_pairing_narrows_the_interval():
    """Paired resampling removes the shared per-series level; unpaired would not."""
    rng = np.random.default_rng(0)
    base = rng.normal(0, 5.0, 50)
    strata = {"A": (base + 1.0 + rng.normal(0, 0.1, 50), base + rng.normal(0, 0.1, 50))}
    lo, hi = percentile_interval(paired_bootstrap(strata, _mean_diff, n_boot=500, seed=1))
    assert hi - lo < 0.2 and lo < 1.0 < hi


def test_paired_bootstrap_rejects_unpaired_lengths():
    with pytest.raises(ValueError, match="differ in length"):
        paired_bootstrap({"A": (np.zeros(3), np.zeros(4))}, _mean_diff)


@pytest.mark.parametrize("low, high, estimate, verdict", [
    (0.1, 0.5, 0.3, SUPPORTED), (-0.5, -0.1, -0.3, CONTRADICTED), (-0.1, 0.1, 0.0, INCONCLUSIVE),
    (np.nan, 0.2, 0.1, INCONCLUSIVE), (0.1, 0.2, np.nan, INCONCLUSIVE),
    # a percentile interval that excludes its own estimate decides nothing
    (0.1, 0.5, -0.01, INCONCLUSIVE), (-0.5, -0.1, 0.01, INCONCLUSIVE)])
def test_verdict_rule(low, high, estimate, verdict):
    assert verdict_from_interval(low, high, estimate) == verdict


def test_combine_verdicts():
    assert combine_verdicts([SUPPORTED, SUPPORTED]) == SUPPORTED
    assert combine_verdicts([SUPPORTED, CONTRADICTED, INCONCLUSIVE]) == CONTRADICTED
    assert combine_verdicts([SUPPORTED, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine_verdicts([SUPPORTED, NOT_EVALUATED]) == NOT_EVALUATED
    assert combine_verdicts([CONTRADICTED, NOT_EVALUATED]) == CONTRADICTED
    assert combine_verdicts([]) == NOT_EVALUATED


def _records(spec, n=30, datasets=("D1", "D2"), seed=0):
    """Per-series records: spec maps attack -> (success prob, l2 mean, close-to-0 mean)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in datasets:
        level = rng.uniform(0.5, 1.5, n)  # per-series difficulty, shared by all attacks
        for attack, (p, dist, c0) in spec.items():
            success = (rng.uniform(size=n) < p).astype(int)
            for i in range(n):
                rows.append(dict(dataset=d, model="lstmfcn", attack=attack, test_index=i, success=success[i],
                                 l2=dist * level[i] * rng.uniform(0.95, 1.05), close_to_zero=rng.poisson(c0)))
    return pd.DataFrame(rows)


def _verdict(intervals, claim_prefix):
    v = claim_verdicts(intervals)
    return v[v["claim"].str.startswith(claim_prefix)]["verdict"].item()


def test_each_verdict_reachable_for_c2_and_c3():
    # ASL0 clearly lower distance and far more zeros: C2, C3 supported.
    strong = _records({"AS_CW": (0.7, 0.5, 40), "CW_L1": (0.7, 0.8, 0), "CW_L2": (0.7, 0.8, 0), "CW": (0.7, 0.8, 0)})
    iv = claim_intervals(strong, n_boot=300)
    assert _verdict(iv, "C2") == SUPPORTED and _verdict(iv, "C3") == SUPPORTED
    # Identical attacks (the inert regime): C2 and C3 contradicted, C1 supported.
    same = _records({a: (0.7, 0.8, 0) for a in ("AS_CW", "CW_L1", "CW_L2", "CW")})
    same = same[same["attack"] == "CW"]
    same = pd.concat([same.assign(attack=a) for a in ("AS_CW", "CW_L1", "CW_L2", "CW")])
    iv = claim_intervals(same, n_boot=300)
    assert _verdict(iv, "C1") == SUPPORTED
    assert _verdict(iv, "C2") == CONTRADICTED and _verdict(iv, "C3") == CONTRADICTED
    # A reduction near the 5 % boundary with noisy distances, few series: inconclusive.
    rng = np.random.default_rng(5)
    base = _records({"CW": (1.0, 1.0, 0)}, n=12)
    near = base.assign(attack="AS_CW", l2=base["l2"] * (0.95 + rng.normal(0, 0.15, len(base))))
    rows = pd.concat([near, base] + [base.assign(attack=a) for a in ("CW_L1", "CW_L2")])
    assert _verdict(claim_intervals(rows, n_boot=300), "C2") == INCONCLUSIVE


def test_c1_contradicted_when_asr_drops():
    rec = _records({"AS_CW": (0.2, 0.5, 40), "CW_L1": (0.9, 0.8, 0), "CW_L2": (0.9, 0.8, 0), "CW": (0.9, 0.8, 0)})
    assert _verdict(claim_intervals(rec, n_boot=300), "C1") == CONTRADICTED


def test_bootstrap_is_seeded_and_reports_point_estimate():
    rec = _records({"AS_CW": (0.7, 0.5, 40), "CW_L1": (0.7, 0.8, 0), "CW_L2": (0.7, 0.8, 0), "CW": (0.7, 0.8, 0)})
    a, b = claim_intervals(rec, n_boot=200, seed=3), claim_intervals(rec, n_boot=200, seed=3)
    pd.testing.assert_frame_equal(a, b)
    row = a[(a["b"] == "CW") & a["claim"].str.startswith("C3")].iloc[0]
    per_ds = rec.groupby(["dataset", "attack"])["close_to_zero"].mean().unstack()
    expected = (per_ds["AS_CW"] - per_ds["CW"]).mean()
    assert row["estimate"] == pytest.approx(expected)
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"]


def test_claim_intervals_rejects_duplicates_and_missing_columns():
    rec = _records({"AS_CW": (0.7, 0.5, 4), "CW": (0.7, 0.8, 0)})
    with pytest.raises(ValueError, match="twice"):
        claim_intervals(pd.concat([rec, rec]))
    with pytest.raises(ValueError, match="lacks"):
        claim_intervals(rec.drop(columns=["l2"]))


def test_budget_sentence_names_every_setting():
    from aslo.experiments import load_profile

    text = budget_sentence(load_profile("smoke"))
    for piece in ("10 Adam steps", "lr 0.01", "lambda 1e-05", "8 series", "ItalyPowerDemand", "seed(s) 0"):
        assert piece in text, piece
    rules = ClaimRules()
    assert rules.min_reduction == 0.05  # the margin of C2 in the module docstring


def test_profile_verdicts_read_the_store(tmp_path):
    """Verdicts of a profile's stored cells (stand-in layers), beside the budget sentence."""
    from aslo.experiments import load_profile, run_grid
    from aslo.report.uncertainty import profile_verdicts
    from helpers.fakes import FakeBackend

    class ZerosBackend(FakeBackend):
        def run_attack(self, net, x, y, attack, overrides, **kw):
            summary, records = super().run_attack(net, x, y, attack, overrides, **kw)
            return summary, records.assign(close_to_zero=40.0 if attack == "AS_CW" else 0.0)

    prof = load_profile("smoke")
    backend = ZerosBackend()
    run_grid(prof, results_dir=tmp_path / "r", runs_dir=tmp_path / "runs", progress=False, backend=backend)
    intervals, verdicts, sentence = profile_verdicts(prof, tmp_path / "r", n_boot=200, backend=backend)
    assert set(intervals["b"]) >= {"CW_L1", "CW_L2", "CW", "GM_PGD"}
    c3 = verdicts[verdicts["claim"].str.startswith("C3")]
    assert len(c3) == 4 and (c3["verdict"] == SUPPORTED).all()
    assert "10 Adam steps" in sentence
    with pytest.raises(FileNotFoundError, match="no stored results"):
        profile_verdicts(prof, tmp_path / "empty", backend=backend)


def test_no_pair_gives_empty_tables_with_columns():
    rec = _records({"CW": (0.7, 0.8, 0)})
    intervals = claim_intervals(rec, n_boot=50)
    assert intervals.empty and "verdict" in intervals.columns
    assert claim_verdicts(intervals).empty


# --- Parts of a combined margin, series needed -------------------------------------------------

def _pair(a_name, b_name, *, n=30, a_factor=0.7, a_fails=(), b_fails=(), a_c0=0.0, b_c0=0.0, model="lstmfcn",
          dataset="D1", seed=0):
    """Paired records of two attacks on n series: A's distance is a_factor x B's, with small noise."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(0.5, 1.5, n)
    rows = []
    for attack, factor, fails, c0 in ((a_name, a_factor, a_fails, a_c0), (b_name, 1.0, b_fails, b_c0)):
        noise = rng.uniform(0.97, 1.03, n)
        c0s = np.broadcast_to(np.asarray(c0, float), (n,))
        rows += [dict(dataset=dataset, model=model, attack=attack, test_index=i, success=int(i not in fails),
                      l2=factor * level[i] * noise[i], close_to_zero=c0s[i]) for i in range(n)]
    return pd.DataFrame(rows)


def test_c4_parts_say_the_asr_part_is_the_undecided_one():
    """Distance clearly 30 % lower, one series of 30 fooled by GM_PGD only: C4 inconclusive, the parts say why."""
    from aslo.report.uncertainty import claim_parts

    rec = _pair("AS_GM_PGD", "GM_PGD", a_factor=0.7, a_fails=(4,))
    intervals = claim_intervals(rec, n_boot=1000)
    assert len(intervals) == 1  # the only comparison both attacks allow
    row = intervals.iloc[0]
    assert (row["a"], row["b"], row["verdict"]) == ("AS_GM_PGD", "GM_PGD", INCONCLUSIVE)
    parts = claim_parts(rec, n_boot=1000).set_index("part")
    assert list(parts.index) == ["distance", "ASR kept"]
    assert parts.loc["distance", "verdict"] == SUPPORTED and parts.loc["distance", "ci_high"] < -0.2
    assert parts.loc["ASR kept", "verdict"] == INCONCLUSIVE
    assert parts.loc["ASR kept", "estimate"] == pytest.approx(-1 / 30)
    assert parts.loc["ASR kept", "ci_low"] < -0.05 <= parts.loc["ASR kept", "ci_high"]
    # The combined margin is the minimum of the parts', at the estimate; the verdict stays the combined one.
    assert row["margin"] == pytest.approx(parts["margin"].min())
    dist = parts.loc["distance"]
    assert row["parts"] == (f"distance {100 * dist['estimate']:+.1f} % [{100 * dist['ci_low']:+.1f} %, "
                            f"{100 * dist['ci_high']:+.1f} %] supported; ASR kept -0.03 [-0.10, +0.00] inconclusive")
    verdicts = claim_verdicts(intervals).set_index("claim")
    c4 = verdicts.loc["C4: AS lowers the success distance of its base attack"]
    # AS_CW vs CW is not stored: the claim is not evaluated, its stored comparison keeps its interval
    assert c4["verdict"] == NOT_EVALUATED and "ASR kept" in c4["intervals"] and "AS_CW vs CW: not evaluated" in c4["intervals"]
    assert np.isnan(c4["series_needed"])
    assert (verdicts["verdict"] == NOT_EVALUATED).all()


def test_c3_parts_can_disagree():
    """About half a zero per series more, from none: the factor holds, the difference of >= 1 does not."""
    from aslo.report.uncertainty import claim_parts

    c0 = (np.arange(40) % 2).astype(float)  # 0, 1, 0, 1, ...: mean 0.5
    rec = _pair("AS_CW", "CW", n=40, a_factor=1.0, a_c0=c0, b_c0=0.0)
    parts = claim_parts(rec, n_boot=1000)
    c3 = parts[parts["claim"].str.startswith("C3")].set_index("part")
    assert c3.loc["factor", "verdict"] == SUPPORTED
    assert c3.loc["difference", "verdict"] == CONTRADICTED
    iv = claim_intervals(rec, n_boot=1000)
    assert iv[iv["claim"].str.startswith("C3")]["verdict"].item() == CONTRADICTED
    # Single-part comparisons carry no parts text; their parts table has one row.
    assert (iv[iv["claim"].str.startswith("C2")]["parts"] == "").all()
    assert (parts[parts["claim"].str.startswith("C2")]["part"] == "distance").all()


def test_claim_parts_uses_the_same_draws_as_claim_intervals():
    from aslo.report.uncertainty import claim_parts

    rec = _pair("AS_GM_PGD", "GM_PGD", a_factor=0.7, a_fails=(4,))
    a, b = claim_parts(rec, n_boot=300, seed=7), claim_parts(rec, n_boot=300, seed=7)
    pd.testing.assert_frame_equal(a, b)
    iv = claim_intervals(rec, n_boot=300, seed=7)
    dist = a[a["part"] == "distance"].iloc[0]
    assert (dist["ci_low"], dist["ci_high"]) == (iv["ci_low"].item(), iv["ci_high"].item())


def test_series_needed_formula():
    from aslo.report.uncertainty import series_needed

    # Half-width towards 0 of 0.03 at a margin of 0.02: 30 x 1.5^2 = 67.5 -> 68.
    assert series_needed(0.02, -0.01, 0.05, 30) == 68
    # Negative margin: the upper side is the one that must clear 0.
    assert series_needed(-0.02, -0.09, 0.01, 30) == 68
    # Larger effect at the same spread: fewer series; smaller effect: more.
    large, medium, small = (series_needed(m, m - 0.03, m + 0.03, 30) for m in (0.04, 0.02, 0.01))
    assert large < medium < small
    # An inconclusive interval always needs at least the series it has.
    assert series_needed(0.01, -0.0001, 0.05, 30) >= 30
    assert series_needed(0.0, -0.1, 0.1, 30) == np.inf
    assert np.isnan(series_needed(np.nan, -0.1, 0.1, 30))
    with pytest.raises(ValueError, match="reversed"):
        series_needed(0.01, 0.1, -0.1, 30)
    with pytest.raises(ValueError, match="series must be"):
        series_needed(0.01, -0.1, 0.1, 0)


def _c2_records(reduction, n=12, seed=5):
    """C2 records (all four Part-1 attacks): ASL0's distance (1 - reduction) x CW's with 15 % noise per series."""
    rng = np.random.default_rng(seed)
    base = _records({"CW": (1.0, 1.0, 0)}, n=n, datasets=("D1",), seed=seed)
    noise = rng.normal(0, 0.15, len(base))
    noise -= noise.mean()  # the noise does not move the mean ratio: the effect is the reduction itself
    asl0 = base.assign(attack="AS_CW", l2=base["l2"] * (1 - reduction) + base["l2"].mean() * noise)
    return pd.concat([asl0, base] + [base.assign(attack=a) for a in ("CW_L1", "CW_L2")])


def test_series_needed_from_records_shrinks_with_the_effect():
    """Same noise, larger reductions beyond the 5 % rule need fewer series; at exactly 5 % none decides."""
    from aslo.report.uncertainty import series_needed_text

    needed = {}
    for reduction in (0.07, 0.09):
        iv = claim_intervals(_c2_records(reduction), n_boot=1000)
        row = iv[iv["claim"].str.startswith("C2") & (iv["b"] == "CW")].iloc[0]
        assert row["verdict"] == INCONCLUSIVE and row["margin"] == pytest.approx(reduction - 0.05)
        needed[reduction] = row["series_needed"]
    assert 12 < needed[0.09] < needed[0.07] < np.inf
    # A reduction of exactly the rule's 5 %: margin 0 -> cannot be decided at this effect.
    iv = claim_intervals(_c2_records(0.05), n_boot=1000)
    c2 = iv[iv["claim"].str.startswith("C2")]
    assert (c2["verdict"] == INCONCLUSIVE).all() and (c2["series_needed"] == np.inf).all()
    assert claim_verdicts(iv).set_index("claim").loc[c2["claim"].iloc[0], "series_needed"] == np.inf
    text = series_needed_text(iv)
    assert "C2 for LSTMFCN cannot be decided at this effect" in text
    # The sentence for a finite size is generated from the numbers.
    iv = claim_intervals(_c2_records(0.07), n_boot=1000)
    n = claim_verdicts(iv).set_index("claim").filter(like="C2", axis=0)["series_needed"].item()
    assert n == iv[iv["claim"].str.startswith("C2")]["series_needed"].max()
    text = series_needed_text(iv)
    assert "C2 for LSTMFCN would need about" in text and "this run has 12" in text and "-7.0 %" in text


def test_series_needed_text_when_all_decided():
    from aslo.report.uncertainty import series_needed_text

    iv = claim_intervals(_pair("AS_CW", "CW", a_factor=0.7, a_c0=40.0), n_boot=300)
    assert set(iv["claim"].str[:2]) == {"C1", "C2", "C3", "C4"}
    assert (iv["verdict"] == SUPPORTED).all() and iv["series_needed"].isna().all()
    assert claim_verdicts(iv)["series_needed"].isna().all()
    assert series_needed_text(iv) == ("Every comparison evaluated is decided (supported or contradicted) at this "
                                      "run's 30 series per dataset (1 dataset(s)).")


def test_discordant_end_matches_the_bootstrap_and_the_rule_text():
    """One discordant series of 30 puts the ASR interval's end at 0.10, as the rule text says."""
    from aslo.report.uncertainty import discordant_end, verdict_rule_text

    assert discordant_end(30) == pytest.approx(0.1)
    rec = _pair("AS_CW", "CW", a_factor=0.7, a_fails=(4,))
    row = claim_intervals(rec)
    c1 = row[row["claim"].str.startswith("C1")].iloc[0]
    assert c1["ci_low"] == pytest.approx(-discordant_end(30))
    text = verdict_rule_text(series=30)
    assert "equivalence test" in text and "0.10 > 0.05" in text
    enough = next(n for n in range(1, 1000) if discordant_end(n) < 0.05)
    assert f"from {enough} series" in text and discordant_end(enough - 1) >= 0.05
    assert "equivalence test" in verdict_rule_text() and "0.10" not in verdict_rule_text()
    with pytest.raises(ValueError, match="series must be"):
        discordant_end(0)


def test_public_functions_have_docstrings():
    import inspect

    import aslo.report.uncertainty as module

    public = [obj for name, obj in vars(module).items() if not name.startswith("_")
              and (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__]
    assert len(public) >= 10
    assert all((obj.__doc__ or "").strip() for obj in public), [o.__name__ for o in public if not o.__doc__]


def test_bad_input_gives_clear_errors():
    from aslo.report.uncertainty import claim_parts, series_needed_text

    rec = _pair("AS_CW", "CW")
    with pytest.raises(TypeError, match="DataFrame"):
        claim_intervals(rec.to_dict())
    with pytest.raises(ValueError, match="n_boot"):
        claim_parts(rec, n_boot=0)
    with pytest.raises(ValueError, match="level"):
        claim_intervals(rec, n_boot=10, level=1.5)
    with pytest.raises(ValueError, match="lacks column"):
        claim_verdicts(rec)
    with pytest.raises(ValueError, match="lacks column"):
        series_needed_text(claim_intervals(rec, n_boot=10).drop(columns=["series_needed"]))
    with pytest.raises(TypeError, match="DataFrame"):
        series_needed_text(None)


def _tile(records, k):
    """The same series k times over (new test indices): the same effect and spread per series, k x the series."""
    n = records["test_index"].max() + 1
    return pd.concat([records.assign(test_index=records["test_index"] + j * n) for j in range(k)], ignore_index=True)


@pytest.mark.parametrize("case", ["C2", "C4"])
def test_series_needed_predicts_where_the_verdict_turns(case):
    """With the series repeated to 0.8 x the estimate the comparison stays inconclusive; at 1.25 x it is decided."""
    if case == "C2":
        rec, pick = _c2_records(0.09), (lambda iv: iv[iv["claim"].str.startswith("C2") & (iv["b"] == "CW")])
    else:
        rec, pick = _pair("AS_GM_PGD", "GM_PGD", a_factor=0.7, a_fails=(4,)), (lambda iv: iv)
    n = rec["test_index"].max() + 1
    row = pick(claim_intervals(rec, n_boot=1000)).iloc[0]
    assert row["verdict"] == INCONCLUSIVE and n < row["series_needed"] < np.inf
    below = pick(claim_intervals(_tile(rec, int(0.8 * row["series_needed"] / n)), n_boot=1000)).iloc[0]
    above = pick(claim_intervals(_tile(rec, int(np.ceil(1.25 * row["series_needed"] / n))), n_boot=1000)).iloc[0]
    assert below["verdict"] == INCONCLUSIVE
    assert above["verdict"] == SUPPORTED


# --- The bootstrap production calls, and point estimates against verdicts -----------------------

def test_table1_quantities_through_paired_bootstrap():
    """Row 0 of the production bootstrap is Table 1's aggregation: per dataset, then the mean over datasets."""
    rec = _records({"AS_CW": (0.6, 0.5, 4), "CW": (0.8, 0.9, 1)}, n=25)
    strata = {}
    for d, g in rec.groupby("dataset"):
        a, b = (g[g["attack"] == x].sort_values("test_index")[["success", "l2", "close_to_zero"]].to_numpy(float)
                for x in ("AS_CW", "CW"))
        strata[d] = (a, b)
    reps = paired_bootstrap(strata, table1_quantities, n_boot=50, seed=0)
    assert reps.shape == (6, 51)
    per = rec.assign(ok_l2=rec["l2"].where(rec["success"] > 0)).groupby(["attack", "dataset"]).agg(
        asr=("success", "mean"), msd=("ok_l2", "mean"), c0=("close_to_zero", "mean")).groupby("attack").mean()
    expected = [*per.loc["AS_CW", ["asr", "msd", "c0"]], *per.loc["CW", ["asr", "msd", "c0"]]]
    np.testing.assert_allclose(reps[:, 0], expected)
    # claim_intervals runs exactly this bootstrap: its C2 estimate is MSD(A)/MSD(B) - 1 of row 0
    iv = claim_intervals(rec, n_boot=50, seed=0)
    c2 = iv[iv["claim"].str.startswith("C2") & (iv["b"] == "CW")]
    assert c2["estimate"].item() == pytest.approx(reps[1, 0] / reps[4, 0] - 1)
    with pytest.raises(ValueError, match="differ in length"):
        paired_bootstrap({"D1": (strata["D1"][0], strata["D1"][1][:-1])}, table1_quantities)
    with pytest.raises(ValueError, match="at least one stratum"):
        paired_bootstrap({}, table1_quantities)


def test_a_dataset_without_success_leaves_the_distance_mean():
    """A replicate where a dataset draws no success has no MSD there: the mean over datasets skips it."""
    ones = np.column_stack([np.ones(4), np.full(4, 2.0), np.zeros(4)])
    none = np.column_stack([np.zeros(4), np.full(4, 9.0), np.zeros(4)])
    reps = paired_bootstrap({"D1": (ones, ones), "D2": (none, none)}, table1_quantities, n_boot=5)
    assert np.allclose(reps[1], 2.0) and np.allclose(reps[0], 0.5)


def _summaries_of(records):
    """Cell summaries computed from per-series records, as the attack layer writes them (one seed)."""
    rows = []
    for (d, m, a), g in records.groupby(["dataset", "model", "attack"]):
        ok = g["success"] > 0
        rows.append(dict(dataset=d, model=m, attack=a, seed=0, asr=g["success"].mean(),
                         mean_success_distance=g.loc[ok, "l2"].mean() if ok.any() else np.nan,
                         close_to_zero=g["close_to_zero"].mean()))
    return pd.DataFrame(rows)


def _skewed_c2_records(n=30, datasets=10):
    """C2 where the percentile interval excludes its estimate.

    ASL0 succeeds on every series of D0 (distance 0.5) and on one series of each other dataset
    (distance 0.999); the comparators succeed everywhere at distance 1. A replicate that draws no
    success of a dataset leaves it out of the mean distance, which then falls: all ten are drawn
    in only 0.64^10 = 1 % of replicates, so the margin's estimate (-0.4 %) lies below its
    interval (> 0). The point estimate does not favour C2; the margin's interval lies above 0.
    """
    rows = []
    for k in range(datasets + 1):
        for i in range(n):
            for attack in ("AS_CW", "CW_L1", "CW_L2", "CW"):
                if attack != "AS_CW":
                    success, l2 = 1, 1.0
                elif k == 0:
                    success, l2 = 1, 0.5
                else:
                    success, l2 = int(i == 0), 0.999 if i == 0 else 2.0
                rows.append(dict(dataset=f"D{k}", model="lstmfcn", attack=attack, test_index=i, success=success,
                                 l2=l2, close_to_zero=0.0))
    return pd.DataFrame(rows)


def test_point_estimate_cannot_contradict_the_interval_verdict():
    from aslo.report.claims import DOES_NOT_FAVOUR, FAVOURS, point_estimates, point_summary

    rec = _skewed_c2_records()
    iv = claim_intervals(rec, n_boot=2000)
    c2 = iv[iv["claim"].str.startswith("C2")]
    # The margin's interval lies above 0 while its estimate lies below: a verdict on the interval
    # alone would say "supported" where the estimate does not favour the claim.
    assert (c2["margin_low"] > 0).all() and (c2["margin"] < 0).all()
    verdicts = claim_verdicts(iv).set_index("claim")
    points = point_summary(point_estimates(_summaries_of(rec))).set_index("claim")
    c2_label = c2["claim"].iloc[0]
    assert verdicts.loc[c2_label, "verdict"] == INCONCLUSIVE
    assert points.loc[c2_label, "point_estimate"] == verdicts.loc[c2_label, "point_estimate"] == DOES_NOT_FAVOUR
    # Random records, summaries computed from them: never favoured-but-contradicted or supported-but-not-favoured.
    for seed in range(6):
        spec = {"AS_CW": (0.6, 0.8, 2), "CW_L1": (0.7, 0.85, 0.2), "CW_L2": (0.65, 0.9, 0.1), "CW": (0.6, 0.9, 0.1),
                "GM_PGD": (0.7, 1.0, 0), "GM_PGD_L2": (0.7, 0.95, 0), "AS_GM_PGD": (0.65, 0.8, 1)}
        rec = pd.concat([_records(spec, n=12, seed=seed), _skewed_c2_records(n=12, datasets=3).assign(model="macnn")])
        joined = claim_verdicts(claim_intervals(rec, n_boot=300, seed=seed)).merge(
            point_summary(point_estimates(_summaries_of(rec))), on=["claim", "model"], suffixes=("", "_summary"))
        assert len(joined) == 2 * 5
        assert (joined["point_estimate"] == joined["point_estimate_summary"]).all()
        assert not ((joined["verdict"] == SUPPORTED) & (joined["point_estimate_summary"] != FAVOURS)).any()
        assert not ((joined["verdict"] == CONTRADICTED) & (joined["point_estimate_summary"] == FAVOURS)).any()
