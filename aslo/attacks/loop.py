"""The attack loop: one composition (loss, step rule, regulariser) run over a whole batch.

All state is per sample and held in tensors (sigma, best objective J*, previous loss, first
success step, best iterate); nothing loops over samples in Python. Each step does one forward and
one backward: success and sigma bookkeeping reuse that forward's logits (they describe the iterate
the gradient is taken at), and a single extra forward at the end classifies the returned iterate.
"""

from __future__ import annotations

import torch

from .losses import attack_loss
from .regularisers import regulariser_value, update_sigma
from .steps import AdamState, adam_step_, pgd_step_, project_box_

#: Per-sample quantities recorded at every step when tracing.
TRACE_FIELDS = ("loss", "sigma", "success", "regulariser", "objective")


class BatchAttack:
    """Runs ``cfg.steps`` steps on one batch; call :meth:`step` repeatedly, then :meth:`finish`.

    ``x`` (B, C, L), ``clean_pred`` and ``target`` (B,) and ``delta0`` (B, C, L) must already be on
    the model's device. The model must be in eval mode (see ``_tensor.attack_mode``).
    """

    def __init__(self, model, x, clean_pred, target, delta0, cfg, *, trace: bool = False):
        self.model, self.x, self.clean_pred, self.target, self.cfg = model, x, clean_pred, target, cfg
        b = x.shape[0]
        self.delta = delta0.detach().clone().requires_grad_(True)
        opts = dict(device=x.device, dtype=x.dtype)
        self.sigma = torch.full((b,), cfg.sigma0, **opts) if cfg.adaptive_sigma else None
        self.best_objective = torch.full((b,), float("inf"), **opts)
        self.prev_loss = torch.full((b,), float("inf"), **opts)
        self.first_success = torch.full((b,), -1, dtype=torch.int64, device=x.device)
        self.adam = AdamState.zeros_like(self.delta, cfg.amsgrad) if cfg.step == "adam" else None
        if cfg.return_iterate == "best":
            self.best_delta = self.delta.detach().clone()
            self.best_dist = torch.full((b,), float("inf"), **opts)
        self.t = 0
        self.trace = {k: torch.full((cfg.steps, b), float("nan"), **opts) for k in TRACE_FIELDS} if trace else None

    def step(self) -> None:
        """One iteration of Algorithm 1: evaluate J, adapt sigma, descend on J, project to the box."""
        cfg, delta = self.cfg, self.delta
        logits = self.model(self.x + delta)
        raw_loss = attack_loss(logits, self.clean_pred, self.target, cfg)
        with torch.no_grad():
            fooled = logits.argmax(dim=1) != self.clean_pred
        loss = raw_loss.masked_fill(fooled, 0.0) if cfg.zero_loss_when_fooled else raw_loss
        reg = regulariser_value(delta, self.sigma, cfg)
        objective = loss + reg
        # SUM over the batch: each sample's gradient is independent of the others (see AttackConfig).
        (grad,) = torch.autograd.grad(objective.sum(), delta)
        with torch.no_grad():
            raw_loss, objective = raw_loss.detach(), objective.detach()
            if self.trace is not None:
                self._record(raw_loss, fooled, reg.detach(), objective)
            if self.sigma is not None:
                improved = self._improved(raw_loss, fooled)
                self.sigma, self.best_objective = update_sigma(
                    self.sigma, improved, objective, self.best_objective, cfg)
            self.prev_loss = raw_loss
            self.first_success = torch.where((self.first_success < 0) & fooled,
                                             torch.full_like(self.first_success, self.t), self.first_success)
            if cfg.return_iterate == "best":
                self._keep_best(fooled)
            if self.adam is not None:
                adam_step_(delta, grad, self.adam, cfg)
            else:
                pgd_step_(delta, grad, cfg)
            project_box_(delta, cfg.eps)
        self.t += 1

    def _improved(self, raw_loss, fooled):
        """Whether each sample's attack improved at this step (rule ``cfg.improvement``)."""
        decreased = raw_loss < self.prev_loss
        if self.cfg.improvement == "loss_decrease":
            return decreased
        if self.cfg.improvement == "adversarial":
            return fooled
        return decreased | fooled

    def _keep_best(self, fooled):
        """Remember, per sample, the fooling iterate of smallest L2 distance seen so far."""
        dist = self.delta.detach().reshape(self.delta.shape[0], -1).square().sum(dim=1)
        better = fooled & (dist < self.best_dist)
        self.best_dist = torch.where(better, dist, self.best_dist)
        self.best_delta = torch.where(better.reshape(-1, *[1] * (self.delta.ndim - 1)),
                                      self.delta.detach(), self.best_delta)

    def _record(self, raw_loss, fooled, reg, objective):
        t = self.t
        self.trace["loss"][t] = raw_loss
        if self.sigma is not None:
            self.trace["sigma"][t] = self.sigma
        self.trace["success"][t] = fooled.to(raw_loss.dtype)
        self.trace["regulariser"][t] = reg
        self.trace["objective"][t] = objective

    @torch.no_grad()
    def finish(self) -> dict:
        """Choose the returned iterate, classify it with one forward, and return CPU tensors."""
        delta = self.delta.detach()
        if self.cfg.return_iterate == "best":
            never = self.best_dist.isinf().reshape(-1, *[1] * (delta.ndim - 1))
            delta = torch.where(never, delta, self.best_delta)
        adv_pred = self.model(self.x + delta).argmax(dim=1)
        out = {
            "delta": delta.cpu(),
            "adv_pred": adv_pred.cpu(),
            "first_success_step": self.first_success.cpu(),
            "final_sigma": self.sigma.cpu() if self.sigma is not None else None,
        }
        if self.trace is not None:
            out["trace"] = {k: v.cpu() for k, v in self.trace.items()}
        return out
