"""Exact-sparsity variants: exact zeros, sparsest adversarial iterate, pruning never lies."""

import pytest
import torch

from aslo.attacks import ATTACKS, get_attack_config, run_attack
from aslo.attacks.sparse import SparseAttackConfig, prune_perturbation
from helpers.models import Linear


def _data(n=12, length=20, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, length, generator=gen) * 0.3, torch.zeros(n, dtype=torch.int64)


def test_registered_without_changing_the_paper_variants():
    assert {"AS_CW_SPARSE", "AS_GM_PGD_SPARSE"} <= set(ATTACKS)
    cfg = get_attack_config("AS_CW_SPARSE")
    assert isinstance(cfg, SparseAttackConfig) and cfg.regulariser == "asl0" and cfg.return_iterate == "best"
    assert type(get_attack_config("AS_CW")) is not SparseAttackConfig
    assert get_attack_config("AS_CW").eps == 0.1  # the paper's variant keeps its box


@pytest.mark.parametrize("bad", [dict(tau0=-0.1), dict(tau_rate=2.0), dict(threshold="yes"),
                                 dict(return_iterate="last"), dict(clip_min=1.0, clip_max=0.0),
                                 dict(clip_min=float("nan")), dict(tau_rat=0.1)])
def test_invalid_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        get_attack_config("AS_CW_SPARSE", **bad)


@pytest.mark.parametrize("attack", ["AS_CW_SPARSE", "AS_GM_PGD_SPARSE"])
def test_zeros_are_exact_and_l0_is_the_count_of_changed_coordinates(attack):
    model, (x, y) = Linear(length=20, classes=2), _data()
    res = run_attack(model, x, y, attack, steps=30, lr=0.05, progress=False)
    nonzero = (res.delta != 0).reshape(len(x), -1).sum(dim=1).numpy()
    assert (nonzero == res.records["l0"].to_numpy()).all()
    assert (nonzero < x.shape[-1]).any()  # something was actually zeroed
    success = res.records["success"].to_numpy()
    assert success.any()
    assert (res.records.loc[success, "best_l0"].to_numpy() == nonzero[success]).all()
    assert res.records.loc[~success, "best_l0"].isna().all()


def test_sparse_variant_is_sparser_than_the_paper_variant_and_deterministic():
    model, (x, y) = Linear(length=20, classes=2), _data()
    dense = run_attack(model, x, y, "AS_CW", steps=30, lr=0.05, eps=1.0, progress=False)
    sparse = run_attack(model, x, y, "AS_CW_SPARSE", steps=30, lr=0.05, progress=False)
    again = run_attack(model, x, y, "AS_CW_SPARSE", steps=30, lr=0.05, progress=False)
    both = dense.records["success"] & sparse.records["success"]
    assert both.any()
    assert sparse.records.loc[both, "l0"].median() < dense.records.loc[both, "l0"].median()
    assert torch.equal(sparse.delta, again.delta)


def test_pruning_keeps_every_returned_example_adversarial():
    model, (x, _) = Linear(length=30, classes=2), _data(n=16, length=30)
    clean = model(x).argmax(dim=1)
    gen = torch.Generator().manual_seed(3)
    delta = torch.randn(x.shape, generator=gen) * 2.0
    pruned, ok = prune_perturbation(model, x, delta, clean)
    adv_after = model(x + pruned).argmax(dim=1) != clean
    adv_before = model(x + delta).argmax(dim=1) != clean
    assert torch.equal(ok, adv_before)
    assert bool(adv_after[ok].all())  # never returns a non-adversarial example as a success
    l0_before = (delta != 0).reshape(16, -1).sum(1)
    l0_after = (pruned != 0).reshape(16, -1).sum(1)
    assert bool((l0_after[ok] < l0_before[ok]).all())
    kept = pruned != 0  # pruning only zeroes; it never changes a kept component
    assert torch.equal(pruned[kept], delta[kept])


def test_pruning_finds_the_single_needed_component():
    # logits (0, x_3): only coordinate 3 matters, so one changed coordinate suffices
    class OneCoordinate(torch.nn.Module):
        def forward(self, x):
            return torch.stack([torch.zeros(len(x)), x[:, 0, 3]], dim=1)

    x = -torch.ones(4, 1, 10)
    delta = torch.full_like(x, 0.5)
    delta[:, 0, 3] = 3.0  # magnitude order: the needed coordinate is the largest
    pruned, ok = prune_perturbation(OneCoordinate(), x, delta, torch.zeros(4, dtype=torch.int64))
    assert ok.all() and ((pruned != 0).reshape(4, -1).sum(1) == 1).all() and (pruned[:, 0, 3] == 3).all()


def test_data_box_clamp_keeps_examples_inside():
    model, (x, y) = Linear(length=20, classes=2), _data()
    res = run_attack(model, x, y, "AS_CW_SPARSE", steps=20, lr=0.2, eps=4.0, clip_min=-1.0, clip_max=1.0,
                     progress=False)
    assert float(res.x_adv.max()) <= 1.0 + 1e-6 and float(res.x_adv.min()) >= -1.0 - 1e-6
