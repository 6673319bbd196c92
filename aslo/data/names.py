"""Validation of dataset names (they become folder and file names, so no paths get in)."""

from __future__ import annotations

import re

_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")


def validate_dataset_name(name: str) -> str:
    """Return ``name`` unchanged if it is a safe dataset name (``[A-Za-z0-9_-]+``), else raise ValueError."""
    if not isinstance(name, str):
        raise ValueError(f"dataset name must be a string, got {type(name).__name__}")
    if not _NAME_PATTERN.fullmatch(name):
        shown = repr(name) if name else "an empty string"
        raise ValueError(
            f"invalid dataset name {shown}: use only letters, digits, '_' and '-' "
            "(no paths, slashes or spaces), e.g. 'GunPoint'"
        )
    return name
