"""``aslo data list`` and ``aslo data show``."""

from __future__ import annotations

from aslo.cli import main
from helpers.data import isolated, no_network, write_dataset  # noqa: F401


def test_list_shows_all_datasets_and_offline_column(isolated, no_network, capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines() if line.strip()]
    assert lines[0] == ["name", "type", "train", "test", "classes", "length", "offline"]
    rows = {fields[0]: fields for fields in lines[1:-1]}
    assert len(rows) == 128
    assert rows["GunPoint"][-1] == "yes" and rows["Adiac"][-1] == "no"
    assert rows["PickupGestureWiimoteZ"][5] == "Vary"


def test_list_offline_only(isolated, no_network, capsys):
    write_dataset(isolated / "data" / "UCRArchive_2018", "MyOwnData", [[0, 1.0, 2.0], [1, 2.0, 1.0]], [[0, 1.0, 0.0]])
    assert main(["data", "list", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "GunPoint" in out and "MyOwnData" in out and "Adiac" not in out
    assert "7 datasets listed, 7 available offline" in out


def test_show_bundled_dataset(isolated, no_network, capsys):
    assert main(["data", "show", "GunPoint"]) == 0
    out = capsys.readouterr().out
    assert "aeon's bundled datasets" in out
    assert "x_train (50, 1, 150), x_test (150, 1, 150), 2 classes" in out
    assert "train balance   1: 24, 2: 26" in out
    assert "z-normalised: yes" in out


def test_show_not_normalised_local_dataset(isolated, capsys):
    write_dataset(isolated / "arch", "Raw", [[0, 10.0, 20.0, 30.0], [1, 5.0, 1.0, 9.0]], [[1, 3.0, 2.0, 8.0]])
    assert main(["data", "show", "Raw", "--root", str(isolated / "arch")]) == 0
    out = capsys.readouterr().out
    assert "not in the UCR 2018 summary" in out and "z-normalised: no" in out


def test_show_dataset_that_needs_a_download(isolated, no_network, capsys):
    assert main(["data", "show", "Coffee"]) == 0
    out = capsys.readouterr().out
    assert "not available offline" in out and "--download" in out and "Spectro" in out


def test_unknown_and_invalid_names_exit_2(isolated, capsys):
    assert main(["data", "show", "GunPont"]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'GunPont'" in err and "Did you mean GunPoint" in err
    assert main(["data", "show", "../etc"]) == 2
    assert "invalid dataset name" in capsys.readouterr().err
