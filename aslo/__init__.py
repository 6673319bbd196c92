"""ASLO: adaptive sparse L0 adversarial attacks on time-series classifiers (reproducible artifact)."""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("aslo")  # written once, in pyproject.toml
except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    __version__ = "0+unknown"
