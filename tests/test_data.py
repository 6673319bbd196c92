"""aslo.data: loading from the archive layout, aeon's bundled sets and aeon's download cache."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import aslo.data.sources as sources
from aslo.data import (
    DatasetNotFoundError,
    MalformedDatasetError,
    UCRDataset,
    available_offline,
    encode_labels,
    load_ucr,
    locate_dataset,
    validate_dataset_name,
)
from helpers.data import UCR_FIXTURES, fixture_checksum_problems, isolated, no_network, write_dataset  # noqa: F401


def parent_znorm(path):
    """The parent code's reader: np.loadtxt, then (x - mean) / (std + 1e-8) per row."""
    data = np.loadtxt(path, delimiter="\t")
    x = data[:, 1:]
    x = (x - x.mean(axis=1, keepdims=True)) / (x.std(axis=1, keepdims=True) + 1e-8)
    return x.astype(np.float32)


def check_contract(ds: UCRDataset):
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        assert x.dtype == np.float32 and x.ndim == 3 and x.shape[1] == 1
        assert y.dtype == np.int64 and y.shape == (x.shape[0],)
        assert np.isfinite(x).all()
        assert y.min() >= 0 and y.max() < ds.n_classes
    assert list(ds.classes) == sorted(ds.classes)
    assert ds.in_channels == 1 and ds.length == ds.x_train.shape[2] == ds.x_test.shape[2]


# --- real archive files --------------------------------------------------------------------

def test_the_archive_fixtures_are_the_archive_files_unchanged():
    assert len((UCR_FIXTURES / "SHA256SUMS").read_text().splitlines()) == 11
    assert fixture_checksum_problems() == []


@pytest.mark.parametrize("name, n_train, n_test, length, classes", [
    ("Coffee", 28, 28, 286, [0, 1]),
    ("ECG200", 100, 100, 96, None),
    ("TwoLeadECG", 23, 1139, 82, [1, 2]),
])
def test_real_equal_length_sets_match_parent_code(name, n_train, n_test, length, classes):
    ds = load_ucr(name, root=UCR_FIXTURES, download=False)
    check_contract(ds)
    assert (len(ds.y_train), len(ds.y_test), ds.length, ds.n_classes) == (n_train, n_test, length, 2)
    assert (ds.lengths_train == length).all() and (ds.lengths_test == length).all() and not ds.variable_length
    if classes is not None:
        assert ds.classes.tolist() == classes
    assert "local archive" in ds.source
    np.testing.assert_array_equal(ds.x_train[:, 0], parent_znorm(UCR_FIXTURES / name / f"{name}_TRAIN.tsv"))
    np.testing.assert_array_equal(ds.x_test[:, 0], parent_znorm(UCR_FIXTURES / name / f"{name}_TEST.tsv"))


@pytest.mark.parametrize("name, length, n_classes", [("GesturePebbleZ1", 455, 6), ("DodgerLoopDay", 288, 7)])
def test_real_adjusted_sets_are_normalised_on_request(name, length, n_classes):
    raw = load_ucr(name, root=UCR_FIXTURES, normalize=False, download=False)
    norm = load_ucr(name, root=UCR_FIXTURES, download=False)
    check_contract(raw)
    check_contract(norm)
    assert raw.length == norm.length == length and raw.n_classes == n_classes
    # the stored values are not z-normalised; the default output is
    assert np.median(raw.x_train.std(axis=2)) > 2
    np.testing.assert_allclose(norm.x_train.mean(axis=2), 0, atol=1e-5)
    np.testing.assert_allclose(norm.x_train.std(axis=2), 1, atol=1e-4)
    stored = np.loadtxt(UCR_FIXTURES / name / f"{name}_TRAIN.tsv", delimiter="\t")[:, 1:]
    np.testing.assert_array_equal(raw.x_train[:, 0], stored.astype(np.float32))


# --- aeon's bundled sets (offline) -----------------------------------------------------------

@pytest.mark.parametrize("name, n_train, n_test, length, n_classes", [
    ("GunPoint", 50, 150, 150, 2),
    ("ItalyPowerDemand", 67, 1029, 24, 2),
    ("ArrowHead", 36, 175, 251, 3),
])
def test_aeon_bundled_sets_load_without_network(isolated, no_network, name, n_train, n_test, length, n_classes):
    ds = load_ucr(name)
    check_contract(ds)
    assert (len(ds.y_train), len(ds.y_test), ds.length, ds.n_classes) == (n_train, n_test, length, n_classes)
    assert "aeon's bundled" in ds.source
    np.testing.assert_allclose(ds.x_test.mean(axis=2), 0, atol=1e-5)


def test_aeon_variable_length_set_is_padded_with_zeros(isolated, no_network):
    ds = load_ucr("PickupGestureWiimoteZ", download=False)
    check_contract(ds)
    assert ds.n_classes == 10 and len(ds.y_train) == 50
    from aeon.datasets import load_from_ts_file
    series, _ = load_from_ts_file(str(sources.aeon_bundled_dir() / "PickupGestureWiimoteZ"
                                      / "PickupGestureWiimoteZ_TRAIN.ts"))
    lengths = [s.shape[-1] for s in series]
    assert min(lengths) < ds.length  # really variable length
    assert ds.lengths_train.tolist() == lengths and ds.variable_length  # the observed lengths are kept
    short = int(np.argmin(lengths))
    assert np.all(ds.x_train[short, 0, lengths[short]:] == 0)
    prefix = ds.x_train[short, 0, : lengths[short]].astype(np.float64)
    assert abs(prefix.mean()) < 1e-5 and abs(prefix.std() - 1) < 1e-4


def test_available_offline_lists_bundled_and_local_sets(isolated, no_network):
    write_dataset(isolated / "archive", "MyOwnData", [[1, 0.1, 0.2], [2, 0.3, 0.1]], [[1, 0.5, 0.2]])
    (isolated / "archive" / "EmptyFolder").mkdir()
    names = available_offline(isolated / "archive")
    for name in ("GunPoint", "ArrowHead", "ItalyPowerDemand", "MyOwnData"):
        assert name in names
    assert "EmptyFolder" not in names and "Coffee" not in names


# --- the chain of sources --------------------------------------------------------------------

def test_local_archive_comes_first_and_env_var_is_read(isolated, monkeypatch):
    write_dataset(isolated / "mine", "GunPoint", [[1, 1.0, 2.0, 3.0], [2, 3.0, 2.0, 1.0]], [[1, 0.0, 1.0, 0.0]])
    monkeypatch.setenv("ASLO_DATA_DIR", str(isolated / "mine"))
    ds = load_ucr("GunPoint", download=False)
    assert ds.length == 3 and "ASLO_DATA_DIR" in ds.source
    assert locate_dataset("GunPoint")[1] == str(isolated / "mine" / "GunPoint")


def test_default_root_is_data_folder_of_working_directory(isolated):
    write_dataset(isolated / "data" / "UCRArchive_2018", "Tiny", [[0, 1.0, 2.0], [1, 2.0, 1.0]], [[0, 1.0, 3.0]])
    ds = load_ucr("Tiny")
    assert ds.name == "Tiny" and "UCRArchive_2018" in ds.source


def test_dataset_outside_the_summary_loads_from_local_archive(tmp_path):
    write_dataset(tmp_path, "MyOwnData", [[5, 1.0, 2.0, 4.0], [7, 2.0, 1.0, 0.5]], [[7, 3.0, 1.0, 2.0]])
    ds = load_ucr("MyOwnData", root=tmp_path, download=False)
    assert ds.classes.tolist() == [5, 7] and ds.y_test.tolist() == [1]


def test_unknown_name_suggests_close_names(isolated):
    with pytest.raises(DatasetNotFoundError, match="Did you mean GunPoint"):
        load_ucr("GunPointt")
    with pytest.raises(DatasetNotFoundError, match="GunPoint"):
        load_ucr("gunpoint")


def test_not_found_lists_every_source_and_points_to_readme(isolated):
    with pytest.raises(DatasetNotFoundError) as info:
        load_ucr("Coffee", download=False)
    message = str(info.value)
    assert "local archive" in message and "does not exist" in message
    assert "aeon's bundled datasets" in message and "does not ship Coffee" in message
    assert "download=False" in message and "data/README.md" in message
    assert isinstance(info.value, FileNotFoundError)


def fake_download(files):
    """A stand-in for aeon's load_classification: writes ``files`` ({name: text}) or fails."""
    def load_classification(name, extract_path=None, **kwargs):
        target = sources.Path(extract_path) / name
        target.mkdir(parents=True, exist_ok=True)  # aeon creates the folder before downloading
        if not files:
            raise ValueError("Failed to retrieve Zenodo metadata: no network")
        for suffix, text in files.items():
            (target / f"{name}_{suffix}.ts").write_text(text)
        return None, None
    return load_classification


def test_failed_download_leaves_no_folder_that_passes_for_data(isolated, monkeypatch):
    import aeon.datasets
    monkeypatch.setattr(aeon.datasets, "load_classification", fake_download({}))
    with pytest.raises(DatasetNotFoundError, match="download failed.*no network"):
        load_ucr("Coffee")
    cache = isolated / "data" / "aeon_cache"
    assert not (cache / "Coffee").exists()
    # an empty leftover from an earlier aeon run is not mistaken for data either
    (cache / "Coffee").mkdir(parents=True)
    with pytest.raises(DatasetNotFoundError, match="not cached"):
        load_ucr("Coffee", download=False)
    assert "Coffee" not in available_offline()


def test_download_is_cached_and_reused_offline(isolated, monkeypatch):
    import aeon.datasets
    bundled = sources.aeon_bundled_dir() / "GunPoint"
    files = {s: (bundled / f"GunPoint_{s}.ts").read_text() for s in ("TRAIN", "TEST")}
    monkeypatch.setattr(aeon.datasets, "load_classification", fake_download(files))
    first = load_ucr("Coffee")
    assert "aeon download cache" in first.source and first.x_train.shape == (50, 1, 150)
    monkeypatch.setattr(aeon.datasets, "load_classification", fake_download({}))
    again = load_ucr("Coffee", download=False)
    np.testing.assert_array_equal(first.x_test, again.x_test)
    assert "Coffee" in available_offline()


# --- labels, normalisation, missing values -----------------------------------------------------

def test_labels_are_encoded_over_train_and_test_together(tmp_path):
    train = [[3, 1.0, 2.0, 0.0], [5, 0.0, 2.0, 1.0], [3, 2.0, 2.0, 0.0]]
    test = [[8, 1.0, 0.0, 2.0], [5, 0.0, 1.0, 1.0]]  # class 8 appears only in the test split
    write_dataset(tmp_path, "Labels", train, test)
    ds = load_ucr("Labels", root=tmp_path)
    assert ds.classes.tolist() == [3, 5, 8]
    assert ds.y_train.tolist() == [0, 1, 0] and ds.y_test.tolist() == [2, 1]
    assert ds.class_counts("test").tolist() == [0, 1, 1]


@pytest.mark.parametrize("raw, classes, codes", [
    (["-1", "1", "-1"], [-1, 1], [0, 1, 0]),
    (["1.0000000e+00", "2.0000000e+00", "1.0000000e+00"], [1, 2], [0, 1, 0]),
    (["0.5", "1.5", "0.5"], [0.5, 1.5], [0, 1, 0]),
])
def test_label_formats(tmp_path, raw, classes, codes):
    rows = [f"{label}\t1.0\t2.0\t0.5" for label in raw]
    write_dataset(tmp_path, "Fmt", rows[:2], rows[2:])
    ds = load_ucr("Fmt", root=tmp_path)
    assert ds.classes.tolist() == classes
    assert np.concatenate([ds.y_train, ds.y_test]).tolist() == codes


def test_encode_labels_directly():
    classes, y_train, y_test = encode_labels(np.array([2.0, 1.0]), np.array([1.0, 4.0]))
    assert classes.dtype == np.int64 and classes.tolist() == [1, 2, 4]
    assert y_train.tolist() == [1, 0] and y_test.tolist() == [0, 2]


def test_normalisation_on_and_off(tmp_path):
    write_dataset(tmp_path, "Norm", [[0, 10.0, 20.0, 30.0, 40.0], [1, 5.0, 5.0, 5.0, 5.0]],
                  [[1, -1.0, 1.0, -1.0, 1.0]])
    raw = load_ucr("Norm", root=tmp_path, normalize=False)
    norm = load_ucr("Norm", root=tmp_path)
    np.testing.assert_array_equal(raw.x_train[0, 0], [10, 20, 30, 40])
    x = np.array([10.0, 20.0, 30.0, 40.0])
    np.testing.assert_allclose(norm.x_train[0, 0], (x - x.mean()) / (x.std() + 1e-8), rtol=1e-6)
    np.testing.assert_array_equal(norm.x_train[1, 0], 0)  # a constant series stays finite
    np.testing.assert_allclose(norm.x_test[0, 0], [-1, 1, -1, 1], rtol=1e-6)


def test_trailing_nan_is_padding(tmp_path):
    nan = "NaN"
    train = [[0, 1.0, 2.0, 3.0, nan, nan], [1, 4.0, 0.0, 4.0, 0.0, nan]]
    test = [[0, 2.0, 4.0, 6.0, 8.0, nan]]  # longest series (4 values); the last column is all NaN
    write_dataset(tmp_path, "Vary", train, test)
    norm = load_ucr("Vary", root=tmp_path)
    raw = load_ucr("Vary", root=tmp_path, normalize=False)
    assert norm.length == 4  # the dataset's maximum observed length
    prefix = np.array([1.0, 2.0, 3.0])
    expected = np.append((prefix - prefix.mean()) / (prefix.std() + 1e-8), 0.0)
    np.testing.assert_allclose(norm.x_train[0, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(norm.x_train[1, 0], [1, -1, 1, -1], rtol=1e-6)
    np.testing.assert_array_equal(raw.x_train[0, 0], [1, 2, 3, 2])  # padded with the series mean
    assert np.isfinite(norm.x_test).all()


def test_train_and_test_padded_to_a_common_length(tmp_path):
    write_dataset(tmp_path, "Pad", [[0, 1.0, 2.0, "NaN"], [1, 2.0, 1.0, 3.0]],
                  [[0, 1.0, 2.0, 3.0, 4.0, 5.0], [1, 1.0, "NaN", "NaN", "NaN", "NaN"]])
    ds = load_ucr("Pad", root=tmp_path)
    assert ds.x_train.shape == (2, 1, 5) and ds.x_test.shape == (2, 1, 5)
    np.testing.assert_array_equal(ds.x_train[1, 0, 3:], 0)


def test_interior_nan_is_interpolated(tmp_path):
    train = [[0, "NaN", 2.0, "NaN", "NaN", 8.0, 6.0], [1, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]
    write_dataset(tmp_path, "Gaps", train, [[1, 6.0, 5.0, "NaN", 3.0, 2.0, 1.0]])
    raw = load_ucr("Gaps", root=tmp_path, normalize=False)
    np.testing.assert_array_equal(raw.x_train[0, 0], [2, 2, 4, 6, 8, 6])  # leading gap takes first value
    np.testing.assert_array_equal(raw.x_test[0, 0], [6, 5, 4, 3, 2, 1])
    norm = load_ucr("Gaps", root=tmp_path)
    filled = np.array([2.0, 2, 4, 6, 8, 6])
    np.testing.assert_allclose(norm.x_train[0, 0], (filled - filled.mean()) / (filled.std() + 1e-8), rtol=1e-6)
    assert np.isfinite(norm.x_train).all()


def test_loading_is_deterministic(tmp_path):
    rng = np.random.default_rng(0)
    rows = [[int(rng.integers(0, 3))] + rng.normal(size=20).round(6).tolist() for _ in range(12)]
    write_dataset(tmp_path, "Same", rows[:8], rows[8:])
    a, b = load_ucr("Same", root=tmp_path), load_ucr("Same", root=tmp_path)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)


# --- names and arguments -----------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["../x", "a/b", "..", "", "Gun Point", "x\\y", "GunPoint\n", "/etc"])
def test_bad_names_are_rejected_before_any_work(bad, monkeypatch):
    monkeypatch.setattr(sources, "default_sources", lambda *a, **k: pytest.fail("sources touched"))
    with pytest.raises(ValueError, match="invalid dataset name"):
        load_ucr(bad)


def test_validate_dataset_name():
    assert validate_dataset_name("Gun_Point-2") == "Gun_Point-2"
    with pytest.raises(ValueError, match="must be a string"):
        validate_dataset_name(None)


def test_flags_must_be_booleans(tmp_path):
    with pytest.raises(ValueError, match="True or False"):
        load_ucr("GunPoint", root=tmp_path, normalize="yes")


def test_dataset_rejects_inconsistent_arrays():
    x = np.zeros((2, 1, 4), dtype=np.float32)
    y = np.array([0, 1], dtype=np.int64)
    with pytest.raises(ValueError, match="float32"):
        UCRDataset("X", x.astype(np.float64), y, x, y, np.array([0, 1]), "test")
    with pytest.raises(ValueError, match="outside"):
        UCRDataset("X", x, y + 1, x, y, np.array([0, 1]), "test")
    with pytest.raises(ValueError, match="split"):
        UCRDataset("X", x, y, x, y, np.array([0, 1]), "test").class_counts("valid")


def test_malformed_local_copy_stops_the_chain(tmp_path):
    # a broken local GunPoint must be reported, not silently replaced by aeon's copy
    write_dataset(tmp_path, "GunPoint", [[1, 1.0, "x"]], [[2, 1.0, 2.0]])
    with pytest.raises(MalformedDatasetError, match="GunPoint_TRAIN.tsv"):
        load_ucr("GunPoint", root=tmp_path)
