"""Errors raised by the data layer."""

from __future__ import annotations


class DatasetNotFoundError(FileNotFoundError):
    """No source could provide the requested dataset; the message lists every source tried."""


class MalformedDatasetError(ValueError):
    """A dataset file exists but cannot be used; the message names the file and the problem."""
