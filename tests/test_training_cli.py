"""Tests of the ``aslo train`` command."""

from __future__ import annotations

import pytest

from aslo.cli import main




def _italy_available() -> bool:
    try:
        from aslo.data import load_ucr

        load_ucr("ItalyPowerDemand", download=False)
    except Exception:  # noqa: BLE001 - any loading failure means: skip
        return False
    return True


@pytest.mark.skipif(not _italy_available(), reason="ItalyPowerDemand not available offline")
def test_train_command_trains_then_reuses(tmp_path, capsys):
    argv = ["train", "--dataset", "ItalyPowerDemand", "--model", "lstmfcn", "--epochs", "2",
            "--runs-dir", str(tmp_path), "--device", "cpu", "--no-progress"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "test_accuracy" in first and "ItalyPowerDemand" in first
    assert len(list(tmp_path.rglob("model.safetensors"))) == 1
    assert main(argv) == 0
    assert capsys.readouterr().out == first  # same record: the checkpoint was reused
    assert main(argv + ["--seed", "1"]) == 0
    assert len(list(tmp_path.rglob("model.safetensors"))) == 2


def test_train_command_rejects_bad_input(tmp_path, capsys):
    base = ["train", "--dataset", "ItalyPowerDemand", "--runs-dir", str(tmp_path)]
    with pytest.raises(SystemExit):
        main(base + ["--model", "transformer"])
    assert main(base + ["--model", "lstmfcn", "--epochs", "0"]) == 2
    assert "epochs" in capsys.readouterr().err
    assert main(base + ["--model", "lstmfcn", "--seed", "-1"]) == 2
    assert main(base + ["--model", "lstmfcn", "--max-seconds", "-5"]) == 2
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:  # rejected while parsing, like every command's --device
        main(base + ["--model", "lstmfcn", "--device", "tpu9"])
    assert exc.value.code == 2 and "--device" in capsys.readouterr().err
    assert not list(tmp_path.rglob("*"))  # nothing was trained or written
