"""Perturbation regularisers, per sample (shape (B,)); they take tensors and scalars only."""

from __future__ import annotations

import torch


def l0_surrogate(delta: torch.Tensor, sigma) -> torch.Tensor:
    """The paper's smooth L0: ``sum_i d_i^2 / (d_i^2 + sigma^2)`` per sample.

    ``sigma`` is a scalar or a per-sample tensor of shape (B,). Its gradient in d_i is
    ``2 d_i sigma^2 / (d_i^2 + sigma^2)^2``.
    """
    flat = delta.flatten(1)
    sigma = torch.as_tensor(sigma, dtype=flat.dtype, device=flat.device)
    sigma_sq = (sigma * sigma).reshape(-1, 1) if sigma.ndim else sigma * sigma
    sq = flat * flat
    return (sq / (sq + sigma_sq)).sum(dim=1)


def l1_norm(delta: torch.Tensor) -> torch.Tensor:
    """Per-sample L1 norm."""
    return delta.flatten(1).abs().sum(dim=1)


def l2_norm(delta: torch.Tensor) -> torch.Tensor:
    """Per-sample L2 norm (not squared)."""
    return torch.linalg.vector_norm(delta.flatten(1), dim=1)


def l2_batch_norm(delta: torch.Tensor) -> torch.Tensor:
    """The parent code's L2 term: the norm of the whole batch tensor, repeated for every sample.

    The parent added ``c * ||R||_2`` to the batch-*mean* loss; with the loss summed over the batch
    the same relative weight is ``B * c * ||R||_2``, i.e. ``c * ||R||_2`` per sample. This couples
    samples: a sample's gradient depends on the rest of the batch (and on the batch size).
    """
    return torch.linalg.vector_norm(delta).expand(delta.shape[0])

