"""End to end on the real layers: the smoke profile, one model, Part 1 (ItalyPowerDemand via aeon)."""

from __future__ import annotations

import pandas as pd

from aslo.experiments import PART1_ATTACKS, TIMING_COLUMNS, load_results, run_grid


def test_smoke_profile_part1_lstmfcn_runs_and_resumes(tmp_path):
    kw = dict(part=1, models=["lstmfcn"], results_dir=tmp_path / "res", runs_dir=tmp_path / "runs", progress=False)
    df = run_grid("smoke", **kw)
    assert list(df["attack"]) == list(PART1_ATTACKS) and (df["n"] == 8).all()
    assert df["asr"].between(0, 1).all() and df["train_accuracy"].between(0, 1).all()
    assert (df["overall_mean_distance"] > 0).all()
    again = run_grid("smoke", **kw)  # every cell is found finished: no retraining, no attack
    pd.testing.assert_frame_equal(df, again)
    loaded = load_results("smoke", tmp_path / "res", part=1)
    drop = list(TIMING_COLUMNS)
    pd.testing.assert_frame_equal(loaded.drop(columns=drop), df.drop(columns=drop))
