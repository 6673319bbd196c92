"""Observed time steps of variable-length series: per-series lengths -> one boolean mask.

Variable-length UCR series are padded at the end to the longest series of their dataset
(:mod:`aslo.data.normalize`); ``UCRDataset.lengths_train`` / ``lengths_test`` hold each series'
observed length. An attack on a series must only touch, and a metric only count, its observed
prefix. This module is the one place that turns lengths into the mask the attacks, the metrics
and the peers use; it needs only numpy and torch, so none of them imports the data loader.
"""

from __future__ import annotations

import numpy as np
import torch


def observed_mask(lengths, length: int, *, n: int | None = None) -> torch.Tensor:
    """Boolean ``(N, 1, L)`` CPU tensor, True on the first ``lengths[i]`` steps of series ``i``.

    The channel axis is 1 so the mask broadcasts over the channels of an ``(N, C, L)`` batch.
    ``lengths`` holds N integers in ``1..length`` (``length`` = the padded length L); ``n``, when
    given, is the number of series the lengths must describe. Raises ValueError naming the problem.
    """
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"length must be a positive integer (the padded series length), got {length!r}")
    values = lengths.detach().cpu() if isinstance(lengths, torch.Tensor) else None
    if values is None:
        try:
            values = torch.as_tensor(np.asarray(lengths))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"lengths cannot be converted to integers: {exc}") from exc
    if values.ndim != 1:
        raise ValueError(f"lengths must be one integer per series (shape (N,)), got shape {tuple(values.shape)}")
    if n is not None and values.numel() != n:
        raise ValueError(f"lengths has {values.numel()} entries but x has {n} series")
    if values.dtype == torch.bool or not (values.is_floating_point() or values.dtype in
                                          (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)):
        raise ValueError(f"lengths must hold integers, got dtype {values.dtype}")
    if values.is_floating_point() and (not torch.isfinite(values).all() or (values != values.round()).any()):
        raise ValueError("lengths must hold whole numbers (observed time steps per series)")
    values = values.to(torch.int64)
    outside = ((values < 1) | (values > int(length))).nonzero()
    if outside.numel():
        first = int(outside[0, 0])
        raise ValueError(f"lengths must lie in 1..{int(length)} (the padded length); series {first} "
                         f"has {int(values[first])}")
    steps = torch.arange(int(length))
    return (steps[None, :] < values[:, None]).unsqueeze(1)
