"""Step rules on the perturbation: functional, batched Adam and signed-gradient PGD, then the box."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class AdamState:
    """Per-element Adam moments (same shape as the perturbation) and the shared step count."""

    exp_avg: torch.Tensor
    exp_avg_sq: torch.Tensor
    max_exp_avg_sq: torch.Tensor | None
    step: int = 0

    @classmethod
    def zeros_like(cls, delta: torch.Tensor, amsgrad: bool) -> "AdamState":
        """Fresh state for ``delta``."""
        return cls(torch.zeros_like(delta), torch.zeros_like(delta),
                   torch.zeros_like(delta) if amsgrad else None)


@torch.no_grad()
def adam_step_(delta: torch.Tensor, grad: torch.Tensor, state: AdamState, cfg) -> None:
    """In-place Adam update of ``delta``, numerically the same as ``torch.optim.Adam``.

    Every element has its own moments, so the update of one sample never depends on another.
    """
    beta1, beta2 = cfg.betas
    state.step += 1
    state.exp_avg.lerp_(grad, 1 - beta1)
    state.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    second = state.exp_avg_sq
    if state.max_exp_avg_sq is not None:
        torch.maximum(state.max_exp_avg_sq, state.exp_avg_sq, out=state.max_exp_avg_sq)
        second = state.max_exp_avg_sq
    bias1 = 1 - beta1 ** state.step
    bias2_sqrt = math.sqrt(1 - beta2 ** state.step)
    denom = (second.sqrt() / bias2_sqrt).add_(cfg.adam_eps)
    delta.addcdiv_(state.exp_avg, denom, value=-cfg.lr / bias1)


@torch.no_grad()
def pgd_step_(delta: torch.Tensor, grad: torch.Tensor, cfg) -> None:
    """In-place signed-gradient descent step of size ``cfg.alpha``."""
    delta.add_(grad.sign(), alpha=-cfg.alpha)


@torch.no_grad()
def project_box_(delta: torch.Tensor, eps: float) -> None:
    """Clamp the perturbation to the L-infinity box [-eps, eps] in place."""
    delta.clamp_(-eps, eps)
