"""The verdict matrix, the forest plot and the first page's answer, drawn from the verdict tables."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from aslo.report.claims import CLAIMS
from aslo.report.verdict_views import (VERDICT_COLOURS, answer_lines, forest_plot, verdict_matrix,
                                       verdict_matrix_html)

C1, C2 = CLAIMS[0].label, CLAIMS[1].label


def _verdicts():
    return pd.DataFrame([
        dict(claim=C2, model="LSTMFCN", verdict="inconclusive", intervals="AS_CW vs CW: 0.1 [-0.1, 0.2]", series=30, datasets=1),
        dict(claim=C1, model="ResNet18", verdict="supported", intervals="AS_CW vs CW: 0.05 [0.01, 0.05]", series=30, datasets=1),
        dict(claim=C1, model="LSTMFCN", verdict="supported", intervals="x", series=30, datasets=1),
        dict(claim=C2, model="ResNet18", verdict="contradicted", intervals="y", series=30, datasets=1),
    ])


def test_matrix_orders_claims_and_models_and_fills_missing_as_not_evaluated():
    verdicts = pd.concat([_verdicts(), pd.DataFrame([dict(claim=C1, model="INCEPTION", verdict="inconclusive",
                                                          intervals="", series=30, datasets=1)])])
    matrix = verdict_matrix(verdicts)
    assert list(matrix.index) == [C1, C2] and list(matrix.columns) == ["INCEPTION", "ResNet18", "LSTMFCN"]
    assert matrix.loc[C2, "INCEPTION"] == "not evaluated" and matrix.loc[C2, "ResNet18"] == "contradicted"


def test_matrix_html_colours_each_verdict_and_keeps_the_intervals_on_hover():
    out = verdict_matrix_html(_verdicts())
    assert out.count('class="text verdict-supported"') == 2 and "verdict-contradicted" in out
    assert 'title="AS_CW vs CW: 0.05 [0.01, 0.05]"' in out and "30 series, 1 dataset(s)" in out
    assert re.findall(r"<th>(.*?)</th>", out)[:3] == ["Claim", "ResNet18", "LSTMFCN"]


def test_answer_lines_say_each_claims_verdict_across_models():
    lines = answer_lines(_verdicts())
    assert lines[0] == f"{C1}: **supported** for every model (ResNet18, LSTMFCN)."
    assert lines[1] == f"{C2}: **contradicted** for ResNet18; **inconclusive** for LSTMFCN."


def test_forest_plot_draws_one_interval_per_comparison_coloured_by_verdict():
    intervals = pd.DataFrame([
        dict(claim=C1, model="ResNet18", a="AS_CW", b="CW", margin=0.03, margin_low=0.01, margin_high=0.05, verdict="supported"),
        dict(claim=C1, model="ResNet18", a="AS_CW", b="CW_L2", margin=-0.1, margin_low=-0.2, margin_high=-0.05,
             verdict="contradicted"),
        dict(claim=C2, model="MACNN", a="AS_CW", b="CW", margin=0.0, margin_low=-0.1, margin_high=0.1, verdict="inconclusive"),
    ])
    fig = forest_plot(intervals)
    panels = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in panels] == [C1, C2]
    segments = [line for line in panels[0].get_lines() if len(set(line.get_xdata())) == 2]
    assert {line.get_color() for line in segments} == {VERDICT_COLOURS["supported"], VERDICT_COLOURS["contradicted"]}
    assert fig.get_size_inches()[0] <= 7.0  # fits the text column
    with pytest.raises(KeyError, match="margin_low"):
        forest_plot(intervals.drop(columns="margin_low"))


def test_answer_page_holds_the_matrix_the_claims_how_sure_and_what_was_not_checked(tmp_path):
    from types import SimpleNamespace

    from aslo.report.answer import answer_markdown, survival_sentence, write_answer

    survival = pd.DataFrame({"claim": [C1, C2], "model": ["ResNet18", "MACNN"], "run a": ["supported", "supported"],
                             "run b": ["supported", "inconclusive"], "same in every run": ["yes", "no"]})
    assert survival_sentence(survival).startswith("**How sure.** The default profile was run 2 times")
    assert "1 of 2 (claim, model) verdicts are the same in every run, 1 of them decided (C1 ResNet18 supported)" \
        in survival_sentence(survival)
    profile = SimpleNamespace(name="default", samples=30)
    text = answer_markdown(_verdicts(), profile, "Budget: 200 steps.", survival=survival)
    assert text.startswith("## The answer") and 'class="aslo-table aslo-verdicts"' in text
    assert f"- {C1}: **supported** for every model" in text and "Budget: 200 steps." in text
    assert "Over the archive share:** not computed" in text and "30 seeded series per dataset" in text
    archive = answer_markdown(_verdicts(), profile, "B.", archive_verdicts=_verdicts(), archive_coverage="3 of 32 datasets.")
    assert "**Over the archive share.** 3 of 32 datasets." in archive and archive.count("aslo-verdicts") == 2
    assert "run only on the fidelity map's slice, not on" in text
    literal = answer_markdown(_verdicts(), profile, "B.", literal_coverage="4 datasets: Chinatown, SmoothSubspace")
    assert "the archive share's literal slice (4 datasets: Chinatown, SmoothSubspace)" in literal
    with pytest.raises(FileNotFoundError, match="no claim verdicts"):
        write_answer(tmp_path, tmp_path, profile)
