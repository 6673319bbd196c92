"""The generated reading of the claims says what the verdicts say."""

import pandas as pd
import pytest

from aslo.report import evaluate_paper_claims, read_claims


def _claims(rows):
    return pd.DataFrame(rows, columns=["claim", "model", "verdict", "numbers", "rule"])


def test_reading_counts_reproduced_models_and_quotes_the_first_failure():
    text = read_claims(_claims([
        ("1: c", "A", "reproduced", "x=1", "r"),
        ("1: c", "B", "not reproduced", "x=2 vs 1", "r"),
        ("2: d", "A", "reproduced", "y=1", "r"),
    ]))
    assert "**1: c**: reproduced for 1 of 2 model(s); not for B (e.g. B: x=2 vs 1)." in text
    assert "**2: d**: reproduced for 1 of 1 model(s)." in text


def test_reading_marks_claims_that_could_not_be_evaluated():
    text = read_claims(_claims([("4: e", "A", "not evaluated", "nan", "r")]))
    assert "not evaluated" in text and "reproduced for" not in text


def test_reading_of_the_papers_own_table_names_macnn_for_claim_1():
    text = read_claims(evaluate_paper_claims())
    claim1 = [s for s in text.split("\n\n") if s.startswith("**1:")][0]
    assert "reproduced for 3 of 4" in claim1 and "MACNN" in claim1


def test_reading_rejects_a_frame_without_verdicts():
    with pytest.raises(ValueError, match="verdict"):
        read_claims(pd.DataFrame({"claim": ["x"], "model": ["A"]}))
