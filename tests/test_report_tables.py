"""Reader tables, Table 1 beside the paper's, and Figure 1's values stated in the paper's text."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from aslo.report.figure1 import figure1_table, plot_figure1
from aslo.report.paper import paper_figure1_points, paper_table1
from aslo.report.table1 import table1_html
from aslo.report.tables import TABLE_CLASS, format_number, reader_table, verdict_class


def test_format_number_rounds_and_names_missing():
    assert format_number(0.12345) == "0.12" and format_number(3) == "3" and format_number(12345) == "12,345"
    assert format_number(float("nan")) == "–" and format_number(None) == "–"
    assert format_number(0.0004) == "4.0e-04" and format_number(0.0) == "0.00"
    assert format_number(True) == "yes"


def test_reader_table_has_no_index_words_for_columns_and_coloured_verdicts():
    frame = pd.DataFrame({"claim": ["C1", "C2"], "verdict": ["supported", "not evaluated"],
                          "estimate": [0.123456, np.nan]}, index=[7, 8])
    out = reader_table(frame, columns={"claim": "Claim", "verdict": "Verdict", "estimate": "Estimate"},
                       verdict_columns=("verdict",))
    assert out.startswith(f'<table class="{TABLE_CLASS}">')
    assert re.findall(r"<th>(.*?)</th>", out) == ["Claim", "Verdict", "Estimate"]
    assert ">7<" not in out and ">8<" not in out  # no index column
    assert f'class="text {verdict_class("supported")}"' in out and "verdict-not-evaluated" in out
    assert '<td class="num">0.12</td>' in out and '<td class="num">–</td>' in out
    with pytest.raises(KeyError, match="no column"):
        reader_table(frame, columns={"absent": "Absent"})


def test_table1_beside_the_paper_shows_both_values_and_the_difference():
    paper = paper_table1()
    ours = paper + 0.25
    out = table1_html(ours, paper=paper)
    value = paper.loc[("INCEPTION", "ASR"), "ASL0"]
    assert f"{value + 0.25:.2f}<span class=\"paper\">paper {value:.2f} (+0.25)</span>" in out
    assert out.count('rowspan="6"') == len(paper.index.get_level_values("model").unique())
    assert "paper" not in table1_html(ours)  # without the paper: ours alone


def _part2_summaries():
    rows = []
    for model in ("inception", "lstmfcn"):
        for i, attack in enumerate(("GM_PGD", "GM_PGD_L2", "AS_GM_PGD", "CW", "CW_L2", "AS_CW")):
            rows.append(dict(profile="p", dataset="GunPoint", model=model, attack=attack, seed=0, asr=0.5,
                             mean_success_distance=0.2 + i / 10))
    return pd.DataFrame(rows)


def test_figure1_marks_the_values_the_paper_states():
    stated = paper_figure1_points()
    assert set(stated["attack"]) == {"GM_PGD", "AS_GM_PGD"} and set(stated["value"]) == {1.24, 0.54}
    table = figure1_table(_part2_summaries())
    inception = table[table["model"] == "INCEPTION"].set_index("attack")["paper (text)"]
    assert inception["GM_PGD"] == 1.24 and inception["AS_GM_PGD"] == 0.54 and inception[["CW", "AS_CW"]].isna().all()
    assert table.loc[table["model"] == "LSTMFCN", "paper (text)"].isna().all()
    fig = plot_figure1(_part2_summaries())
    marked = [line for ax in fig.axes for line in ax.get_lines() if line.get_marker() == "D"]
    assert sorted(round(float(line.get_ydata()[0]), 2) for line in marked) == [0.54, 1.24]
    assert not [line for ax in plot_figure1(_part2_summaries(), paper_points=False).axes for line in ax.get_lines()
                if line.get_marker() == "D"]


def test_key_values_keeps_numbers_as_rows():
    from aslo.report.tables import key_values

    frame = key_values({"asr": 0.5, "n": 3, "distance": "l2", "ok": True})
    assert frame.to_dict("list") == {"quantity": ["asr", "n"], "value": [0.5, 3.0]}
