"""Unit tests of the report helpers: method figures, accuracy table (write_report: test_report_stored)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aslo.report.method import plot_perturbed_series, plot_surrogate, plot_trace, surrogate
from aslo.report.models import accuracy_vs_published


def test_surrogate_values_and_limits():
    values = surrogate([0.0, 0.1, 1.0], 0.1)
    np.testing.assert_allclose(values, [0.0, 0.5, 1.0 / 1.01])
    with pytest.raises(ValueError, match="sigma"):
        surrogate([1.0], 0.0)
    fig = plot_surrogate((0.1, 1.0))
    assert len(fig.axes[0].lines) == 3  # two sigmas and the true L0


def test_plot_trace_averages_per_step_and_rejects_empty():
    trace = pd.DataFrame({"step": [0, 0, 1, 1], "sigma": [1.0, 3.0, 0.5, 1.5], "loss": [4.0, 2.0, 1.0, 1.0]})
    fig = plot_trace(trace)
    sigma_axis = fig.axes[0]
    np.testing.assert_allclose(sigma_axis.lines[0].get_ydata(), [2.0, 1.0])
    with pytest.raises(ValueError, match="empty trace"):
        plot_trace(pd.DataFrame())
    with pytest.raises(ValueError, match="no column"):
        plot_trace(pd.DataFrame({"step": [0], "other": [1.0]}))


def test_plot_perturbed_series_checks_lengths():
    fig = plot_perturbed_series(np.zeros((1, 5)), np.ones(5))
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), np.ones(5))
    with pytest.raises(ValueError, match="lengths differ"):
        plot_perturbed_series(np.zeros(5), np.zeros(4))


def test_accuracy_vs_published_uses_resnet_yardstick():
    ours = pd.DataFrame({"dataset": ["GunPoint", "GunPoint", "NoSuchSet"], "model": ["resnet18", "inception", "macnn"],
                         "test_accuracy": [0.9, 1.0, 0.5]})
    table = accuracy_vs_published(ours)
    assert list(table["model"]) == ["ResNet18", "INCEPTION", "MACNN"]
    assert table.loc[0, "published"] == pytest.approx(0.991) and table.loc[0, "difference"] == pytest.approx(-0.091)
    assert np.isnan(table.loc[2, "published"])
    with pytest.raises(ValueError, match="test_accuracy"):
        accuracy_vs_published(ours.drop(columns="test_accuracy"))


def test_beyond_tables_take_records_with_and_without_best_l0():
    """The paper's AS_CW records only l0; the L0 attacks also best_l0: concatenated, both read right."""
    import pandas as pd

    from aslo.report.beyond import comparison_curves, comparison_table
    from aslo.robustness import best_l0

    paper = pd.DataFrame({"success": [True, False], "l0": [20, 24], "l2": [1.0, 2.0]})
    sparse = pd.DataFrame({"success": [True, True], "l0": [3, 5], "best_l0": [2.0, 5.0], "l2": [3.0, 4.0]})
    records = pd.concat([frame.assign(best_l0=best_l0(frame), model="m", attack=name, seconds_per_series=1.0,
                                      passes_per_series=float("nan"))
                         for name, frame in (("AS_CW", paper), ("SIGMA_ZERO", sparse))], ignore_index=True)
    table = comparison_table(records, 24).set_index("attack")
    assert table.loc["AS_CW", "median_l0"] == 20 and table.loc["SIGMA_ZERO", "median_l0"] == 3.5
    assert table.loc["AS_CW", "asr"] == 0.5
    assert set(comparison_curves(records, 24)["m"]) == {"AS_CW", "SIGMA_ZERO"}
