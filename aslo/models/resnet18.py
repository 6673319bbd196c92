"""1-D ResNet18 classifiers.

``variant="group"`` (default) follows the paper group's ``Classifier_ResNet18`` (ADMA2024
framework), which is what the paper's authors attacked: a stem conv (kernel 7, stride 2) + BN,
then seven residual blocks 64->64 (kernel 7), 64->128, 128->128/s2, 128->256, 256->256/s2,
256->512, 512->512/s2 (kernel 3). As in that code, a block is conv-BN-conv-BN (no ReLU between
the two convs, none after the stem), a 1x1 conv + BN shortcut where stride or width changes, and
ReLU after the addition. About 4.2 M parameters, 16x downsampling.

``variant="torchvision"`` is the textbook layout (stem conv7/s2 + BN + ReLU + max-pool, four stages
of two basic blocks with ReLU inside, 64-512 channels, about 3.8 M parameters).
Both end in global average pooling and a linear head returning logits.
"""

from __future__ import annotations

import torch
from torch import nn

from aslo.models._validation import check_sizes

RESNET18_VARIANTS = ("group", "torchvision")


def _conv_bn(c_in: int, c_out: int, kernel: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, kernel, stride=stride, padding=(kernel - 1) // 2, bias=False),
        nn.BatchNorm1d(c_out),
    )


class ResidualBlock(nn.Module):
    """Two conv+BN layers with a projected shortcut; ``inner_relu`` adds ReLU between them."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, *, inner_relu: bool):
        super().__init__()
        self.conv1 = _conv_bn(c_in, c_out, kernel, stride)
        self.inner = nn.ReLU() if inner_relu else nn.Identity()
        self.conv2 = _conv_bn(c_out, c_out, kernel, 1)
        self.shortcut = (
            _conv_bn(c_in, c_out, 1, stride) if stride != 1 or c_in != c_out else nn.Identity()
        )
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual block forward pass."""
        return self.relu(self.conv2(self.inner(self.conv1(x))) + self.shortcut(x))


class ResNet18(nn.Module):
    """1-D ResNet18 (``variant`` "group" or "torchvision"); returns logits."""

    def __init__(self, in_channels: int, n_classes: int, length: int, *, variant: str = "group"):
        super().__init__()
        check_sizes(in_channels, n_classes, length)
        if variant not in RESNET18_VARIANTS:
            raise ValueError(
                f"unknown resnet18 variant {variant!r}; valid: {', '.join(RESNET18_VARIANTS)}"
            )
        self.variant = variant
        if variant == "group":
            self.stem = _conv_bn(in_channels, 64, 7, 2)
            channels = [64, 64, 128, 128, 256, 256, 512, 512]
            kernels = [7, 3, 3, 3, 3, 3, 3]
            strides = [1, 1, 2, 1, 2, 1, 2]
            self.blocks = nn.Sequential(*(
                ResidualBlock(channels[i], channels[i + 1], kernels[i], strides[i],
                              inner_relu=False)
                for i in range(7)
            ))
        else:
            self.stem = nn.Sequential(
                _conv_bn(in_channels, 64, 7, 2), nn.ReLU(), nn.MaxPool1d(3, 2, padding=1)
            )
            blocks = []
            c_in = 64
            for c_out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                blocks.append(ResidualBlock(c_in, c_out, 3, stride, inner_relu=True))
                blocks.append(ResidualBlock(c_out, c_out, 3, 1, inner_relu=True))
                c_in = c_out
            self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (N, C, L) to logits (N, n_classes)."""
        return self.fc(self.blocks(self.stem(x)).mean(dim=-1))
