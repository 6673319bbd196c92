"""A fixed seed gives identical numbers on rerun: real smoke grids computed twice by ``aslo run``."""

from __future__ import annotations

import pandas as pd
from safetensors.torch import load_file

from helpers.grids import (
    FIXED_MODELS,
    Grid,
    fixed_grid,
    new_fixed_grid,
    per_sample_records,
    run_grid_cli,
    smoke_grid,
    table,
)


def _assert_same_results(a: Grid, b: Grid) -> int:
    pd.testing.assert_frame_equal(table(a), table(b))
    ra, rb = per_sample_records(a), per_sample_records(b)
    assert sorted(ra) == sorted(rb) and ra
    for cell in ra:
        pd.testing.assert_frame_equal(ra[cell], rb[cell], obj=cell)
    return len(ra)


def test_grid_from_scratch_twice_is_identical(tmp_path, capsys):
    """Training (epoch-capped) and attacks from scratch into separate folders: same bits."""
    first = fixed_grid()
    second = new_fixed_grid(tmp_path)
    run_grid_cli(second)
    n = _assert_same_results(first, second)
    for model in FIXED_MODELS:
        (wa,) = (first.runs / "ItalyPowerDemand" / model).glob("seed0-*/model.safetensors")
        (wb,) = (second.runs / "ItalyPowerDemand" / model).glob("seed0-*/model.safetensors")
        ta, tb = load_file(wa), load_file(wb)
        assert ta.keys() == tb.keys() and all((ta[k] == tb[k]).all() for k in ta), model
    with capsys.disabled():
        print(f"\n[determinism] {', '.join(FIXED_MODELS)} trained twice from scratch: identical weights; "
              f"{n} cells, identical tables and per-sample records")


def test_smoke_profile_twice_into_two_result_dirs_is_identical(tmp_path):
    """The shipped smoke profile (lstmfcn) run again into a new result folder.

    The second run reuses the first run's checkpoint and recomputes every attack cell (training
    twice from scratch is the test above's).
    """
    first = smoke_grid()
    second = Grid(first.profile, first.name, tmp_path / "results", first.runs)
    done = run_grid_cli(second)
    assert "0 already finished (skipped), 7 to run" in done.stderr
    assert _assert_same_results(first, second) == 7
