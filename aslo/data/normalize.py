"""Gap filling, per-series z-normalisation and padding: the one rule every source goes through.

Rules (also stated in ``data/README.md``):

* **Trailing NaN = padding.** The run of NaN at the end of a row marks a variable-length series
  (AllGestureWiimote*, GestureMidAir*, GesturePebble*, PickupGestureWiimoteZ, ShakeGestureWiimoteZ,
  PLAID). The series is its observed prefix.
* **Interior NaN = missing values** (DodgerLoop*, MelbournePedestrian): filled by linear
  interpolation between the observed neighbours; a gap at the very start takes the first observed
  value. A row with no observed value at all is a malformed file.
* **Normalisation** (on by default, as in the parent code): ``(x - mean) / (std + 1e-8)`` per series,
  population std (``numpy.std``, ddof=0), computed in float64 over the observed prefix (gap-filled
  values included).
* **Padding**: every series is then padded at the end to the dataset's maximum observed length
  (over train and test) with its own mean, i.e. with zeros when normalised. Equal-length data without
  NaN is unchanged by these rules, so it matches the parent code exactly.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-8


def observed_lengths(values: np.ndarray) -> np.ndarray:
    """Return, per row, the length of the prefix before the trailing run of NaN (0 for all-NaN rows)."""
    observed = ~np.isnan(values)
    width = values.shape[1]
    last_from_end = np.argmax(observed[:, ::-1], axis=1)
    return np.where(observed.any(axis=1), width - last_from_end, 0).astype(np.int64)


def fill_interior_gaps(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Return a copy where NaN inside each observed prefix is linearly interpolated."""
    filled = values.copy()
    inside = np.arange(values.shape[1])[None, :] < lengths[:, None]
    gap_rows = np.flatnonzero((np.isnan(values) & inside).any(axis=1))
    for row in gap_rows:  # only the few rows with gaps; a data-loading step, not an attack step
        series = filled[row, : lengths[row]]
        known = ~np.isnan(series)
        positions = np.arange(series.size)
        series[~known] = np.interp(positions[~known], positions[known], series[known])
    return filled


def znormalize_and_pad(values: np.ndarray, lengths: np.ndarray, width: int,
                       normalize: bool = True) -> np.ndarray:
    """Z-normalise each row over its first ``lengths[i]`` values (if asked) and pad to ``width``.

    ``values`` must have no NaN inside the prefixes (see :func:`fill_interior_gaps`). Padding takes
    the row's mean over its prefix, which is 0 after normalisation.
    """
    n, stored = values.shape
    if stored < width:
        values = np.concatenate([values, np.zeros((n, width - stored))], axis=1)
    values = values[:, :width]
    inside = np.arange(width)[None, :] < lengths[:, None]
    prefix = np.where(inside, values, 0.0)
    count = lengths[:, None].astype(np.float64)
    mean = prefix.sum(axis=1, keepdims=True) / count
    if normalize:
        centred = np.where(inside, values - mean, 0.0)
        std = np.sqrt((centred * centred).sum(axis=1, keepdims=True) / count)
        return np.where(inside, centred / (std + EPS), 0.0)
    return np.where(inside, values, mean)
