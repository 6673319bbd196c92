"""The paper's attack variants as named compositions (loss + step rule + regulariser)."""

from __future__ import annotations

import difflib
from types import MappingProxyType

from .budget import BUDGET_VARIANTS, BudgetAttackConfig
from .config import AttackConfig
from .sparse import SPARSE_VARIANTS, SparseAttackConfig

_REG = 1e-5  # the paper's uniform regularisation coefficient

#: Settings that differ from the AttackConfig defaults, per registered attack.
_VARIANTS = {
    # Part 2, GM_PGD family: targeted cross-entropy with Adam, as in the parent code.
    "GM_PGD": dict(loss="ce_targeted", regulariser="none"),
    "GM_PGD_L2": dict(loss="ce_targeted", zero_loss_when_fooled=True, regulariser="l2", reg_coef=_REG),
    "AS_GM_PGD": dict(loss="ce_targeted", zero_loss_when_fooled=True, regulariser="asl0", reg_coef=_REG),
    # CW family (Part 1 uses CW with none / L1 / L2 / ASL0; Part 2 uses CW, CW_L2, AS_CW).
    "CW": dict(loss="cw", regulariser="none"),
    "CW_L2": dict(loss="cw", regulariser="l2", reg_coef=_REG),
    "CW_L1": dict(loss="cw", regulariser="l1", reg_coef=_REG),
    "AS_CW": dict(loss="cw", regulariser="asl0", reg_coef=_REG),
    # Beyond the paper: the AS variants with exact zeros (aslo.attacks.sparse) and ASL0 under an
    # adaptive L0 budget (aslo.attacks.budget).
    **SPARSE_VARIANTS,
    **BUDGET_VARIANTS,
}

#: The attacks beyond the paper (exact zeros, the L0 budget): the code of aslo.attacks.sparse,
#: aslo.attacks.budget and aslo.attacks.l0_search decides their numbers only.
EXTENSION_ATTACKS = (*SPARSE_VARIANTS, *BUDGET_VARIANTS)

#: The configuration class of every registered attack that is not a plain AttackConfig.
_CONFIG_CLASSES = {**{name: SparseAttackConfig for name in SPARSE_VARIANTS},
                   **{name: BudgetAttackConfig for name in BUDGET_VARIANTS}}

#: Part 1 names that resolve to a registered attack.
ALIASES = {"CW_ASL0": "AS_CW", "CW_NONE": "CW"}

#: Every accepted attack name (registered variants, then aliases).
ATTACKS = tuple(_VARIANTS) + tuple(ALIASES)


def resolve_attack_name(name: str) -> str:
    """The registered name for ``name`` (aliases resolved); ValueError with suggestions if unknown."""
    if not isinstance(name, str):
        raise ValueError(f"attack name must be a string, got {name!r}")
    key = name.strip().upper()
    if key in _VARIANTS:
        return key
    if key in ALIASES:
        return ALIASES[key]
    close = difflib.get_close_matches(key, ATTACKS, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"unknown attack {name!r}{hint} (known: {', '.join(ATTACKS)})")


def get_attack_config(name: str, **overrides) -> AttackConfig:
    """The validated configuration of attack ``name`` with ``overrides`` applied.

    Overrides are AttackConfig fields (e.g. ``steps=200, lr=1e-3, reg_coef=1e-3, seed=1``);
    an unknown key or an invalid value raises ValueError before anything runs.
    """
    canonical = resolve_attack_name(name)
    config_class = _CONFIG_CLASSES.get(canonical, AttackConfig)
    config_class.check_keys(overrides)
    if "name" in overrides:
        raise ValueError("the attack name is set by the registry, not by an override")
    settings = {**_VARIANTS[canonical], **overrides}
    return config_class(name=canonical, **settings)


#: The paper's two experiments, the one list of which attack belongs to which Part. Part 1: the CW
#: loss with each regulariser (values: Table 1's column labels); Part 2: the baselines and their
#: AS variants (label = attack name).
PAPER_PARTS = MappingProxyType({
    1: MappingProxyType({"AS_CW": "ASL0", "CW_L1": "L1", "CW_L2": "L2", "CW": "No Reg."}),
    2: MappingProxyType({name: name for name in ("GM_PGD", "GM_PGD_L2", "AS_GM_PGD", "CW", "CW_L2", "AS_CW")}),
})
#: The distinct attacks of both Parts, Part 1 first (CW, CW_L2 and AS_CW are in both).
GRID_ATTACKS = tuple(dict.fromkeys(name for part in PAPER_PARTS.values() for name in part))
