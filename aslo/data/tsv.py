"""Reader for the UCR 2018 archive's own files: ``<Name>/<Name>_TRAIN.tsv`` and ``_TEST.tsv``.

Each line is one series: the class label, then the values, tab-separated (the 2015 archive's
comma-separated files are read too). Variable-length series are padded with ``NaN`` to a common
width; every row must therefore have the same number of columns. Parsing uses ``numpy.loadtxt``,
as the parent code does, so values are bit-identical to it.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .errors import MalformedDatasetError
from .raw import RawSplit, check_values, parse_labels


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MalformedDatasetError(f"{path}: file is missing") from None
    except UnicodeDecodeError as exc:
        raise MalformedDatasetError(f"{path}: not a UTF-8 text file ({exc.reason})") from None


def _first_bad_token(lines: list[tuple[int, str]], sep: str, path: Path) -> MalformedDatasetError:
    """Find the first value that is not a number (slow path, only after loadtxt failed)."""
    for line_no, line in lines:
        for column, token in enumerate(line.split(sep), start=1):
            try:
                float(token)
            except ValueError:
                return MalformedDatasetError(
                    f"{path}: non-numeric value {token.strip()!r} in row {line_no}, column {column}"
                )
    return MalformedDatasetError(f"{path}: could not be parsed as numbers")


def read_tsv_split(path: str | Path) -> RawSplit:
    """Read one archive split file; raise MalformedDatasetError naming the file and the problem."""
    path = Path(path)
    text = _read_text(path)
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise MalformedDatasetError(f"{path}: file is empty")
    sep = "\t" if "\t" in lines[0][1] else ","
    width = lines[0][1].count(sep) + 1
    if width < 2:
        raise MalformedDatasetError(
            f"{path}: row {lines[0][0]} has a label but no values (expected tab-separated columns)"
        )
    for line_no, line in lines:
        if line.count(sep) + 1 != width:
            raise MalformedDatasetError(
                f"{path}: ragged rows: row {line_no} has {line.count(sep) + 1} columns, "
                f"row {lines[0][0]} has {width} (variable-length series must be padded with NaN)"
            )
    try:
        table = np.loadtxt(io.StringIO(text), delimiter=sep, dtype=np.float64, ndmin=2,
                           comments=None)
    except ValueError:
        raise _first_bad_token(lines, sep, path) from None
    row_numbers = np.array([n for n, _ in lines])
    labels = parse_labels(table[:, 0], path)
    values = table[:, 1:]
    check_values(values, path, row_numbers)
    return RawSplit(path=path, labels=labels, values=values)
