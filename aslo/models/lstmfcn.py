"""LSTM-FCN (Karim et al. 2018) with the dimension shuffle.

The LSTM sees the series transposed: C time steps (one for univariate data) whose feature vector
is the whole series of length L. Its last hidden state (size 64, as the paper group uses) passes a
real ``nn.Dropout(0.8)`` (a one-layer ``nn.LSTM(dropout=...)`` would apply none). The FCN branch is
conv128(8)-BN-ReLU-conv256(5)-BN-ReLU-conv128(3)-BN-ReLU + global average pooling. Both branches
are concatenated into a linear head returning logits. Parameters: about 0.27 M for the FCN and
head plus 4 * hidden * (L + hidden + 2) for the LSTM (so the total grows with L).

cuDNN refuses RNN backward in eval mode, which attacks need; on CUDA the LSTM therefore runs with
cuDNN disabled, so input gradients work in eval mode on CPU and GPU alike.
"""

from __future__ import annotations

import torch
from torch import nn

from aslo.models._layers import SameConv1d
from aslo.models._validation import check_sizes


class LSTMFCN(nn.Module):
    """LSTM-FCN classifier with dimension shuffle; returns logits."""

    def __init__(self, in_channels: int, n_classes: int, length: int, *, hidden: int = 64,
                 dropout: float = 0.8):
        super().__init__()
        check_sizes(in_channels, n_classes, length)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.length = length
        self.lstm = nn.LSTM(input_size=length, hidden_size=hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.fcn = nn.Sequential(
            SameConv1d(in_channels, 128, 8), nn.BatchNorm1d(128), nn.ReLU(),
            SameConv1d(128, 256, 5), nn.BatchNorm1d(256), nn.ReLU(),
            SameConv1d(256, 128, 3), nn.BatchNorm1d(128), nn.ReLU(),
        )
        self.fc = nn.Linear(hidden + 128, n_classes)

    def _lstm_features(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.length:
            raise ValueError(
                f"LSTMFCN was built for length {self.length}, got input of length {x.shape[-1]}"
            )
        # (N, C, L) is already "C steps of L features": the dimension shuffle.
        if x.is_cuda:
            with torch.backends.cudnn.flags(enabled=False):
                _, (h, _) = self.lstm(x)
        else:
            _, (h, _) = self.lstm(x)
        return self.dropout(h[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (N, C, L) to logits (N, n_classes)."""
        conv = self.fcn(x).mean(dim=-1)
        return self.fc(torch.cat([self._lstm_features(x), conv], dim=1))
