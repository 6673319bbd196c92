"""Per-sample attack metrics and per-run summaries (the paper's Eq. 1-4).

Distances: the paper's Eq. 2 writes the L2 norm ``||X' - X||_2``; the parent code reported the
*squared* L2 distance (sum of squared differences). Both are computed per sample; summaries use
``distance="l2"`` (as written in the paper) by default and ``distance="l2_squared"`` on request.

Variable-length series (padded to the longest one) are measured on their observed time steps only:
given ``lengths``, L0, close-to-0 and the distances ignore the padding, and ``observed_length``
says how many steps each series has (``L`` for fixed-length data, where nothing changes).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from .observed import observed_mask

#: |delta| below this counts as "close to 0" (paper Eq. 3-4); above it counts towards L0.
ZERO_THRESHOLD = 1e-6

#: Columns of :func:`per_sample_metrics`, in order.
METRIC_COLUMNS = ("success", "success_true_label", "l2", "l2_squared", "linf", "l0", "close_to_zero",
                  "observed_length")

#: Distances :func:`summarize` can aggregate.
DISTANCES = ("l2", "l2_squared", "linf")


def _as_tensor(value, name: str, dtype=None) -> torch.Tensor:
    """Convert an array-like to a CPU tensor, naming the argument when that fails."""
    try:
        tensor = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: cannot be converted to a tensor ({exc})") from exc
    tensor = tensor.detach().cpu()
    return tensor.to(dtype) if dtype is not None else tensor


def per_sample_metrics(x, x_adv, clean_pred, adv_pred, y_true, *, delta=None, lengths=None) -> pd.DataFrame:
    """One row per sample: success flags, L2 / squared L2 / Linf distance, L0 and close-to-0 counts.

    ``success`` compares the adversarial prediction with the clean prediction (as the parent code
    does); ``success_true_label`` compares it with the true label. ``delta`` (optional) is the exact
    perturbation; without it ``x_adv - x`` is used, whose float32 rounding can blur the 1e-6
    close-to-0 threshold for large |x|. ``lengths`` (optional, for (N, C, L) input: N observed
    lengths in 1..L) restricts every count and distance to each series' observed steps; the
    column ``observed_length`` holds them (``L`` without ``lengths``).
    """
    x_t = _as_tensor(x, "x", torch.float64)
    xa_t = _as_tensor(x_adv, "x_adv", torch.float64)
    if x_t.shape != xa_t.shape or x_t.ndim < 1:
        raise ValueError(f"x and x_adv must have the same shape (got {tuple(x_t.shape)} and {tuple(xa_t.shape)})")
    n = x_t.shape[0]
    preds = {name: _as_tensor(v, name).reshape(-1) for name, v in
             (("clean_pred", clean_pred), ("adv_pred", adv_pred), ("y_true", y_true))}
    for name, value in preds.items():
        if value.numel() != n:
            raise ValueError(f"{name} has {value.numel()} entries but x has {n} samples")
    d = (xa_t - x_t) if delta is None else _as_tensor(delta, "delta", torch.float64)
    if d.shape != x_t.shape:
        raise ValueError(f"delta must have the shape of x {tuple(x_t.shape)}, got {tuple(d.shape)}")
    if not torch.isfinite(d).all():
        raise ValueError("the perturbation contains NaN or inf")
    steps = x_t.shape[-1] if x_t.ndim >= 2 else 1
    if lengths is None:
        observed_length = np.full(n, steps, dtype=np.int64)
        counted = None
    else:
        if x_t.ndim != 3:
            raise ValueError(f"lengths need x of shape (N, C, L), got {tuple(x_t.shape)}")
        mask = observed_mask(lengths, steps, n=n)
        observed_length = mask.sum(dim=(1, 2)).numpy().astype(np.int64)
        counted = mask.expand(x_t.shape).reshape(n, -1)
        d = d.masked_fill(~mask, 0.0)
    flat = d.reshape(n, -1)
    absd = flat.abs()
    l2_sq = (flat * flat).sum(dim=1)
    above, below = absd > ZERO_THRESHOLD, absd < ZERO_THRESHOLD
    if counted is not None:
        above, below = above & counted, below & counted
    return pd.DataFrame({
        "success": (preds["adv_pred"] != preds["clean_pred"]).numpy(),
        "success_true_label": (preds["adv_pred"] != preds["y_true"]).numpy(),
        "l2": l2_sq.sqrt().numpy(),
        "l2_squared": l2_sq.numpy(),
        "linf": absd.amax(dim=1).numpy() if flat.shape[1] else np.zeros(n),
        "l0": above.sum(dim=1).numpy().astype(np.int64),
        "close_to_zero": below.sum(dim=1).numpy().astype(np.int64),
        "observed_length": observed_length,
    })


def _mean_or_nan(values: pd.Series) -> float:
    """Mean of a column, NaN (silently) when it is empty."""
    return float(values.mean()) if len(values) else math.nan


def summarize(records: pd.DataFrame, duration: float, distance: str = "l2") -> dict:
    """Aggregate per-sample records into the paper's run summary.

    Returns ``asr`` (Eq. 1: n_success / n), ``mean_success_distance`` (Eq. 2, over successes),
    ``mean_failure_distance``, ``overall_mean_distance``, ``duration`` (seconds), ``close_to_zero``
    (per-sample mean of the Eq. 3 count), ``mean_l0``, ``n``, ``n_success``, ``n_fail`` and the
    ``distance`` used. ``distance`` is ``"l2"`` (the paper's Eq. 2, default), ``"l2_squared"``
    (the parent code's distance) or ``"linf"``. Empty groups give NaN, without warnings.
    """
    if distance not in DISTANCES:
        raise ValueError(f"unknown distance {distance!r}; choose one of {', '.join(DISTANCES)}")
    missing = [c for c in ("success", distance, "l0", "close_to_zero") if c not in records.columns]
    if missing:
        raise ValueError(f"records lack the column(s) {', '.join(missing)}")
    try:
        duration = float(duration)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"duration must be a number of seconds, got {duration!r}") from exc
    if not math.isfinite(duration) or duration < 0:
        raise ValueError(f"duration must be a finite, non-negative number of seconds, got {duration}")
    success = records["success"].astype(bool)
    dist = records[distance].astype(float)
    n = int(len(records))
    n_success = int(success.sum())
    return {
        "asr": n_success / n if n else math.nan,
        "mean_success_distance": _mean_or_nan(dist[success]),
        "mean_failure_distance": _mean_or_nan(dist[~success]),
        "overall_mean_distance": _mean_or_nan(dist),
        "duration": duration,
        "close_to_zero": _mean_or_nan(records["close_to_zero"].astype(float)),
        "mean_l0": _mean_or_nan(records["l0"].astype(float)),
        "n": n,
        "n_success": n_success,
        "n_fail": n - n_success,
        "distance": distance,
    }
