"""The generated readings of the claims say what the verdicts and the point estimates say."""

import pandas as pd
import pytest

from aslo.report import paper_point_estimates, point_summary, point_summary_text, verdicts_text
from aslo.report.reading import POINT_LEAD


def _summary(rows):
    return pd.DataFrame(rows, columns=["claim", "model", "point_estimate", "numbers", "rule"])


def test_point_reading_is_labelled_and_quotes_the_first_model_not_favoured():
    text = point_summary_text(_summary([
        ("C1: c", "A", "favours", "x=1", "r"),
        ("C1: c", "B", "does not favour", "x=2 vs 1", "r"),
        ("C2: d", "A", "favours", "y=1", "r"),
    ]))
    assert text.startswith(POINT_LEAD) and "not verdicts" in text
    assert "**C1: c**: the point estimate favours it for 1 of 2 model(s); it does not for B (e.g. B: x=2 vs 1)." in text
    assert "**C2: d**: the point estimate favours it for 1 of 1 model(s)." in text
    assert "supported" not in text.replace("(supported, contradicted, inconclusive)", "")


def test_point_reading_marks_claims_that_could_not_be_evaluated():
    text = point_summary_text(_summary([("C4: e", "A", "not evaluated", "nan", "r")]))
    assert "not evaluated" in text and "favours it for" not in text


def test_point_reading_of_the_papers_own_table_names_macnn_for_claim_1():
    text = point_summary_text(point_summary(paper_point_estimates()))
    claim1 = [s for s in text.split("\n\n") if s.startswith("**C1:")][0]
    assert "favours it for 3 of 4" in claim1 and "MACNN" in claim1


def test_verdicts_reading_names_the_models_per_verdict():
    verdicts = pd.DataFrame({"claim": ["C1: c"] * 4, "model": ["A", "B", "C", "D"],
                             "verdict": ["supported", "inconclusive", "supported", "not evaluated"]})
    assert verdicts_text(verdicts) == "**C1: c**: supported for A, C; inconclusive for B; not evaluated for D."
    assert "No claim" in verdicts_text(verdicts.iloc[:0])


def test_readings_reject_frames_without_their_columns():
    with pytest.raises(ValueError, match="point_estimate"):
        point_summary_text(pd.DataFrame({"claim": ["x"], "model": ["A"]}))
    with pytest.raises(ValueError, match="verdict"):
        verdicts_text(pd.DataFrame({"claim": ["x"], "model": ["A"]}))
    with pytest.raises(TypeError, match="DataFrame"):
        verdicts_text(None)
