"""A batched greedy search for the sparsest adversarial perturbation (beyond the paper).

Given a perturbation (from any attack, or zeros) and per-component bounds on ``x + delta``,
:func:`greedy_l0_search` returns a perturbation with as few non-zero components as it can find,
in three phases, every one batched over the samples (per-sample state in tensors; samples that
are done drop out of the batch):

1. **saturate**: a non-zero component is worth the same in L0 whatever its size, so it is moved
   to the bound on its side (kept only where that lowers the margin);
2. **grow** (samples not yet adversarial): each round takes one gradient of the margin
   ``z_clean - max_{j != clean} z_j``, ranks the untouched observed components by the
   first-order gain of moving each to the bound that lowers the margin, evaluates the
   ``candidates`` best exactly (one batched forward) and adds the best of them;
3. **prune** (adversarial samples): the shortest adversarial prefix of the components ordered by
   saliency ``|grad * delta|`` (a batched binary search), then the same with the components
   ordered by the exact margin left after removing each one, then backward elimination: single
   components are removed while the example stays adversarial, the removal leaving the lowest
   margin first, until no single removal stays adversarial (``exhaustive``), or until the
   shortlist finds none (the cheaper stop);
4. **exchange** (optional, ``exchange`` > 0): two components out, one in. Among each sample's
   ``exchange`` least important components (lowest margin after removing each), every pair is
   removed and one grow round adds the best single new component; where that stays adversarial
   the support has shrunk by one. Repeated while it succeeds, at most ``rounds`` times. A local
   minimum of elimination is not one of exchange: a component that no single removal spares may
   be replaced, together with another, by one better placed.

A sample whose start already fools the model with one component is left as it is: nothing is
sparser. Every candidate is classified by :func:`aslo.attacks.losses.is_adversarial` (the margin
only ranks candidates), and the result is
checked once more on all searched samples together: a sample whose search result is not
adversarial there gets its starting perturbation back, so the search never turns a success into
a failure.

The cost is counted in model passes: a gradient round is one forward and one backward over the
active samples, a batched evaluation of ``k`` candidates is ``k`` forwards of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..metrics import ZERO_THRESHOLD
from .losses import is_adversarial, margin


def l0_count(delta: torch.Tensor) -> torch.Tensor:
    """Per-sample number of components with |delta| > ZERO_THRESHOLD (the metric's L0), as float."""
    return (delta.flatten(1).abs() > ZERO_THRESHOLD).sum(dim=1).to(delta.dtype)


@dataclass
class SearchCost:
    """Model passes spent by :func:`greedy_l0_search`, in sample-passes (a pass over one series)."""

    forward: int = 0
    backward: int = 0


def evaluate(model, x_adv: torch.Tensor, clean_pred: torch.Tensor, cost: SearchCost) -> tuple[torch.Tensor, torch.Tensor]:
    """One counted forward: each sample's margin (for ranking) and whether it is adversarial."""
    cost.forward += x_adv.shape[0]
    logits = model(x_adv)
    return margin(logits, clean_pred), is_adversarial(logits, clean_pred)


def _expand(values: torch.Tensor, k: int) -> torch.Tensor:
    """(A, ...) -> (A * k, ...), each row repeated k times in place."""
    return values.repeat_interleave(k, dim=0)


@torch.no_grad()
def shortest_adversarial_prefix(model, x: torch.Tensor, delta: torch.Tensor, clean_pred: torch.Tensor,
                                priority: torch.Tensor, cost: SearchCost) -> torch.Tensor:
    """Keep, per sample, the fewest components of ``delta`` by decreasing ``priority`` (ties: the
    earlier component) that are still adversarial; ``delta`` itself must be adversarial.

    A batched binary search on the prefix length: keeping the whole support is adversarial,
    keeping nothing is the clean input; each forward covers only the samples still searching,
    about log2(support) forwards in all.
    """
    b, shape = delta.shape[0], delta.shape[1:]
    flat = delta.flatten(1)
    support = flat.abs() > ZERO_THRESHOLD
    order = priority.flatten(1).masked_fill(~support, float("-inf")).argsort(dim=1, descending=True, stable=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(flat.shape[1], device=flat.device).expand(b, -1))
    lo, hi = torch.zeros_like(rank[:, 0]), support.sum(dim=1)  # keeping lo is not adversarial, keeping hi is
    while True:
        rows = torch.nonzero(hi - lo > 1).squeeze(1)
        if rows.numel() == 0:
            return (flat * (rank < hi.unsqueeze(1))).view(b, *shape)
        mid = (lo[rows] + hi[rows]) // 2
        trial = (flat[rows] * (rank[rows] < mid.unsqueeze(1))).view(-1, *shape)
        adv = evaluate(model, x[rows] + trial, clean_pred[rows], cost)[1]
        hi[rows] = torch.where(adv, mid, hi[rows])
        lo[rows] = torch.where(adv, lo[rows], mid)


@torch.no_grad()
def saturate(model, x, delta, clean_pred, *, lower, upper, cost: SearchCost, current: torch.Tensor,
             adversarial: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Phase 1: move every non-zero component to its bound where that lowers the margin.

    ``current`` and ``adversarial``: the margins at ``delta`` and whether it fools; returns the
    perturbation with its margins and flags."""
    far = torch.where(delta > 0, upper - x, torch.where(delta < 0, lower - x, torch.zeros_like(delta)))
    far_margin, far_adversarial = evaluate(model, x + far, clean_pred, cost)
    better = far_margin < current
    return (torch.where(better.view(-1, *[1] * (delta.ndim - 1)), far, delta), torch.where(better, far_margin, current),
            torch.where(better, far_adversarial, adversarial))


def grow(model, x, delta, clean_pred, *, lower, upper, observed, candidates: int, rounds: int, cost: SearchCost,
         current: torch.Tensor, adversarial: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Phase 2: add one bound-saturated component per round until each sample is adversarial.

    ``current`` and ``adversarial``: the margins at ``delta`` and whether it fools; returns the
    perturbation with its margins and flags."""
    delta, current, adversarial = delta.clone(), current.clone(), adversarial.clone()
    shape = x.shape[1:]
    for _ in range(rounds):
        active = torch.nonzero(~adversarial).squeeze(1)
        if active.numel() == 0:
            break
        xa, da, ca = x[active], delta[active], clean_pred[active]
        with torch.enable_grad():  # the caller may run under no_grad (the final refine)
            point = (xa + da).requires_grad_(True)
            (grad,) = torch.autograd.grad(evaluate(model, point, ca, cost)[0].sum(), point)
        cost.backward += active.numel()
        with torch.no_grad():
            move = torch.where(grad > 0, lower[active] - xa, upper[active] - xa) - da
            gain = (grad * move).flatten(1)  # first-order change of the margin (<= 0 is good)
            free = (da.flatten(1).abs() <= ZERO_THRESHOLD) & (move.flatten(1) != 0)
            if observed is not None:
                free &= observed[active].expand(-1, *shape).flatten(1)
            gain = gain.masked_fill(~free, float("inf"))
            k = min(candidates, gain.shape[1])
            idx = gain.topk(k, dim=1, largest=False).indices  # (A, k)
            step = move.flatten(1).gather(1, idx).masked_fill(gain.gather(1, idx).isinf(), 0.0)
            trial = _expand(da.flatten(1), k)
            trial.scatter_add_(1, idx.reshape(-1, 1), step.reshape(-1, 1))
            trial_m, trial_adv = evaluate(model, _expand(xa, k) + trial.view(-1, *shape), _expand(ca, k), cost)
            current[active], pick = trial_m.view(-1, k).min(dim=1)
            adversarial[active] = trial_adv.view(-1, k).gather(1, pick.unsqueeze(1)).squeeze(1)
            chosen = idx.gather(1, pick.unsqueeze(1))
            flat = da.flatten(1)
            flat.scatter_add_(1, chosen, step.gather(1, pick.unsqueeze(1)))
            delta[active] = flat.view_as(da)
    return delta.detach(), current, adversarial


@torch.no_grad()
def scan_components(model, x, delta, clean_pred, *, lower, upper, observed, cost: SearchCost,
                    chunk: int = 1024) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Add one component to each sample's ``delta``, chosen exactly: every free component (zero in
    ``delta``, observed) moved to each of its two bounds is evaluated (2 x free forwards per sample,
    in batches of ``chunk`` series); returns per sample the perturbation with the addition leaving
    the lowest margin, that margin and whether it fools (``delta`` unchanged, inf and False where
    nothing is free).

    Why both bounds and every component: on these models a single component often fools at the
    bound its first-order gain ranks low, or on the side its gradient points away from (BME x
    MACNN: a single fooling component on 6 of 10 series, ranked 14th-95th by that gain), so a
    first-order shortlist (:func:`grow`) misses a success that the exact scan finds."""
    b, shape, n = x.shape[0], x.shape[1:], x[0].numel()
    flat_x, flat_d = x.flatten(1), delta.flatten(1)
    free = flat_d.abs() <= ZERO_THRESHOLD
    if observed is not None:
        free &= observed.expand(-1, *shape).flatten(1)
    # (sample, side, component) triples whose bound moves x: side 0 the lower bound, 1 the upper
    steps = torch.stack([lower.flatten(1) - flat_x, upper.flatten(1) - flat_x], dim=1)  # (B, 2, n)
    rows, sides, cols = torch.nonzero(free.unsqueeze(1) & (steps != 0), as_tuple=True)
    margins = torch.full((b, 2 * n), float("inf"), dtype=x.dtype, device=x.device)
    fooled = torch.zeros((b, 2 * n), dtype=torch.bool, device=x.device)
    for start in range(0, rows.numel(), chunk):
        r, s, c = rows[start:start + chunk], sides[start:start + chunk], cols[start:start + chunk]
        trial = flat_d[r].clone()
        trial[torch.arange(r.numel(), device=x.device), c] = steps[r, s, c]
        margins[r, s * n + c], fooled[r, s * n + c] = evaluate(model, x[r] + trial.view(-1, *shape),
                                                               clean_pred[r], cost)
    lowest, best = margins.min(dim=1)
    found = torch.nonzero(lowest.isfinite()).squeeze(1)
    out = flat_d.clone()
    side, col = best[found] // n, best[found] % n
    out[found, col] = steps[found, side, col]
    return out.view_as(delta), lowest, fooled.gather(1, best.unsqueeze(1)).squeeze(1) & lowest.isfinite()


@torch.no_grad()
def removal_margins(model, x, delta, clean_pred, cost: SearchCost) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, numel) margins and adversarial flags after removing each single support component
    (inf and False off the support).

    One batched forward over exactly the (sample, component) pairs of the supports, so a sample
    with a small support costs only that many series.
    """
    flat = delta.flatten(1)
    margins, adversarial = torch.full_like(flat, float("inf")), torch.zeros_like(flat, dtype=torch.bool)
    rows, cols = torch.nonzero(flat.abs() > ZERO_THRESHOLD, as_tuple=True)
    if rows.numel() == 0:
        return margins, adversarial
    trial = flat[rows].clone()
    trial[torch.arange(rows.numel(), device=flat.device), cols] = 0.0
    margins[rows, cols], adversarial[rows, cols] = evaluate(model, x[rows] + trial.view(-1, *x.shape[1:]),
                                                            clean_pred[rows], cost)
    return margins, adversarial


@torch.no_grad()
def eliminate(model, x, delta, clean_pred, *, shortlist: int, cost: SearchCost, exhaustive: bool = True,
              scores: tuple[torch.Tensor, torch.Tensor] | None = None, fresh: torch.Tensor | None = None) -> torch.Tensor:
    """Remove single components while adversarial, the removal leaving the lowest margin first.

    Exact backward elimination, made cheap: every removal is evaluated once, then each round
    re-evaluates only the ``shortlist`` components whose last known removal margin is lowest (a
    sample whose removals are all current takes its best one without a forward); a sample whose
    shortlist has no adversarial removal gets every removal re-evaluated once before it stops
    (``exhaustive``; else it stops at once). With ``exhaustive`` the result is a local minimum: no
    single removal stays adversarial. ``scores`` (:func:`removal_margins` of ``delta``), with
    ``fresh`` (B,) saying whose are current, spares the first evaluation (None: evaluate first).
    """
    delta = delta.clone()
    flat = delta.view(delta.shape[0], -1)
    if scores is None:
        margins, adversarial = removal_margins(model, x, delta, clean_pred, cost)
        fresh = torch.ones(delta.shape[0], dtype=torch.bool, device=delta.device)
    else:  # updated in place below: leave the caller's tensors alone
        (margins, adversarial), fresh = (scores[0].clone(), scores[1].clone()), fresh.clone()
    live = l0_count(delta) > 1
    while bool(live.any()):
        rows = torch.nonzero(live).squeeze(1)
        chosen = margins[rows].argmin(dim=1)  # exact where fresh: the best removal, no forward needed
        ok = adversarial[rows, chosen]
        stale = torch.nonzero(~fresh[rows]).squeeze(1)
        if stale.numel():
            old = rows[stale]
            support = flat[old].abs() > ZERO_THRESHOLD
            m = min(shortlist, int(support.sum(dim=1).max()))
            cand = margins[old].topk(m, dim=1, largest=False).indices
            valid = support.gather(1, cand)
            trial = _expand(flat[old], m)
            trial.scatter_(1, cand.reshape(-1, 1), 0.0)
            trial_m, trial_adv = evaluate(model, _expand(x[old], m) + trial.view(-1, *x.shape[1:]),
                                          _expand(clean_pred[old], m), cost)
            trial_m = trial_m.view(-1, m).masked_fill(~valid, float("inf"))
            trial_adv = trial_adv.view(-1, m) & valid
            margins[old.unsqueeze(1), cand], adversarial[old.unsqueeze(1), cand] = trial_m, trial_adv
            pick = trial_m.argmin(dim=1)
            chosen[stale] = cand.gather(1, pick.unsqueeze(1)).squeeze(1)
            ok[stale] = trial_adv.gather(1, pick.unsqueeze(1)).squeeze(1)
        flat[rows[ok], chosen[ok]] = 0.0
        margins[rows[ok], chosen[ok]], adversarial[rows[ok], chosen[ok]] = float("inf"), False
        fresh[rows[ok]] = False  # the other removals were measured before this one
        stuck = rows[~ok]
        live[stuck[fresh[stuck]] if exhaustive else stuck] = False
        retry = stuck[~fresh[stuck]] if exhaustive else stuck[:0]
        if retry.numel():
            margins[retry], adversarial[retry] = removal_margins(model, x[retry], delta[retry], clean_pred[retry], cost)
            fresh[retry] = True
        live &= l0_count(delta) > 1
    return delta


@torch.no_grad()
def exchange_components(model, x, delta, clean_pred, *, lower, upper, observed, pairs_among: int, candidates: int,
                        rounds: int, cost: SearchCost) -> torch.Tensor:
    """Phase 4 on adversarial ``delta`` (every row must fool): two components out, one in, while
    it stays adversarial (see the module docstring); ``pairs_among``: the least important
    components whose pairs are tried."""
    delta = delta.clone()
    flat, shape = delta.view(delta.shape[0], -1), x.shape[1:]
    live = l0_count(delta) > 1
    for _ in range(rounds):
        rows = torch.nonzero(live).squeeze(1)
        if rows.numel() == 0:
            break
        margins, _ = removal_margins(model, x[rows], delta[rows], clean_pred[rows], cost)  # inf off the support
        m = min(pairs_among, margins.shape[1])
        weakest = margins.topk(m, dim=1, largest=False)
        pairs = torch.combinations(torch.arange(m, device=x.device), 2)  # (P, 2)
        n_pairs = pairs.shape[0]
        first, second = weakest.indices[:, pairs[:, 0]], weakest.indices[:, pairs[:, 1]]  # (A, P)
        valid = (weakest.values[:, pairs[:, 0]].isfinite() & weakest.values[:, pairs[:, 1]].isfinite()).reshape(-1)
        trial = _expand(flat[rows], n_pairs)
        trial.scatter_(1, first.reshape(-1, 1), 0.0)
        trial.scatter_(1, second.reshape(-1, 1), 0.0)
        trial = trial[valid].view(-1, *shape)
        owner = _expand(rows, n_pairs)[valid]  # the sample each trial belongs to
        if owner.numel() == 0:
            break
        n_trials = owner.numel()
        grown, grown_margin, fooled = grow(model, x[owner], trial, clean_pred[owner], lower=lower[owner],
                                           upper=upper[owner], observed=None if observed is None else observed[owner],
                                           candidates=candidates, rounds=1, cost=cost,
                                           current=torch.full((n_trials,), float("inf"), device=x.device,
                                                              dtype=x.dtype),
                                           adversarial=torch.zeros(n_trials, dtype=torch.bool, device=x.device))
        # per sample, the adversarial exchange leaving the lowest margin (ties: the first pair)
        score = grown_margin.masked_fill(~fooled, float("inf"))
        lowest = torch.full((delta.shape[0],), float("inf"), device=x.device, dtype=x.dtype)
        lowest.scatter_reduce_(0, owner, score, reduce="amin")
        winner = fooled & (score == lowest[owner])
        pick = torch.full((delta.shape[0],), n_trials, dtype=torch.long, device=x.device)
        pick.scatter_reduce_(0, owner[winner], torch.arange(n_trials, device=x.device)[winner], reduce="amin")
        won = torch.nonzero(pick < n_trials).squeeze(1)
        flat[won] = grown[pick[won]].flatten(1)
        live = torch.zeros_like(live)
        live[won] = l0_count(delta[won]) > 1
    return delta


def prune(model, x, delta, clean_pred, *, shortlist: int, cost: SearchCost, adversarial: torch.Tensor,
          exhaustive: bool = True) -> torch.Tensor:
    """Phase 3 on the ``adversarial`` rows: the shortest adversarial prefix by saliency
    ``|grad * delta|``, then by the margin left after each single removal, then elimination."""
    rows = torch.nonzero(adversarial).squeeze(1)
    if rows.numel() == 0:
        return delta
    xa, da, ca = x[rows], delta[rows], clean_pred[rows]
    with torch.enable_grad():
        point = (xa + da).requires_grad_(True)
        (grad,) = torch.autograd.grad(evaluate(model, point, ca, cost)[0].sum(), point)
    cost.backward += rows.numel()
    with torch.no_grad():
        da = shortest_adversarial_prefix(model, xa, da, ca, (grad * da).abs(), cost)
        # again, ranked by the margin left after removing each component (the most important kept)
        margins, removable = removal_margins(model, xa, da, ca, cost)
        cut = shortest_adversarial_prefix(model, xa, da, ca, margins, cost)
        # those removals stay exact where the cut removed nothing; elsewhere they only order the shortlist
        kept = cut.flatten(1).abs() > ZERO_THRESHOLD
        unchanged = (kept == (da.flatten(1).abs() > ZERO_THRESHOLD)).all(dim=1)
        da = eliminate(model, xa, cut, ca, shortlist=shortlist, cost=cost, exhaustive=exhaustive,
                       scores=(margins.masked_fill(~kept, float("inf")), removable & kept), fresh=unchanged)
        out = delta.clone()
        out[rows] = da
    return out


def greedy_l0_search(model, x: torch.Tensor, clean_pred: torch.Tensor, delta: torch.Tensor, *,
                     lower: torch.Tensor, upper: torch.Tensor, observed: torch.Tensor | None = None,
                     candidates: int = 4, rounds: int = 10, shortlist: int = 2,
                     exhaustive: bool = True, exchange: int = 0) -> tuple[torch.Tensor, SearchCost]:
    """The sparsest adversarial perturbation the three phases find (see the module docstring).

    ``x``, ``delta`` (B, C, L); ``lower``/``upper`` bound ``x + delta`` elementwise (broadcast to
    x); ``observed`` (B, 1, L) bool or None: components the search may touch. ``candidates``:
    components evaluated exactly per grow round; ``rounds``: the most components grow adds;
    ``shortlist``: removals re-evaluated per elimination round; ``exhaustive``: re-evaluate every
    removal before stopping (a true local minimum; costs more forwards); ``exchange``: 0 (off) or
    how many of the least important components phase 4 pairs up (at most ``rounds`` exchanges,
    ``candidates`` per grow round). Returns the perturbation
    (exactly zero off its support) and the passes spent.
    """
    lower = torch.broadcast_to(lower, x.shape).to(x)
    upper = torch.broadcast_to(upper, x.shape).to(x)
    if bool((lower > x).any()) or bool((upper < x).any()):
        raise ValueError("the bounds must contain x: lower <= x <= upper")
    cost = SearchCost()
    delta = torch.maximum(torch.minimum(x + delta.detach(), upper), lower) - x  # x + 0 is x: zeros stay
    delta[delta.abs() <= ZERO_THRESHOLD] = 0.0
    if observed is not None:
        delta = delta * observed
    with torch.no_grad():
        start_margin, start_adversarial = evaluate(model, x + delta, clean_pred, cost)
    # one component that fools is already the sparsest adversarial example (L0 0 is the clean input)
    rows = torch.nonzero(~start_adversarial | (l0_count(delta) > 1)).squeeze(1)
    if rows.numel() == 0:
        return delta, cost
    xs, cs, ls, us = x[rows], clean_pred[rows], lower[rows], upper[rows]
    obs = None if observed is None else observed[rows]
    start = delta[rows]
    found, margins, adversarial = saturate(model, xs, start, cs, lower=ls, upper=us, cost=cost,
                                           current=start_margin[rows], adversarial=start_adversarial[rows])
    found, margins, adversarial = grow(model, xs, found, cs, lower=ls, upper=us, observed=obs, candidates=candidates,
                                       rounds=rounds, cost=cost, current=margins, adversarial=adversarial)
    found = prune(model, xs, found, cs, shortlist=shortlist, cost=cost, adversarial=adversarial, exhaustive=exhaustive)
    if exchange > 0:
        fooled = torch.nonzero(adversarial).squeeze(1)
        found[fooled] = exchange_components(model, xs[fooled], found[fooled], cs[fooled], lower=ls[fooled],
                                            upper=us[fooled], observed=None if obs is None else obs[fooled],
                                            pairs_among=exchange, candidates=candidates, rounds=rounds, cost=cost)
    with torch.no_grad():  # checked once more on all searched rows: a candidate judged in another batch could differ
        lost = ~evaluate(model, xs + found, cs, cost)[1] & start_adversarial[rows]
    delta = delta.clone()
    delta[rows] = torch.where(lost.view(-1, *[1] * (x.ndim - 1)), start, found)
    return delta, cost
