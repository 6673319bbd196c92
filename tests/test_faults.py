"""Faults on a REAL smoke grid (``aslo run`` in a subprocess): SIGKILL mid-grid and restart,
truncated/garbage checkpoints and a damaged cell record. Fake-cell variants live in
test_store.py and test_experiments_runner.py; these go through every real layer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pandas as pd
import pytest
from safetensors.torch import load_file

from helpers.grids import (
    FIXED_MODELS,
    aslo_command,
    aslo_env,
    copy_grid,
    fixed_grid,
    leftovers,
    markers,
    new_fixed_grid,
    per_sample_records,
    run_grid_cli,
    table,
)

N_CELLS = 7 * len(FIXED_MODELS)  # Part 1 (4 attacks) + Part 2 (3 attacks) per model


def _kill_after(grid, n_cells: int, timeout: float = 1800) -> tuple[int, float]:
    """Start ``aslo run`` and SIGKILL it once ``n_cells`` cells are finished; return (finished, seconds)."""
    models = list(FIXED_MODELS)
    proc = subprocess.Popen(aslo_command("run", "--profile", grid.profile, "--models", *models, "--no-progress"),
                            env=aslo_env(grid.results, grid.runs), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    try:
        while len(markers(grid)) < n_cells:
            if proc.poll() is not None:
                raise AssertionError(f"aslo run ended (exit {proc.returncode}) before the kill:\n{proc.stderr.read()[-2000:]}")
            if time.monotonic() - started > timeout:
                raise AssertionError("aslo run made no progress before the timeout")
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return len(markers(grid)), time.monotonic() - started


def test_sigkill_mid_grid_then_restart_loses_and_redoes_nothing(tmp_path, capsys):
    reference = fixed_grid()
    grid = new_fixed_grid(tmp_path)
    finished, seconds = _kill_after(grid, 3)
    assert 3 <= finished < N_CELLS, f"the kill must land mid-grid, {finished}/{N_CELLS} cells were done"
    before = markers(grid)

    done = run_grid_cli(grid)
    assert f"{N_CELLS} cells, {finished} already finished (skipped), {N_CELLS - finished} to run" in done.stderr

    after = markers(grid)
    assert len(after) == N_CELLS
    redone = [cell for cell, stamp in before.items() if after[cell] != stamp]
    assert redone == [], f"finished cells were recomputed: {redone}"
    assert leftovers(grid) == []  # no temp folder of the killed writer, nothing moved aside
    pd.testing.assert_frame_equal(table(grid), table(reference))
    expected = per_sample_records(reference)
    got = per_sample_records(grid)
    assert sorted(got) == sorted(expected)
    for cell, records in expected.items():
        pd.testing.assert_frame_equal(got[cell], records, obj=cell)
    with capsys.disabled():
        print(f"\n[faults] SIGKILL after {seconds:.1f} s: {finished} cells finished before the kill, "
              f"{N_CELLS - finished} computed after the restart, {len(redone)} redone, tables identical")


def _checkpoint(grid, model: str):
    (folder,) = (grid.runs / "ItalyPowerDemand" / model).glob("seed0-*")
    return folder


def test_corrupt_checkpoints_and_cell_record_are_reported_and_recomputed(tmp_path):
    reference = fixed_grid()
    grid = copy_grid(reference, tmp_path)
    lstm, inception = _checkpoint(grid, "lstmfcn"), _checkpoint(grid, "inception")
    weights = (lstm / "model.safetensors").read_bytes()
    (lstm / "model.safetensors").write_bytes(weights[: len(weights) // 2])  # truncated weights
    (inception / "record.json").write_text("{not json")  # garbage record
    # A checkpoint is only read when a cell needs the model: damage one cell of each model.
    store = grid.store
    cells = {c.label(): c for c in store.cells()}
    csv_cell = cells["ItalyPowerDemand/lstmfcn/CW_L2/seed0"]
    summary_cell = cells["ItalyPowerDemand/inception/GM_PGD/seed0"]
    records = store.path(csv_cell) / "records.csv"
    records.write_bytes(records.read_bytes()[:-40])  # truncated per-sample records
    (store.path(summary_cell) / "summary.json").write_text("garbage")
    before = markers(grid)

    done = run_grid_cli(grid)
    err = done.stderr
    assert f"{N_CELLS} cells, {N_CELLS - 2} already finished (skipped), 2 to run" in err
    assert f"corrupt checkpoint weights in {lstm}" in err and "it will be retrained" in err
    assert f"corrupt checkpoint record {inception / 'record.json'}" in err
    for cell in (csv_cell, summary_cell):
        assert f"{cell.label()}: stored record is corrupt; recomputing" in err
        assert f"{cell.label()}: corrupt record moved aside" in err

    after = markers(grid)
    changed = sorted(c for c in after if after[c] != before[c])
    assert changed == sorted([csv_cell.label(), summary_cell.label()])
    assert all(store.has(c) for c in cells.values())
    assert sorted(p.split(".")[0] for p in leftovers(grid)) == sorted([csv_cell.label(), summary_cell.label()])
    # The retrained checkpoints are whole again and equal the reference (epoch cap: deterministic).
    for model in FIXED_MODELS:
        fresh, ref = load_file(_checkpoint(grid, model) / "model.safetensors"), load_file(_checkpoint(reference, model) / "model.safetensors")
        assert fresh.keys() == ref.keys() and all((fresh[k] == ref[k]).all() for k in ref), model
        assert json.loads((_checkpoint(grid, model) / "record.json").read_text())["model"] == model
    pd.testing.assert_frame_equal(table(grid), table(reference))
    expected = per_sample_records(reference)
    for cell in (csv_cell, summary_cell):
        pd.testing.assert_frame_equal(per_sample_records(grid)[cell.label()], expected[cell.label()])


def test_killed_write_leaves_no_visible_record(tmp_path):
    """A cell folder without its marker (a writer killed mid-write) is never read as a result."""
    grid = copy_grid(fixed_grid(), tmp_path)
    store = grid.store
    cell = next(c for c in store.cells() if c.attack == "AS_CW" and c.model == "lstmfcn")
    (store.path(cell) / "COMPLETE").unlink()
    assert store.status(cell) == "corrupt"
    assert cell.label() not in per_sample_records(grid)
    assert len(table(grid)) == N_CELLS - 1  # load_results leaves the half-written cell out
    done = run_grid_cli(grid)
    assert "1 to run" in done.stderr and "stored record is corrupt; recomputing" in done.stderr
    pd.testing.assert_frame_equal(table(grid), table(fixed_grid()))
