"""The paired, dataset-stratified bootstrap and the verdict rules of aslo.report.uncertainty."""

import numpy as np
import pandas as pd
import pytest

from aslo.report.claims import ClaimRules
from aslo.report.uncertainty import (CONTRADICTED, INCONCLUSIVE, SUPPORTED, budget_sentence,
                                     claim_intervals, claim_verdicts, combine_verdicts,
                                     paired_bootstrap, percentile_interval, verdict_from_interval)


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


@pytest.mark.parametrize("low, high, verdict", [(0.1, 0.5, SUPPORTED), (-0.5, -0.1, CONTRADICTED),
                                                (-0.1, 0.1, INCONCLUSIVE), (np.nan, 0.2, INCONCLUSIVE)])
def test_verdict_rule(low, high, verdict):
    assert verdict_from_interval(low, high) == verdict


def test_combine_verdicts():
    assert combine_verdicts([SUPPORTED, SUPPORTED]) == SUPPORTED
    assert combine_verdicts([SUPPORTED, CONTRADICTED, INCONCLUSIVE]) == CONTRADICTED
    assert combine_verdicts([SUPPORTED, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine_verdicts([]) == INCONCLUSIVE


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
    with pytest.raises(FileNotFoundError, match="no stored cells"):
        profile_verdicts(prof, tmp_path / "empty", backend=backend)


def test_no_pair_gives_empty_tables_with_columns():
    rec = _records({"CW": (0.7, 0.8, 0)})
    intervals = claim_intervals(rec, n_boot=50)
    assert intervals.empty and "verdict" in intervals.columns
    assert claim_verdicts(intervals).empty
