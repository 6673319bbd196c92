"""Phase 2: cells as Dask tasks, and runners racing on one store never run a cell twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from aslo.experiments import TIMING_COLUMNS, load_profile, run_grid
from helpers.fakes import FakeBackend, write_profile

FAKES = Path(__file__).parent / "helpers" / "fakes.py"


def test_two_racing_runners_compute_each_cell_once(tmp_path):
    path = write_profile(tmp_path)
    log = tmp_path / "attacks.log"
    cmd = [sys.executable, str(FAKES), str(path), str(tmp_path / "res"), str(tmp_path / "runs"), str(log),
           "--rendezvous", str(tmp_path / "started"), "2"]  # both runners hold a cell before either goes on
    env = {**os.environ, "PYTHONPATH": str(FAKES.parent)}
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for proc in procs:
        assert proc.wait(timeout=1800) == 0, proc.stderr.read().decode()
    lines = log.read_text().splitlines()
    assert len(lines) == 28  # 28 cells, each computed by exactly one of the two runners
    assert len({line.split()[-1] for line in lines}) == 2  # both runners did work


def test_dask_workers_give_the_serial_table(tmp_path):
    pytest.importorskip("dask.distributed")
    import cloudpickle

    import helpers.fakes

    cloudpickle.register_pickle_by_value(helpers.fakes)  # workers need not import tests/
    profile = load_profile(write_profile(tmp_path))
    serial = run_grid(profile, models=["lstmfcn"], results_dir=tmp_path / "s", runs_dir=tmp_path / "r",
                      progress=False, backend=FakeBackend())
    log = tmp_path / "dask.log"
    dask = run_grid(profile, models=["lstmfcn"], results_dir=tmp_path / "d", runs_dir=tmp_path / "r",
                    progress=False, backend=FakeBackend(log=str(log)), workers=2)
    drop = list(TIMING_COLUMNS)
    pd.testing.assert_frame_equal(serial.drop(columns=drop), dask.drop(columns=drop))
    assert len(log.read_text().splitlines()) == 14
    again = run_grid(profile, models=["lstmfcn"], results_dir=tmp_path / "d", runs_dir=tmp_path / "r",
                     progress=False, backend=FakeBackend(log=str(log)), workers=2)
    assert len(log.read_text().splitlines()) == 14  # nothing re-run
    pd.testing.assert_frame_equal(dask, again)
