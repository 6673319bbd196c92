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
4. optionally (``l0_budget``), an L0 budget instead of (or beside) the threshold: after every
   step only the ``k`` largest components of each sample are kept. ``k`` starts at 1 and moves
   as in FMN-L0 (Pintor et al.): it grows by at least one while the sample is not adversarial
   and falls by at least one, and at once to the sparsest success so far, while it is, by the
   factor ``budget_rate`` cosine-annealed to ``budget_rate / 50``. The support so grows from one
   component instead of being pruned down from a dense start. A sample whose sparsest success has
   L0 = 1 cannot improve (L0 = 0 is the clean input) and leaves the forward pass;
5. optionally (``search="greedy"``), the greedy L0 search of :mod:`aslo.attacks.l0_search` from
   the pruned perturbation: saturate, grow where not yet adversarial, prune by saliency and by
   exact removal margins, backward elimination. It finds far sparser examples than magnitude
   pruning at the price of extra forwards (see ``benchmarks/results/peers.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config_base import check_choice, check_flag, finite_number, integer
from ..metrics import ZERO_THRESHOLD
from .config import AttackConfig
from .algorithm import PaperRules, batch_view, cosine_anneal
from .l0_search import greedy_l0_search

#: The sparse variants: the paper's AS_CW / AS_GM_PGD compositions plus exact sparsity. The box
#: is widened to eps = 1 (one standard deviation of a z-normalised series): a sparse attack
#: changes few time steps by a lot rather than all of them by a little. lr keeps the parent's
#: rule steps x lr = eps (1000 x 1e-3 = 1).
SPARSE_VARIANTS = {
    "AS_CW_SPARSE": dict(loss="cw", regulariser="asl0", reg_coef=1e-5, eps=1.0, lr=1e-3,
                         return_iterate="best"),
    "AS_GM_PGD_SPARSE": dict(loss="ce_targeted", zero_loss_when_fooled=True, regulariser="asl0",
                             reg_coef=1e-5, eps=1.0, lr=1e-3, return_iterate="best"),
    # The sparsest: the CW margin with the ASL0 term, normalised steps (alpha = the box; the ASL0
    # direction weighted 0.1, see algorithm.NORMALIZED_REG_WEIGHT) from zero, the L0 budget
    # instead of the threshold, then the greedy search. The budget leaves few components, so the
    # search stops when its shortlist finds no removal instead of re-evaluating every removal
    # first (GunPoint and ArrowHead x LSTM-FCN, 20 series: 6-9 % less time, the same medians),
    # and the magnitude prune is left out: the search's prefix cuts do its work (GunPoint x
    # LSTM-FCN 8 % less time; median L0 unchanged on 5 of 6 trial cells, MACNN on GunPoint 1 -> 1.5).
    "AS_CW_BUDGET": dict(loss="cw", regulariser="asl0", reg_coef=1e-5, eps=1.0, eps_init=0.0,
                         step="normalized", alpha=1.0, threshold=False, l0_budget=True, prune=False,
                         search="greedy", search_exhaustive=False, return_iterate="best"),
}


#: The final searches a sparse variant can run after pruning.
SEARCHES = ("none", "greedy")


@dataclass(frozen=True)
class SparseAttackConfig(AttackConfig):
    """AttackConfig plus the exact-sparsity settings (see the module docstring).

    ``threshold``: zero components with ``|delta| < tau * eps`` after every step.
    ``tau0=0.0``: the threshold starts closed, so early steps are the paper's attack unchanged.
    ``tau_rate=0.01``: tau moves by 1 % of eps per step, as sigma-zero's threshold moves by 1 %
    of its step size (0.02 made the threshold outrun the attack at 50 steps in our trials). ``prune``: run the final pruning pass.
    ``clip_min`` / ``clip_max`` (None: no bound): a data box the example ``x + delta`` is clamped
    to after every step, on top of the L-infinity box ``eps``; with ``eps`` as wide as the data
    box this is the feasible set of attacks on [0, 1] inputs (see ``aslo.peers``).
    ``return_iterate`` must be ``"best"`` (the adversarial iterate of smallest L0).
    ``l0_budget``: keep only the ``k`` largest components after every step, ``k`` adapted per
    sample (item 4 of the module docstring); ``budget_rate=0.05``: its initial relative move
    (FMN-L0's gamma). ``search``: ``"none"`` (default) or ``"greedy"`` (the final search of
    :func:`aslo.attacks.l0_search.greedy_l0_search` inside the same box); ``search_candidates``,
    ``search_rounds``, ``search_shortlist`` and ``search_exhaustive`` are its ``candidates``,
    ``rounds``, ``shortlist`` and ``exhaustive``.
    """

    threshold: bool = True
    tau0: float = 0.0
    tau_rate: float = 0.01
    prune: bool = True
    clip_min: float | None = None
    clip_max: float | None = None
    l0_budget: bool = False
    budget_rate: float = 0.05
    search: str = "none"
    search_candidates: int = 4
    search_rounds: int = 10
    search_shortlist: int = 2
    search_exhaustive: bool = True

    def validate(self) -> None:
        """AttackConfig's checks, then the exact-sparsity settings."""
        super().validate()
        check_flag(self, "threshold", "prune", "l0_budget", "search_exhaustive")
        for field in ("tau0", "tau_rate", "budget_rate"):
            value = getattr(self, field)
            if not finite_number(value):
                raise ValueError(f"{field} must be a finite number, got {value!r}")
            if not 0 <= value <= 1:
                raise ValueError(f"{field} must lie in [0, 1] (a fraction of eps), got {value}")
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



def l0_count(delta: torch.Tensor) -> torch.Tensor:
    """Per-sample number of components with |delta| > ZERO_THRESHOLD (the metric's L0), as float."""
    return (delta.flatten(1).abs() > ZERO_THRESHOLD).sum(dim=1).to(delta.dtype)


@torch.no_grad()
def prune_perturbation(model, x: torch.Tensor, delta: torch.Tensor, clean_pred: torch.Tensor):
    """Zero as many smallest-magnitude components of ``delta`` as possible, keeping it adversarial.

    Batched binary search over k, per sample: the candidate zeroes the k smallest |delta| among
    the non-zero components; a candidate is accepted only if the model's prediction on it differs
    from ``clean_pred``. Components at or below ZERO_THRESHOLD are zeroed first. About
    log2(numel) + 1 forwards in all, each over the samples still searching. Returns
    ``(pruned_delta, adversarial)`` where ``adversarial`` (B,) says whether the returned delta
    was classified as adversarial; samples that are not adversarial to begin with come back with
    their tiny components zeroed only.
    """
    b = delta.shape[0]
    flat = delta.flatten(1).clone()
    flat[flat.abs() <= ZERO_THRESHOLD] = 0
    magnitude = flat.abs()
    n_zero = (magnitude == 0).sum(dim=1)
    nnz = flat.shape[1] - n_zero
    # rank[i] = position of component i when sorted by magnitude (zeros first; stable for ties)
    order = magnitude.argsort(dim=1, stable=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(flat.shape[1], device=flat.device).expand(b, -1))

    def candidate(k, rows=slice(None)):
        keep = rank[rows] >= (n_zero[rows] + k).unsqueeze(1)
        return (flat[rows] * keep).reshape(-1, *delta.shape[1:])

    lo = torch.zeros_like(nnz)
    ok = model(x + candidate(lo)).argmax(dim=1) != clean_pred
    hi = torch.where(ok, nnz, lo)  # zeroing every component gives the clean input back
    while True:  # each forward covers only the rows still searching
        rows = torch.nonzero(hi - lo > 1).squeeze(1)
        if rows.numel() == 0:
            return candidate(lo), ok
        mid = (lo[rows] + hi[rows]) // 2
        adv = model(x[rows] + candidate(mid, rows)).argmax(dim=1) != clean_pred[rows]
        lo[rows] = torch.where(adv, mid, lo[rows])
        hi[rows] = torch.where(adv, hi[rows], mid)


class ExactZero(PaperRules):
    """The hooks of :func:`attack_batch` that add exact zeros (see the module docstring).

    Per-sample state, reset by :meth:`start`: the threshold ``tau`` (in units of ``eps``); with
    ``l0_budget``, the budget ``k``, the sparsest success so far and the L0 of the iterate the
    loop evaluates next.
    """

    def __init__(self, *, eps: float, threshold: bool, tau0: float, tau_rate: float, prune: bool,
                 clip_min: float | None, clip_max: float | None, search: str = "none",
                 search_candidates: int = 4, search_rounds: int = 10, search_shortlist: int = 2,
                 search_exhaustive: bool = True,
                 l0_budget: bool = False, budget_rate: float = 0.05, steps: int = 1):
        self.eps, self.threshold, self.tau0, self.tau_rate, self.prune = eps, threshold, tau0, tau_rate, prune
        self.l0_budget, self.budget_rate, self.steps = l0_budget, budget_rate, steps
        self.clip_min, self.clip_max = clip_min, clip_max
        self.search = search
        self.search_settings = dict(candidates=search_candidates, rounds=search_rounds, shortlist=search_shortlist,
                                    exhaustive=search_exhaustive)
        self.tau: torch.Tensor | None = None

    def start(self, x: torch.Tensor) -> None:
        """tau starts at tau0 for every sample."""
        self.tau = torch.full((x.shape[0],), self.tau0, device=x.device, dtype=x.dtype)
        self.t = 0
        self.budget = torch.ones(x.shape[0], device=x.device, dtype=x.dtype)
        self.sparsest = torch.full_like(self.budget, float("inf"))
        self.evaluated_l0: torch.Tensor | None = None  # unknown before the first step

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
        if self.l0_budget:
            self._project_on_budget(delta, fooled)

    def _project_on_budget(self, delta: torch.Tensor, fooled: torch.Tensor) -> None:
        """Move each sample's budget k (FMN-L0's rule), then keep its k largest components."""
        if self.evaluated_l0 is not None:
            seen = torch.where(fooled, self.evaluated_l0, torch.full_like(self.sparsest, float("inf")))
            self.sparsest = torch.minimum(self.sparsest, seen)
        rate = cosine_anneal(self.budget_rate, self.budget_rate / 50, self.t, self.steps)
        k = self.budget
        shrunk = torch.minimum(torch.minimum(k - 1, (k * (1 - rate)).floor()), self.sparsest)
        grown = torch.maximum(k + 1, (k * (1 + rate)).floor())
        flat = delta.view(delta.shape[0], -1)
        self.budget = torch.where(fooled, shrunk, grown).clamp_(1, flat.shape[1])
        self.t += 1
        magnitude = flat.abs()
        kept = self.budget.long().unsqueeze(1)
        threshold = magnitude.topk(int(kept.max()), dim=1).values.gather(1, kept - 1)
        flat.masked_fill_(magnitude < threshold, 0.0)
        self.evaluated_l0 = l0_count(delta)

    def finished(self, best_keys: tuple[torch.Tensor, ...]) -> torch.Tensor | None:
        """With the L0 budget, the samples already fooled by a single component (L0 0 is clean)."""
        return best_keys[0] <= 1 if self.l0_budget else None

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
                     search_shortlist=cfg.search_shortlist, search_exhaustive=cfg.search_exhaustive,
                     l0_budget=cfg.l0_budget,
                     budget_rate=cfg.budget_rate, steps=cfg.steps)
