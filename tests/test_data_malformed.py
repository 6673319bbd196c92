"""Malformed archive files raise MalformedDatasetError naming the file and the problem."""

from __future__ import annotations

import pytest

from aslo.data import MalformedDatasetError, available_offline, broken_local_datasets, load_ucr, locate_dataset
from aslo.data.tsfile import read_ts_split
from helpers.data import write_dataset, write_split

GOOD_TRAIN = [[1, 0.1, 0.2, 0.3], [2, 0.3, 0.2, 0.1]]
GOOD_TEST = [[1, 0.5, 0.4, 0.3], [2, 0.1, 0.4, 0.2]]

CASES = {
    # id: (train rows, test rows, file named in the message, pattern)
    "ragged rows": ([[1, 0.1, 0.2, 0.3], [2, 0.3, 0.2]], GOOD_TEST, "TRAIN", r"ragged rows: row 2 has 3 columns"),
    "non-numeric": (GOOD_TRAIN, [[1, 0.5, 0.4, 0.3], [2, 0.1, "abc", 0.2]], "TEST",
                    r"non-numeric value 'abc' in row 2, column 3"),
    "empty value": (GOOD_TRAIN, ["1\t0.5\t\t0.3"], "TEST", r"non-numeric value '' in row 1, column 3"),
    "empty file": ([], GOOD_TEST, "TRAIN", r"file is empty"),
    "blank lines only": (["", "  "], GOOD_TEST, "TRAIN", r"file is empty"),
    "label only": ([[1], [2]], GOOD_TEST, "TRAIN", r"label but no values"),
    "single class": ([[3, 0.1, 0.2], [3, 0.2, 0.1]], [[3, 0.5, 0.4]], "TRAIN", r"only one class"),
    "NaN label": ([[1, 0.1, 0.2, 0.3], ["NaN", 0.3, 0.2, 0.1]], GOOD_TEST, "TRAIN", r"class label is NaN in series 2"),
    "infinite value": (GOOD_TRAIN, [[1, 0.5, "inf", 0.3], [2, 0.1, 0.4, 0.2]], "TEST", r"infinite value in row 1"),
    "negative infinity": ([[1, 0.1, 0.2, 0.3], [2, "-Infinity", 0.2, 0.1]], GOOD_TEST, "TRAIN", r"infinite value in row 2"),
    "infinite label": ([["inf", 0.1, 0.2, 0.3], [2, 0.3, 0.2, 0.1]], GOOD_TEST, "TRAIN", r"infinite class label"),
    "lengths differ": (GOOD_TRAIN, [[1, 0.5, 0.4], [2, 0.1, 0.4]], "TRAIN", r"series lengths differ \(train 3, test 2\)"),
    "all-NaN series": (GOOD_TRAIN, [[1, "NaN", "NaN", "NaN"], [2, 0.1, 0.4, 0.2]], "TEST", r"series 1 has no values"),
    "float32 overflow": ([[1, 1e300, 0.2, 0.3], [2, 0.3, 0.2, 0.1]], GOOD_TEST, "TRAIN", r"overflow"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_files(tmp_path, case):
    train, test, named, pattern = CASES[case]
    write_dataset(tmp_path, "Bad", train, test)
    normalize = case != "float32 overflow"
    with pytest.raises(MalformedDatasetError, match=pattern) as info:
        load_ucr("Bad", root=tmp_path, normalize=normalize, download=False)
    assert f"Bad_{named}.tsv" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("missing", ["TRAIN", "TEST"])
def test_missing_split(tmp_path, missing):
    present = "TEST" if missing == "TRAIN" else "TRAIN"
    write_split(tmp_path, "Half", present, GOOD_TRAIN)
    with pytest.raises(MalformedDatasetError, match=f"Half_{missing}.tsv: split file is missing"):
        load_ucr("Half", root=tmp_path, download=False)


@pytest.mark.parametrize("missing", ["TRAIN", "TEST"])
def test_missing_split_is_named_where_the_dataset_is_looked_up(tmp_path, missing):
    # before: locate_dataset passed over the folder, and `aslo data show` said "not available offline"
    present = "TEST" if missing == "TRAIN" else "TRAIN"
    write_split(tmp_path, "Coffee", present, GOOD_TRAIN)
    with pytest.raises(MalformedDatasetError, match=f"Coffee_{missing}.tsv: split file is missing"):
        locate_dataset("Coffee", root=tmp_path, download=False)
    assert "Coffee" not in available_offline(tmp_path)
    assert list(broken_local_datasets(tmp_path)) == ["Coffee"]


@pytest.mark.parametrize("empty", ["TRAIN", "TEST"])
def test_empty_split_file_is_named(tmp_path, empty):
    write_dataset(tmp_path, "Coffee", GOOD_TRAIN, GOOD_TEST)
    (tmp_path / "Coffee" / f"Coffee_{empty}.tsv").write_bytes(b"")
    for look_up in (locate_dataset, load_ucr):
        with pytest.raises(MalformedDatasetError, match=f"Coffee_{empty}.tsv: file is empty"):
            look_up("Coffee", root=tmp_path, download=False)
    assert "Coffee" in broken_local_datasets(tmp_path) and "Coffee" not in available_offline(tmp_path)


def test_non_utf8_file(tmp_path):
    write_dataset(tmp_path, "Bytes", GOOD_TRAIN, GOOD_TEST)
    (tmp_path / "Bytes" / "Bytes_TEST.tsv").write_bytes(b"1\t\xff\xfe\t0.2\n")
    with pytest.raises(MalformedDatasetError, match="Bytes_TEST.tsv: not a UTF-8"):
        load_ucr("Bytes", root=tmp_path, download=False)


def test_comma_separated_files_are_read(tmp_path):
    write_dataset(tmp_path, "Csv", ["1,0.1,0.2,0.3", "2,0.3,0.2,0.1"], ["1,0.5,0.4,0.3"])
    ds = load_ucr("Csv", root=tmp_path, normalize=False, download=False)
    assert ds.x_train.shape == (2, 1, 3)


def test_malformed_ts_file(tmp_path):
    path = tmp_path / "X_TRAIN.ts"
    path.write_text("@problemName X\n@univariate true\n@classLabel true 1 2\n@data\n1,2,3:oops:extra\n")
    with pytest.raises(MalformedDatasetError, match="X_TRAIN.ts"):
        read_ts_split(path)
    with pytest.raises(MalformedDatasetError, match="file is missing"):
        read_ts_split(tmp_path / "absent.ts")
