"""Exact sparsity on top of the paper's attacks (an extension, not part of the paper).

The paper's surrogate ``d^2/(d^2+sigma^2)`` never makes a coordinate exactly zero, so its
perturbations touch (almost) every time step. The ``*_SPARSE`` variants keep the paper's loss,
step rule and ASL0 regulariser and add three things, all batched and per sample:

1. a threshold ``tau`` (in units of the box ``eps``) below which components are set to exactly 0
   after every step; ``tau`` grows by ``tau_rate`` while the sample is adversarial and shrinks by
   it otherwise (the sigma-zero rule of Cina et al., here in the attack's own units);
2. the returned iterate is the adversarial one of smallest L0 (ties: smallest L2);
3. a final pruning pass (:func:`prune_perturbation`): a batched binary search, per sample, for the
   largest number of smallest-magnitude components that can be zeroed while the example stays
   adversarial. Every candidate is classified, so a pruned example is adversarial by construction;
4. optionally (``search="greedy"``), the greedy L0 search of :mod:`aslo.attacks.l0_search` from
   the pruned perturbation: saturate, grow where not yet adversarial, prune by saliency and by
   exact removal margins, backward elimination. It finds far sparser examples than magnitude
   pruning at the price of extra forwards.

The sparsest of the extensions, ASL0 under an adaptive L0 budget, is its own attack:
:mod:`aslo.attacks.budget` (``AS_CW_BUDGET``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ..config_base import check_choice, check_flag, finite_number, integer
from ..metrics import ZERO_THRESHOLD
from .config import STEPS, AttackConfig, validate_attack_config
from .algorithm import PaperRules, batch_view
from .l0_search import SearchCost, evaluate, greedy_l0_search, l0_count, shortest_adversarial_prefix

#: The sparse variants: the paper's AS_CW / AS_GM_PGD compositions plus exact sparsity. The box
#: is widened to eps = 1 (one standard deviation of a z-normalised series): a sparse attack
#: changes few time steps by a lot rather than all of them by a little. lr keeps the parent's
#: rule steps x lr = eps (1000 x 1e-3 = 1).
SPARSE_VARIANTS = {
    "AS_CW_SPARSE": dict(loss="cw", regulariser="asl0", reg_coef=1e-5, eps=1.0, lr=1e-3,
                         return_iterate="best"),
    "AS_GM_PGD_SPARSE": dict(loss="ce_targeted", zero_loss_when_fooled=True, regulariser="asl0",
                             reg_coef=1e-5, eps=1.0, lr=1e-3, return_iterate="best"),
}


#: The final searches an extension can run from its result.
SEARCHES = ("none", "greedy")


@dataclass(frozen=True)
class BoxSearchConfig(AttackConfig):
    """AttackConfig plus what every attack beyond the paper shares: a data box and the final search.

    ``clip_min`` / ``clip_max`` (None: no bound): a data box the example ``x + delta`` is clamped
    to after every step, on top of the L-infinity box ``eps``; with ``eps`` as wide as the data
    box this is the feasible set of attacks on [0, 1] inputs (see ``aslo.peers``).
    ``search``: ``"none"`` or ``"greedy"`` (the final search of
    :func:`aslo.attacks.l0_search.greedy_l0_search` inside the same box); ``search_candidates``,
    ``search_rounds``, ``search_shortlist`` and ``search_exhaustive`` are its ``candidates``,
    ``rounds``, ``shortlist`` and ``exhaustive``. ``return_iterate`` must be ``"best"`` (the
    adversarial iterate of smallest L0).
    """

    clip_min: float | None = None
    clip_max: float | None = None
    search: str = "none"
    search_candidates: int = 4
    search_rounds: int = 10
    search_shortlist: int = 2
    search_exhaustive: bool = True

    #: The step rules this attack takes (AttackConfig's: Adam and signed PGD).
    STEP_RULES: ClassVar[tuple[str, ...]] = STEPS

    def validate(self) -> None:
        """AttackConfig's checks (with :attr:`STEP_RULES`), then the box and the search."""
        validate_attack_config(self, step_rules=self.STEP_RULES)
        check_flag(self, "search_exhaustive")
        for field in ("clip_min", "clip_max"):
            value = getattr(self, field)
            if value is not None and not finite_number(value):
                raise ValueError(f"{field} must be a finite number or None, got {value!r}")
        if self.clip_min is not None and self.clip_max is not None and self.clip_min >= self.clip_max:
            raise ValueError(f"clip_min ({self.clip_min}) must be below clip_max ({self.clip_max})")
        check_choice(self.search, SEARCHES, "search")
        for field, least in (("search_candidates", 1), ("search_shortlist", 1), ("search_rounds", 0)):
            value = getattr(self, field)
            if not integer(value) or value < least:
                raise ValueError(f"{field} must be an integer >= {least}, got {value!r}")
        if self.return_iterate != "best":
            raise ValueError("a sparse attack returns its sparsest adversarial iterate: "
                             f"return_iterate must be 'best', got {self.return_iterate!r}")


@dataclass(frozen=True)
class SparseAttackConfig(BoxSearchConfig):
    """BoxSearchConfig plus the exact-zero threshold and the pruning pass (see the module docstring).

    ``threshold``: zero components with ``|delta| < tau * eps`` after every step.
    ``tau0=0.0``: the threshold starts closed, so early steps are the paper's attack unchanged.
    ``tau_rate=0.01``: tau moves by 1 % of eps per step, as sigma-zero's threshold moves by 1 %
    of its step size (0.02 made the threshold outrun the attack at 50 steps in our trials).
    ``prune``: run the final pruning pass.
    """

    threshold: bool = True
    tau0: float = 0.0
    tau_rate: float = 0.01
    prune: bool = True

    def validate(self) -> None:
        """BoxSearchConfig's checks, then the threshold's."""
        super().validate()
        check_flag(self, "threshold", "prune")
        for field in ("tau0", "tau_rate"):
            value = getattr(self, field)
            if not finite_number(value):
                raise ValueError(f"{field} must be a finite number, got {value!r}")
            if not 0 <= value <= 1:
                raise ValueError(f"{field} must lie in [0, 1] (a fraction of eps), got {value}")


@torch.no_grad()
def prune_perturbation(model, x: torch.Tensor, delta: torch.Tensor, clean_pred: torch.Tensor):
    """Zero as many smallest-magnitude components of ``delta`` as possible, keeping it adversarial.

    Components at or below ZERO_THRESHOLD are zeroed first; then, for each sample whose delta
    fools the model, :func:`aslo.attacks.l0_search.shortest_adversarial_prefix` keeps its fewest
    largest components that still fool it (every candidate classified, so a pruned example is
    adversarial by construction). Returns ``(pruned_delta, adversarial)``: ``adversarial`` (B,)
    says whether the returned delta fools the model; the others come back with their tiny
    components zeroed only.
    """
    delta = delta.masked_fill(delta.abs() <= ZERO_THRESHOLD, 0.0)
    cost = SearchCost()
    adversarial = evaluate(model, x + delta, clean_pred, cost)[1]
    rows = torch.nonzero(adversarial).squeeze(1)
    pruned = delta.clone()
    if rows.numel():
        pruned[rows] = shortest_adversarial_prefix(model, x[rows], delta[rows], clean_pred[rows], delta[rows].abs(), cost)
    return pruned, adversarial


class ExactZero(PaperRules):
    """The hooks of :func:`attack_batch` that add exact zeros (see the module docstring).

    Per-sample state, reset by :meth:`start`: the threshold ``tau`` (in units of ``eps``).
    """

    def __init__(self, *, eps: float, threshold: bool, tau0: float, tau_rate: float, prune: bool,
                 clip_min: float | None, clip_max: float | None, search: str = "none",
                 search_candidates: int = 4, search_rounds: int = 10, search_shortlist: int = 2,
                 search_exhaustive: bool = True):
        self.eps, self.threshold, self.tau0, self.tau_rate, self.prune = eps, threshold, tau0, tau_rate, prune
        self.clip_min, self.clip_max = clip_min, clip_max
        self.search = search
        self.search_settings = dict(candidates=search_candidates, rounds=search_rounds, shortlist=search_shortlist,
                                    exhaustive=search_exhaustive)
        self.tau: torch.Tensor | None = None

    def start(self, x: torch.Tensor) -> None:
        """tau starts at tau0 for every sample."""
        self.tau = torch.full((x.shape[0],), self.tau0, device=x.device, dtype=x.dtype)

    def iterate_key(self, delta: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The sparsest fooling iterate: smallest L0, ties broken by the squared L2 distance."""
        return l0_count(delta), delta.flatten(1).square().sum(dim=1)

    def after_step(self, x: torch.Tensor, delta: torch.Tensor, fooled: torch.Tensor) -> None:
        """Clamp x + delta to the data box, move tau, and zero the components below tau * eps."""
        if self.clip_min is not None or self.clip_max is not None:
            # x + 0 is x, so a zero component stays exactly zero
            delta.copy_((x + delta).clamp_(self.clip_min, self.clip_max) - x)
        if self.threshold:
            move = torch.where(fooled, self.tau_rate, -self.tau_rate)
            self.tau = (self.tau + move).clamp_(0.0, 1.0)
            delta.masked_fill_(delta.abs() < batch_view(self.tau * self.eps, delta), 0.0)

    def refine(self, model, x: torch.Tensor, delta: torch.Tensor, clean_pred: torch.Tensor,
               observed: torch.Tensor | None = None) -> torch.Tensor:
        """The final pruning pass (when ``prune``), then the greedy search (when ``search``).

        Padding (``~observed``) is zero before either, and the search only adds observed
        components, so neither counts or keeps it."""
        if observed is not None:
            delta = delta.masked_fill(~observed, 0.0)
        if self.prune:
            delta = prune_perturbation(model, x, delta, clean_pred)[0]
        if self.search == "greedy":
            lower, upper = self.bounds(x)
            delta = greedy_l0_search(model, x, clean_pred, delta, lower=lower, upper=upper, observed=observed,
                                     **self.search_settings)[0]
        return delta

    def bounds(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Elementwise bounds on ``x + delta``: the box eps, within the data box where set (never excluding x)."""
        lower, upper = x - self.eps, x + self.eps
        if self.clip_min is not None:
            lower = torch.minimum(lower.clamp(min=self.clip_min), x)
        if self.clip_max is not None:
            upper = torch.maximum(upper.clamp(max=self.clip_max), x)
        return lower, upper

    def records(self, delta: torch.Tensor, success: torch.Tensor) -> dict[str, torch.Tensor]:
        """``best_l0`` (NaN where the returned example is not adversarial) and ``final_tau``."""
        best_l0 = torch.where(success, l0_count(delta), torch.full_like(self.tau, float("nan")))
        return {"best_l0": best_l0, "final_tau": self.tau * self.eps}


def rules_for(cfg: AttackConfig) -> PaperRules:
    """The hooks that run ``cfg``: ExactZero for a SparseAttackConfig, else the paper's."""
    if not isinstance(cfg, SparseAttackConfig):
        return PaperRules()
    return ExactZero(eps=cfg.eps, threshold=cfg.threshold, tau0=cfg.tau0, tau_rate=cfg.tau_rate,
                     prune=cfg.prune, clip_min=cfg.clip_min, clip_max=cfg.clip_max, search=cfg.search,
                     search_candidates=cfg.search_candidates, search_rounds=cfg.search_rounds,
                     search_shortlist=cfg.search_shortlist, search_exhaustive=cfg.search_exhaustive)
