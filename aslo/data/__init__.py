"""Data layer: the UCR 2018 archive, loaded the way the parent code does.

``load_ucr(name)`` tries a local archive copy, then aeon's bundled sets, then aeon's download;
it returns a :class:`UCRDataset` of float32 ``(N, 1, L)`` arrays, per-series z-normalised, with
labels encoded ``0..K-1`` over train and test together. Variable-length and missing-value rules are
in :mod:`aslo.data.normalize` and ``data/README.md``.
"""

from .dataset import UCRDataset
from .errors import DatasetNotFoundError, MalformedDatasetError
from .loader import available_offline, encode_labels, load_ucr, locate_dataset
from .names import validate_dataset_name
from .sources import archive_root, repo_data_dir
from .summary import dataset_summary, suggest_names, summary_row, ucr_names

__all__ = [
    "DatasetNotFoundError",
    "MalformedDatasetError",
    "UCRDataset",
    "archive_root",
    "available_offline",
    "dataset_summary",
    "encode_labels",
    "load_ucr",
    "locate_dataset",
    "repo_data_dir",
    "suggest_names",
    "summary_row",
    "ucr_names",
    "validate_dataset_name",
]
