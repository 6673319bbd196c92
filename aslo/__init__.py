"""ASLO: adaptive sparse L0 adversarial attacks on time-series classifiers (reproducible artifact)."""

__version__ = "0.1.0"
