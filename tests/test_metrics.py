"""Tests of aslo.metrics: closed-form values and empty groups."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from aslo.metrics import METRIC_COLUMNS, per_sample_metrics, summarize


def _example():
    x = torch.zeros(3, 1, 4)
    delta = torch.tensor([[[3.0, -4.0, 0.0, 0.0]],
                          [[1e-7, 0.5, 0.0, -2e-6]],
                          [[0.0, 0.0, 0.0, 0.0]]])
    return x, x + delta, delta


def test_per_sample_metrics_closed_form():
    x, x_adv, delta = _example()
    rec = per_sample_metrics(x, x_adv, [0, 1, 2], [1, 1, 0], [1, 0, 2], delta=delta)
    assert tuple(rec.columns) == METRIC_COLUMNS
    assert rec["success"].tolist() == [True, False, True]
    assert rec["success_true_label"].tolist() == [False, True, True]
    np.testing.assert_allclose(rec["l2"], [5.0, math.sqrt(0.25 + 4e-12 + 1e-14), 0.0], rtol=1e-6)
    np.testing.assert_allclose(rec["l2_squared"], [25.0, 0.25 + 4e-12 + 1e-14, 0.0], rtol=1e-6)
    np.testing.assert_allclose(rec["linf"], [4.0, 0.5, 0.0])
    assert rec["l0"].tolist() == [2, 2, 0]
    assert rec["close_to_zero"].tolist() == [2, 2, 4]


def test_per_sample_metrics_without_delta_uses_difference():
    x = torch.ones(2, 1, 3)
    x_adv = x + torch.tensor([[[0.5, 0.0, 0.0]], [[0.0, 0.0, -0.25]]])
    rec = per_sample_metrics(x.numpy(), x_adv.numpy(), np.array([0, 0]), np.array([0, 1]), np.array([0, 0]))
    np.testing.assert_allclose(rec["l2"], [0.5, 0.25])
    assert rec["l0"].tolist() == [1, 1]


def test_summarize_closed_form_and_distance_choice():
    x, x_adv, delta = _example()
    rec = per_sample_metrics(x, x_adv, [0, 1, 2], [1, 1, 0], [1, 0, 2], delta=delta)
    s = summarize(rec, 2.5)
    assert s["asr"] == pytest.approx(2 / 3)
    assert (s["n"], s["n_success"], s["n_fail"], s["distance"]) == (3, 2, 1, "l2")
    assert s["mean_success_distance"] == pytest.approx(2.5)  # (5 + 0) / 2
    assert s["mean_failure_distance"] == pytest.approx(0.5, rel=1e-6)
    assert s["overall_mean_distance"] == pytest.approx(5.5 / 3, rel=1e-6)
    assert s["close_to_zero"] == pytest.approx(8 / 3) and s["mean_l0"] == pytest.approx(4 / 3)
    assert s["duration"] == 2.5
    sq = summarize(rec, 2.5, distance="l2_squared")
    assert sq["mean_success_distance"] == pytest.approx(12.5)


def test_empty_groups_give_nan_without_warnings():
    rec = pd.DataFrame({"success": [False, False], "l2": [1.0, 3.0], "l0": [1, 2], "close_to_zero": [0, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = summarize(rec, 1.0)
        assert math.isnan(s["mean_success_distance"]) and s["mean_failure_distance"] == 2.0
        rec["success"] = True
        s = summarize(rec, 1.0)
        assert math.isnan(s["mean_failure_distance"]) and s["asr"] == 1.0
        s = summarize(rec.iloc[:0], 0.0)
        assert math.isnan(s["asr"]) and math.isnan(s["overall_mean_distance"]) and s["n"] == 0


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(distance="l1"), "unknown distance"),
    (dict(duration=float("nan")), "duration"),
    (dict(duration=-1.0), "duration"),
])
def test_summarize_rejects_bad_input(kwargs, fragment):
    rec = pd.DataFrame({"success": [True], "l2": [1.0], "l2_squared": [1.0], "linf": [1.0],
                        "l0": [1], "close_to_zero": [0]})
    args = {"duration": 1.0, **kwargs}
    with pytest.raises(ValueError, match=fragment):
        summarize(rec, **args)
    with pytest.raises(ValueError, match="lack the column"):
        summarize(rec.drop(columns="l2"), 1.0)


def test_per_sample_metrics_rejects_bad_input():
    x = torch.zeros(2, 1, 3)
    with pytest.raises(ValueError, match="same shape"):
        per_sample_metrics(x, torch.zeros(2, 1, 4), [0, 0], [0, 0], [0, 0])
    with pytest.raises(ValueError, match="adv_pred has 1"):
        per_sample_metrics(x, x, [0, 0], [0], [0, 0])
    with pytest.raises(ValueError, match="NaN"):
        per_sample_metrics(x, torch.full((2, 1, 3), float("nan")), [0, 0], [0, 0], [0, 0])
