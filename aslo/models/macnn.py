"""MACNN: multi-scale attention CNN (Chen and Shi, Neural Networks 2021), as in the authors' code.

Blocks of three parallel convs (kernels 3, 6, 12, 'same' padding, with bias), BN, ReLU and a
squeeze-excitation gate (mean over time -> dense C/16 + ReLU -> dense C + sigmoid -> scale).
Two blocks of 64 filters per branch, max-pool (3, stride 2), two of 128, max-pool, two of 256,
mean over time, linear head on 768 features. About 8.2 M parameters. The gate is a registered,
trained sub-module, it uses a sigmoid, and ``forward`` returns logits (no softmax).
"""

from __future__ import annotations

import torch
from torch import nn

from aslo.models._layers import SameConv1d
from aslo.models._validation import check_sizes


class SqueezeExcitation(nn.Module):
    """Channel gate: sigmoid(W2 relu(W1 mean_t(x))) * x, bias-free dense layers."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.fc1 = nn.Linear(channels, max(1, channels // reduction), bias=False)
        self.fc2 = nn.Linear(max(1, channels // reduction), channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scale each channel of (N, C, L) by its learned gate."""
        gate = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=-1)))))
        return x * gate.unsqueeze(-1)


class MACNNBlock(nn.Module):
    """Multi-scale conv block followed by a squeeze-excitation gate."""

    def __init__(self, in_channels: int, filters: int, kernel_sizes=(3, 6, 12), reduction=16):
        super().__init__()
        self.convs = nn.ModuleList(
            SameConv1d(in_channels, filters, k) for k in kernel_sizes
        )
        width = filters * len(kernel_sizes)
        self.bn = nn.BatchNorm1d(width)
        self.relu = nn.ReLU()
        self.se = SqueezeExcitation(width, reduction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (N, C_in, L) to (N, 3 * filters, L)."""
        x = self.relu(self.bn(torch.cat([conv(x) for conv in self.convs], dim=1)))
        return self.se(x)


class MACNN(nn.Module):
    """The MACNN classifier (64/128/256 filters per branch, 2 blocks each); returns logits."""

    def __init__(self, in_channels: int, n_classes: int, length: int, *,
                 filters=(64, 128, 256), blocks_per_stage: int = 2, reduction: int = 16):
        super().__init__()
        check_sizes(in_channels, n_classes, length)
        layers: list[nn.Module] = []
        c_in = in_channels
        for stage, f in enumerate(filters):
            if stage > 0:
                # ceil(L / 2) outputs, like the authors' max-pool with 'same' padding.
                layers.append(nn.MaxPool1d(3, stride=2, padding=1))
            for _ in range(blocks_per_stage):
                layers.append(MACNNBlock(c_in, f, reduction=reduction))
                c_in = f * 3
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c_in, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (N, C, L) to logits (N, n_classes)."""
        return self.fc(self.features(x).mean(dim=-1))
