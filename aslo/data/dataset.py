"""The in-memory dataset every other layer receives."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class UCRDataset:
    """A loaded UCR dataset.

    ``x_train``/``x_test`` are float32 ``(N, 1, L)``; ``y_train``/``y_test`` int64 in ``0..K-1``,
    encoded over train and test together; ``classes[k]`` is the original label of class ``k``
    (sorted); ``source`` says which source served the data.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray
    source: str

    def __post_init__(self) -> None:
        for split, x, y in (("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test)):
            if x.dtype != np.float32 or x.ndim != 3:
                raise ValueError(f"{self.name}: x_{split} must be float32 (N, C, L), got {x.dtype} {x.shape}")
            if y.dtype != np.int64 or y.shape != (x.shape[0],):
                raise ValueError(f"{self.name}: y_{split} must be int64 of shape ({x.shape[0]},)")
            if y.size and (y.min() < 0 or y.max() >= len(self.classes)):
                raise ValueError(f"{self.name}: y_{split} has labels outside 0..{len(self.classes) - 1}")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"{self.name}: train {self.x_train.shape} and test {self.x_test.shape} differ in shape")

    @property
    def n_classes(self) -> int:
        """Number of classes K (over train and test together)."""
        return len(self.classes)

    @property
    def length(self) -> int:
        """Series length L (after padding variable-length series)."""
        return int(self.x_train.shape[2])

    @property
    def in_channels(self) -> int:
        """Number of channels C (1 for the UCR archive)."""
        return int(self.x_train.shape[1])

    def class_counts(self, split: str = "train") -> np.ndarray:
        """Return the number of series per class (length K) in ``split`` ("train" or "test")."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        y = self.y_train if split == "train" else self.y_test
        return np.bincount(y, minlength=self.n_classes)

    def __repr__(self) -> str:
        return (f"UCRDataset({self.name!r}, train={self.x_train.shape}, test={self.x_test.shape}, "
                f"classes={self.n_classes}, source={self.source!r})")
