"""Stored adversarial examples: the file format, the result store, ``aslo attack --save-adv``.

The format tests use small tensors; the store and runner tests use the fake backend (with a
delta) and the shared real smoke grid, whose stored examples must reproduce its records.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from aslo.cli import main
from aslo.experiments import Cell, CorruptRecordError, ResultStore, load_cell_examples, run_grid
from aslo.experiments.examples import (
    EXAMPLES_FILE,
    ExamplesError,
    decode_examples,
    encode_examples,
    load_examples,
    save_examples,
)
from aslo.metrics import METRIC_COLUMNS, per_sample_metrics
from test_attack_cli import fake_layers  # noqa: F401  (fixture)
from helpers.fakes import FakeBackend, write_profile

CELL = Cell("p", "GunPoint", "inception", "AS_CW", 0)


def _delta(n=3, length=7, seed=0):
    gen = torch.Generator().manual_seed(seed)
    delta = torch.randn(n, 1, length, generator=gen) * (torch.rand(n, 1, length, generator=gen) > 0.7)
    return delta.to(torch.float32)


def test_encode_decode_round_trip_is_exact():
    delta = _delta()
    delta[0, 0, 0] = 1e-7  # below the close-to-0 threshold: kept exactly, not rounded away
    blob = encode_examples(np.array([4, 0, 9]), delta, {"dataset": "GunPoint"})
    back = decode_examples(blob)
    assert back.indices.tolist() == [4, 0, 9] and back.indices.dtype == np.int64
    assert back.delta.dtype == torch.float32 and torch.equal(back.delta, delta)
    assert back.metadata["dataset"] == "GunPoint" and back.metadata["format"].startswith("aslo-examples")


def test_save_and_load_rebuild_x_adv_from_the_dataset(tmp_path):
    from types import SimpleNamespace

    x_test = np.random.default_rng(1).standard_normal((10, 1, 7)).astype(np.float32)
    delta = _delta()
    path = save_examples(tmp_path / "sub" / "adv.safetensors", [4, 0, 9], delta, {"dataset": "X"})
    loaded = load_examples(path, dataset=SimpleNamespace(x_test=x_test))
    assert torch.equal(loaded.x_adv, torch.from_numpy(x_test[[4, 0, 9]]) + delta)
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.parametrize("bad, message", [
    (lambda b: b[: len(b) // 2], "truncated"),
    (lambda b: b[:5], "truncated"),
    (lambda b: b"{not safetensors at all", "truncated or damaged"),
    (lambda b: b + b"\0\0\0\0", "truncated or damaged"),
])
def test_damaged_files_are_refused_clearly(tmp_path, bad, message):
    blob = encode_examples([1, 2, 3], _delta())
    with pytest.raises(ExamplesError, match=message):
        decode_examples(bad(blob))
    path = tmp_path / "adv.safetensors"
    path.write_bytes(bad(blob))
    with pytest.raises(ExamplesError, match=str(path)):
        load_examples(path, dataset=object())


def test_foreign_safetensors_and_bad_inputs_are_refused(tmp_path):
    from safetensors.numpy import save

    with pytest.raises(ExamplesError, match="not an ASLO examples file"):
        decode_examples(save({"delta": np.zeros((1, 1, 2), np.float32)}))
    with pytest.raises(ValueError, match="float32"):
        encode_examples([0], np.zeros((1, 1, 2)))
    with pytest.raises(ValueError, match="shape"):
        encode_examples([0, 1], np.zeros((1, 1, 2), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        encode_examples([0], np.full((1, 1, 2), np.nan, np.float32))
    with pytest.raises(ExamplesError, match="cannot read"):
        load_examples(tmp_path / "absent.safetensors")


# ------------------------------------------------------------------ the result store
def _write(store, examples=True, rows=3):
    records = pd.DataFrame({"index": range(rows), "success": [True] * rows, "l2": [0.5] * rows})
    blob = encode_examples(range(3), _delta()) if examples else None
    return store.write(CELL, {"asr": 1.0}, records, {"config_hash": "h1"}, blob)


def test_store_keeps_examples_under_the_marker_and_meta(tmp_path):
    store = ResultStore(tmp_path / "p")
    folder = _write(store)
    marker = json.loads((folder / "COMPLETE").read_text())
    meta = json.loads((folder / "meta.json").read_text())
    assert EXAMPLES_FILE in marker["sha256"] and meta["examples"]["sha256"] == marker["sha256"][EXAMPLES_FILE]
    assert torch.equal(decode_examples(store.read_examples(CELL, "h1")).delta, _delta())
    with pytest.raises(ValueError, match="refusing to store bad examples"):
        _write(store, rows=4)  # 3 examples for 4 records


@pytest.mark.parametrize("damage", ["truncated", "missing", "swapped"])
def test_damaged_examples_make_the_record_corrupt(tmp_path, damage):
    store = ResultStore(tmp_path / "p")
    folder = _write(store)
    path = folder / EXAMPLES_FILE
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "missing":
        path.unlink()
    else:  # a whole, valid file, but not the one the marker names
        path.write_bytes(encode_examples(range(3), _delta(seed=5)))
    assert store.status(CELL, "h1") == "corrupt"
    with pytest.raises(CorruptRecordError, match=EXAMPLES_FILE):
        store.read(CELL)
    with pytest.raises(CorruptRecordError):
        store.read_examples(CELL)


def test_record_without_examples_reads_and_says_so(tmp_path):
    store = ResultStore(tmp_path / "p")
    _write(store, examples=False)
    assert store.has(CELL, "h1")
    with pytest.raises(KeyError, match="no stored examples"):
        store.read_examples(CELL)


class DeltaBackend(FakeBackend):
    """The fake backend, returning a deterministic sparse float32 delta like the real one."""

    def run_attack(self, net, x, y, attack, overrides, *, seed, device, distance, batch_size, progress):
        summary, records = super().run_attack(net, x, y, attack, overrides, seed=seed, device=device,
                                              distance=distance, batch_size=batch_size, progress=progress)
        x = np.asarray(x)
        delta = np.zeros_like(x, dtype=np.float32)
        delta[:, :, seed % x.shape[2]] = 0.25
        return summary, records, torch.from_numpy(delta)


def test_grid_stores_examples_and_recomputes_a_truncated_file(tmp_path, caplog):
    profile = write_profile(tmp_path)
    backend = DeltaBackend()
    run_grid(profile, results_dir=tmp_path / "res", runs_dir=tmp_path / "runs", progress=False, backend=backend)
    store = ResultStore(tmp_path / "res" / "tiny")
    cells = store.cells()
    assert cells and all((store.path(c) / EXAMPLES_FILE).is_file() for c in cells)
    cell = cells[0]
    stored = load_cell_examples(profile, cell.dataset, cell.model, cell.attack, cell.seed,
                                results_dir=tmp_path / "res", backend=backend)
    data = backend.load_dataset(cell.dataset, True)
    rec = store.read(cell)
    assert stored.indices.tolist() == rec.records["test_index"].tolist()
    assert torch.equal(stored.x_adv, torch.from_numpy(data.x_test[stored.indices]) + stored.delta)

    path = store.path(cell) / EXAMPLES_FILE
    path.write_bytes(path.read_bytes()[:-8])
    n_before = len(backend.attacked)
    with caplog.at_level("WARNING", logger="aslo.experiments"):
        run_grid(profile, results_dir=tmp_path / "res", runs_dir=tmp_path / "runs", progress=False, backend=backend)
    assert len(backend.attacked) == n_before + 1  # that cell alone was recomputed
    assert f"{cell.label()}: stored record is corrupt; recomputing" in caplog.text
    assert store.has(cell) and decode_examples(store.read_examples(cell)).indices.tolist() == stored.indices.tolist()


# ------------------------------------------------------------------ aslo attack --save-adv
def test_attack_cli_save_adv_round_trip(fake_layers, tmp_path, capsys, monkeypatch):  # noqa: F811
    import aslo.attacks
    import aslo.data

    results = []
    real = aslo.attacks.run_attack

    def spy(*args, **kwargs):
        results.append(real(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(aslo.attacks, "run_attack", spy)
    target = tmp_path / "out" / "adv.safetensors"
    code = main(["attack", "--dataset", "Fake", "--model", "inception", "--attack", "AS_CW", "--samples", "4",
                 "--steps", "5", "--lr", "0.05", "--save-adv", str(target), "--runs-dir", str(tmp_path),
                 "--device", "cpu", "--no-progress"])
    assert code == 0 and f"adversarial examples: {target}" in capsys.readouterr().out
    loaded = load_examples(target, dataset=aslo.data.load_ucr("Fake"))
    assert loaded.metadata["dataset"] == "Fake" and loaded.metadata["attack"] == "AS_CW"
    assert loaded.indices.tolist() == [0, 1, 2, 3]
    assert torch.equal(loaded.x_adv, results[0].x_adv) and torch.equal(loaded.delta, results[0].delta)
    assert main(["attack", "--dataset", "Fake", "--model", "inception", "--save-adv", str(tmp_path),
                 "--no-progress"]) == 2  # a directory: refused before any work


# ------------------------------------------------------------------ the real smoke grid
def test_stored_examples_reproduce_the_records_of_a_real_grid():
    from aslo.experiments import load_profile
    from aslo.experiments import TrainedModels
    from helpers.grids import smoke_grid

    grid = smoke_grid()
    store = grid.store
    prof = load_profile(grid.profile)
    trained = TrainedModels(prof, Path(grid.runs))
    cells = store.cells()
    assert len(cells) >= 7
    for cell in cells:
        rec = store.read(cell)
        ex = load_cell_examples(prof, cell.dataset, cell.model, cell.attack, cell.seed, results_dir=grid.results)
        r = rec.records
        assert ex.indices.tolist() == r["test_index"].tolist()
        x = torch.from_numpy(trained.dataset(cell.dataset).x_test[ex.indices])
        preds = [r[c].to_numpy(copy=True) for c in ("clean_pred", "adv_pred", "y_true")]
        again = per_sample_metrics(x, ex.x_adv, *preds, delta=ex.delta)
        for column in METRIC_COLUMNS:
            assert again[column].tolist() == r[column].tolist(), (cell.label(), column)
        net, _ = trained.model(cell.dataset, cell.model)
        with torch.no_grad():
            adv_pred = net(ex.x_adv).argmax(dim=1)
        assert adv_pred.tolist() == r["adv_pred"].tolist(), cell.label()
