"""Sparse robustness from per-sample attack records: best L0, robustness curves, median L0.

A sample counts as broken within an L0 budget k when the attack found an adversarial example
changing at most k components. Records need ``success`` and ``l0``; when they carry ``best_l0``
(the sparse variants, the peers) that column is used: the smallest L0 among adversarial examples.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Fractions of the series length at which :func:`curve_points` reads the curve.
DEFAULT_FRACTIONS = (0.01, 0.02, 0.05, 0.1, 0.2)


def best_l0(records: pd.DataFrame) -> pd.Series:
    """Per sample: the smallest L0 of an adversarial example found (NaN where none was found)."""
    if not isinstance(records, pd.DataFrame):
        raise ValueError(f"records must be a pandas DataFrame, got {type(records).__name__}")
    missing = [c for c in ("success", "l0") if c not in records.columns]
    if missing:
        raise ValueError(f"records lack the column(s) {', '.join(missing)}")
    success = records["success"].astype(bool)
    l0 = records["best_l0"] if "best_l0" in records.columns else records["l0"]
    l0 = l0.astype(float)
    if (success & l0.isna()).any():
        raise ValueError("records mark a success with no L0 (best_l0 is NaN)")
    if (l0[success] < 0).any():
        raise ValueError("records hold a negative L0")
    return l0.where(success, math.nan).rename("best_l0")


def median_success_l0(records: pd.DataFrame) -> float:
    """Median L0 over the successful samples (NaN when there is none)."""
    values = best_l0(records).dropna()
    return float(values.median()) if len(values) else math.nan


def robustness_curve(records: pd.DataFrame, n_features: int, budgets=None) -> pd.DataFrame:
    """ASR as a function of the L0 budget.

    ``n_features`` is the number of components of one series (channels x length). ``budgets``
    (integers in 0..n_features) defaults to every budget. Returns columns ``budget``,
    ``fraction`` (budget / n_features) and ``asr`` (share of all samples broken within it).
    """
    if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) or n_features < 1:
        raise ValueError(f"n_features must be a positive integer, got {n_features!r}")
    values = best_l0(records).to_numpy()
    if len(values) == 0:
        raise ValueError("records are empty: no robustness curve")
    if np.nanmax(values, initial=0) > n_features:
        raise ValueError(f"an L0 exceeds n_features={n_features}: wrong n_features?")
    budgets = np.arange(n_features + 1) if budgets is None else np.asarray(budgets)
    if budgets.ndim != 1 or not np.isfinite(budgets.astype(float)).all() or (budgets < 0).any():
        raise ValueError("budgets must be a 1-D sequence of non-negative numbers")
    broken = np.nan_to_num(values, nan=np.inf)
    asr = (broken[None, :] <= budgets[:, None]).mean(axis=1)
    return pd.DataFrame({"budget": budgets, "fraction": budgets / n_features, "asr": asr})


def curve_points(records: pd.DataFrame, n_features: int, fractions=DEFAULT_FRACTIONS) -> dict:
    """The ASR at budgets of ``fractions`` of the series (k = floor(fraction * n_features)).

    Keys are ``asr@<percent>%`` (e.g. ``asr@5%``), in the order of ``fractions``.
    """
    fractions = list(fractions)
    if not fractions or any(not 0 <= float(f) <= 1 for f in fractions):
        raise ValueError(f"fractions must be numbers in [0, 1], got {fractions!r}")
    budgets = [int(math.floor(float(f) * n_features + 1e-9)) for f in fractions]
    curve = robustness_curve(records, n_features, budgets)
    return {f"asr@{100 * float(f):g}%": float(a) for f, a in zip(fractions, curve["asr"])}


#: Absolute L0 budgets at which :func:`budget_points` reads the curve.
DEFAULT_COUNTS = (1, 5, 10)


def budget_points(records: pd.DataFrame, n_features: int, counts=DEFAULT_COUNTS) -> dict:
    """The ASR at absolute L0 budgets ``counts`` (capped at ``n_features``); keys ``asr@k=<k>``."""
    counts = list(counts)
    if not counts or any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0 for k in counts):
        raise ValueError(f"counts must be non-negative integers, got {counts!r}")
    curve = robustness_curve(records, n_features, [min(int(k), int(n_features)) for k in counts])
    return {f"asr@k={k}": float(a) for k, a in zip(counts, curve["asr"])}


def plot_robustness_curves(curves: dict, ax=None, title: str | None = None):
    """Plot ``{label: robustness_curve(...)}`` as ASR against the fraction of changed time steps."""
    import matplotlib.pyplot as plt

    if not curves:
        raise ValueError("no curves to plot")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    for label, curve in curves.items():
        ax.step(100 * curve["fraction"], curve["asr"], where="post", label=str(label))
    ax.set_xlabel("L0 budget (% of time steps changed)")
    ax.set_ylabel("attack success rate")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, None)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return ax
