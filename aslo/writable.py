"""Check, before any work starts, that an output folder can be created and written."""

from __future__ import annotations

import os
from pathlib import Path


class UnwritablePathError(ValueError):
    """An output folder cannot be created or written (the message names the path and why)."""


def require_writable_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """Return ``Path(path)`` if it is, or can be created as, a writable folder; else raise.

    Nothing is created: the nearest existing ancestor must be a folder we may write into.
    Raises :class:`UnwritablePathError` (a ValueError) naming ``what``, the path and the reason.
    """
    target = Path(path)
    probe = target
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        reason = "it is a file" if probe == target else f"{probe} is a file, not a folder"
        raise UnwritablePathError(f"{what} {target} cannot be created: {reason}")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UnwritablePathError(f"{what} {target} is not writable (no write permission on {probe})")
    return target
