"""Counting what an attack asks of the model: forward and backward passes, by hooks.

Steps hide cost: VFGA runs ``2 x n_samples`` extra forwards per iteration, Brendel-Bethge solves
per sample, our attacks' searches evaluate candidates. :class:`PassCounter` wraps a model and
counts every forward call and every backward pass through its output, in calls and in series
(rows of the batch), whoever makes them, so every attack of a comparison is measured the same way.
"""

from __future__ import annotations

import torch


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
