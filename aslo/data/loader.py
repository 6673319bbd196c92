"""``load_ucr``: walk the chain of sources, then encode labels, fill gaps, normalise and pad."""

from __future__ import annotations

import os

import numpy as np

from .dataset import UCRDataset
from .errors import DatasetNotFoundError, MalformedDatasetError
from .names import validate_dataset_name
from .normalize import fill_interior_gaps, observed_lengths, znormalize_and_pad
from .raw import RawSplit
from .sources import SourceUnavailable, default_sources
from .summary import suggest_names, ucr_names

README_HINT = (
    "To get the data, download the UCR 2018 archive and unpack it to data/UCRArchive_2018 "
    "(or point $ASLO_DATA_DIR at it); see data/README.md."
)


def encode_labels(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map labels to ``0..K-1`` over train and test together; return (classes, y_train, y_test).

    Numeric labels that are all whole numbers (e.g. ``1.0000000e+00``) come back as int64 classes.
    """
    both = np.concatenate([train, test])
    classes, codes = np.unique(both, return_inverse=True)
    if classes.dtype.kind == "f" and np.all(classes == np.round(classes)):
        classes = classes.astype(np.int64)
    codes = codes.astype(np.int64).reshape(-1)
    return classes, codes[: len(train)], codes[len(train):]


def _prepare(split: RawSplit) -> tuple[np.ndarray, np.ndarray]:
    lengths = observed_lengths(split.values)
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        raise MalformedDatasetError(f"{split.path}: series {empty[0] + 1} has no values (all NaN)")
    return fill_interior_gaps(split.values, lengths), lengths


def assemble(name: str, train: RawSplit, test: RawSplit, *, normalize: bool = True,
             source: str = "") -> UCRDataset:
    """Turn two raw splits into a :class:`UCRDataset` (rules in :mod:`aslo.data.normalize`)."""
    if not train.has_nan and not test.has_nan and train.values.shape[1] != test.values.shape[1]:
        raise MalformedDatasetError(
            f"{train.path} and {test.path}: series lengths differ "
            f"(train {train.values.shape[1]}, test {test.values.shape[1]}) and neither is NaN-padded"
        )
    if train.labels.dtype.kind != test.labels.dtype.kind:
        raise MalformedDatasetError(f"{train.path} and {test.path}: one has numeric labels, the other text labels")
    classes, y_train, y_test = encode_labels(train.labels, test.labels)
    if len(classes) < 2:
        raise MalformedDatasetError(
            f"{train.path} and {test.path}: only one class ({classes[0]!r}) over train and test"
        )
    (v_train, len_train), (v_test, len_test) = _prepare(train), _prepare(test)
    width = int(max(len_train.max(), len_test.max()))
    x_train = znormalize_and_pad(v_train, len_train, width, normalize)
    x_test = znormalize_and_pad(v_test, len_test, width, normalize)
    limit = np.finfo(np.float32).max
    for split, x in ((train, x_train), (test, x_test)):
        if not (np.abs(x) <= limit).all():  # also catches NaN/inf, so none can leave load_ucr
            raise MalformedDatasetError(f"{split.path}: values overflow float32 (|x| > {limit:.3g})")
    return UCRDataset(
        name=name,
        x_train=x_train.astype(np.float32)[:, None, :],
        y_train=y_train,
        x_test=x_test.astype(np.float32)[:, None, :],
        y_test=y_test,
        classes=classes,
        source=source,
        lengths_train=len_train.astype(np.int64),
        lengths_test=len_test.astype(np.int64),
    )


def load_ucr(name: str, root: str | os.PathLike | None = None, *, normalize: bool = True,
             download: bool = True) -> UCRDataset:
    """Load a UCR 2018 dataset as float32 ``(N, 1, L)`` arrays with labels ``0..K-1``.

    Sources, in order: the local archive (``root``, else ``$ASLO_DATA_DIR``, else
    ``<repo>/data/UCRArchive_2018``), aeon's bundled datasets, aeon's download cache (downloading
    only when ``download`` is true). ``normalize`` applies the parent code's per-series
    z-normalisation. Raises ValueError for an invalid name, :class:`DatasetNotFoundError` when no
    source has the data, :class:`MalformedDatasetError` when the files are unusable.
    """
    validate_dataset_name(name)
    if not isinstance(normalize, bool) or not isinstance(download, bool):
        raise ValueError("normalize and download must be True or False")
    known = name in ucr_names()
    failures = []
    for source in default_sources(root, download):
        if not known and not source.serves_any_name:
            failures.append(f"{source.label}: serves only the 128 UCR 2018 datasets")
            continue
        try:
            train, test = source.load(name)
        except SourceUnavailable as exc:
            failures.append(f"{source.label}: {exc}")
            continue
        return assemble(name, train, test, normalize=normalize, source=source.label)
    raise DatasetNotFoundError(_not_found_message(name, known, failures))


def _not_found_message(name: str, known: bool, failures: list[str]) -> str:
    if known:
        head = f"dataset {name!r} was not found in any source."
    else:
        close = suggest_names(name)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        head = (f"unknown dataset {name!r}: it is not one of the 128 UCR 2018 datasets "
                f"(see `aslo data list`) and no local archive folder holds it.{hint}")
    tried = "\n".join(f"  - {line}" for line in failures)
    return f"{head}\nSources tried:\n{tried}\n{README_HINT}"


def locate_dataset(name: str, root: str | os.PathLike | None = None,
                   download: bool = True) -> tuple[str, str] | None:
    """Return (source label, location) that :func:`load_ucr` would use, without reading any data.

    Returns None when no source holds it and it cannot be downloaded; for a UCR dataset that would
    be downloaded, the location is the cache folder it would land in. Raises
    :class:`MalformedDatasetError` naming the file when the local archive folder holds only one
    split or an empty split file (as :func:`load_ucr` would).
    """
    validate_dataset_name(name)
    known = name in ucr_names()
    for source in default_sources(root, download):
        if not known and not source.serves_any_name:
            continue
        folder = source.locate(name)
        if folder is not None:
            return source.label, str(folder)
        if getattr(source, "download", False) and known:
            return source.label, f"{source.cache_dir / name} (download needed)"
    return None


def _archive_entries(archive) -> list[str]:
    if not archive.root.is_dir():
        return []
    names = []
    for entry in sorted(archive.root.iterdir()):
        try:
            names.append(validate_dataset_name(entry.name))
        except ValueError:
            continue  # hidden scratch folders of a fetch in progress, stray files
    return names


def offline_sources(root: str | os.PathLike | None = None) -> dict[str, str]:
    """Return ``{name: kind}`` for every dataset loadable without a network, sorted by name.

    ``kind`` is the first source that serves it: "local archive" (any complete folder of the
    archive, whatever its name), "aeon bundled" or "aeon cache". Broken local folders are left out
    (see :func:`broken_local_datasets`).
    """
    sources = default_sources(root, download=False)
    archive = sources[0]
    found = {}
    for name in _archive_entries(archive):
        if archive.broken(name) is None and archive.locate(name) is not None:
            found[name] = archive.kind
    for source in sources[1:]:
        for name in source.available():
            found.setdefault(name, source.kind)
    return dict(sorted(found.items()))


def broken_local_datasets(root: str | os.PathLike | None = None) -> dict[str, str]:
    """Return ``{name: problem}`` for local archive folders holding one split or an empty file."""
    archive = default_sources(root, download=False)[0]
    problems = {name: archive.broken(name) for name in _archive_entries(archive)}
    return {name: problem for name, problem in problems.items() if problem is not None}


def available_offline(root: str | os.PathLike | None = None) -> list[str]:
    """Return the sorted names loadable on this machine without a network.

    That is every complete folder of the local archive (any valid name), the UCR sets aeon ships,
    and complete copies in aeon's download cache.
    """
    return list(offline_sources(root))
