"""Adversarial attacks as compositions of a loss, a step rule and a regulariser.

``run_attack(model, x, y, "AS_CW")`` runs a registered variant; ``get_attack_config`` returns its
validated settings (see ``AttackConfig`` for every default and the reason behind it).
"""

from .api import AttackResult, run_attack
from .config import AttackConfig
from .registry import ALIASES, ATTACKS, PAPER_PARTS, get_attack_config, resolve_attack_name

__all__ = ["ATTACKS", "ALIASES", "AttackConfig", "AttackResult", "PAPER_PARTS", "get_attack_config",
           "resolve_attack_name", "run_attack"]
