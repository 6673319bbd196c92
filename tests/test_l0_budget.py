"""AS_CW_BUDGET (aslo.attacks.budget): the adaptive L0 budget, the normalised step, finished
samples leaving the loop, and every result-changing constant a validated config field."""

import pytest
import torch

from aslo.attacks import get_attack_config, run_attack
from aslo.attacks.budget import (BudgetAttackConfig, asl0_budget_attack, cosine_anneal, keep_largest, next_budget,
                                 normalized_step, unit_direction)
from aslo.attacks.l0_search import l0_count
from aslo.peers.l0 import BUDGET_PASS_OPTIONS
from helpers.models import BATCH_EXACT_LENGTH, Linear, OneDecisiveStep, PerSeries, series


class CountingModel(torch.nn.Module):
    """Wraps a model and records the batch size of every forward pass."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.sizes = inner, []

    def forward(self, x):
        self.sizes.append(x.shape[0])
        return self.inner(x)


def test_one_decisive_time_step_is_found_with_l0_one():
    model = OneDecisiveStep()
    x = series(6, 30)
    y = model(x).argmax(dim=1)
    result = run_attack(model, x, y, "AS_CW_BUDGET", steps=30, eps=5.0, alpha=5.0, progress=False)
    assert result.records["success"].all()
    assert (result.records["l0"] == 1).all()
    assert (result.delta[:, 0, 17] != 0).all()


#: The registered attack, and it with the options the L0 benchmark turns on (probe, scan, patience, exchange).
WITH_AND_WITHOUT_OPTIONS = [{}, BUDGET_PASS_OPTIONS]


@pytest.mark.parametrize("options", WITH_AND_WITHOUT_OPTIONS, ids=["registered", "benchmark_options"])
def test_a_returned_success_is_always_adversarial_and_failures_are_reported(options):
    model = Linear()
    x = series(30, 24, scale=1.0)
    y = model(x).argmax(dim=1)
    # a box too small for some series: they must come back as failures, never as false successes
    result = run_attack(model, x, y, "AS_CW_BUDGET", steps=20, eps=0.4, alpha=0.4, progress=False, **options)
    success = torch.tensor(result.records["success"].to_numpy(), dtype=torch.bool)
    fooled = model(x + result.delta).argmax(dim=1) != y
    assert success.any() and (~success).any()
    assert torch.equal(success, fooled)
    assert result.delta.abs().max() <= 0.4 + 1e-6
    assert result.records.loc[~result.records["success"], "best_l0"].isna().all()


# with the options, a box of 1 where the probe's shortlist misses 4 of the 12 series, so that the scan
# runs on series split over two batches of 5 below
@pytest.mark.parametrize("options, eps", list(zip(WITH_AND_WITHOUT_OPTIONS, (3.0, 1.0))), ids=["registered", "benchmark_options"])
def test_batch_invariant_and_deterministic(options, eps):
    model = PerSeries(Linear(length=BATCH_EXACT_LENGTH))  # same arithmetic for every batch, any CPU
    x = series(12, BATCH_EXACT_LENGTH)
    y = model(x).argmax(dim=1)
    kw = dict(steps=25, eps=eps, alpha=eps, progress=False, **options)
    whole = run_attack(model, x, y, "AS_CW_BUDGET", **kw)
    parts = run_attack(model, x, y, "AS_CW_BUDGET", batch_size=5, **kw)
    again = run_attack(model, x, y, "AS_CW_BUDGET", **kw)
    assert whole.records["success"].all()
    assert torch.equal(whole.delta, parts.delta) and torch.equal(whole.delta, again.delta)


def test_the_budget_is_sparser_than_the_threshold_variant_on_a_decisive_step():
    model = OneDecisiveStep()
    x = series(6, 30)
    y = model(x).argmax(dim=1)
    budget = run_attack(model, x, y, "AS_CW_BUDGET", steps=30, eps=5.0, alpha=5.0, search="none", progress=False)
    threshold = run_attack(model, x, y, "AS_CW_SPARSE", steps=30, eps=5.0, lr=5.0 / 30, prune=False,
                           progress=False)
    assert budget.records["success"].all()
    assert budget.records["l0"].max() < threshold.records["l0"].min()


def test_budget_grows_by_at_least_one_while_clean_and_falls_to_the_sparsest_success():
    k = torch.tensor([1.0, 10.0, 10.0, 40.0])
    adversarial = torch.tensor([False, False, True, False])
    sparsest = torch.tensor([float("inf"), float("inf"), 4.0, float("inf")])
    # grow: max(k + 1, floor(k * 1.5)); fall: min(k - 1, floor(k * 0.5), sparsest); within [1, 40]
    assert next_budget(k, adversarial, sparsest, 0.5, 40).tolist() == [2.0, 15.0, 4.0, 40.0]
    assert next_budget(torch.tensor([1.0]), torch.tensor([True]), torch.tensor([1.0]), 0.5, 40).tolist() == [1.0]
    delta = torch.arange(1, 81, dtype=torch.float32).reshape(2, 1, 40) * torch.tensor([1.0, -1.0]).view(2, 1, 1)
    keep_largest(delta, torch.tensor([2.0, 3.0]))
    assert l0_count(delta).tolist() == [2.0, 3.0]
    assert delta[0, 0, -2:].tolist() == [39.0, 40.0] and delta[1, 0, -3:].tolist() == [-78.0, -79.0, -80.0]


def test_the_first_step_keeps_the_largest_components_of_the_unit_margin_step():
    model = Linear()
    x = series(4, 24)
    clean = model(x).argmax(dim=1)
    out = asl0_budget_attack(model, x, clean, torch.zeros_like(x), steps=1, eps=10.0, alpha=0.3, search="none")
    point = x.clone().requires_grad_(True)
    logits = model(point)
    margin = logits.gather(1, clean.unsqueeze(1)).squeeze(1) - logits.scatter(1, clean.unsqueeze(1), -1e9).amax(1)
    (grad,) = torch.autograd.grad(margin.sum(), point)
    expected = -0.3 * unit_direction(grad)  # ASL0's gradient is zero at delta = 0
    keep_largest(expected, torch.full((4,), 2.0))  # the budget grew from 1 to 2 (nothing fooled)
    assert torch.allclose(out["delta"], expected, atol=1e-6) and (l0_count(out["delta"]) == 2).all()
    assert cosine_anneal(1.0, 0.01, 0, 50) == 1.0
    assert cosine_anneal(1.0, 0.01, 25, 50) == pytest.approx(0.505)
    assert cosine_anneal(1.0, 0.01, 50, 50) == pytest.approx(0.01)
    assert torch.equal(unit_direction(torch.zeros(2, 1, 5)), torch.zeros(2, 1, 5))


def test_the_step_weights_the_regulariser_direction_apart_from_the_margin():
    """A fooled sample's clamped margin is flat (zero gradient): only the weighted ASL0 direction
    moves it, by the weight whatever the gradients' scale."""
    gen = torch.Generator().manual_seed(0)
    loss_grad = torch.randn(3, 1, 24, generator=gen) * torch.tensor([1.0, 1e4, 0.0]).view(3, 1, 1)
    reg_grad = torch.randn(3, 1, 24, generator=gen) * torch.tensor([0.0, 1e-6, 5.0]).view(3, 1, 1)
    step = normalized_step(loss_grad, reg_grad, 0.1)
    assert torch.allclose(step.flatten(1).norm(dim=1)[[0, 2]], torch.tensor([1.0, 0.1]))
    assert torch.allclose(step[1], unit_direction(loss_grad)[1] + 0.1 * unit_direction(reg_grad)[1])


def test_samples_fooled_by_one_component_leave_the_forward_pass():
    model = CountingModel(OneDecisiveStep())
    x = series(6, 30)
    x[:3, 0, 17] = 2.0  # three series sit close to the decisive level: a small step fools them
    clean = model(x).argmax(dim=1)
    model.sizes.clear()
    out = asl0_budget_attack(model, x, clean, torch.zeros_like(x), steps=40, eps=5.0, alpha=1.0, search="none")
    assert (model.inner(x + out["delta"]).argmax(dim=1) != clean).all()
    assert (l0_count(out["delta"]) == 1).all() and (out["extra"]["best_l0"] == 1).all()
    loop = model.sizes[:-1]  # the final forward classifies the whole batch
    assert len(loop) < 40  # every sample finished: the loop stopped early
    assert loop[0] == 6 and 0 < min(loop) < 6  # the finished ones left the batch first


def test_the_probe_finds_a_decisive_step_in_one_gradient_and_skips_the_loop():
    model = CountingModel(OneDecisiveStep())
    x = series(6, 30)
    clean = model(x).argmax(dim=1)
    model.sizes.clear()
    out = asl0_budget_attack(model, x, clean, torch.zeros_like(x), steps=40, eps=5.0, alpha=1.0, search="none",
                             probe_candidates=3)
    assert (model.inner(x + out["delta"]).argmax(dim=1) != clean).all()
    assert (l0_count(out["delta"]) == 1).all() and (out["delta"][:, 0, 17] != 0).all()
    assert (out["first_success_step"] == 0).all()
    # one gradient forward of 6, one forward of the 6 x 3 candidates, the final classification: no loop
    assert model.sizes == [6, 18, 6]


def test_the_probe_leaves_series_no_single_component_fools_to_the_loop():
    model = PerSeries(Linear(length=BATCH_EXACT_LENGTH))  # the loop's batch shrinks: same arithmetic, any CPU
    x = series(8, BATCH_EXACT_LENGTH, scale=1.0)
    clean = model(x).argmax(dim=1)
    kw = dict(steps=30, eps=3.0, alpha=3.0, search="none")
    probed = asl0_budget_attack(model, x, clean, torch.zeros_like(x), probe_candidates=4, **kw)
    plain = asl0_budget_attack(model, x, clean, torch.zeros_like(x), **kw)
    fooled = model(x + probed["delta"]).argmax(dim=1) != clean
    assert torch.equal(fooled, model(x + plain["delta"]).argmax(dim=1) != clean) and fooled.all()
    single = probed["first_success_step"] == 0
    assert (l0_count(probed["delta"])[single] == 1).all()
    # where no single component fooled, the loop ran from the same start as without the probe
    assert (~single).any() and torch.equal(probed["delta"][~single], plain["delta"][~single])


class HiddenStep(torch.nn.Module):
    """Class 1 wins where 3 relu(x[7] - 0.5) + 0.1 sum of the others > 1: from zeros, x[7] has no
    gradient (the relu is off) and every other component the same small one, none fooling alone, so
    a first-order shortlist ranks x[7] last; x[7] at the bound 1 fools alone."""

    def forward(self, x):
        score = 3 * torch.relu(x[:, 0, 7] - 0.5) + 0.1 * (x[:, 0].sum(dim=1) - x[:, 0, 7])
        return torch.stack([torch.ones_like(score), score], dim=1)


def test_the_probe_scan_finds_the_single_component_a_first_order_shortlist_misses():
    model = CountingModel(HiddenStep())
    x = torch.zeros(6, 1, 10)
    clean = model(x).argmax(dim=1)
    kw = dict(steps=40, eps=1.0, alpha=1.0, search="none", probe_candidates=3)
    model.sizes.clear()
    out = asl0_budget_attack(model, x, clean, torch.zeros_like(x), probe_scan=True, **kw)
    assert (model.inner(x + out["delta"]).argmax(dim=1) != clean).all()
    assert (l0_count(out["delta"]) == 1).all() and (out["delta"][:, 0, 7] == 1.0).all()
    assert (out["first_success_step"] == 0).all()
    # the shortlist round (a gradient forward of 6, 6 x 3 candidates), then every component at both
    # bounds (6 x 2 x 10 series in one chunk), the final classification: no loop
    assert model.sizes == [6, 18, 6 * 2 * 10, 6]
    # without the scan the shortlist misses it and the loop starts
    model.sizes.clear()
    plain = asl0_budget_attack(model, x, clean, torch.zeros_like(x), **kw)
    assert len(model.sizes) > 3 and not (l0_count(plain["delta"]) == 1).all()


def test_the_scan_evaluates_only_free_observed_components_and_counts_each_forward():
    from aslo.attacks.l0_search import SearchCost, scan_components

    model = CountingModel(HiddenStep())
    x, delta = torch.zeros(2, 1, 10), torch.zeros(2, 1, 10)
    delta[0, 0, 3] = 1.0  # one component taken: 9 free on the first series
    observed = torch.ones(2, 1, 10, dtype=torch.bool)
    observed[1, 0, 8:] = False  # 8 observed on the second
    cost = SearchCost()
    out, margins, fooled = scan_components(model, x, delta, torch.zeros(2, dtype=torch.long), lower=x - 1,
                                           upper=x + 1, observed=observed, cost=cost, chunk=7)
    assert cost.forward == 2 * (9 + 8) == sum(model.sizes) and max(model.sizes) <= 7
    assert fooled.all() and torch.equal(out[:, 0, 7], torch.ones(2)) and (l0_count(out) == torch.tensor([2., 1.])).all()
    assert out[0, 0, 3] == 1.0 and torch.allclose(margins, torch.tensor([1 - 1.5 - 0.1, 1 - 1.5]))


class TwoNeeded(torch.nn.Module):
    """Class 1 wins where x[2] + x[5] > 1.5: in a box of half-width 1 no single component fools, two do."""

    def forward(self, x):
        score = x[:, 0, 2] + x[:, 0, 5]
        return torch.stack([torch.full_like(score, 1.5), score], dim=1)


def test_a_greedy_probe_settles_a_two_component_success_and_skips_the_loop():
    model = CountingModel(TwoNeeded())
    x = torch.zeros(4, 1, 10)
    clean = model(x).argmax(dim=1)
    kw = dict(steps=40, eps=1.0, alpha=1.0, search="none", probe_candidates=3, probe_rounds=2)
    model.sizes.clear()
    out = asl0_budget_attack(model, x, clean, torch.zeros_like(x), probe_settles=2, **kw)
    assert (model.inner(x + out["delta"]).argmax(dim=1) != clean).all()
    assert (l0_count(out["delta"]) == 2).all() and (out["delta"][:, 0, [2, 5]] == 1.0).all()
    assert (out["first_success_step"] == 0).all()
    # two rounds (a gradient forward of 4, the 4 x 3 candidates), the final classification: no loop
    assert model.sizes == [4, 12, 4, 12, 4]
    # settling only single components (the default), the loop looks for a sparser success
    model.sizes.clear()
    looped = asl0_budget_attack(model, x, clean, torch.zeros_like(x), **kw)
    assert len(model.sizes) > 5 and (l0_count(looped["delta"]) == 2).all()
    assert (model.inner(x + looped["delta"]).argmax(dim=1) != clean).all()


def test_patience_stops_a_success_that_no_longer_gets_sparser():
    model = CountingModel(PerSeries(Linear(length=BATCH_EXACT_LENGTH)))
    x = series(8, BATCH_EXACT_LENGTH, scale=1.0)
    clean = model(x).argmax(dim=1)
    kw = dict(steps=200, eps=3.0, alpha=3.0, search="none")
    model.sizes.clear()
    full = asl0_budget_attack(model, x, clean, torch.zeros_like(x), **kw)
    full_passes = sum(model.sizes)
    model.sizes.clear()
    patient = asl0_budget_attack(model, x, clean, torch.zeros_like(x), patience=5, **kw)
    assert sum(model.sizes) < full_passes
    fooled = model.inner(x + patient["delta"]).argmax(dim=1) != clean
    assert torch.equal(fooled, model.inner(x + full["delta"]).argmax(dim=1) != clean)
    assert (l0_count(patient["delta"]) >= l0_count(full["delta"]))[fooled].all()  # never sparser than the full run


def test_every_setting_of_the_attack_function_is_a_config_field():
    cfg = get_attack_config("AS_CW_BUDGET")
    assert isinstance(cfg, BudgetAttackConfig)
    import inspect

    parameters = inspect.signature(asl0_budget_attack).parameters
    keyword_only = {name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY} - {"observed", "on_step"}
    assert set(cfg.keywords()) == keyword_only
    # the registered defaults are the function's defaults, so a direct call runs the registered attack
    assert all(cfg.keywords()[name] == parameters[name].default for name in keyword_only)


@pytest.mark.parametrize("bad", [dict(budget_rate=1.5), dict(budget_rate=-0.1), dict(step_final_ratio=2.0),
                                 dict(reg_direction_weight=float("nan")), dict(search_exhaustive="no"),
                                 dict(search="beam"), dict(loss="ce_targeted"), dict(regulariser="l1"), dict(return_iterate="last"),
                                 dict(step="adam"), dict(clip_min=1.0, clip_max=0.0),
                                 dict(probe_candidates=-1), dict(patience=2.5), dict(probe_rounds=0),
                                 dict(probe_settles=3, probe_rounds=2), dict(probe_scan=1),
                                 dict(probe_scan=True, probe_candidates=0)])
def test_bad_budget_settings_are_rejected_naming_the_field(bad):
    with pytest.raises(ValueError, match=next(iter(bad)).split("_")[0]):
        get_attack_config("AS_CW_BUDGET", **bad)


def test_threshold_settings_are_not_budget_settings():
    with pytest.raises(ValueError, match="prune"):
        get_attack_config("AS_CW_BUDGET", prune=False)
    with pytest.raises(ValueError, match="budget_rate"):
        get_attack_config("AS_CW_SPARSE", budget_rate=0.1)


def test_the_budget_attack_records_no_trace():
    model = Linear()
    x = series(2, 24)
    with pytest.raises(ValueError, match="trace"):
        run_attack(model, x, model(x).argmax(dim=1), "AS_CW_BUDGET", steps=2, trace=True, progress=False)


def test_step_rule_names_are_checked():
    assert get_attack_config("AS_CW", step="pgd").step == "pgd"
    for bad in ("normalized", "normalised_typo"):  # the normalised step is AS_CW_BUDGET's own
        with pytest.raises(ValueError, match="step rule"):
            get_attack_config("AS_CW", step=bad)
