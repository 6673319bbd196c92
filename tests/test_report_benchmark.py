"""The L0 benchmark's report: goal per cell, win/tie/loss, the rank test and its diagram (synthetic tables)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from aslo.report import benchmark as bm


def _table(cells=6):
    rows = []
    for c in range(cells):
        for attack, l0, asr, passes in (("AS_CW_BUDGET_BOX", 2.0, 1.0, 200), ("SIGMA_ZERO", 3.0, 1.0, 200),
                                        ("FMN_L0", 2.0 + (c == 0) * 5, 0.9, 150), ("VFGA", 4.0, 1.0, 800)):
            if c == 1 and attack == "AS_CW_BUDGET_BOX":
                l0 = 5.0  # one cell where ours loses
            rows.append({"dataset": f"D{c}", "model": "lstmfcn", "attack": attack, "asr": asr, "median_l0": l0,
                         "median_l0_failures_inf": l0 if asr >= 0.5 else math.inf, "forwards_per_series": passes / 2,
                         "backwards_per_series": passes / 2, "asr@k=1": 0.1, "asr@k=2": 0.5 if l0 <= 2 else 0.2,
                         "asr@k=5": 0.9, "asr@k=10": 1.0, "duration": 1.0, "n": 10, "peak_memory_mb": 5.0})
    return pd.DataFrame(rows)


def test_goal_table_counts_each_part_per_cell():
    goal = bm.goal_table(_table()).set_index("dataset")
    assert len(goal) == 6 and bm.peers_of(_table()) == ["SIGMA_ZERO", "FMN_L0", "VFGA"]
    assert goal.loc["D0", "best_peer"] == "SIGMA_ZERO" and goal.loc["D0", "l0_smaller"]  # FMN is at 7 there
    assert goal.loc["D2", "best_peer"] == "FMN_L0" and goal.loc["D2", "l0_ok"] and not goal.loc["D2", "l0_smaller"]
    # ASR: the best peer FMN-L0 has 0.9, ours 1.0; passes against the cheapest peer reaching L0 2 (FMN, 150)
    assert goal.loc["D2", "asr_ok"] and goal.loc["D2", "pass_ratio"] == pytest.approx(200 / 150)
    assert not goal.loc["D2", "passes_ok"]
    assert not goal.loc["D1", "l0_ok"]  # ours 5 against 2
    # D0: ours (2) is sparser than every peer, so no peer bounds our passes; D1: ours (5) is reached
    # by every peer, the cheapest of them FMN-L0 (150 passes)
    assert pd.isna(goal.loc["D0", "cheapest_peer"]) and math.isnan(goal.loc["D0", "pass_ratio"])
    assert goal.loc["D0", "passes_ok"] and goal.loc["D0", "goal_met"]
    assert goal.loc["D1", "cheapest_peer"] == "FMN_L0" and goal.loc["D1", "pass_ratio"] == pytest.approx(200 / 150)
    text = bm.goal_sentence(bm.goal_table(_table()))
    assert "median L0 no larger on 5 (83%; the goal asks for 90%)" in text and "every part met on 1" in text
    assert "passes within 1.2x of the cheapest peer as sparse as ours on 1 (on 1 of them no peer is as sparse" in text
    assert text.endswith("None of these datasets was used to develop the attack.")
    # cells of the development datasets are counted apart
    renamed = _table().replace({"dataset": {"D1": bm.DEVELOPMENT_DATASETS[0]}})
    text = bm.goal_sentence(bm.goal_table(renamed))
    assert "On the 5 cells of datasets not used to develop it" in text
    held_out = text.split("not used to develop it")[1]
    assert "median L0 no larger on 5 (100%" in held_out  # D1, where ours lost, is a development cell now


def test_a_store_without_our_attack_or_a_peer_compares_nothing():
    # e.g. our cells made stale by an edit to the attack: the chapter says so instead of failing
    table = _table()
    assert bm.has_comparison(table)
    assert not bm.has_comparison(table[table["attack"] != bm.OURS])
    assert not bm.has_comparison(table[table["attack"] == bm.OURS])
    with pytest.raises(ValueError, match="needs a cell with rows of AS_CW_BUDGET_BOX"):
        bm.goal_table(table[table["attack"] != bm.OURS])


def test_incomplete_cells_are_left_out():
    table = _table()
    table = table[~((table["dataset"] == "D3") & (table["attack"] == "VFGA"))]
    assert "D3" not in set(bm.goal_table(table)["dataset"])


def test_win_tie_loss_and_rank_test():
    wtl = bm.win_tie_loss(_table()).set_index("peer")
    assert wtl.loc["SIGMA_ZERO"].tolist() == [5, 0, 1]  # wins where 2 < 3, loses where ours is 5
    assert wtl.loc["FMN_L0"].tolist() == [1, 4, 1]
    assert wtl[["win", "tie", "loss"]].sum(axis=1).eq(6).all()
    test = bm.rank_test(_table())
    assert test["cells"] == 6 and set(test["ranks"].index) == {"AS_CW_BUDGET_BOX", "SIGMA_ZERO", "FMN_L0", "VFGA"}
    assert test["ranks"].index[-1] == "VFGA" and 0 <= test["p_value"] <= 1
    assert test["cd"] == pytest.approx(bm.NEMENYI_Q05[4] * math.sqrt(4 * 5 / 36))
    fig = bm.cd_diagram(test)
    assert fig.get_size_inches()[0] == 7.0
    with pytest.raises(ValueError, match="2 or more cells"):
        bm.rank_test(_table(1))


def test_asr_at_k_and_costs():
    means = bm.asr_at_budgets(_table())
    assert means.loc["VFGA", "asr@k=2"] == pytest.approx(0.2) and means.loc["AS_CW_BUDGET_BOX", "asr@k=10"] == 1.0
    assert bm.asr_at_k_figure(_table()).axes[0].get_xlabel().startswith("L0 budget k")
    costs = bm.cost_table(_table())
    assert costs.loc["VFGA", "forwards_per_series"] == 400 and costs.loc["FMN_L0", "seconds_per_series"] == 0.1
