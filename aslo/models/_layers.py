"""Small building blocks shared by the models."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SameConv1d(nn.Conv1d):
    """Stride-1 Conv1d with TensorFlow-style 'same' padding (extra pad on the right for even kernels).

    Pads explicitly, so even kernel sizes need no internal copy and raise no warning.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, padding=0, bias=bias)
        total = kernel_size - 1
        self._pad = (total // 2, total - total // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolve with 'same' output length."""
        return super().forward(F.pad(x, self._pad))
