"""Tests of ``aslo attack`` with the data and training layers replaced by small stand-ins."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

import aslo.data
import aslo.training
from aslo.cli import main




@pytest.fixture
def fake_layers(monkeypatch):
    rng = np.random.default_rng(0)
    data = SimpleNamespace(name="Fake", x_test=rng.standard_normal((6, 1, 20)).astype(np.float32),
                           y_test=np.array([0, 1, 0, 1, 0, 1]), lengths_test=np.full(6, 20, dtype=np.int64))
    calls = {}

    def load_ucr(name, *a, **k):
        calls["dataset"] = name
        return data

    def get_trained_model(dataset, model_name, config=None, **kw):
        calls.update(model=model_name, **kw)
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(20, 2)).eval(), {}

    monkeypatch.setattr(aslo.data, "load_ucr", load_ucr)
    monkeypatch.setattr(aslo.training, "get_trained_model", get_trained_model)
    return calls


def test_attack_cli_writes_records(fake_layers, tmp_path, capsys):
    out = tmp_path / "sub" / "rec.csv"
    code = main(["attack", "--dataset", "Fake", "--model", "inception", "--attack", "cw_asl0",
                 "--samples", "4", "--steps", "5", "--lr", "0.01", "--seed", "2", "--out", str(out),
                 "--runs-dir", str(tmp_path), "--device", "cpu", "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "asr" in printed and "AS_CW" in printed
    rec = pd.read_csv(out)
    assert len(rec) == 4 and {"success", "l2", "close_to_zero", "final_sigma"} <= set(rec.columns)
    assert fake_layers["model"] == "inception" and fake_layers["runs_dir"] == str(tmp_path)


@pytest.mark.parametrize("extra, fragment", [
    (["--attack", "AS_CWX"], "did you mean"),
    (["--samples", "0"], "--samples"),
    (["--eps", "-1"], "eps"),
    (["--steps", "-3"], "steps"),
])
def test_attack_cli_rejects_bad_input_before_loading(fake_layers, extra, fragment, capsys):
    code = main(["attack", "--dataset", "Fake", "--model", "inception", "--no-progress", *extra])
    assert code == 2
    assert fragment in capsys.readouterr().err
    assert "dataset" not in fake_layers
