"""The objective-scaling option, the J* rule and the named readings of the paper's "CW loss"."""

import pytest
import torch

from aslo.attacks import get_attack_config, run_attack
from aslo.attacks.config import CW_LOSS_READINGS, OBJECTIVE_SCALINGS
from aslo.attacks.algorithm import REGULARISER_KERNELS, adapt_sigma
from aslo.attacks.losses import cw_margin
from aslo.attacks.regularisers import l0_surrogate


def regulariser_value(delta, sigma, cfg):
    """The configured regulariser times the per-sample coefficient the objective scaling gives."""
    value = l0_surrogate(delta, sigma) if cfg.regulariser == "asl0" else REGULARISER_KERNELS[cfg.regulariser](delta)
    return cfg.effective_reg_coef * value


def update_sigma(sigma, improved, objective, best, cfg):
    """The sigma rule with the settings of ``cfg``."""
    return adapt_sigma(sigma, improved, objective, best, eta_d=cfg.eta_d, eta_i=cfg.eta_i,
                       sigma_min=cfg.sigma_min, sigma_max=cfg.sigma_max, j_star=cfg.j_star)


def _batch(b=6, length=12, k=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    logits_w = torch.randn(length, k, generator=gen, dtype=torch.float64)
    x = torch.randn(b, 1, length, generator=gen, dtype=torch.float64)
    delta = (torch.rand(b, 1, length, generator=gen, dtype=torch.float64) - 0.5) * 0.2
    return logits_w, x, delta


@pytest.mark.parametrize("attack", ["AS_CW", "CW_L1", "CW_L2"])
def test_parent_form_and_per_sample_lambda_b_give_the_same_direction(attack):
    """mean_b L_b + lambda * sum_b R_b (the parent) vs per-sample L_b + lambda * B * R_b."""
    b, lam = 6, 1e-2
    logits_w, x, delta0 = _batch(b)
    clean = (x.squeeze(1) @ logits_w).argmax(1)
    target = (clean + 1) % 3
    sigma = torch.full((b,), 0.05, dtype=torch.float64)

    def grad(cfg, parent_form):
        delta = delta0.clone().requires_grad_(True)
        logits = (x + delta).squeeze(1) @ logits_w
        loss = cw_margin(logits, clean, cfg.kappa, cfg.cw_c)
        reg = regulariser_value(delta, sigma, cfg)
        total = loss.mean() + reg.sum() if parent_form else (loss + reg).sum()
        return torch.autograd.grad(total, delta)[0].reshape(b, -1)

    parent = grad(get_attack_config(attack, reg_coef=lam), parent_form=True)
    # The option: reg_coef stays the paper's lambda; B enters as reference_batch_size.
    scaled = grad(get_attack_config(attack, reg_coef=lam, objective_scaling="parent_batch",
                                    reference_batch_size=b), parent_form=False)
    # Per sample the two gradients are parallel: scaled = B * parent.
    torch.testing.assert_close(scaled, b * parent, rtol=1e-10, atol=1e-12)
    cos = torch.nn.functional.cosine_similarity(scaled, parent, dim=1)
    torch.testing.assert_close(cos, torch.ones(b, dtype=torch.float64))
    # ... and the per-sample reading with the same lambda is NOT parallel (the test can fail).
    plain = grad(get_attack_config(attack, reg_coef=lam), parent_form=False)
    assert not torch.allclose(torch.nn.functional.cosine_similarity(plain, parent, dim=1),
                              torch.ones(b, dtype=torch.float64), atol=1e-6)


def test_effective_coefficient_and_validation():
    assert OBJECTIVE_SCALINGS == ("per_sample", "parent_batch")
    cfg = get_attack_config("AS_CW")
    assert cfg.objective_scaling == "per_sample" and cfg.reference_batch_size == 64
    assert cfg.effective_reg_coef == pytest.approx(1e-5)
    assert get_attack_config("AS_CW", objective_scaling="parent_batch").effective_reg_coef == pytest.approx(6.4e-4)
    assert get_attack_config("AS_CW", objective_scaling="parent_batch",
                             reference_batch_size=128).effective_reg_coef == pytest.approx(1.28e-3)
    with pytest.raises(ValueError, match="objective_scaling"):
        get_attack_config("AS_CW", objective_scaling="batch")
    with pytest.raises(ValueError, match="reference_batch_size"):
        get_attack_config("AS_CW", reference_batch_size=0)
    with pytest.raises(ValueError, match="weigh the batch twice"):
        get_attack_config("GM_PGD_L2", regulariser="l2_batch", objective_scaling="parent_batch")
    with pytest.raises(ValueError, match="j_star"):
        get_attack_config("AS_CW", j_star="best")


def test_parent_batch_result_does_not_depend_on_the_runner_batch():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    x = torch.randn(10, 1, 16)
    y = torch.zeros(10, dtype=torch.long)
    kw = dict(steps=5, lr=1e-2, objective_scaling="parent_batch", reg_coef=1e-3, progress=False)
    whole = run_attack(model, x, y, "AS_CW", **kw)
    chunked = run_attack(model, x, y, "AS_CW", batch_size=3, **kw)
    torch.testing.assert_close(whole.delta, chunked.delta)
    per_sample = run_attack(model, x, y, "AS_CW", reg_coef=64e-3, steps=5, lr=1e-2, progress=False)
    torch.testing.assert_close(whole.delta, per_sample.delta)


def test_j_star_initial_is_a_fixed_threshold():
    cfg_run = get_attack_config("AS_CW")
    cfg_fix = get_attack_config("AS_CW", j_star="initial")
    sigma = torch.tensor([0.01])
    improved = torch.tensor([True])
    best = torch.tensor([float("inf")])
    # Step 0: J = 5 sets J* in both rules.
    _, best_run = update_sigma(sigma, improved, torch.tensor([5.0]), best, cfg_run)
    _, best_fix = update_sigma(sigma, improved, torch.tensor([5.0]), best, cfg_fix)
    assert best_run.item() == best_fix.item() == 5.0
    # Step 1: J = 3 lowers the running best, not the fixed threshold.
    _, best_run = update_sigma(sigma, improved, torch.tensor([3.0]), best_run, cfg_run)
    _, best_fix = update_sigma(sigma, improved, torch.tensor([3.0]), best_fix, cfg_fix)
    assert best_run.item() == 3.0 and best_fix.item() == 5.0
    # Step 2: J = 4 shrinks sigma only under the fixed threshold (4 < 5, not < 3).
    s_run, _ = update_sigma(sigma, improved, torch.tensor([4.0]), best_run, cfg_run)
    s_fix, _ = update_sigma(sigma, improved, torch.tensor([4.0]), best_fix, cfg_fix)
    assert s_run.item() == pytest.approx(0.011) and s_fix.item() == pytest.approx(0.009)


def test_cw_loss_readings_are_valid_settings():
    assert set(CW_LOSS_READINGS) == {"margin", "parent_ce"}
    parent = get_attack_config("AS_CW", **CW_LOSS_READINGS["parent_ce"])
    assert parent.loss == "ce_targeted" and parent.zero_loss_when_fooled
    # The parent's flag "CW" is its GM_PGD_L2 loss.
    gm = get_attack_config("GM_PGD_L2")
    assert (gm.loss, gm.zero_loss_when_fooled) == (parent.loss, parent.zero_loss_when_fooled)
    margin = get_attack_config("AS_CW", **CW_LOSS_READINGS["margin"])
    assert margin.loss == "cw" and not margin.zero_loss_when_fooled
