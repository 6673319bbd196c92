"""The validated configuration of one attack (loss + step rule + regulariser + loop settings)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config_base import Config, check_choice, check_flag, check_keys, finite_number, integer
from .algorithm import REGULARISER_KERNELS

LOSSES = ("cw", "ce_targeted")
STEPS = ("adam", "pgd")
REGULARISERS = ("none", *REGULARISER_KERNELS)
IMPROVEMENT_RULES = ("either", "adversarial", "loss_decrease")
RETURN_ITERATES = ("last", "best")
#: How the regulariser is weighed against the attack loss (see AttackConfig, "Objective scaling").
OBJECTIVE_SCALINGS = ("per_sample", "parent_batch")
#: What J* (the threshold of Algorithm 1) is: the best J so far, or J at the first step, fixed.
J_STAR_RULES = ("running_best", "initial")
#: The two readings of the paper's "CW loss" as AttackConfig settings: the Carlini-Wagner margin,
#: or what the parent framework's flag ``CW`` selects (targeted cross-entropy towards a seeded
#: random class, the loss of already fooled samples set to zero: its GM_PGD_L2 loss).
CW_LOSS_READINGS = {
    "margin": dict(loss="cw", zero_loss_when_fooled=False),
    "parent_ce": dict(loss="ce_targeted", zero_loss_when_fooled=True),
}


@dataclass(frozen=True)
class AttackConfig(Config):
    """Every setting of an attack, with the parent code's defaults.

    Composition
        ``loss``: ``"cw"`` (CW margin ``max(Z_ref - max_{j!=ref} Z_j, -kappa)`` w.r.t. the clean
        prediction) or ``"ce_targeted"`` (cross-entropy towards a seeded random class different
        from the clean prediction, as the parent code's GM_PGD). ``zero_loss_when_fooled``: the
        parent's GM_PGD_L2 sets the per-sample loss to zero for samples already fooled.
        ``step``: ``"adam"`` or ``"pgd"`` (signed gradient, step ``alpha``); the normalised step of
        the extension ``AS_CW_BUDGET`` is its own (:mod:`aslo.attacks.budget`). ``regulariser``:
        ``"none"``, ``"l1"``, ``"l2"`` (per-sample norm), ``"l2_batch"`` (the parent's norm of the
        whole batch tensor; couples samples) or ``"asl0"``; ``reg_coef`` is its coefficient.

    Parent-code defaults
        ``steps=1000``, ``lr=1e-4``, ``betas=(0.9, 0.999)``, ``adam_eps=1e-7``, ``amsgrad=True``,
        ``eps=0.1`` (the L-infinity box the perturbation is clamped to after every step; x + r is
        not clipped to a data range), ``eps_init=0.01`` (every coordinate starts at +-eps_init
        with a random sign, so none starts at zero), ``reg_coef=1e-5`` (the paper's "uniform
        regularisation coefficient"), ``return_iterate="last"`` (the parent returns the final
        iterate, without early stopping).

    Choices the paper leaves open
        ``sigma0=0.01``: equal to eps_init, so the surrogate ``d^2/(d^2+sigma^2)`` starts at 0.5
        per coordinate, in its steep region, rather than saturated or flat.
        ``eta_d=0.9``, ``eta_i=1.1``: symmetric 10 % moves, so sigma can cross one decade in about
        22 steps, fast against the 1000-step budget yet smooth from one step to the next.
        ``sigma_min=1e-6``: the paper's close-to-0 threshold; a narrower surrogate could not
        separate values the metric already counts as zero. ``sigma_max=1.0``: ten times the box
        ``eps``; beyond it the surrogate is a vanishing L2 term inside the box.
        ``J*``: the best (lowest) objective J seen so far by that sample, starting at +inf and
        updated every step; sigma is **per sample** and is state, not a differentiable parameter.
        ``improvement="either"``: a sample's attack "improved" at a step when it is adversarial
        there (prediction differs from the clean prediction) **or** its attack loss (without the
        regulariser and before zeroing for fooled samples) fell below its value at the previous
        step (+inf before the first step). The paper glosses "improves" as "increases the
        likelihood of misclassification" (the loss decrease); an already fooled sample, whose
        clamped CW loss can no longer fall, is at its best and also counts. ``"adversarial"`` and
        ``"loss_decrease"`` select either half alone.
        Order within a step (Algorithm 1): evaluate J at the current delta with sigma(t), update
        sigma to sigma(t+1), then take the gradient step on that evaluated J.
        ``cw_c=1.0`` and ``kappa=0.0``: the CW loss enters J unscaled next to ``reg_coef``, as the
        paper's J = L + lambda * l0; confidence 0 stops pushing once a sample is fooled.
        ``alpha=1e-3`` (PGD step only): ten times Adam's lr, still 100 steps to cross the box.

    Per-sample objectives are combined by SUM over the batch so that a sample's gradient does not
    depend on the batch (the parent used the mean; Adam is invariant to that scale up to its eps).

    Objective scaling (an open reading of the paper's "uniform coefficient 1e-5")
        ``objective_scaling="per_sample"``: each sample's J is ``L + reg_coef * R``, as the paper's
        Eq. for J reads. ``"parent_batch"``: the parent framework's ``Attack/mix.py`` takes the
        *mean* of the per-sample loss over a batch of B and adds the regulariser as one batch-level
        term (a sum over the batch); per sample, that is ``L + B * reg_coef * R`` up to the overall
        factor 1/B, to which Adam is invariant. The setting uses ``B = reference_batch_size`` (64,
        the parent's ``Config/DEFAULT_ATTACK.json``; its attack drivers used 128), never the batch
        the runner happens to use, so results do not depend on how the input is chunked.
        :attr:`effective_reg_coef` is the per-sample coefficient either reading gives.
        ``j_star="running_best"``: J* is the best J so far (the natural reading); ``"initial"``: a
        fixed threshold, the J of the first step, never updated.
    Randomness (init signs, targets) is drawn on CPU from a generator seeded by ``seed``.
    """

    name: str = "custom"
    loss: str = "cw"
    zero_loss_when_fooled: bool = False
    cw_c: float = 1.0
    kappa: float = 0.0
    step: str = "adam"
    lr: float = 1e-4
    betas: tuple = (0.9, 0.999)
    adam_eps: float = 1e-7
    amsgrad: bool = True
    alpha: float = 1e-3
    steps: int = 1000
    eps: float = 0.1
    eps_init: float = 0.01
    regulariser: str = "none"
    reg_coef: float = 1e-5
    sigma0: float = 0.01
    eta_d: float = 0.9
    eta_i: float = 1.1
    sigma_min: float = 1e-6
    sigma_max: float = 1.0
    improvement: str = "either"
    return_iterate: str = "last"
    seed: int = 0
    objective_scaling: str = "per_sample"
    reference_batch_size: int = 64
    j_star: str = "running_best"

    KIND = "attack setting"

    def __post_init__(self):
        object.__setattr__(self, "betas", tuple(self.betas))
        super().__post_init__()

    def validate(self) -> None:
        """Check every field; raise ValueError naming the first bad one."""
        validate_attack_config(self)

    def keywords(self) -> dict:
        """The keyword arguments of :func:`aslo.attacks.algorithm.attack_batch` this configuration
        sets (the regulariser's coefficient as :attr:`effective_reg_coef`)."""
        return {"reg_coef": self.effective_reg_coef, **{name: getattr(self, name) for name in ALGORITHM_SETTINGS}}

    @property
    def effective_reg_coef(self) -> float:
        """The regulariser's coefficient per sample, next to an unscaled per-sample loss."""
        if self.objective_scaling == "parent_batch":
            return self.reg_coef * self.reference_batch_size
        return self.reg_coef

    @property
    def adaptive_sigma(self) -> bool:
        """Whether this attack carries a per-sample sigma (ASL0)."""
        return self.regulariser == "asl0"


FIELD_NAMES = AttackConfig.field_names()

#: The AttackConfig fields that are keyword arguments of Algorithm 1 (``attack_batch``), besides
#: ``reg_coef``; the others name the attack, seed its random draws or scale ``reg_coef``.
ALGORITHM_SETTINGS = ("loss", "zero_loss_when_fooled", "cw_c", "kappa", "step", "lr", "betas", "adam_eps", "amsgrad",
                      "alpha", "steps", "eps", "regulariser", "sigma0", "eta_d", "eta_i", "sigma_min", "sigma_max",
                      "improvement", "j_star", "return_iterate")


def check_override_keys(keys, field_names=FIELD_NAMES) -> None:
    """Raise ValueError naming any key that is not one of ``field_names``, with close matches."""
    check_keys(keys, field_names, AttackConfig.KIND)


def _number(cfg, field, *, positive=False, nonneg=False):
    value = getattr(cfg, field)
    if not finite_number(value):
        raise ValueError(f"{field} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{field} must be > 0, got {value}")
    if nonneg and value < 0:
        raise ValueError(f"{field} must be >= 0, got {value}")
    return value


def validate_attack_config(cfg: AttackConfig, step_rules: tuple[str, ...] = STEPS) -> None:
    """Check every field of ``cfg`` (its ``step`` among ``step_rules``); raise ValueError naming
    the first bad one."""
    check_choice(cfg.loss, LOSSES, "loss")
    check_choice(cfg.step, step_rules, "step rule")
    check_choice(cfg.regulariser, REGULARISERS, "regulariser")
    check_choice(cfg.improvement, IMPROVEMENT_RULES, "improvement rule")
    check_choice(cfg.return_iterate, RETURN_ITERATES, "return_iterate")
    check_choice(cfg.objective_scaling, OBJECTIVE_SCALINGS, "objective_scaling")
    check_choice(cfg.j_star, J_STAR_RULES, "j_star rule")
    check_flag(cfg, "zero_loss_when_fooled", "amsgrad")
    for field in ("steps", "seed", "reference_batch_size"):
        value = getattr(cfg, field)
        if not integer(value) or value < 0:
            raise ValueError(f"{field} must be a non-negative integer, got {value!r}")
    if cfg.reference_batch_size < 1:
        raise ValueError(f"reference_batch_size must be >= 1, got {cfg.reference_batch_size}")
    if cfg.objective_scaling == "parent_batch" and cfg.regulariser == "l2_batch":
        raise ValueError("objective_scaling 'parent_batch' with regulariser 'l2_batch' would weigh the batch "
                         "twice: l2_batch already is the parent's batch-level term; use regulariser 'l2'")
    for field in ("lr", "adam_eps", "alpha", "cw_c", "sigma0", "sigma_min", "sigma_max"):
        _number(cfg, field, positive=True)
    for field in ("eps", "eps_init", "reg_coef", "kappa"):
        _number(cfg, field, nonneg=True)
    if cfg.eps_init > cfg.eps:
        raise ValueError(f"eps_init ({cfg.eps_init}) must not exceed the box eps ({cfg.eps})")
    if len(cfg.betas) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in cfg.betas):
        raise ValueError(f"betas must be two numbers in [0, 1), got {cfg.betas!r}")
    eta_d = _number(cfg, "eta_d")
    if not 0 < eta_d < 1:
        raise ValueError(f"eta_d must be in (0, 1) (a decay), got {eta_d}")
    eta_i = _number(cfg, "eta_i")
    if eta_i <= 1:
        raise ValueError(f"eta_i must be > 1 (an increase), got {eta_i}")
    if cfg.sigma_min > cfg.sigma_max:
        raise ValueError(f"sigma_min ({cfg.sigma_min}) must not exceed sigma_max ({cfg.sigma_max})")
    if not cfg.sigma_min <= cfg.sigma0 <= cfg.sigma_max:
        raise ValueError(f"sigma0 ({cfg.sigma0}) must lie in [sigma_min, sigma_max] = "
                         f"[{cfg.sigma_min}, {cfg.sigma_max}]")
    if not isinstance(cfg.name, str) or not cfg.name:
        raise ValueError(f"name must be a non-empty string, got {cfg.name!r}")
