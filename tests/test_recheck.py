"""Rechecking a profile's stored cells from shipped weights (tiny stand-in models through the grid)."""

from __future__ import annotations

import pandas as pd
import pytest

from aslo.experiments import run_grid
from aslo.experiments.recheck import RecheckTolerance, compare_records, recheck_grid_cells
from helpers.fakes import write_profile
from test_fidelity_map import TinyBackend

PROFILE = """
name = "tinygrid"
datasets = ["GunPoint", "Coffee"]
models = ["inception", "lstmfcn"]
samples = 8
sample_seed = 1
device = "cpu"
[attack]
steps = 5
lr = 0.05
"""


def test_compare_records_counts_success_flips_and_relative_l2():
    stored = pd.DataFrame({"test_index": [3, 5, 9], "success": [True, True, False], "l2": [1.0, 2.0, 0.5]})
    fresh = pd.DataFrame({"test_index": [3, 5, 9], "success": [True, False, False], "l2": [1.01, 2.0, 0.5]})
    out = compare_records(stored, fresh, RecheckTolerance(success_flips=1, l2_rtol=0.05))
    assert out["success_changed"] == 1 and out["l2_max_rel_diff"] == pytest.approx(0.01) and out["agree"]
    assert not out["identical"]
    assert not compare_records(stored, fresh, RecheckTolerance(success_flips=0))["agree"]
    assert compare_records(stored, stored)["identical"]


def test_grid_cells_recomputed_from_shipped_weights(tmp_path):
    path = write_profile(tmp_path, PROFILE)
    shipped = tmp_path / "shipped_models"
    shipped.mkdir()
    run_grid(path, results_dir=tmp_path / "res", runs_dir=tmp_path / "runs", progress=False, backend=TinyBackend())
    with pytest.raises(ValueError, match="only 0 stored cells"):  # no weights shipped yet
        recheck_grid_cells(path, tmp_path / "res", shipped, n=3, backend=TinyBackend())
    (shipped / "shipped").write_text("")
    for dataset in ("GunPoint", "Coffee"):
        for model in ("inception", "lstmfcn"):
            (shipped / dataset / model).mkdir(parents=True)
    check = recheck_grid_cells(path, tmp_path / "res", shipped, n=3, seed=4, backend=TinyBackend())
    assert len(check) == 3 and check["identical"].all() and check["agree"].all() and check["current_identity"].all()
    again = recheck_grid_cells(path, tmp_path / "res", shipped, n=3, seed=4, backend=TinyBackend())
    pd.testing.assert_frame_equal(check, again)  # the seeded choice is the same
    # an attack that computes other numbers from the same weights is caught (the check can fail)
    other = recheck_grid_cells(path, tmp_path / "res", shipped, n=3, seed=4, backend=TinyBackend(lr_scale=30.0),
                               tolerance=RecheckTolerance(success_flips=0, l2_rtol=1e-3))
    assert not other["identical"].any() and not other["agree"].all()
    # cells computed from other weights than the shipped ones are never compared
    with pytest.raises(ValueError, match="only 0 stored cells"):
        recheck_grid_cells(path, tmp_path / "res", shipped, n=3, backend=TinyBackend(shift=3.0))
    only = recheck_grid_cells(path, tmp_path / "res", shipped, n=2, datasets=["Coffee"], backend=TinyBackend())
    assert set(only["dataset"]) == {"Coffee"}
    # only (dataset, model) pairs with a shipped folder are drawn
    for model in ("inception", "lstmfcn"):
        (shipped / "GunPoint" / model).rmdir()
    (shipped / "Coffee" / "inception").rmdir()
    pool = recheck_grid_cells(path, tmp_path / "res", shipped, n=7, backend=TinyBackend())
    assert set(zip(pool["dataset"], pool["model"])) == {("Coffee", "lstmfcn")}
