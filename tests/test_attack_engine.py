"""End-to-end tests of run_attack: closed-form linear models, batch invariance, seeds, validation."""

import numpy as np
import pytest
import torch

from aslo.attacks import run_attack
from helpers.models import BATCH_EXACT_LENGTH, PerSeries





class TwoClassLinear(torch.nn.Module):
    """logits = [0, w.x + b]: class 1 iff w.x + b > 0; the decision margin is w.x + b."""

    def __init__(self, w: torch.Tensor, b: float = 0.0):
        super().__init__()
        self.w = torch.nn.Parameter(w.clone())
        self.b = b

    def forward(self, x):
        s = (x.flatten(1) * self.w).sum(dim=1) + self.b
        return torch.stack([torch.zeros_like(s), s], dim=1)


def small_cnn(n_classes=3, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv1d(1, 4, 5, padding=2), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool1d(1), torch.nn.Flatten(), torch.nn.Linear(4, n_classes))


L = 16
EPS = 0.1


@pytest.fixture(scope="module")
def linear_case():
    """A linear model whose margin depends on 2 strong and 4 weak coordinates; 10 coordinates
    are irrelevant (w = 0). Margins are set relative to the box's reach eps * ||w||_1."""
    w = torch.zeros(L)
    w[3], w[10] = 2.0, -1.5
    w[1:16:4] += 0.05
    reach = EPS * w.abs().sum()
    fractions = torch.tensor([0.3, 0.5, -0.4, -0.6, 2.0, -2.5])  # |f| < 1 reachable, > 1 impossible
    x = torch.randn(len(fractions), 1, L, generator=torch.Generator().manual_seed(1))
    x = x * (fractions * reach / (x.flatten(1) * w).sum(dim=1)).reshape(-1, 1, 1)
    return TwoClassLinear(w), x, fractions, w


ALL = ["GM_PGD", "GM_PGD_L2", "AS_GM_PGD", "CW", "CW_L2", "CW_L1", "AS_CW"]


@pytest.mark.parametrize("attack", ALL)
def test_linear_model_success_exactly_where_box_allows(attack, linear_case):
    model, x, fractions, w = linear_case
    res = run_attack(model, x, torch.zeros(len(x)), attack, steps=150, lr=1e-2, progress=False)
    reachable = (fractions.abs() < 1).numpy()
    np.testing.assert_array_equal(res.records["success"].to_numpy(), reachable)
    # closed-form lower bounds on any flipping perturbation: L2 >= |m| / ||w||_2, Linf <= eps
    margin = ((x.flatten(1) * w).sum(dim=1)).abs()
    ok = res.records["success"].to_numpy()
    l2_min = (margin / w.norm()).numpy()
    assert (res.records["l2"].to_numpy()[ok] >= l2_min[ok] - 1e-6).all()
    assert res.records["linf"].max() <= EPS + 1e-7
    assert res.summary["asr"] == pytest.approx(reachable.mean())
    assert res.summary["n_success"] == reachable.sum()


@pytest.mark.parametrize("plain, sparse", [("CW", "AS_CW"), ("GM_PGD", "AS_GM_PGD")])
def test_asl0_makes_perturbations_sparser(plain, sparse, linear_case):
    model, x, fractions, _ = linear_case
    kw = dict(steps=300, lr=1e-2, reg_coef=1e-2, progress=False)
    a = run_attack(model, x, torch.zeros(len(x)), plain, **kw).summary
    b = run_attack(model, x, torch.zeros(len(x)), sparse, **kw).summary
    assert b["close_to_zero"] > a["close_to_zero"] + 1
    assert b["mean_l0"] < a["mean_l0"] - 1
    assert b["asr"] == a["asr"]


def test_random_init_is_plus_minus_eps_init_and_zero_steps_returns_it(linear_case):
    model, x, _, _ = linear_case
    res = run_attack(model, x, torch.zeros(len(x)), "CW", steps=0, eps_init=0.02, progress=False)
    assert torch.equal(res.delta.abs(), torch.full_like(res.delta, 0.02))
    assert 0.3 < (res.delta > 0).float().mean() < 0.7
    assert (res.records["close_to_zero"] == 0).all()


@pytest.mark.parametrize("attack", ["AS_CW", "GM_PGD_L2", "AS_GM_PGD"])
def test_batch_invariance_and_seed_repeatability(attack):
    # one series at a time, BATCH_EXACT_LENGTH steps: the arithmetic is the same for every batch
    # on any CPU, so chunking must not change a bit (see tests/helpers/models.py)
    model = PerSeries(small_cnn())
    x = torch.randn(7, 1, BATCH_EXACT_LENGTH, generator=torch.Generator().manual_seed(2))
    y = torch.zeros(7, dtype=torch.int64)
    kw = dict(steps=25, lr=1e-2, reg_coef=1e-2, progress=False, seed=3)
    whole = run_attack(model, x, y, attack, **kw)
    chunked = run_attack(model, x, y, attack, batch_size=3, **kw)
    again = run_attack(model, x, y, attack, **kw)
    assert torch.equal(chunked.delta, whole.delta)
    assert torch.equal(again.delta, whole.delta)
    assert whole.records.drop(columns="final_sigma").equals(again.records.drop(columns="final_sigma"))
    # other samples changing does not change sample 0
    x2 = x.clone()
    x2[1:] = torch.randn(6, 1, BATCH_EXACT_LENGTH)
    other = run_attack(model, x2, y, attack, **kw)
    assert torch.equal(other.delta[0], whole.delta[0])
    # a different seed gives a different result
    assert not torch.equal(run_attack(model, x, y, attack, **{**kw, "seed": 4}).delta, whole.delta)


def test_l2_batch_couples_samples_and_l2_does_not():
    model = PerSeries(small_cnn())
    x = torch.randn(6, 1, BATCH_EXACT_LENGTH, generator=torch.Generator().manual_seed(5))
    y = torch.zeros(6, dtype=torch.int64)
    kw = dict(steps=40, lr=1e-2, reg_coef=1.0, progress=False)
    per = [run_attack(model, x, y, "GM_PGD_L2", batch_size=b, regulariser="l2", **kw).delta for b in (None, 2)]
    bat = [run_attack(model, x, y, "GM_PGD_L2", batch_size=b, regulariser="l2_batch", **kw).delta for b in (None, 2)]
    assert torch.equal(per[0], per[1])
    assert (bat[0] - bat[1]).abs().max() > 1e-4


def test_model_left_unchanged_and_trace():
    model = small_cnn()
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model[0].weight.requires_grad_(False)
    x = torch.randn(5, 1, 24)
    res = run_attack(model, x, np.zeros(5), "AS_CW", steps=12, lr=1e-2, progress=False, trace=True)
    assert model.training
    assert not model[0].weight.requires_grad and model[0].bias.requires_grad
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k  # includes BatchNorm running stats
    t = res.trace
    assert list(t["step"]) == list(range(12))
    assert {"mean_loss", "mean_sigma", "median_sigma", "success_rate", "mean_regulariser"} <= set(t.columns)
    assert t["mean_sigma"].iloc[0] == pytest.approx(0.01)
    assert t["mean_sigma"].between(1e-6, 1.0).all() and t["success_rate"].between(0, 1).all()
    assert res.records["final_sigma"].between(1e-6, 1.0).all()
    assert torch.allclose(res.x_adv, x + res.delta)
    plain = run_attack(model, x, np.zeros(5), "CW", steps=3, progress=False, trace=True).trace
    assert plain["mean_sigma"].isna().all() and (plain["mean_regulariser"] == 0).all()


def test_best_iterate_is_smallest_successful(linear_case):
    model, x, fractions, _ = linear_case
    kw = dict(steps=150, lr=1e-2, progress=False)
    last = run_attack(model, x, torch.zeros(len(x)), "CW", **kw)
    best = run_attack(model, x, torch.zeros(len(x)), "CW", return_iterate="best", **kw)
    ok = best.records["success"].to_numpy()
    np.testing.assert_array_equal(ok, last.records["success"].to_numpy())
    assert (best.records["l2"][ok] <= last.records["l2"][ok] + 1e-7).all()
    # never-fooled samples fall back to the last iterate
    assert torch.equal(best.delta[~ok], last.delta[~ok])


def test_targets_differ_from_clean_prediction():
    model = small_cnn(n_classes=5)
    x = torch.randn(40, 1, 24)
    rec = run_attack(model, x, np.zeros(40), "GM_PGD", steps=1, progress=False).records
    assert (rec["target"] != rec["clean_pred"]).all()
    assert rec["target"].between(0, 4).all() and rec["target"].nunique() > 1


def test_gradients_flow_through_lstmfcn():
    models = pytest.importorskip("aslo.models")
    torch.manual_seed(0)
    model = models.build_model("lstmfcn", 1, 3, 32)
    x = torch.randn(4, 1, 32)
    res = run_attack(model, x, np.zeros(4), "AS_CW", steps=5, lr=1e-2, progress=False)
    # with lr 1e-2 every coordinate with a non-zero gradient leaves +-eps_init
    assert (res.delta.abs() != 0.01).float().mean() > 0.5


@pytest.mark.parametrize("x, y, kw, fragment", [
    (torch.randn(4, 24), np.zeros(4), {}, r"\(N, C, L\)"),
    (torch.full((3, 1, 24), float("nan")), np.zeros(3), {}, "NaN"),
    (torch.randn(3, 1, 24), np.zeros(2), {}, "labels"),
    (torch.randn(3, 2, 24), np.zeros(3), {}, "model rejects"),
    (torch.randn(3, 1, 24), np.zeros(3), {"attack": "AS_CWW"}, "did you mean"),
    (torch.randn(3, 1, 24), np.zeros(3), {"stepz": 3}, "unknown attack setting"),
    (torch.randn(3, 1, 24), np.zeros(3), {"batch_size": 0}, "batch_size"),
    (torch.randn(3, 1, 24), np.zeros(3), {"distance": "l3"}, "distance"),
    (torch.randn(3, 1, 24), np.zeros(3), {"eta_d": 1.5}, "eta_d"),
    (torch.randn(3, 1, 24), np.zeros(3), {"device": "tpu9"}, "device"),
])
def test_run_attack_validates_before_work(x, y, kw, fragment):
    with pytest.raises(ValueError, match=fragment):
        run_attack(small_cnn(), x, y, progress=False, **kw)


def test_pgd_step_rule_end_to_end(linear_case):
    model, x, fractions, _ = linear_case
    res = run_attack(model, x, torch.zeros(len(x)), "CW", step="pgd", alpha=0.01, steps=40, progress=False)
    np.testing.assert_array_equal(res.records["success"].to_numpy(), (fractions.abs() < 1).numpy())
    assert res.records["linf"].max() <= EPS + 1e-7


@pytest.mark.parametrize("rule, expected", [
    ("either", [True, True, False]), ("adversarial", [True, False, False]),
    ("loss_decrease", [False, True, False]),
])
def test_improvement_rules(rule, expected):
    from aslo.attacks.algorithm import improved_mask

    # sample 0: fooled, loss unchanged; sample 1: not fooled, loss fell; sample 2: neither
    got = improved_mask(torch.tensor([1.0, 0.5, 2.0]), torch.tensor([1.0, 1.0, 1.0]),
                        torch.tensor([True, False, False]), improvement=rule)
    assert got.tolist() == expected
