"""One split as read from disk, before label encoding, gap filling and normalisation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import MalformedDatasetError


@dataclass(frozen=True)
class RawSplit:
    """A split as stored: ``labels`` (N,) as written in the file, ``values`` (N, W) float64 with NaN gaps."""

    path: Path
    labels: np.ndarray
    values: np.ndarray

    @property
    def has_nan(self) -> bool:
        """Whether any value is missing (NaN padding or interior gaps)."""
        return bool(np.isnan(self.values).any())


def parse_labels(raw: np.ndarray, path: Path) -> np.ndarray:
    """Return labels as float64 when every label is numeric, else as strings; NaN labels are rejected."""
    try:
        labels = np.asarray(raw, dtype=np.float64)
    except ValueError:
        labels = np.asarray(raw).astype(str)
        missing = np.flatnonzero(np.char.lower(np.char.strip(labels)) == "nan")
    else:
        missing = np.flatnonzero(np.isnan(labels))
        bad = np.flatnonzero(np.isinf(labels))
        if bad.size:
            raise MalformedDatasetError(f"{path}: infinite class label in series {bad[0] + 1}")
    if missing.size:
        raise MalformedDatasetError(
            f"{path}: class label is NaN in series {missing[0] + 1} "
            f"({missing.size} series without a label)"
        )
    return labels


def check_values(values: np.ndarray, path: Path, row_numbers: np.ndarray | None = None) -> None:
    """Raise MalformedDatasetError if ``values`` holds +-inf, naming the first offending row."""
    bad_rows = np.flatnonzero(np.isinf(values).any(axis=1))
    if bad_rows.size:
        row = bad_rows[0]
        where = f"row {row_numbers[row]}" if row_numbers is not None else f"series {row + 1}"
        raise MalformedDatasetError(f"{path}: infinite value in {where}")
