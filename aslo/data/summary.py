"""The UCR 2018 archive summary (128 datasets) shipped with the package.

The CSV was built once from the archive's ``DataSummary.csv`` (its BOM and odd column names
cleaned up) and lives in ``aslo/resources/ucr2018_summary.csv``; ``data/ucr2018_summary.csv`` at the
repository root is a symlink to it.
"""

from __future__ import annotations

import difflib
import functools
from importlib import resources

import pandas as pd

SUMMARY_RESOURCE = "ucr2018_summary.csv"
SUMMARY_COLUMNS = (
    "id", "name", "type", "train", "test", "classes", "length", "variable_length",
    "missing_values", "ed_error", "dtw_learned_w_error", "dtw_learned_w", "dtw_w100_error",
    "default_rate", "donor",
)


@functools.lru_cache(maxsize=1)
def _read_summary() -> pd.DataFrame:
    path = resources.files("aslo") / "resources" / SUMMARY_RESOURCE
    with path.open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype={"length": str})
    missing = [c for c in SUMMARY_COLUMNS if c not in table.columns]
    if missing:
        raise RuntimeError(f"packaged {SUMMARY_RESOURCE} lacks columns {missing}")
    # "length" holds an int, or the string "Vary" for variable-length datasets.
    table["length"] = [int(v) if v.isdigit() else v for v in table["length"]]
    return table


def dataset_summary() -> pd.DataFrame:
    """Return the archive summary of the 128 UCR 2018 datasets (a fresh copy, one row each).

    Columns: id, name, type, train, test, classes, length (int, or "Vary"), variable_length,
    missing_values, the archive's baseline error rates (ed_error, dtw_learned_w_error,
    dtw_learned_w, dtw_w100_error), default_rate and donor.
    """
    return _read_summary().copy()


@functools.lru_cache(maxsize=1)
def ucr_names() -> tuple[str, ...]:
    """Return the 128 dataset names of the UCR 2018 archive, in the summary's order."""
    return tuple(_read_summary()["name"])


def summary_row(name: str) -> dict | None:
    """Return the summary row of ``name`` as a dict, or None when it is not an archive dataset."""
    table = _read_summary()
    rows = table[table["name"] == name]
    return None if rows.empty else rows.iloc[0].to_dict()


def suggest_names(name: str, n: int = 3) -> list[str]:
    """Return up to ``n`` archive names close to ``name`` (case-insensitive matches first)."""
    names = ucr_names()
    same_case = [known for known in names if known.lower() == name.lower()]
    lowered = {known.lower(): known for known in names}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    found = same_case + [lowered[c] for c in close if lowered[c] not in same_case]
    return found[:n]
