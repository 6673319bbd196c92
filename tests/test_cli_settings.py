"""Settings mean the same in every command: store folders from the environment, --device, --version."""

from __future__ import annotations

import pytest

from aslo.cli import build_parser, main
from aslo.cli.options import results_dir, runs_dir

# Every command that reads or writes the result store / the checkpoints, with its required args.
STORE_COMMANDS = {
    "run": ["run"],
    "book": ["book"],
    "report": ["report"],
    "train": ["train", "--dataset", "GunPoint", "--model", "lstmfcn"],
    "attack": ["attack", "--dataset", "GunPoint", "--model", "lstmfcn"],
}
DEVICE_COMMANDS = ("run", "train", "attack")


@pytest.mark.parametrize("command", STORE_COMMANDS)
def test_store_folders_come_from_the_environment_unless_given(command, monkeypatch, tmp_path):
    monkeypatch.setenv("ASLO_RESULTS_DIR", str(tmp_path / "r"))
    monkeypatch.setenv("ASLO_RUNS_DIR", str(tmp_path / "m"))
    args = build_parser().parse_args(STORE_COMMANDS[command])
    assert hasattr(args, "results_dir") or hasattr(args, "runs_dir"), command
    if hasattr(args, "results_dir"):
        assert str(results_dir(args)) == str(tmp_path / "r")
        given = build_parser().parse_args([*STORE_COMMANDS[command], "--results-dir", "x"])
        assert str(results_dir(given)) == "x"
    if hasattr(args, "runs_dir"):
        assert str(runs_dir(args)) == str(tmp_path / "m")


def test_report_reads_the_store_the_environment_names(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ASLO_RESULTS_DIR", str(tmp_path / "elsewhere"))
    assert main(["report", "--profile", "smoke"]) == 2
    assert str(tmp_path / "elsewhere") in capsys.readouterr().err


def test_train_uses_the_runs_folder_of_the_environment(monkeypatch, tmp_path, capsys):
    import aslo.training

    seen = {}

    def fake_get_trained_model(dataset, model, config, *, seed, runs_dir, device, progress, **_):
        seen["runs_dir"] = str(runs_dir)
        raise OSError("stop here")  # reported by the CLI as a clear error, exit 2

    monkeypatch.setattr(aslo.training, "get_trained_model", fake_get_trained_model)
    monkeypatch.setenv("ASLO_RUNS_DIR", str(tmp_path / "m"))
    assert main(["train", "--dataset", "ItalyPowerDemand", "--model", "lstmfcn", "--device", "cpu"]) == 2
    assert seen["runs_dir"] == str(tmp_path / "m")


@pytest.mark.parametrize("command", DEVICE_COMMANDS)
def test_device_is_validated_the_same_way_everywhere(command, capsys):
    base = STORE_COMMANDS[command]
    for good in ("auto", "cpu", "cuda", "cuda:1", "mps", "CPU"):
        assert build_parser().parse_args([*base, "--device", good]).device == good.lower()
    for bad in ("tpu", "cuda:x", "cpu:1", ""):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args([*base, "--device", bad])
        assert exc.value.code == 2
        assert "--device" in capsys.readouterr().err


def test_profiles_and_run_grid_use_the_same_device_check(tmp_path):
    from aslo.experiments import parse_profile, run_grid

    with pytest.raises(ValueError, match="device"):
        parse_profile({"name": "x", "datasets": ["GunPoint"], "models": ["lstmfcn"], "seeds": [0], "device": "tpu"})
    assert parse_profile({"name": "x", "datasets": ["GunPoint"], "models": ["lstmfcn"], "seeds": [0],
                          "device": "cuda:1"}).device == "cuda:1"
    with pytest.raises(ValueError, match="device"):
        run_grid("smoke", results_dir=tmp_path, runs_dir=tmp_path, device="tpu", progress=False)


def test_version(capsys):
    from aslo import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"aslo {__version__}"
