"""Shared argument checks for the model constructors."""

from __future__ import annotations


def check_sizes(in_channels: int, n_classes: int, length: int, *, min_length: int = 1) -> None:
    """Raise ValueError naming the first invalid size (channels >= 1, classes >= 2, length)."""
    for name, value, minimum in (
        ("in_channels", in_channels, 1),
        ("n_classes", n_classes, 2),
        ("length", length, min_length),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
