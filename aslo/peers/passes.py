"""Counting what an attack asks of the model and the machine: passes by hooks, peak memory.

Steps hide cost: VFGA runs ``2 x n_samples`` extra forwards per iteration, Brendel-Bethge solves
per sample, our attacks' searches evaluate candidates. :class:`PassCounter` wraps a model and
counts every forward call and every backward pass through its output, in calls and in series
(rows of the batch), whoever makes them, so every attack of a comparison is measured the same way.
"""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import torch

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


class PassCounter(torch.nn.Module):
    """``model`` with counters: ``forward_calls``/``forward_series`` (one per call / per row
    evaluated) and ``backward_calls``/``backward_series`` (one per gradient that flows back
    through an output / per row of it). :meth:`reset` sets them to zero."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model
        self.reset()

    def reset(self) -> None:
        """Set every counter to zero."""
        self.forward_calls = self.forward_series = self.backward_calls = self.backward_series = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The wrapped model's output; counts the call and, when a gradient later flows back
        through the output, the backward pass."""
        out = self.model(x)
        rows = int(x.shape[0])
        self.forward_calls += 1
        self.forward_series += rows
        if out.requires_grad:
            out.register_hook(lambda grad: self._backward(rows))
        return out

    def _backward(self, rows: int) -> None:
        self.backward_calls += 1
        self.backward_series += rows

    def per_series(self, n: int) -> dict[str, float]:
        """Forward and backward passes per attacked series (``n`` series in the batch)."""
        if n < 1:
            raise ValueError(f"n must be a positive number of series, got {n!r}")
        return {"forwards_per_series": self.forward_series / n, "backwards_per_series": self.backward_series / n}


@dataclass
class MemoryPeak:
    """The peak memory above the start of a :func:`peak_memory` block, in MB (NaN where the
    platform cannot tell; on CUDA, the largest tensor memory allocated)."""

    megabytes: float = math.nan


def _resident_kb(field: str) -> int | None:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


@contextlib.contextmanager
def peak_memory(device: torch.device | str = "cpu"):
    """Measure the peak memory of the block: on CUDA ``torch.cuda.max_memory_allocated`` above the
    start; on Linux the peak resident set (``VmHWM``, reset at the start through
    ``/proc/self/clear_refs``) above the resident set at the start; elsewhere NaN."""
    result = MemoryPeak()
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
        yield result
        result.megabytes = (torch.cuda.max_memory_allocated(device) - start) / 2**20
        return
    start = _resident_kb("VmRSS")
    try:
        _CLEAR_REFS.write_text("5")  # resets VmHWM to the current resident set
    except OSError:
        start = None
    yield result
    peak = _resident_kb("VmHWM") if start is not None else None
    if peak is not None:
        result.megabytes = max(peak - start, 0) / 1024
