"""Perturbation regularisers (per sample, shape (B,)) and the adaptive sigma rule of ASL0."""

from __future__ import annotations

import torch


def _flat(delta: torch.Tensor) -> torch.Tensor:
    return delta.reshape(delta.shape[0], -1)


def l0_surrogate(delta: torch.Tensor, sigma) -> torch.Tensor:
    """The paper's smooth L0: ``sum_i d_i^2 / (d_i^2 + sigma^2)`` per sample.

    ``sigma`` is a scalar or a per-sample tensor of shape (B,). Its gradient in d_i is
    ``2 d_i sigma^2 / (d_i^2 + sigma^2)^2``.
    """
    flat = _flat(delta)
    sigma = torch.as_tensor(sigma, dtype=flat.dtype, device=flat.device)
    sigma_sq = (sigma * sigma).reshape(-1, 1) if sigma.ndim else sigma * sigma
    sq = flat * flat
    return (sq / (sq + sigma_sq)).sum(dim=1)


def l1_norm(delta: torch.Tensor) -> torch.Tensor:
    """Per-sample L1 norm."""
    return _flat(delta).abs().sum(dim=1)


def l2_norm(delta: torch.Tensor) -> torch.Tensor:
    """Per-sample L2 norm (not squared)."""
    return torch.linalg.vector_norm(_flat(delta), dim=1)


def l2_batch_norm(delta: torch.Tensor) -> torch.Tensor:
    """The parent code's L2 term: the norm of the whole batch tensor, repeated for every sample.

    The parent added ``c * ||R||_2`` to the batch-*mean* loss; with the loss summed over the batch
    the same relative weight is ``B * c * ||R||_2``, i.e. ``c * ||R||_2`` per sample. This couples
    samples: a sample's gradient depends on the rest of the batch (and on the batch size).
    """
    return torch.linalg.vector_norm(delta).expand(delta.shape[0])


def regulariser_value(delta: torch.Tensor, sigma: torch.Tensor | None, cfg) -> torch.Tensor:
    """``cfg.effective_reg_coef`` times the configured regulariser, per sample (zeros for "none")."""
    kind = cfg.regulariser
    if kind == "none":
        return delta.new_zeros(delta.shape[0])
    if kind == "l1":
        value = l1_norm(delta)
    elif kind == "l2":
        value = l2_norm(delta)
    elif kind == "l2_batch":
        value = l2_batch_norm(delta)
    elif kind == "asl0":
        value = l0_surrogate(delta, sigma)
    else:
        raise ValueError(f"unknown regulariser {kind!r}")
    return cfg.effective_reg_coef * value


@torch.no_grad()
def update_sigma(sigma: torch.Tensor, improved: torch.Tensor, objective: torch.Tensor,
                 best_objective: torch.Tensor, cfg) -> tuple[torch.Tensor, torch.Tensor]:
    """Algorithm 1, per sample: returns ``(new_sigma, new_best_objective)``.

    A sample's sigma shrinks by ``eta_d`` when its attack improved (see ``AttackConfig`` for the
    definition) and its objective J is below its best J so far (J*); otherwise it grows by
    ``eta_i``. The result is clipped to ``[sigma_min, sigma_max]``; J* becomes ``min(J*, J)``
    (``cfg.j_star="running_best"``) or stays the J of the first step (``"initial"``).
    """
    shrink = improved & (objective < best_objective)
    factor = torch.where(shrink, torch.full_like(sigma, cfg.eta_d), torch.full_like(sigma, cfg.eta_i))
    new_sigma = (sigma * factor).clamp_(cfg.sigma_min, cfg.sigma_max)
    if getattr(cfg, "j_star", "running_best") == "initial":
        return new_sigma, torch.where(best_objective.isinf(), objective, best_objective)
    return new_sigma, torch.minimum(best_objective, objective)
