"""Load adv-lib's attack modules without importing ``adv_lib.attacks`` (which needs torchvision).

``adv_lib/attacks/__init__.py`` imports every attack, some of which import ``visdom`` and, via
``adv_lib.distances.lpips``, ``torchvision``; PyPI's torchvision does not import beside the CPU
torch build used here. The files of the attacks used here (sigma-zero, FMN, VFGA, PDPGD) only
need torch and ``adv_lib.utils`` / ``adv_lib.distances.lp_norms`` (PDPGD also names the visdom
logger, whose import line is dropped), so we execute those files directly under private names.
"""

from __future__ import annotations

import functools
import importlib.util
import warnings
from pathlib import Path

#: adv-lib attack function -> the file that defines it.
_FILES = {"sigma_zero": "sigma_zero.py", "fmn": "fast_minimum_norm.py", "vfga": "stochastic_sparse_attacks.py",
          "pdpgd": "primal_dual_gradient_descent.py"}
#: Lines dropped from a file before it runs: PDPGD's optional visdom logger (used only as a type
#: annotation and an optional callback) would import visdom, which nothing here needs.
_DROPPED_LINES = {"pdpgd": ("from adv_lib.utils.visdom_logger import VisdomLogger",)}
_STAND_INS = {"pdpgd": {"VisdomLogger": object}}


#: The one command that installs the peer libraries safely: both declare torchvision, which would
#: pull another torch build, and the attack modules used here need only what aslo already brings.
PEERS_INSTALL = "pip install --no-deps adv-lib==0.2.8 torchattacks==3.5.1 foolbox==3.3.4 eagerpy==0.30.0"


class PeerUnavailableError(ImportError):
    """A peer library (an optional extra) is not installed or cannot be imported."""


@functools.lru_cache(maxsize=None)
def advlib_attack(name: str):
    """The attack function ``name`` (a key of ``_FILES``) from adv-lib, loaded file by file."""
    if name not in _FILES:
        raise ValueError(f"unknown adv-lib attack {name!r}; known: {', '.join(_FILES)}")
    spec = importlib.util.find_spec("adv_lib")
    if spec is None or not spec.submodule_search_locations:
        raise PeerUnavailableError(f"adv-lib is not installed ({PEERS_INSTALL})")
    path = Path(list(spec.submodule_search_locations)[0]) / "attacks" / _FILES[name]
    if not path.is_file():
        raise PeerUnavailableError(f"adv-lib has no {path.name} (expected adv-lib 0.2.8)")
    module_spec = importlib.util.spec_from_file_location(f"aslo.peers._adv_lib_{name}", path)
    module = importlib.util.module_from_spec(module_spec)
    source = path.read_text(encoding="utf-8")
    for line in _DROPPED_LINES.get(name, ()):
        if line not in source:
            raise PeerUnavailableError(f"adv-lib's {path.name} differs from 0.2.8 (no line {line!r})")
        source = source.replace(line, "")
    module.__dict__.update(_STAND_INS.get(name, {}))
    try:
        with warnings.catch_warnings():  # adv_lib.utils.projections imports distutils
            warnings.simplefilter("ignore", DeprecationWarning)
            exec(compile(source, str(path), "exec"), module.__dict__)
    except ImportError as exc:
        raise PeerUnavailableError(f"adv-lib's {path.name} does not import here: {exc}") from exc
    if name == "fmn":
        module.l0_projection_ = _l0_projection_
    return getattr(module, name)


def _l0_projection_(δ, ε):
    """adv-lib 0.2.8's in-place L0 projection with its k = 0 crash fixed.

    adv-lib calls ``topk(k=ε.long().max())``, which fails once every ε in the batch is below 1
    (it is when FMN shrinks the radius of a fully adversarial batch). Its own index clamp already
    keeps at least the largest component for ε < 1; we only take at least one top-k entry.
    """
    δ = δ.flatten(1)
    δ_abs = δ.abs()
    k = max(int(ε.long().max()), 1)
    thresholds = δ_abs.topk(k=k, dim=1).values.gather(1, (ε.long().unsqueeze(1) - 1).clamp_(min=0))
    δ[δ_abs < thresholds] = 0
    return δ
