"""The in-memory dataset every other layer receives."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class UCRDataset:
    """A loaded UCR dataset.

    ``x_train``/``x_test`` are float32 ``(N, 1, L)``; ``y_train``/``y_test`` int64 in ``0..K-1``,
    encoded over train and test together; ``classes[k]`` is the original label of class ``k``
    (sorted); ``source`` says which source served the data. ``lengths_train``/``lengths_test``
    are int64 ``(N,)``: each series' observed length, i.e. its time steps before the padding
    added to variable-length series (``L`` for every series of a fixed-length set, the default);
    :func:`aslo.observed.observed_mask` turns them into the mask the attacks and metrics take.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray
    source: str
    lengths_train: np.ndarray | None = None
    lengths_test: np.ndarray | None = None

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
        for split, x in (("train", self.x_train), ("test", self.x_test)):
            field = f"lengths_{split}"
            lengths = getattr(self, field)
            if lengths is None:  # a fixed-length set: every step observed
                object.__setattr__(self, field, np.full(x.shape[0], x.shape[2], dtype=np.int64))
                continue
            if not isinstance(lengths, np.ndarray) or lengths.dtype != np.int64 or lengths.shape != (x.shape[0],):
                raise ValueError(f"{self.name}: {field} must be int64 of shape ({x.shape[0]},)")
            if lengths.size and (lengths.min() < 1 or lengths.max() > x.shape[2]):
                raise ValueError(f"{self.name}: {field} must lie in 1..{x.shape[2]} (the padded length)")

    @property
    def n_classes(self) -> int:
        """Number of classes K (over train and test together)."""
        return len(self.classes)

    @property
    def length(self) -> int:
        """Series length L (after padding variable-length series)."""
        return int(self.x_train.shape[2])

    @property
    def variable_length(self) -> bool:
        """Whether some series (train or test) is shorter than ``length``, i.e. padded."""
        return bool((self.lengths_train < self.length).any() or (self.lengths_test < self.length).any())

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
