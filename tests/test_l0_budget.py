"""AS_CW_BUDGET: the adaptive L0 budget, the normalised step and finished samples leaving the loop."""

import math

import pytest
import torch

from aslo.attacks import get_attack_config, run_attack
from aslo.attacks.algorithm import NORMALIZED_REG_WEIGHT, attack_batch, cosine_anneal, unit_direction
from aslo.attacks.sparse import ExactZero, l0_count, rules_for
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


def test_a_returned_success_is_always_adversarial_and_failures_are_reported():
    model = Linear()
    x = series(30, 24, scale=1.0)
    y = model(x).argmax(dim=1)
    # a box too small for some series: they must come back as failures, never as false successes
    result = run_attack(model, x, y, "AS_CW_BUDGET", steps=20, eps=0.4, alpha=0.4, progress=False)
    success = torch.tensor(result.records["success"].to_numpy(), dtype=torch.bool)
    fooled = model(x + result.delta).argmax(dim=1) != y
    assert success.any() and (~success).any()
    assert torch.equal(success, fooled)
    assert result.delta.abs().max() <= 0.4 + 1e-6


def test_batch_invariant_and_deterministic():
    model = PerSeries(Linear(length=BATCH_EXACT_LENGTH))  # same arithmetic for every batch, any CPU
    x = series(12, BATCH_EXACT_LENGTH)
    y = model(x).argmax(dim=1)
    kw = dict(steps=25, eps=3.0, alpha=3.0, progress=False)
    whole = run_attack(model, x, y, "AS_CW_BUDGET", **kw)
    parts = run_attack(model, x, y, "AS_CW_BUDGET", batch_size=5, **kw)
    again = run_attack(model, x, y, "AS_CW_BUDGET", **kw)
    assert whole.records["success"].all()
    assert torch.equal(whole.delta, parts.delta) and torch.equal(whole.delta, again.delta)


def test_the_budget_is_sparser_than_the_threshold_variant_on_a_decisive_step():
    model = OneDecisiveStep()
    x = series(6, 30)
    y = model(x).argmax(dim=1)
    kw = dict(steps=30, eps=5.0, progress=False, search="none", prune=False)
    budget = run_attack(model, x, y, "AS_CW_BUDGET", alpha=5.0, **kw)
    threshold = run_attack(model, x, y, "AS_CW_SPARSE", lr=5.0 / 30, **kw)
    assert budget.records["success"].all()
    assert budget.records["l0"].max() < threshold.records["l0"].min()


def test_budget_rule_grows_while_clean_and_falls_to_the_sparsest_success():
    rules = ExactZero(eps=1.0, threshold=False, tau0=0.0, tau_rate=0.0, prune=False, clip_min=None,
                      clip_max=None, l0_budget=True, budget_rate=0.5, steps=10)
    x = torch.zeros(2, 1, 40)
    rules.start(x)
    delta = torch.arange(1, 81, dtype=torch.float32).reshape(2, 1, 40)
    rules.after_step(x, delta, torch.tensor([False, False]))
    # k = 1 grows to max(k + 1, floor(k * 1.5)) = 2, and the projection keeps the 2 largest
    assert rules.budget.tolist() == [2.0, 2.0] and l0_count(delta).tolist() == [2.0, 2.0]
    assert delta[0, 0, -2:].tolist() == [39.0, 40.0]
    for _ in range(3):
        delta = torch.arange(1, 81, dtype=torch.float32).reshape(2, 1, 40)
        rules.after_step(x, delta, torch.tensor([False, False]))
    grown = rules.budget.clone()
    assert (grown > 4).all() and (l0_count(delta) == grown).all()
    # the first sample is fooled at the iterate of L0 = grown: k falls by at least one
    delta = torch.arange(1, 81, dtype=torch.float32).reshape(2, 1, 40)
    rules.after_step(x, delta, torch.tensor([True, False]))
    assert rules.budget[0] <= grown[0] - 1 and rules.budget[1] > grown[1]
    assert rules.sparsest[0] == grown[0] and math.isinf(rules.sparsest[1])


def test_normalised_step_moves_each_sample_by_the_annealed_step_length():
    model = Linear()
    x = series(4, 24)
    clean = model(x).argmax(dim=1)
    out = attack_batch(model, x, clean, clean, torch.zeros_like(x), step="normalized", alpha=0.3,
                       steps=1, eps=10.0, regulariser="none")
    assert torch.allclose(out["delta"].flatten(1).norm(dim=1), torch.full((4,), 0.3))
    assert cosine_anneal(1.0, 0.01, 0, 50) == 1.0
    assert cosine_anneal(1.0, 0.01, 25, 50) == pytest.approx(0.505)
    assert cosine_anneal(1.0, 0.01, 50, 50) == pytest.approx(0.01)


def test_normalised_step_weights_the_regulariser_direction_apart_from_the_loss():
    """A fooled sample (flat clamped margin) moves only a tenth of a step, whatever reg_coef is."""
    model = Linear()
    x = series(4, 24)
    clean = model(x).argmax(dim=1)
    start = torch.zeros_like(x)
    start[:2] = 3.0 * (model.w[(clean[:2] + 1) % 3] - model.w[clean[:2]]).detach().unsqueeze(1)
    fooled = model(x + start).argmax(dim=1) != clean
    assert fooled.tolist() == [True, True, False, False]
    moves = []
    for coef in (1e-5, 10.0):
        out = attack_batch(model, x, clean, clean, start, step="normalized", alpha=0.3, steps=1, eps=100.0,
                           regulariser="asl0", reg_coef=coef, sigma0=0.5)
        moves.append((out["delta"] - start).flatten(1).norm(dim=1))
    assert torch.allclose(moves[0], moves[1])  # the coefficient does not enter
    assert torch.allclose(moves[0][:2], torch.full((2,), 0.3 * NORMALIZED_REG_WEIGHT))
    assert torch.allclose(moves[0][2:], torch.full((2,), 0.3))  # the loss's unit step (ASL0 is flat at 0)
    assert torch.equal(unit_direction(torch.zeros(2, 1, 5)), torch.zeros(2, 1, 5))


def test_samples_fooled_by_one_component_leave_the_forward_pass():
    model = CountingModel(OneDecisiveStep())
    x = series(6, 30)
    x[:3, 0, 17] = 2.0  # three series sit close to the decisive level: a small step fools them
    clean = model(x).argmax(dim=1)
    model.sizes.clear()
    cfg = get_attack_config("AS_CW_BUDGET", steps=40, eps=5.0, alpha=1.0, search="none", prune=False)
    out = attack_batch(model, x, clean, clean, torch.zeros_like(x), rules=rules_for(cfg), step=cfg.step,
                       alpha=cfg.alpha, steps=cfg.steps, eps=cfg.eps, regulariser=cfg.regulariser,
                       reg_coef=cfg.reg_coef, return_iterate="best")
    assert (model.inner(x + out["delta"]).argmax(dim=1) != clean).all()
    assert (l0_count(out["delta"]) == 1).all()
    loop = model.sizes[:-1]  # the final forward classifies the whole batch
    assert len(loop) < 40  # every sample finished: the loop stopped early
    assert loop[0] == 6 and 0 < min(loop) < 6  # the finished ones left the batch first


@pytest.mark.parametrize("bad", [dict(budget_rate=1.5), dict(budget_rate=-0.1), dict(l0_budget="yes"),
                                 dict(search_exhaustive="no")])
def test_bad_budget_settings_are_rejected_naming_the_field(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        get_attack_config("AS_CW_BUDGET", **bad)


def test_step_rule_names_are_checked():
    assert get_attack_config("AS_CW", step="normalized").step == "normalized"
    with pytest.raises(ValueError, match="step rule"):
        get_attack_config("AS_CW", step="normalised_typo")
