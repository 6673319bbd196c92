"""Checks and tensor views of a UCRDataset-like object, done before any training work."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
import torch

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class CheckedData:
    """Validated float32/int64 arrays of one dataset plus its shape facts."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    test_finite: bool

    @property
    def shape(self) -> dict:
        """The facts a checkpoint must match: sizes, channels, length, classes."""
        return {
            "n_train": int(self.x_train.shape[0]),
            "n_test": int(self.x_test.shape[0]),
            "in_channels": int(self.x_train.shape[1]),
            "length": int(self.x_train.shape[2]),
            "n_classes": int(self.n_classes),
        }

    def fingerprint(self) -> str:
        """Short SHA-256 of all arrays (detects changed data behind an unchanged shape)."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]


def _as_numpy(value, what: str, name: str) -> np.ndarray:
    if value is None:
        raise ValueError(f"dataset {name!r}: {what} is missing")
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def check_dataset(dataset) -> CheckedData:
    """Validate a UCRDataset-like object; raise ValueError naming the problem.

    The training split must be finite and well-formed. The test split must be well-formed; if it
    holds non-finite values training still runs (it never reads the test split), and the caller
    skips the test accuracy.
    """
    name = getattr(dataset, "name", None)
    if not isinstance(name, str) or not _SAFE_NAME.match(name):
        raise ValueError(f"dataset name must be a plain file-name-safe string, got {name!r}")
    arrays = {}
    for split in ("train", "test"):
        x = _as_numpy(getattr(dataset, f"x_{split}", None), f"x_{split}", name)
        y = _as_numpy(getattr(dataset, f"y_{split}", None), f"y_{split}", name)
        if x.ndim != 3:
            raise ValueError(f"dataset {name!r}: x_{split} must have shape (N, C, L), got {x.shape}")
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError(
                f"dataset {name!r}: y_{split} must have shape ({len(x)},), got {y.shape}"
            )
        if not np.issubdtype(x.dtype, np.number):
            raise ValueError(f"dataset {name!r}: x_{split} is not numeric ({x.dtype})")
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"dataset {name!r}: y_{split} must hold integer labels ({y.dtype})")
        arrays[split] = (x.astype(np.float32, copy=False), y.astype(np.int64, copy=False))
    (x_train, y_train), (x_test, y_test) = arrays["train"], arrays["test"]
    if len(x_train) < 2:
        raise ValueError(f"dataset {name!r}: need at least 2 training series, got {len(x_train)}")
    if x_test.shape[1:] != x_train.shape[1:]:
        raise ValueError(
            f"dataset {name!r}: test series shape {x_test.shape[1:]} differs from train "
            f"{x_train.shape[1:]}"
        )
    if not np.isfinite(x_train).all():
        bad = int((~np.isfinite(x_train)).sum())
        raise ValueError(f"dataset {name!r}: x_train contains {bad} NaN/inf value(s)")
    n_classes = getattr(dataset, "n_classes", None)
    if n_classes is None:
        n_classes = int(max(y_train.max(), y_test.max() if len(y_test) else 0)) + 1
    for split, y in (("train", y_train), ("test", y_test)):
        if len(y) and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(
                f"dataset {name!r}: y_{split} labels must lie in 0..{n_classes - 1}, "
                f"got {y.min()}..{y.max()}"
            )
    if n_classes < 2:
        raise ValueError(f"dataset {name!r}: need at least 2 classes, got {n_classes}")
    return CheckedData(name, x_train, y_train, x_test, y_test, int(n_classes),
                       bool(np.isfinite(x_test).all()))
