"""Reader for aeon's ``.ts`` files (bundled with aeon's wheel, or downloaded into its cache).

aeon's own parser reads the file; this module turns its output (an array, or a list of arrays for
unequal lengths) into the same NaN-padded :class:`RawSplit` the archive reader produces, so every
source goes through one gap-filling and normalisation path. aeon is imported lazily (it is slow).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import MalformedDatasetError
from .raw import RawSplit, check_values, parse_labels


def read_ts_split(path: str | Path) -> RawSplit:
    """Read one univariate ``.ts`` split; raise MalformedDatasetError naming the file and the problem."""
    from aeon.datasets import load_from_ts_file

    path = Path(path)
    if not path.is_file():
        raise MalformedDatasetError(f"{path}: file is missing")
    try:
        series, labels = load_from_ts_file(str(path))
    except Exception as exc:  # aeon raises IOError/ValueError/TypeError variously
        raise MalformedDatasetError(f"{path}: aeon could not parse it ({exc})") from exc
    if len(series) == 0:
        raise MalformedDatasetError(f"{path}: file holds no series")
    channels = {np.shape(s)[0] for s in series}
    if channels != {1}:
        raise MalformedDatasetError(
            f"{path}: multivariate data ({sorted(channels)} channels); only univariate sets are supported"
        )
    if isinstance(series, np.ndarray):  # equal length: (N, 1, L)
        values = np.asarray(series[:, 0, :], dtype=np.float64)
    else:  # unequal length: list of (1, L_i); pad the tail with NaN as the archive does
        width = max(np.shape(s)[-1] for s in series)
        values = np.full((len(series), width), np.nan, dtype=np.float64)
        for row, s in enumerate(series):
            flat = np.asarray(s, dtype=np.float64)[0]
            values[row, : flat.size] = flat
    if len(labels) != len(series):
        raise MalformedDatasetError(f"{path}: {len(series)} series but {len(labels)} labels")
    check_values(values, path)
    return RawSplit(path=path, labels=parse_labels(np.asarray(labels), path), values=values)
