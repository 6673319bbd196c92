"""The result store: atomic records, completion marker, corruption and staleness, locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from aslo.experiments import Cell, CorruptRecordError, ResultStore
from aslo.experiments.locks import HOST, FileLock

CELL = Cell("p", "GunPoint", "inception", "AS_CW", 0)


def _write(store, cell=CELL, h="h1", n=3):
    records = pd.DataFrame({"index": range(n), "success": [True, False, True][:n], "l2": [0.5, 1.25, 1 / 3][:n]})
    summary = {"asr": 2 / 3, "n": n, "mean_failure_distance": float("nan")}
    return store.write(cell, summary, records, {"config_hash": h, "wall_seconds": 0.1})


def test_write_read_roundtrip_and_no_temp_left(tmp_path):
    store = ResultStore(tmp_path / "p")
    assert store.status(CELL, "h1") == "missing" and not store.has(CELL)
    folder = _write(store)
    assert sorted(os.listdir(folder)) == ["COMPLETE", "meta.json", "records.csv", "summary.json"]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".tmp")]
    rec = store.read(CELL, "h1")
    assert rec.summary["asr"] == 2 / 3 and rec.config_hash == "h1"
    assert rec.records["l2"].tolist() == [0.5, 1.25, 1 / 3]  # full float precision
    assert store.has(CELL, "h1") and store.status(CELL, "h2") == "stale"
    assert store.cells() == [CELL]
    table = store.summaries()
    assert table.loc[0, "attack"] == "AS_CW" and table.loc[0, "config_hash"] == "h1"
    with pytest.raises(KeyError):
        store.read(CELL, "h2")


@pytest.mark.parametrize("damage", ["no_marker", "bad_json", "truncated_csv", "missing_file", "bad_marker", "row_count"])
def test_corrupt_record_detected_and_replaced_not_read(tmp_path, damage):
    store = ResultStore(tmp_path / "p")
    folder = _write(store)
    if damage == "no_marker":
        (folder / "COMPLETE").unlink()
    elif damage == "bad_json":
        (folder / "summary.json").write_text('{"asr": 0.6')
    elif damage == "truncated_csv":
        data = (folder / "records.csv").read_bytes()
        (folder / "records.csv").write_bytes(data[: len(data) // 2])
    elif damage == "missing_file":
        (folder / "meta.json").unlink()
    elif damage == "bad_marker":
        (folder / "COMPLETE").write_text("{")
    elif damage == "row_count":  # consistent checksums, but fewer rows than declared
        import hashlib

        data = b"index,success,l2\n0,True,0.5\n"
        (folder / "records.csv").write_bytes(data)
        marker = json.loads((folder / "COMPLETE").read_text())
        marker["sha256"]["records.csv"] = hashlib.sha256(data).hexdigest()
        (folder / "COMPLETE").write_text(json.dumps(marker))
    assert store.status(CELL, "h1") == "corrupt" and not store.has(CELL, "h1")
    with pytest.raises(CorruptRecordError):
        store.read(CELL)
    assert store.summaries().empty
    _write(store)  # redo: the damaged record is kept aside, not deleted
    assert store.has(CELL, "h1")
    aside = [p.name for p in folder.parent.iterdir() if p.name.startswith("seed0.corrupt-")]
    assert len(aside) == 1
    assert store.cells() == [CELL]


def test_stale_record_is_moved_aside(tmp_path, caplog):
    store = ResultStore(tmp_path / "p")
    folder = _write(store, h="old")
    _write(store, h="new")
    assert store.read(CELL).config_hash == "new"
    aside = [p for p in folder.parent.iterdir() if p.name.startswith("seed0.stale-")]
    assert len(aside) == 1 and json.loads((aside[0] / "meta.json").read_text())["config_hash"] == "old"
    assert "stale record moved aside" in caplog.text


def test_meta_without_hash_is_refused(tmp_path):
    with pytest.raises(ValueError, match="config_hash"):
        ResultStore(tmp_path).write(CELL, {}, pd.DataFrame(), {})


def test_temp_folder_of_dead_writer_is_cleaned(tmp_path):
    store = ResultStore(tmp_path / "p")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    parent = store.path(CELL).parent
    parent.mkdir(parents=True)
    tmp = parent / f".tmp-seed0-{HOST.replace('-', '_')}-{pid}-0123abcd"
    tmp.mkdir()
    (tmp / "summary.json").write_text("{")
    assert store.status(CELL) == "missing"
    _write(store)
    assert not tmp.exists() and store.has(CELL, "h1")


def test_lock_is_exclusive_and_stale_locks_are_broken(tmp_path):
    path = tmp_path / "cell.lock"
    first, second = FileLock(path), FileLock(path)
    assert first.try_acquire() and not second.try_acquire()
    first.release()
    assert not path.exists() and second.try_acquire()
    second.release()
    # A lock left by a dead process on this host is stale.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path.write_text(json.dumps({"pid": int(dead.stdout), "host": HOST, "time": 0, "token": "x"}))
    third = FileLock(path)
    assert third.try_acquire()
    assert json.loads(path.read_text())["pid"] == os.getpid()
    third.release()
    # A lock held by another host is trusted until it is older than stale_after.
    path.write_text(json.dumps({"pid": 1, "host": "elsewhere", "time": 0, "token": "y"}))
    assert not FileLock(path, stale_after=3600).try_acquire()
    old = path.stat().st_mtime - 7200
    os.utime(path, (old, old))
    assert FileLock(path, stale_after=3600).try_acquire()


def test_check_says_why_a_stored_cell_is_not_reusable(tmp_path):
    store = ResultStore(tmp_path / "p")
    assert store.check(CELL, "h1").state == "missing"
    old = {"attack": {"steps": 10, "lr": 0.01}, "samples": 8}
    store.write(CELL, {"asr": 1.0}, pd.DataFrame({"index": [0]}), {"config_hash": "h1", "config": old})
    assert store.check(CELL, "h1", old) == store.check(CELL, "h1")
    assert store.check(CELL, "h1").state == "done"
    new = {"attack": {"steps": 20, "lr": 0.01}, "samples": 8, "batch_size": 4}
    stale = store.check(CELL, "h2", new)
    assert stale.state == "stale"
    assert "attack.steps: 10 -> 20" in stale.reason and "batch_size: '<absent>' -> 4" in stale.reason
    assert "lr" not in stale.reason and "samples" not in stale.reason
    (store.path(CELL) / "records.csv").write_text("index\n0\n1\n")
    corrupt = store.check(CELL, "h1")
    assert corrupt.state == "corrupt" and "checksum mismatch in records.csv" in corrupt.reason
