"""Algorithm 1 of the paper (adaptive-sigma smooth L0 attack), one batch, top to bottom.

:func:`attack_batch` is the whole attack: per-sample state (sigma, the best objective J*, the
previous loss, the first success step, the best iterate) lives in local tensors updated with
``torch.where``; every hyper-parameter is a keyword argument. The losses and regularisers it
calls take tensors and scalars (``losses.py``, ``regularisers.py``). Extensions beyond the paper
(the exact-zero variants of ``sparse.py``) plug in through the named hooks of :class:`PaperRules`.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from .losses import cw_margin, targeted_ce
from .regularisers import l0_surrogate, l1_norm, l2_batch_norm, l2_norm

#: Per-sample quantities recorded at every step when tracing.
TRACE_FIELDS = ("loss", "sigma", "success", "regulariser", "objective")

#: Per-sample regulariser values (before the coefficient), by name; "asl0" also takes sigma.
REGULARISER_KERNELS = {"l1": l1_norm, "l2": l2_norm, "l2_batch": l2_batch_norm, "asl0": l0_surrogate}


def batch_view(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A per-sample vector (B,) viewed as (B, 1, ..., 1) to broadcast against ``like``."""
    return values.reshape(-1, *[1] * (like.ndim - 1))


class PaperRules:
    """The named hooks of :func:`attack_batch`, as the paper has them (no extension).

    ``start(x)``: reset any per-sample state of the extension for a new batch.
    ``iterate_key(delta)``: a tuple of per-sample keys; among fooling iterates the
    lexicographically smallest is returned (the paper: the squared L2 distance).
    ``after_step(x, delta, fooled)``: change ``delta`` in place after the step and the box.
    ``refine(model, x, delta, clean_pred, observed=None)``: the returned perturbation, before the
    final forward; ``observed`` is :func:`attack_batch`'s mask (None: every step observed), and a
    refinement must leave ``delta`` zero where it is False.
    ``records(delta, success)``: extra per-sample result columns (name -> tensor).
    """

    def start(self, x: torch.Tensor) -> None:
        """Nothing to reset."""

    def iterate_key(self, delta: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The squared L2 distance."""
        return (delta.flatten(1).square().sum(dim=1),)

    def after_step(self, x: torch.Tensor, delta: torch.Tensor, fooled: torch.Tensor) -> None:
        """No change."""

    def refine(self, model, x: torch.Tensor, delta: torch.Tensor, clean_pred: torch.Tensor,
               observed: torch.Tensor | None = None) -> torch.Tensor:
        """No change."""
        return delta

    def records(self, delta: torch.Tensor, success: torch.Tensor) -> dict[str, torch.Tensor]:
        """No extra column."""
        return {}


@torch.no_grad()
def adam_step_(delta, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step: int, lr: float,
               betas: tuple[float, float], adam_eps: float) -> None:
    """In-place Adam (AMSGrad when ``max_exp_avg_sq`` is a tensor), as ``torch.optim.Adam``.

    ``step`` counts from 1. Every element has its own moments, so samples never interact.
    """
    beta1, beta2 = betas
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    bias1 = 1 - beta1 ** step
    bias2_sqrt = math.sqrt(1 - beta2 ** step)
    denom = (second.sqrt() / bias2_sqrt).add_(adam_eps)
    delta.addcdiv_(exp_avg, denom, value=-lr / bias1)


@torch.no_grad()
def adapt_sigma(sigma, improved, objective, best_objective, *, eta_d: float, eta_i: float,
                sigma_min: float, sigma_max: float, j_star: str = "running_best") -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's sigma rule, per sample: returns ``(new_sigma, new_best_objective)``.

    Sigma shrinks by ``eta_d`` where the attack improved and J is below J*, else grows by
    ``eta_i``; it is clipped to ``[sigma_min, sigma_max]``; J* becomes ``min(J*, J)``
    (``j_star="running_best"``) or stays the J of the first step (``"initial"``, a fixed threshold).
    """
    shrink = improved & (objective < best_objective)
    factor = torch.where(shrink, torch.full_like(sigma, eta_d), torch.full_like(sigma, eta_i))
    if j_star == "initial":
        new_best = torch.where(best_objective.isinf(), objective, best_objective)
    else:
        new_best = torch.minimum(best_objective, objective)
    return (sigma * factor).clamp_(sigma_min, sigma_max), new_best


def improved_mask(raw_loss, prev_loss, fooled, *, improvement: str) -> torch.Tensor:
    """Whether each sample's attack improved ("either": fooled or its loss fell; see AttackConfig)."""
    decreased = raw_loss < prev_loss
    if improvement == "loss_decrease":
        return decreased
    if improvement == "adversarial":
        return fooled
    return decreased | fooled


def attack_batch(model, x, clean_pred, target, delta0, *,
                 loss: str = "cw", zero_loss_when_fooled: bool = False, cw_c: float = 1.0,
                 kappa: float = 0.0, step: str = "adam", lr: float = 1e-4,
                 betas: tuple[float, float] = (0.9, 0.999), adam_eps: float = 1e-7,
                 amsgrad: bool = True, alpha: float = 1e-3, steps: int = 1000, eps: float = 0.1,
                 regulariser: str = "none", reg_coef: float = 1e-5, sigma0: float = 0.01,
                 eta_d: float = 0.9, eta_i: float = 1.1, sigma_min: float = 1e-6,
                 sigma_max: float = 1.0, improvement: str = "either", j_star: str = "running_best",
                 return_iterate: str = "last",
                 rules: PaperRules | None = None, trace: bool = False,
                 on_step: Callable[[], None] | None = None, observed: torch.Tensor | None = None) -> dict:
    """Run Algorithm 1 on one batch; return per-sample results as tensors on ``x``'s device.

    ``x`` (B, C, L), ``clean_pred`` and ``target`` (B,) and the initial perturbation ``delta0``
    must be on the model's device; the model in eval mode. Each step: evaluate J = loss + reg at
    the current delta with sigma(t), adapt sigma to sigma(t+1), take the gradient step on that J
    (Adam or signed PGD), clamp to the box ``eps``. The objective is SUMMED over the batch so a
    sample's gradient never depends on the others (except ``regulariser="l2_batch"``). The keys
    of the result: ``delta``, ``adv_pred``, ``first_success_step``, ``final_sigma`` (None
    without ASL0), ``extra`` (columns from ``rules.records``) and ``trace`` (when tracing).
    ``observed`` (bool (B, 1, L) on ``x``'s device, or None: every step observed) marks each
    series' observed time steps (:func:`aslo.observed.observed_mask`): the perturbation is zero
    elsewhere, in the initial delta, after every step and box, and in the returned delta.
    """
    rules = rules or PaperRules()
    rules.start(x)
    batch, opts = x.shape[0], dict(device=x.device, dtype=x.dtype)
    if observed is not None and (observed.dtype != torch.bool or observed.ndim != 3
                                 or observed.shape[0] != batch or observed.shape[2] != x.shape[2]
                                 or observed.shape[1] not in (1, x.shape[1])):
        raise ValueError(f"observed must be a bool mask of shape ({batch}, 1, {x.shape[2]}), got "
                         f"{observed.dtype} {tuple(observed.shape)}")
    padding = None if observed is None else ~observed
    delta = delta0.detach().clone()
    if padding is not None:
        delta.masked_fill_(padding, 0.0)
    delta.requires_grad_(True)
    adaptive = regulariser == "asl0"
    sigma = torch.full((batch,), sigma0, **opts) if adaptive else None
    best_objective = torch.full((batch,), float("inf"), **opts)
    prev_loss = torch.full((batch,), float("inf"), **opts)
    first_success = torch.full((batch,), -1, dtype=torch.int64, device=x.device)
    keep_best = return_iterate == "best"
    best_delta = delta.detach().clone()
    best_keys = tuple(torch.full((batch,), float("inf"), **opts) for _ in rules.iterate_key(best_delta))
    if step == "adam":
        exp_avg, exp_avg_sq = torch.zeros_like(delta), torch.zeros_like(delta)
        max_exp_avg_sq = torch.zeros_like(delta) if amsgrad else None
    records = {k: torch.full((steps, batch), float("nan"), **opts) for k in TRACE_FIELDS} if trace else None

    for t in range(steps):
        # J = loss + reg at delta(t), sigma(t)
        logits = model(x + delta)
        raw_loss = cw_margin(logits, clean_pred, kappa, cw_c) if loss == "cw" else targeted_ce(logits, target)
        with torch.no_grad():
            fooled = logits.argmax(dim=1) != clean_pred
        attack_loss = raw_loss.masked_fill(fooled, 0.0) if zero_loss_when_fooled else raw_loss
        if regulariser == "none":
            reg = delta.new_zeros(batch)
        elif adaptive:
            reg = reg_coef * l0_surrogate(delta, sigma)
        else:
            reg = reg_coef * REGULARISER_KERNELS[regulariser](delta)
        objective = attack_loss + reg
        (grad,) = torch.autograd.grad(objective.sum(), delta)
        if padding is not None:  # padding never moves
            grad = grad.masked_fill(padding, 0.0)

        with torch.no_grad():
            raw_loss, objective = raw_loss.detach(), objective.detach()
            if records is not None:
                records["loss"][t] = raw_loss
                if adaptive:
                    records["sigma"][t] = sigma
                records["success"][t] = fooled.to(raw_loss.dtype)
                records["regulariser"][t] = reg.detach()
                records["objective"][t] = objective
            # sigma(t+1) from whether the attack improved and J fell below J*
            if adaptive:
                improved = improved_mask(raw_loss, prev_loss, fooled, improvement=improvement)
                sigma, best_objective = adapt_sigma(sigma, improved, objective, best_objective, eta_d=eta_d,
                                                    eta_i=eta_i, sigma_min=sigma_min, sigma_max=sigma_max,
                                                    j_star=j_star)
            prev_loss = raw_loss
            first_success = torch.where((first_success < 0) & fooled, torch.full_like(first_success, t),
                                        first_success)
            if keep_best:  # the fooling iterate with the smallest key so far
                keys = rules.iterate_key(delta.detach())
                smaller, equal = torch.zeros_like(fooled), torch.ones_like(fooled)
                for key, best in zip(keys, best_keys):
                    smaller, equal = smaller | (equal & (key < best)), equal & (key == best)
                better = fooled & smaller
                best_keys = tuple(torch.where(better, key, best) for key, best in zip(keys, best_keys))
                best_delta = torch.where(batch_view(better, delta), delta.detach(), best_delta)
            # descend on J, then back into the box
            if step == "adam":
                adam_step_(delta, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=t + 1, lr=lr,
                           betas=betas, adam_eps=adam_eps)
            else:
                delta.add_(grad.sign(), alpha=-alpha)
            delta.clamp_(-eps, eps)
            rules.after_step(x, delta, fooled)
            if padding is not None:
                delta.masked_fill_(padding, 0.0)
        if on_step is not None:
            on_step()

    with torch.no_grad():
        delta = delta.detach()
        if keep_best:  # samples never fooled keep their last iterate
            delta = torch.where(batch_view(best_keys[0].isinf(), delta), delta, best_delta)
        delta = rules.refine(model, x, delta, clean_pred, observed=observed)
        if padding is not None:  # whatever the refinement did, padding stays untouched
            delta = delta.masked_fill(padding, 0.0)
        adv_pred = model(x + delta).argmax(dim=1)
        return {"delta": delta, "adv_pred": adv_pred, "first_success_step": first_success,
                "final_sigma": sigma, "extra": rules.records(delta, adv_pred != clean_pred),
                "trace": records}
