"""AS_CW_BUDGET: the paper's ASL0 attack under an adaptive L0 budget, then a greedy L0 search.

Beyond the paper (an extension, not one of its attacks). The paper's surrogate
``d^2 / (d^2 + sigma^2)`` never makes a component exactly zero; this attack keeps the paper's
CW margin, its ASL0 term and its sigma rule, and adds what makes a perturbation exactly sparse:

1. **normalised steps**: the margin's gradient and the ASL0 gradient are each divided by their
   per-sample L2 norm, the second weighted ``reg_direction_weight``; the step length falls from
   ``alpha`` to ``alpha * step_final_ratio`` along a cosine (FMN's schedule). A sample's step then
   depends neither on the scale of its loss nor on ``reg_coef`` (which still enters J, and so the
   sigma rule);
2. **an L0 budget** (FMN-L0's rule, Pintor et al. 2021): after every step only the ``k`` largest
   components of each sample are kept. ``k`` starts at 1; it grows by at least one while the
   sample is not adversarial, and falls by at least one, and at once to the sparsest success so
   far, while it is; the relative move ``budget_rate`` is cosine-annealed to ``budget_rate *
   budget_final_ratio``. The support grows from one component rather than being pruned from a
   dense start;
3. **the sparsest adversarial iterate** is kept (smallest L0, ties: smallest L2); a sample whose
   sparsest success has L0 = 1 cannot improve (L0 = 0 is the clean input) and leaves the forward
   pass;
4. **a greedy L0 search** (:func:`aslo.attacks.l0_search.greedy_l0_search`) from that iterate,
   inside the same box: saturate, grow where not adversarial, cut by the shortest adversarial
   prefix, eliminate single components.

Options of the probe and the loop, all off by default (the registered attack does not use them):
``probe_candidates`` > 0 first tries single components from the clean input, one grow round of
the search (:func:`aslo.attacks.l0_search.grow`: one gradient, then that many single-component
candidates at the box's bound, evaluated in one batched forward); a sample that one of them fools
has the sparsest possible success and skips the loop. With ``probe_rounds`` > 1 the probe goes on
greedily, one component per round (VFGA's way); a sample it fools with at most ``probe_settles``
components skips the loop too (above 1 a heuristic: the loop would look for a sparser success
that the probe's first rounds did not find), a sample it fools with more enters the loop with that
success as its sparsest. ``probe_scan``: where the first round's shortlist fools none, that round
is made exact (:func:`aslo.attacks.l0_search.scan_components`: every component at both of its
bounds, 2 x components forwards per series), since a single fooling component is often one the
gradient ranks low or points away from. ``patience`` > 0 stops a sample whose sparsest success has not become
sparser for that many steps (its search still runs).

Success is one predicate throughout, :func:`aslo.attacks.losses.is_adversarial` (another class
scores strictly above the clean prediction), and the search only accepts candidates it holds
for, so a returned success is adversarial by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, ClassVar

import torch

from ..config_base import finite_number, integer
from .algorithm import adapt_sigma, improved_mask
from .l0_search import SearchCost, greedy_l0_search, grow, l0_count, scan_components
from .losses import cw_margin, is_adversarial
from .regularisers import l0_surrogate
from .sparse import BoxSearchConfig

#: The registered attack: the CW margin with the ASL0 term, normalised steps of one box width from
#: zero, in the box eps = 1 (one standard deviation of a z-normalised series). The search stops
#: when its shortlist finds no removal instead of re-evaluating every removal first (GunPoint and
#: ArrowHead x LSTM-FCN, 20 series: 6-9 % less time, the same medians).
BUDGET_VARIANTS = {
    "AS_CW_BUDGET": dict(loss="cw", regulariser="asl0", reg_coef=1e-5, eps=1.0, eps_init=0.0,
                         step="normalized", alpha=1.0, return_iterate="best"),
}


@dataclass(frozen=True)
class BudgetAttackConfig(BoxSearchConfig):
    """BoxSearchConfig plus every setting of :func:`asl0_budget_attack` (see the module docstring).

    The composition is fixed: ``loss="cw"``, ``regulariser="asl0"``, ``step="normalized"``,
    ``return_iterate="best"``; Adam's settings (``lr``, ``betas``, ``adam_eps``, ``amsgrad``) and
    ``objective_scaling`` are not read. ``alpha``: the first step length (in the units of the
    series); ``step_final_ratio=0.01``: the last step is ``alpha`` times it (FMN's default).
    ``reg_direction_weight=0.1``: the ASL0 direction's weight beside the margin's. With the summed
    gradient normalised instead, a sample the clamped margin already fools (a flat loss) followed
    the regulariser alone at full length, out of the adversarial region (GunPoint x ResNet18, 8
    series, 200 steps: median L0 27.5); measured there at 0.03 / 0.1 / 0.3: 9.0 / 2.5 / 10.0.
    ``budget_rate=0.05``: the budget's initial relative move (FMN-L0's gamma), annealed to
    ``budget_rate * budget_final_ratio`` (``0.02``). The box and the search as in
    BoxSearchConfig; here the search is on by default and stops when its shortlist finds no
    removal (``search_exhaustive=False``). ``probe_candidates=0`` and ``patience=0``: the
    single-component probe and the early stop of the module docstring, off.
    ``probe_rounds=1`` and ``probe_settles=1``: the probe's greedy rounds and the largest L0 of a
    probe success that skips the loop (1: only where nothing is sparser).
    ``probe_scan=False``: the probe's exact first round where its shortlist fools none (module docstring).
    ``search_exchange=0``: the search's exchange phase (two components out, one in, among that
    many least important ones; :func:`aslo.attacks.l0_search.greedy_l0_search`), off.
    """

    step: str = "normalized"
    step_final_ratio: float = 0.01
    reg_direction_weight: float = 0.1
    budget_rate: float = 0.05
    budget_final_ratio: float = 0.02
    probe_candidates: int = 0
    probe_rounds: int = 1
    probe_settles: int = 1
    probe_scan: bool = False
    patience: int = 0
    search: str = "greedy"
    search_exhaustive: bool = False
    search_exchange: int = 0

    STEP_RULES: ClassVar[tuple[str, ...]] = ("normalized",)

    def validate(self) -> None:
        """BoxSearchConfig's checks (with the normalised step), then the budget's settings."""
        super().validate()
        if (self.loss, self.regulariser) != ("cw", "asl0"):
            raise ValueError(f"{self.name} is built on the CW margin and ASL0: loss must be 'cw' and regulariser "
                             f"'asl0', got {self.loss!r} and {self.regulariser!r}")
        for field in ("step_final_ratio", "reg_direction_weight", "budget_rate", "budget_final_ratio"):
            value = getattr(self, field)
            if not finite_number(value) or not 0 <= value <= 1:
                raise ValueError(f"{field} must be a number in [0, 1], got {value!r}")
        for field in ("probe_candidates", "patience", "search_exchange"):
            value = getattr(self, field)
            if not integer(value) or value < 0:
                raise ValueError(f"{field} must be an integer >= 0 (0: off), got {value!r}")
        for field in ("probe_rounds", "probe_settles"):
            value = getattr(self, field)
            if not integer(value) or value < 1:
                raise ValueError(f"{field} must be an integer >= 1, got {value!r}")
        if not isinstance(self.probe_scan, bool):
            raise ValueError(f"probe_scan must be true or false, got {self.probe_scan!r}")
        if self.probe_scan and self.probe_candidates == 0:
            raise ValueError("probe_scan completes the probe's first round: it needs the probe on (probe_candidates > 0)")
        if self.probe_settles > self.probe_rounds:
            raise ValueError(f"probe_settles ({self.probe_settles}) cannot exceed probe_rounds ({self.probe_rounds}): "
                             "the probe never finds a success with more components than rounds")

    def keywords(self) -> dict:
        """The keyword arguments of :func:`asl0_budget_attack` this configuration sets."""
        names = ("steps", "eps", "alpha", "step_final_ratio", "kappa", "cw_c", "reg_direction_weight",
                 "sigma0", "eta_d", "eta_i", "sigma_min", "sigma_max", "improvement", "j_star", "budget_rate",
                 "budget_final_ratio", "probe_candidates", "probe_rounds", "probe_settles", "probe_scan", "patience", "clip_min",
                 "clip_max", "search", "search_candidates", "search_rounds", "search_shortlist", "search_exhaustive",
                 "search_exchange")
        return {"reg_coef": self.effective_reg_coef, **{name: getattr(self, name) for name in names}}


def cosine_anneal(start: float, end: float, t: int, steps: int) -> float:
    """``start`` at step 0 falling to ``end`` along half a cosine over ``steps`` steps."""
    return end + (start - end) * (1 + math.cos(math.pi * t / max(steps, 1))) / 2


def unit_direction(grad: torch.Tensor) -> torch.Tensor:
    """Each sample's gradient divided by its L2 norm (a zero gradient stays zero)."""
    return grad / grad.flatten(1).norm(dim=1).clamp_(min=1e-12).view(-1, *[1] * (grad.ndim - 1))


def normalized_step(loss_grad: torch.Tensor, reg_grad: torch.Tensor, reg_direction_weight: float) -> torch.Tensor:
    """The step direction: the margin's unit gradient plus the ASL0 term's, weighted (per sample)."""
    return unit_direction(loss_grad) + reg_direction_weight * unit_direction(reg_grad)


def next_budget(k: torch.Tensor, adversarial: torch.Tensor, sparsest: torch.Tensor, rate: float,
                largest: int) -> torch.Tensor:
    """FMN-L0's budget move per sample: down by at least one (and to ``sparsest``) where
    ``adversarial``, up by at least one elsewhere, kept in [1, ``largest``]."""
    shrunk = torch.minimum(torch.minimum(k - 1, (k * (1 - rate)).floor()), sparsest)
    grown = torch.maximum(k + 1, (k * (1 + rate)).floor())
    return torch.where(adversarial, shrunk, grown).clamp_(1, largest)


def keep_largest(delta: torch.Tensor, k: torch.Tensor) -> None:
    """Zero, in place, all but each sample's ``k`` largest components by magnitude."""
    flat = delta.view(delta.shape[0], -1)
    magnitude = flat.abs()
    kept = k.long().unsqueeze(1)
    threshold = magnitude.topk(int(kept.max()), dim=1).values.gather(1, kept - 1)
    flat.masked_fill_(magnitude < threshold, 0.0)


def asl0_budget_attack(model, x: torch.Tensor, clean_pred: torch.Tensor, delta0: torch.Tensor, *,
                       steps: int = 1000, eps: float = 1.0, alpha: float = 1.0, step_final_ratio: float = 0.01,
                       kappa: float = 0.0, cw_c: float = 1.0, reg_coef: float = 1e-5,
                       reg_direction_weight: float = 0.1, sigma0: float = 0.01, eta_d: float = 0.9,
                       eta_i: float = 1.1, sigma_min: float = 1e-6, sigma_max: float = 1.0,
                       improvement: str = "either", j_star: str = "running_best", budget_rate: float = 0.05,
                       budget_final_ratio: float = 0.02, probe_candidates: int = 0, probe_rounds: int = 1,
                       probe_settles: int = 1, probe_scan: bool = False, patience: int = 0,
                       clip_min: float | None = None, clip_max: float | None = None,
                       search: str = "greedy", search_candidates: int = 4,
                       search_rounds: int = 10, search_shortlist: int = 2, search_exhaustive: bool = False,
                       search_exchange: int = 0,
                       observed: torch.Tensor | None = None, on_step: Callable[[], None] | None = None) -> dict:
    """Attack one batch ``x`` (B, C, L) whose clean predictions are ``clean_pred``, from ``delta0``.

    ``observed`` (bool (B, 1, L) or None: every step observed): the perturbation stays zero off it.
    ``probe_candidates`` (0: off), ``probe_rounds``, ``probe_settles`` and ``patience`` (0: off): see
    the module docstring.
    ``on_step`` is called after every step (progress). Returns, per sample: ``delta`` (exactly zero
    off its support), ``adv_pred``, ``first_success_step`` (-1: never), ``final_sigma`` and
    ``extra`` = ``{"best_l0": L0 of the returned delta, NaN where it does not fool}``, as
    :func:`aslo.attacks.algorithm.attack_batch` returns them (``trace`` is None).
    """
    batch_view = lambda v: v.view(-1, *[1] * (x.ndim - 1))  # noqa: E731  (B,) against (B, C, L)
    batch, n_components = x.shape[0], x[0].numel()
    lower, upper = x - eps, x + eps  # the box on x + delta, within the data box where set (x stays inside)
    if clip_min is not None:
        lower = torch.minimum(lower.clamp(min=clip_min), x)
    if clip_max is not None:
        upper = torch.maximum(upper.clamp(max=clip_max), x)
    padding = None if observed is None else ~observed

    delta = delta0.detach().clone()
    if padding is not None:
        delta.masked_fill_(padding, 0.0)
    delta.requires_grad_(True)
    inf = torch.full((batch,), float("inf"), device=x.device, dtype=x.dtype)
    sigma = torch.full_like(inf, sigma0)
    best_objective, prev_loss = inf.clone(), inf.clone()
    budget = torch.ones_like(inf)
    best_l0, best_l2, best_delta = inf.clone(), inf.clone(), delta.detach().clone()
    first_success = torch.full((batch,), -1, dtype=torch.int64, device=x.device)
    last_sparser = torch.zeros_like(first_success)  # the step at which the sparsest success last fell
    settled = torch.zeros_like(first_success, dtype=torch.bool)  # probe successes the loop leaves alone

    if probe_candidates > 0:  # components from the clean input, one per round, greedily
        probed, probe_margin, fooled = grow(model, x, torch.zeros_like(x), clean_pred, lower=lower, upper=upper,
                                            observed=observed, candidates=probe_candidates, rounds=1,
                                            cost=SearchCost(), current=inf.clone(),
                                            adversarial=torch.zeros_like(first_success, dtype=torch.bool))
        missed = torch.nonzero(~fooled).squeeze(1)
        if probe_scan and missed.numel():  # the first round's shortlist fooled none: every component, both bounds
            probed[missed], probe_margin[missed], fooled[missed] = scan_components(
                model, x[missed], torch.zeros_like(x[missed]), clean_pred[missed], lower=lower[missed],
                upper=upper[missed], observed=None if observed is None else observed[missed], cost=SearchCost())
        probed, _, fooled = grow(model, x, probed, clean_pred, lower=lower, upper=upper, observed=observed,
                                 candidates=probe_candidates, rounds=probe_rounds - 1, cost=SearchCost(),
                                 current=probe_margin, adversarial=fooled)
        best_delta = torch.where(batch_view(fooled), probed, best_delta)
        best_l0 = torch.where(fooled, l0_count(probed), best_l0)
        best_l2 = torch.where(fooled, probed.flatten(1).square().sum(dim=1), best_l2)
        first_success = torch.where(fooled, 0, first_success)
        settled = fooled & (best_l0 <= probe_settles)

    for t in range(steps):
        finished = (best_l0 <= 1) | settled  # nothing is sparser than one component
        if patience > 0:  # a success that has not become sparser for `patience` steps is final
            finished |= best_l0.isfinite() & (t - last_sparser >= patience)
        if bool(finished.all()):
            break
        active = torch.nonzero(~finished).squeeze(1)
        logits = model(x[active] + delta[active])
        loss = cw_margin(logits, clean_pred[active], kappa, cw_c)
        reg = l0_surrogate(delta[active], sigma[active])
        loss_grad, = torch.autograd.grad(loss.sum(), delta)
        reg_grad, = torch.autograd.grad(reg.sum(), delta)
        if padding is not None:  # padding never moves, so it takes no part in a normalised step
            loss_grad, reg_grad = loss_grad.masked_fill(padding, 0.0), reg_grad.masked_fill(padding, 0.0)

        with torch.no_grad():
            # the paper's sigma rule, on J = loss + reg_coef * ASL0 at delta(t), sigma(t)
            adversarial = torch.zeros_like(finished).index_copy(0, active, is_adversarial(logits, clean_pred[active]))
            full_loss = torch.zeros_like(inf).index_copy(0, active, loss.detach())
            objective = full_loss + reg_coef * torch.zeros_like(inf).index_copy(0, active, reg.detach())
            improved = improved_mask(full_loss, prev_loss, adversarial, improvement=improvement)
            new_sigma, new_best = adapt_sigma(sigma, improved, objective, best_objective, eta_d=eta_d, eta_i=eta_i,
                                              sigma_min=sigma_min, sigma_max=sigma_max, j_star=j_star)
            sigma = torch.where(finished, sigma, new_sigma)
            best_objective = torch.where(finished, best_objective, new_best)
            prev_loss = torch.where(finished, prev_loss, full_loss)
            first_success = torch.where((first_success < 0) & adversarial, t, first_success)

            # the sparsest adversarial iterate so far (ties: the smallest L2)
            l0, l2 = l0_count(delta), delta.flatten(1).square().sum(dim=1)
            better = adversarial & ((l0 < best_l0) | ((l0 == best_l0) & (l2 < best_l2)))
            last_sparser = torch.where(adversarial & (l0 < best_l0), t, last_sparser)
            best_l0, best_l2 = torch.where(better, l0, best_l0), torch.where(better, l2, best_l2)
            best_delta = torch.where(batch_view(better), delta, best_delta)

            # a normalised step on each term, into the box, then onto the budget
            size = cosine_anneal(alpha, alpha * step_final_ratio, t, steps)
            step = normalized_step(loss_grad, reg_grad, reg_direction_weight)
            delta.sub_(torch.where(batch_view(finished), 0.0, step), alpha=size)
            delta.copy_(torch.maximum(torch.minimum(x + delta, upper), lower) - x)  # x + 0 is x: zeros stay
            rate = cosine_anneal(budget_rate, budget_rate * budget_final_ratio, t, steps)
            budget = next_budget(budget, adversarial, best_l0, rate, n_components)
            keep_largest(delta, budget)
            if padding is not None:
                delta.masked_fill_(padding, 0.0)
        if on_step is not None:
            on_step()

    with torch.no_grad():
        delta = torch.where(batch_view(best_l0.isinf()), delta.detach(), best_delta)  # never fooled: the last
        if search == "greedy":
            delta = greedy_l0_search(model, x, clean_pred, delta, lower=lower, upper=upper, observed=observed,
                                     candidates=search_candidates, rounds=search_rounds, shortlist=search_shortlist,
                                     exhaustive=search_exhaustive, exchange=search_exchange)[0]
        adv_pred = model(x + delta).argmax(dim=1)
        success = adv_pred != clean_pred
        return {"delta": delta, "adv_pred": adv_pred, "first_success_step": first_success, "final_sigma": sigma,
                "extra": {"best_l0": torch.where(success, l0_count(delta), torch.full_like(inf, float("nan")))},
                "trace": None}
