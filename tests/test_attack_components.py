"""Unit tests of the attack parts: losses, regularisers, sigma rule, step rules, config, registry."""

import math

import pytest
import torch

from aslo.attacks import ATTACKS, AttackConfig, get_attack_config
from aslo.attacks.losses import cw_margin, targeted_ce
from aslo.attacks.algorithm import REGULARISER_KERNELS, adam_step_, adapt_sigma, attack_batch
from aslo.attacks.config import REGULARISERS
from aslo.attacks.regularisers import l0_surrogate, l1_norm, l2_batch_norm, l2_norm




# --- the ASL0 surrogate -------------------------------------------------------------------------

def test_surrogate_paper_example_by_hand():
    # The paper's worked example: x = [1, 2, 3, 4], delta = [0.1, -0.2, 0.3, -0.4]; sigma = 0.2.
    delta = torch.tensor([[[0.1, -0.2, 0.3, -0.4]]], dtype=torch.float64)
    # 0.01/0.05 + 0.04/0.08 + 0.09/0.13 + 0.16/0.20 = 0.2 + 0.5 + 9/13 + 0.8
    expected = 0.2 + 0.5 + 9 / 13 + 0.8
    assert l0_surrogate(delta, 0.2).item() == pytest.approx(expected, rel=1e-12)
    # sigma -> 0 approaches the true L0 (4 non-zeros); large sigma approaches ||d||^2 / sigma^2.
    assert l0_surrogate(delta, 1e-6).item() == pytest.approx(4.0, rel=1e-9)
    assert l0_surrogate(delta, 1e3).item() == pytest.approx(0.30 / 1e6, rel=1e-5)


def test_surrogate_gradient_matches_closed_form():
    delta = torch.tensor([[[0.1, -0.2, 0.3, -0.4]], [[0.05, 0.0, -0.01, 0.2]]],
                         dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor([0.2, 0.03], dtype=torch.float64)
    l0_surrogate(delta, sigma).sum().backward()
    s = sigma.reshape(-1, 1, 1)
    d = delta.detach()
    closed = 2 * d * s**2 / (d**2 + s**2) ** 2
    torch.testing.assert_close(delta.grad, closed, rtol=1e-12, atol=1e-15)


def test_surrogate_is_per_sample():
    delta = torch.tensor([[[0.1, 0.1]], [[0.1, 0.1]]], dtype=torch.float64)
    values = l0_surrogate(delta, torch.tensor([0.1, 0.05], dtype=torch.float64))
    torch.testing.assert_close(values, torch.tensor([1.0, 2 * 0.01 / 0.0125], dtype=torch.float64))


def test_norm_regularisers_closed_form():
    delta = torch.tensor([[[3.0, -4.0]], [[0.0, 1.0]]])
    torch.testing.assert_close(l1_norm(delta), torch.tensor([7.0, 1.0]))
    torch.testing.assert_close(l2_norm(delta), torch.tensor([5.0, 1.0]))
    torch.testing.assert_close(l2_batch_norm(delta), torch.tensor([26.0 ** 0.5] * 2))


def test_every_configurable_regulariser_has_a_kernel():
    assert set(REGULARISER_KERNELS) == set(REGULARISERS) - {"none"}


# --- Algorithm 1 --------------------------------------------------------------------------------

def rule(cfg):
    """The sigma rule's keyword arguments from a config."""
    return dict(eta_d=cfg.eta_d, eta_i=cfg.eta_i, sigma_min=cfg.sigma_min, sigma_max=cfg.sigma_max)


def test_sigma_rule_scripted_two_samples_diverge():
    cfg = get_attack_config("AS_CW", sigma0=0.1, eta_d=0.5, eta_i=2.0, sigma_min=0.01, sigma_max=0.8)
    sigma = torch.full((2,), 0.1, dtype=torch.float64)
    best = torch.full((2,), math.inf, dtype=torch.float64)
    # (objective per sample, improved per sample) at each step
    script = [
        ([5.0, 5.0], [True, True]),    # both below J* = inf and improved -> shrink both
        ([4.0, 6.0], [True, True]),    # s0: 4 < 5 shrink; s1: 6 >= 5 grow
        ([3.0, 1.0], [False, True]),   # s0 not improved -> grow; s1: 1 < 5 shrink
        ([2.0, 0.5], [True, True]),    # both below their J* (3 and 1) and improved -> shrink
        ([1.0, 9.0], [True, False]),   # s0 shrink; s1 not improved -> grow
        ([1.0, 9.0], [True, False]),   # s0: J == J* is not below it -> grow; s1 grow
    ]
    expected_sigma = [
        [0.05, 0.05], [0.025, 0.1], [0.05, 0.05], [0.025, 0.025], [0.0125, 0.05], [0.025, 0.1],
    ]
    for (obj, imp), want in zip(script, expected_sigma):
        sigma, best = adapt_sigma(sigma, torch.tensor(imp), torch.tensor(obj, dtype=torch.float64), best,
                                  **rule(cfg))
        torch.testing.assert_close(sigma, torch.tensor(want, dtype=torch.float64))
    torch.testing.assert_close(best, torch.tensor([1.0, 0.5], dtype=torch.float64))


def test_sigma_rule_clips_to_bounds():
    cfg = get_attack_config("AS_CW", sigma0=0.1, eta_d=0.1, eta_i=10.0, sigma_min=0.05, sigma_max=0.5)
    sigma = torch.tensor([0.1, 0.1])
    best = torch.tensor([math.inf, -math.inf])
    sigma, _ = adapt_sigma(sigma, torch.tensor([True, True]), torch.tensor([0.0, 0.0]), best, **rule(cfg))
    torch.testing.assert_close(sigma, torch.tensor([0.05, 0.5]))


# --- losses -------------------------------------------------------------------------------------

def test_cw_margin_all_negative_logits():
    logits = torch.tensor([[-1.0, -3.0, -2.0], [-5.0, -4.0, -6.0]])
    ref = torch.tensor([0, 0])
    # sample 0: -1 - max(-3, -2) = 1; sample 1: -5 - (-4) = -1 -> clamped at -kappa = 0
    torch.testing.assert_close(cw_margin(logits, ref), torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(cw_margin(logits, ref, kappa=5.0), torch.tensor([1.0, -1.0]))
    torch.testing.assert_close(cw_margin(logits, ref, c=3.0), torch.tensor([3.0, 0.0]))
    # the buggy max((1 - onehot) * logits) would see 0 as the best other logit: -1 - 0 = -1
    buggy = logits[0, 0] - ((1 - torch.nn.functional.one_hot(ref, 3)) * logits)[0].max()
    assert buggy.item() == -1.0 and cw_margin(logits, ref)[0].item() == 1.0


def test_cw_margin_gradient_only_on_two_logits():
    logits = torch.tensor([[2.0, 1.0, -0.5]], requires_grad=True)
    cw_margin(logits, torch.tensor([0])).sum().backward()
    torch.testing.assert_close(logits.grad, torch.tensor([[1.0, -1.0, 0.0]]))


def test_targeted_ce_per_sample():
    logits = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    got = targeted_ce(logits, torch.tensor([1, 1]))
    torch.testing.assert_close(got, torch.tensor([math.log(2.0), math.log(1 + math.exp(2.0))]))


# --- step rules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("amsgrad", [True, False])
def test_functional_adam_matches_torch_optim(amsgrad):
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(3, 2, 5, generator=gen)
    grads = [torch.randn(3, 2, 5, generator=gen) * (i + 1) for i in range(6)]
    ref = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([ref], lr=0.01, betas=(0.8, 0.95), eps=1e-7, amsgrad=amsgrad, foreach=False)
    mine = start.clone()
    moments = [torch.zeros_like(mine), torch.zeros_like(mine), torch.zeros_like(mine) if amsgrad else None]
    for step, g in enumerate(grads, start=1):
        ref.grad = g.clone()
        opt.step()
        adam_step_(mine, g, *moments, step=step, lr=0.01, betas=(0.8, 0.95), adam_eps=1e-7)
    torch.testing.assert_close(mine, ref.detach(), rtol=1e-6, atol=1e-7)


def test_pgd_step_and_box():
    # one signed step of 0.05 against the CW margin's gradient (1, -1, 0.5), then the box 0.07
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, -1.0, 0.5], [0.0, 0.0, 0.0]]))
        model[1].bias.copy_(torch.tensor([1.0, 0.0]))  # class 0 wins, so the margin is not clamped
    x, zero = torch.zeros(1, 1, 3), torch.zeros(1, dtype=torch.int64)
    out = attack_batch(model, x, zero, zero, torch.tensor([[[0.0, 0.06, -0.06]]]), step="pgd", alpha=0.05,
                       eps=0.07, steps=1)
    torch.testing.assert_close(out["delta"], torch.tensor([[[-0.05, 0.07, -0.07]]]))


# --- registry and config ------------------------------------------------------------------------

def test_registry_names_and_defaults():
    assert set(ATTACKS) >= {"GM_PGD", "GM_PGD_L2", "AS_GM_PGD", "CW", "CW_L2", "CW_L1", "AS_CW",
                            "CW_ASL0", "CW_NONE"}
    assert get_attack_config("CW_ASL0") == get_attack_config("AS_CW")
    assert get_attack_config("cw_none") == get_attack_config("CW")
    cfg = get_attack_config("GM_PGD_L2")
    assert (cfg.loss, cfg.regulariser, cfg.reg_coef, cfg.zero_loss_when_fooled) == ("ce_targeted", "l2", 1e-5, True)
    assert get_attack_config("AS_GM_PGD").regulariser == "asl0"
    assert get_attack_config("GM_PGD").regulariser == "none"
    d = AttackConfig()
    assert (d.lr, d.betas, d.adam_eps, d.amsgrad, d.steps, d.eps, d.eps_init, d.return_iterate) == \
        (1e-4, (0.9, 0.999), 1e-7, True, 1000, 0.1, 0.01, "last")
    assert get_attack_config("AS_CW", steps=5).replace(lr=0.5).lr == 0.5


@pytest.mark.parametrize("overrides, fragment", [
    (dict(eta_d=1.0), "eta_d"), (dict(eta_d=0.0), "eta_d"), (dict(eta_i=1.0), "eta_i"),
    (dict(sigma0=0.0), "sigma0"), (dict(sigma_min=-1.0), "sigma_min"), (dict(sigma_max=0.0), "sigma_max"),
    (dict(sigma_min=0.5, sigma_max=0.1), "sigma_min"), (dict(eps=-0.1), "eps"), (dict(steps=-1), "steps"),
    (dict(steps=2.5), "steps"), (dict(lr=-1e-3), "lr"), (dict(lr=float("nan")), "lr"),
    (dict(reg_coef=-1e-5), "reg_coef"), (dict(regulariser="l3"), "regulariser"),
    (dict(return_iterate="first"), "return_iterate"), (dict(betas=(0.9, 1.0)), "betas"),
    (dict(sigma0=2.0), "sigma0"), (dict(eps_init=0.5), "eps_init"),
])
def test_invalid_parameters_raise(overrides, fragment):
    with pytest.raises(ValueError, match=fragment):
        get_attack_config("AS_CW", **overrides)


def test_unknown_names_suggest():
    with pytest.raises(ValueError, match="did you mean.*AS_CW"):
        get_attack_config("AS_CV")
    with pytest.raises(ValueError, match="did you mean.*sigma0"):
        get_attack_config("AS_CW", sigma_0=0.1)
