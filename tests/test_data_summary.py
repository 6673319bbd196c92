"""The packaged UCR 2018 summary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from aslo.data import dataset_summary, suggest_names, summary_row, ucr_names
from helpers.data import UCR_FIXTURES

ROOT = Path(__file__).resolve().parents[1]


def test_summary_has_128_rows_and_the_columns():
    table = dataset_summary()
    assert len(table) == 128 and table["name"].is_unique
    for column in ("name", "type", "train", "test", "classes", "length"):
        assert column in table.columns
    assert table["length"].map(lambda v: v == "Vary" or (isinstance(v, int) and v > 0)).all()
    assert (table["length"] == "Vary").sum() == table["variable_length"].sum() == 11
    assert table["missing_values"].sum() == 4


def test_summary_rows():
    row = summary_row("GunPoint")
    assert (row["train"], row["test"], row["classes"], row["length"]) == (50, 150, 2, 150)
    assert summary_row("PickupGestureWiimoteZ")["length"] == "Vary"
    assert summary_row("NotADataset") is None
    assert len(ucr_names()) == 128 and ucr_names()[0] == "Adiac"


def test_summary_is_a_copy():
    table = dataset_summary()
    table.loc[0, "name"] = "changed"
    assert dataset_summary().loc[0, "name"] == "Adiac"


def test_suggestions():
    assert suggest_names("gunpoint")[0] == "GunPoint"
    assert "ECG200" in suggest_names("ECG20")
    assert suggest_names("zzzzzzzz") == []


def test_repository_csv_is_the_packaged_file():
    link = ROOT / "data" / "ucr2018_summary.csv"
    assert link.is_symlink() and not Path(link.readlink()).is_absolute()
    assert link.resolve() == (ROOT / "aslo" / "resources" / "ucr2018_summary.csv").resolve()


def test_summary_matches_the_archive_file():
    source = UCR_FIXTURES / "DataSummary.csv"
    archive = pd.read_csv(source, encoding="utf-8-sig")
    archive.columns = [c.strip() for c in archive.columns]
    ours = dataset_summary()
    assert ours["name"].tolist() == archive["Name"].str.strip().tolist()
    assert ours["train"].tolist() == archive["Train"].tolist()
    assert ours["test"].tolist() == archive["Test"].tolist()
    assert ours["classes"].tolist() == archive["Class"].tolist()
    assert [str(v) for v in ours["length"]] == archive["Length"].astype(str).str.strip().tolist()
