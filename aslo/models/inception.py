"""One InceptionTime network (Ismail Fawaz et al. 2020), as in the authors' Keras code.

Six Inception modules with a residual shortcut after every third; global average pooling and a
linear head. About 0.42 M parameters for univariate input. Returns logits.
"""

from __future__ import annotations

import torch
from torch import nn

from aslo.models._layers import SameConv1d
from aslo.models._validation import check_sizes


class InceptionModule(nn.Module):
    """Bottleneck (if more than one input channel), three wide convs and a max-pool branch."""

    def __init__(self, in_channels: int, filters: int = 32, kernel_sizes=(40, 20, 10)):
        super().__init__()
        # The authors skip the bottleneck when the input has a single channel.
        self.bottleneck = (
            nn.Conv1d(in_channels, filters, 1, bias=False) if in_channels > 1 else nn.Identity()
        )
        branch_in = filters if in_channels > 1 else in_channels
        self.convs = nn.ModuleList(
            SameConv1d(branch_in, filters, k, bias=False) for k in kernel_sizes
        )
        self.pool = nn.MaxPool1d(3, stride=1, padding=1)
        self.pool_conv = nn.Conv1d(in_channels, filters, 1, bias=False)
        self.bn = nn.BatchNorm1d(filters * (len(kernel_sizes) + 1))
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (N, C_in, L) to (N, 4 * filters, L)."""
        z = self.bottleneck(x)
        branches = [conv(z) for conv in self.convs]
        branches.append(self.pool_conv(self.pool(x)))
        return self.relu(self.bn(torch.cat(branches, dim=1)))


class Shortcut(nn.Module):
    """Residual connection: 1x1 conv + BN on the shortcut, add, ReLU."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, 1, bias=False)
        self.bn = nn.BatchNorm1d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, residual: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Add the projected residual to ``x`` and apply ReLU."""
        return self.relu(x + self.bn(self.conv(residual)))


class InceptionTime(nn.Module):
    """A single InceptionTime network (depth 6, 32 filters, kernels 40/20/10); returns logits."""

    def __init__(self, in_channels: int, n_classes: int, length: int, *, depth: int = 6,
                 filters: int = 32):
        super().__init__()
        check_sizes(in_channels, n_classes, length)
        width = filters * 4
        self.modules_list = nn.ModuleList(
            InceptionModule(in_channels if i == 0 else width, filters) for i in range(depth)
        )
        self.shortcuts = nn.ModuleList()
        res_channels = in_channels
        for i in range(depth):
            if i % 3 == 2:
                self.shortcuts.append(Shortcut(res_channels, width))
                res_channels = width
        self.fc = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (N, C, L) to logits (N, n_classes)."""
        residual = x
        shortcuts = iter(self.shortcuts)
        for i, module in enumerate(self.modules_list):
            x = module(x)
            if i % 3 == 2:
                x = next(shortcuts)(residual, x)
                residual = x
        return self.fc(x.mean(dim=-1))
