"""Validation of cell summaries and their aggregation over seeds and datasets.

Every number in Table 1 and Figure 1 is aggregated the same way: for each (model, attack,
dataset) the mean over seeds, then the unweighted mean over datasets. Distances of a cell with
no successful (or no failed) sample are NaN and are left out of those means; every other metric
must be finite.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aslo.report.labels import model_label

KEY_COLUMNS = ("dataset", "model", "attack", "seed")
# Distances are undefined (NaN) when a cell has no successes or no failures.
NULLABLE_METRICS = ("mean_success_distance", "mean_failure_distance", "overall_mean_distance")
REQUIRED_METRICS = ("asr", "duration", "close_to_zero")


def validate_summaries(summaries: pd.DataFrame, metrics: tuple[str, ...]) -> pd.DataFrame:
    """Check a summary frame has the key columns and usable ``metrics``; return a clean copy.

    Adds a ``model_label`` column (the paper's model names). Raises ``TypeError`` for a
    non-DataFrame, ``ValueError`` for an empty frame, missing columns, several profiles,
    unknown models, duplicated cells or non-finite values in a required metric.
    """
    if not isinstance(summaries, pd.DataFrame):
        raise TypeError(f"summaries must be a pandas DataFrame, got {type(summaries).__name__}")
    if summaries.empty:
        raise ValueError("summaries is empty: run the experiment grid first (aslo run)")
    missing = [c for c in (*KEY_COLUMNS, *metrics) if c not in summaries.columns]
    if missing:
        raise ValueError(f"summaries lacks column(s) {missing}; has {list(summaries.columns)}")
    frame = summaries.copy()
    if "profile" in frame.columns and frame["profile"].nunique() > 1:
        raise ValueError(
            f"summaries mixes profiles {sorted(frame['profile'].unique())}; report one profile at a time"
        )
    frame["model_label"] = [model_label(m) for m in frame["model"]]
    frame["attack"] = frame["attack"].astype(str).str.upper()
    duplicated = frame.duplicated(subset=list(KEY_COLUMNS))
    if duplicated.any():
        first = frame.loc[duplicated, list(KEY_COLUMNS)].iloc[0].to_dict()
        raise ValueError(f"summaries holds the same cell twice, e.g. {first}")
    for column in metrics:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float))
        if column in NULLABLE_METRICS:
            bad &= ~frame[column].isna().to_numpy()  # NaN allowed, inf or text not
        if bad.any():
            row = frame.loc[bad, list(KEY_COLUMNS)].iloc[0].to_dict()
            raise ValueError(f"column {column!r} has a non-finite or non-numeric value in cell {row}")
        frame[column] = values.astype(float)
    return frame


def aggregate(frame: pd.DataFrame, metrics: tuple[str, ...]) -> pd.DataFrame:
    """Mean over seeds per (model, attack, dataset), then mean over datasets per (model, attack).

    ``frame`` must come from :func:`validate_summaries`. Returns one row per (model_label,
    attack) with the aggregated ``metrics`` and ``n_datasets`` / ``n_seeds`` (seeds per dataset,
    the largest count).
    """
    per_dataset = frame.groupby(["model_label", "attack", "dataset"], sort=False)
    seed_means = per_dataset[list(metrics)].mean()
    seed_counts = per_dataset["seed"].nunique().rename("n_seeds")
    by_dataset = pd.concat([seed_means, seed_counts], axis=1).reset_index()
    grouped = by_dataset.groupby(["model_label", "attack"], sort=False)
    result = grouped[list(metrics)].mean()
    result["n_datasets"] = grouped["dataset"].nunique()
    result["n_seeds"] = grouped["n_seeds"].max()
    return result.reset_index()
