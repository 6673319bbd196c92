"""Per-sample attack losses on logits (shape (B,)); the attack minimises them."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def cw_margin(logits: torch.Tensor, ref: torch.Tensor, kappa: float = 0.0, c: float = 1.0) -> torch.Tensor:
    """CW margin ``c * max(Z_ref - max_{j != ref} Z_j, -kappa)`` per sample.

    The reference class is masked with -inf before the max, so the result is right even when every
    other logit is negative (``max((1 - onehot) * logits)`` would wrongly give 0 there).
    """
    ref = ref.reshape(-1, 1)
    ref_logit = logits.gather(1, ref).squeeze(1)
    other = logits.scatter(1, ref, float("-inf")).amax(dim=1)
    return c * torch.clamp(ref_logit - other, min=-kappa)


def margin(logits: torch.Tensor, clean_pred: torch.Tensor) -> torch.Tensor:
    """``Z_clean - max_{j != clean} Z_j`` per sample (the unclamped CW margin): how far the clean
    prediction leads; the sparse attacks rank candidates by it."""
    return cw_margin(logits, clean_pred, kappa=math.inf)


def is_adversarial(logits: torch.Tensor, clean_pred: torch.Tensor) -> torch.Tensor:
    """(B,) bool: the prediction differs from the clean one. The one success rule of the sparse
    attacks, the same as the metrics' ``success`` (``adv_pred != clean_pred``)."""
    return logits.argmax(dim=1) != clean_pred


def targeted_ce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy towards ``target`` per sample (minimising it pulls the input to the target)."""
    return F.cross_entropy(logits, target, reduction="none")

