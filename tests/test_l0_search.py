"""The greedy L0 search: never a false success, one decisive step found, batch invariance."""

import pytest
import torch

from aslo.attacks import get_attack_config, run_attack
from aslo.attacks.l0_search import greedy_l0_search, margin
from helpers.models import BATCH_EXACT_LENGTH, Linear, OneDecisiveStep, PerSeries, series


def _l0(delta):
    return (delta.flatten(1) != 0).sum(dim=1)


def test_margin_is_negative_exactly_when_another_class_wins():
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 1.0, 0.0]])
    clean = torch.tensor([0, 0, 0])
    m = margin(logits, clean)
    assert m.tolist() == [1.0, -3.0, 0.0]
    assert ((m < 0) == (logits.argmax(dim=1) != clean)).all()


def test_one_decisive_time_step_is_found_with_l0_one():
    model = OneDecisiveStep()
    x = series(6, 30)
    clean = model(x).argmax(dim=1)
    assert (clean == 0).all()
    # from a dense adversarial start (every component at the top of the box) ...
    dense = torch.full_like(x, 4.0) - x
    assert (model(x + dense).argmax(dim=1) == 1).all()
    delta, cost = greedy_l0_search(model, x, clean, dense, lower=torch.tensor(-5.0), upper=torch.tensor(5.0))
    assert (_l0(delta) == 1).all() and (delta[:, 0, 17] != 0).all()
    assert (model(x + delta).argmax(dim=1) == 1).all()
    # ... and from nothing at all (the grow phase)
    grown, _ = greedy_l0_search(model, x, clean, torch.zeros_like(x), lower=torch.tensor(-5.0),
                                upper=torch.tensor(5.0))
    assert (_l0(grown) == 1).all() and (model(x + grown).argmax(dim=1) == 1).all()
    assert cost.forward > 0 and cost.backward > 0


def test_the_search_never_returns_a_non_adversarial_success_and_stays_in_bounds():
    torch.manual_seed(0)
    model = Linear()
    x = series(40, 24)
    clean = model(x).argmax(dim=1)
    start = torch.rand_like(x) * 3 - 1.5  # inside the bounds; some adversarial, some not
    lower, upper = x - 1.5, x + 1.5
    delta, _ = greedy_l0_search(model, x, clean, start, lower=lower, upper=upper, rounds=3)
    adv_after = model(x + delta).argmax(dim=1) != clean
    adv_before = model(x + start).argmax(dim=1) != clean
    assert adv_before.any() and (~adv_before).any()
    assert (adv_after | ~adv_before).all()  # a start that fooled still fools
    assert (x + delta >= lower - 1e-6).all() and (x + delta <= upper + 1e-6).all()
    assert (_l0(delta[adv_before]) <= _l0(start[adv_before])).all()
    quick, quick_cost = greedy_l0_search(model, x, clean, start, lower=lower, upper=upper, rounds=3, exhaustive=False)
    assert ((model(x + quick).argmax(dim=1) != clean) | ~adv_before).all()  # the cheaper stop is as safe
    swapped, _ = greedy_l0_search(model, x, clean, start, lower=lower, upper=upper, rounds=3, exchange=4)
    assert ((model(x + swapped).argmax(dim=1) != clean) | ~adv_before).all()  # so is the exchange phase
    assert (x + swapped >= lower - 1e-6).all() and (x + swapped <= upper + 1e-6).all()
    assert (_l0(swapped)[adv_before] <= _l0(delta)[adv_before]).all()


def test_the_exhaustive_search_ends_where_no_single_removal_stays_adversarial():
    gen = torch.Generator().manual_seed(4)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(24, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))
    for p in model.parameters():
        p.data = torch.randn(p.shape, generator=gen)
    x = series(30, 24, seed=2)
    clean = model(x).argmax(dim=1)
    start = torch.rand(x.shape, generator=torch.Generator().manual_seed(5)) * 4 - 2
    delta, _ = greedy_l0_search(model, x, clean, start, lower=x - 2, upper=x + 2, rounds=0)
    fooled = torch.nonzero(model(x + delta).argmax(dim=1) != clean).squeeze(1)
    assert fooled.numel() > 10
    for row in fooled.tolist():
        support = torch.nonzero(delta[row].flatten()).squeeze(1)
        if support.numel() < 2:
            continue
        trials = delta[row].flatten().expand(support.numel(), -1).clone()
        trials[torch.arange(support.numel()), support] = 0.0
        still = model((x[row].flatten() + trials).unsqueeze(1)).argmax(dim=1) != clean[row]
        assert not still.any(), f"row {row}: a single removal still fools"


def test_sparse_variant_with_search_is_sparser_batch_invariant_and_deterministic():
    model = PerSeries(Linear(length=BATCH_EXACT_LENGTH))  # same arithmetic for every batch, any CPU
    x = series(12, BATCH_EXACT_LENGTH)
    y = torch.zeros(12, dtype=torch.int64)
    kw = dict(steps=30, lr=0.05, progress=False)
    plain = run_attack(model, x, y, "AS_CW_SPARSE", **kw)
    searched = run_attack(model, x, y, "AS_CW_SPARSE", search="greedy", **kw)
    again = run_attack(model, x, y, "AS_CW_SPARSE", search="greedy", batch_size=5, **kw)
    ok = plain.records["success"].to_numpy()
    assert ok.all() and searched.records["success"].to_numpy().all()
    assert (searched.records["l0"].to_numpy() <= plain.records["l0"].to_numpy()).all()
    assert searched.records["l0"].sum() < plain.records["l0"].sum()
    assert torch.equal(searched.delta, again.delta)
    assert searched.records["l0"].tolist() == again.records["l0"].tolist()


@pytest.mark.parametrize("bad", [dict(search="beam"), dict(search_candidates=0), dict(search_rounds=-1),
                                 dict(search_shortlist=1.5), dict(search_candidates=True)])
def test_bad_search_settings_are_rejected_naming_the_field(bad):
    field = next(iter(bad))
    with pytest.raises(ValueError, match=field):
        get_attack_config("AS_CW_SPARSE", **bad)


def test_bounds_that_exclude_x_are_rejected():
    model = Linear()
    x = series(3, 24)
    with pytest.raises(ValueError, match="bounds must contain x"):
        greedy_l0_search(model, x, model(x).argmax(dim=1), torch.zeros_like(x), lower=x + 1, upper=x + 2)


def test_the_search_never_touches_padding():
    from aslo.observed import observed_mask

    model = OneDecisiveStep(at=17)
    x = series(4, 30)
    clean = model(x).argmax(dim=1)
    observed = observed_mask([10, 30, 12, 30], 30)
    delta, _ = greedy_l0_search(model, x, clean, torch.zeros_like(x), lower=torch.tensor(-5.0),
                                upper=torch.tensor(5.0), observed=observed, rounds=5)
    assert (delta.masked_select(~observed.expand_as(delta)) == 0).all()
    fooled = model(x + delta).argmax(dim=1) != clean
    assert fooled.tolist() == [False, True, False, True]  # step 17 is padding in series 0 and 2
    assert (_l0(delta[fooled]) == 1).all()


class TwoWeakOneStrong(torch.nn.Module):
    """Class 1 wins where w . x > 1.5: components 2 and 5 weigh 1 (both needed), component 8 weighs 3."""

    def __init__(self):
        super().__init__()
        self.register_buffer("w", torch.zeros(10))
        self.w[[2, 5]], self.w[8] = 1.0, 3.0

    def forward(self, x):
        score = (x.flatten(1) * self.w).sum(dim=1)
        return torch.stack([torch.full_like(score, 1.5), score], dim=1)


def test_exchange_replaces_two_components_no_single_removal_spares_by_one():
    model = TwoWeakOneStrong()
    x = torch.zeros(3, 1, 10)
    clean = model(x).argmax(dim=1)
    start = torch.zeros_like(x)
    start[:, 0, [2, 5]] = 1.0  # adversarial with two components; neither alone fools
    lower, upper = x - 1.0, x + 1.0
    upper[1, 0, 8] = 0.1  # the second series cannot use the strong component: nothing to exchange
    plain, _ = greedy_l0_search(model, x, clean, start, lower=lower, upper=upper)
    swapped, cost = greedy_l0_search(model, x, clean, start, lower=lower, upper=upper, exchange=2)
    assert _l0(plain).tolist() == [2, 2, 2]
    assert _l0(swapped).tolist() == [1, 2, 1]
    assert (swapped[[0, 2], 0, 8] == 1.0).all() and torch.equal(swapped[1], plain[1])
    assert (model(x + swapped).argmax(dim=1) != clean).all()
    assert cost.backward > 0


def test_the_budget_attack_passes_its_exchange_setting_to_the_search(monkeypatch):
    import aslo.attacks.budget as budget

    assert get_attack_config("AS_CW_BUDGET").search_exchange == 0
    with pytest.raises(ValueError, match="search_exchange"):
        get_attack_config("AS_CW_BUDGET", search_exchange=-1)
    seen = []

    def recording_search(*args, **kwargs):
        seen.append(kwargs["exchange"])
        return greedy_l0_search(*args, **kwargs)

    monkeypatch.setattr(budget, "greedy_l0_search", recording_search)
    model = TwoWeakOneStrong()
    x = torch.zeros(2, 1, 10)
    clean = model(x).argmax(dim=1)
    for exchange in (0, 3):
        result = run_attack(model, x, clean, "AS_CW_BUDGET", steps=5, eps=1.0, alpha=1.0, search_exchange=exchange,
                            progress=False)
        assert result.records["success"].all()
    assert seen == [0, 3]
