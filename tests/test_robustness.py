"""Robustness curves, best L0 and median L0 from per-sample records."""

import math

import pandas as pd
import pytest

from aslo.robustness import budget_points, best_l0, curve_points, median_success_l0, robustness_curve


def _records(**extra):
    return pd.DataFrame({"success": [True, True, False, True], "l0": [2, 5, 10, 10], **extra})


def test_best_l0_prefers_the_best_l0_column_and_blanks_failures():
    assert best_l0(_records()).tolist()[:2] == [2.0, 5.0] and math.isnan(best_l0(_records())[2])
    recs = _records(best_l0=[1.0, 4.0, float("nan"), 3.0])
    assert median_success_l0(recs) == 3.0
    assert median_success_l0(_records()) == 5.0


def test_curve_counts_samples_broken_within_each_budget():
    curve = robustness_curve(_records(), 10)
    assert list(curve["budget"]) == list(range(11))
    assert curve.loc[1, "asr"] == 0 and curve.loc[2, "asr"] == 0.25 and curve.loc[5, "asr"] == 0.5
    assert curve.loc[10, "asr"] == 0.75  # the failure never counts
    assert curve["asr"].is_monotonic_increasing and curve.loc[5, "fraction"] == 0.5
    assert curve_points(_records(), 10, fractions=(0.2, 0.5)) == {"asr@20%": 0.25, "asr@50%": 0.5}
    assert budget_points(_records(), 10) == {"asr@k=1": 0.0, "asr@k=5": 0.5, "asr@k=10": 0.75}
    assert budget_points(_records(), 10, counts=(2, 50)) == {"asr@k=2": 0.25, "asr@k=50": 0.75}  # capped


@pytest.mark.parametrize("bad", [pd.DataFrame({"success": [True]}), "records",
                                 pd.DataFrame({"success": [True], "l0": [1], "best_l0": [float("nan")]})])
def test_bad_records_raise(bad):
    with pytest.raises(ValueError):
        best_l0(bad)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="n_features"):
        robustness_curve(_records(), 0)
    with pytest.raises(ValueError, match="exceeds"):
        robustness_curve(_records(), 4)
    with pytest.raises(ValueError, match="fractions"):
        curve_points(_records(), 10, fractions=(1.5,))
    with pytest.raises(ValueError, match="counts"):
        budget_points(_records(), 10, counts=(1.5,))
    with pytest.raises(ValueError, match="empty"):
        robustness_curve(pd.DataFrame({"success": [], "l0": []}), 4)
