"""Load adv-lib's attack modules without importing ``adv_lib.attacks`` (which needs torchvision).

``adv_lib/attacks/__init__.py`` imports every attack, some of which import ``visdom`` and, via
``adv_lib.distances.lpips``, ``torchvision``; PyPI's torchvision does not import beside the CPU
torch build used here. ``sigma_zero.py`` and ``fast_minimum_norm.py`` themselves only need torch
and ``adv_lib.utils``, so we execute those two files directly under private module names.
"""

from __future__ import annotations

import functools
import importlib.util
import warnings
from pathlib import Path

_FILES = {"sigma_zero": "sigma_zero.py", "fmn": "fast_minimum_norm.py"}


#: The one command that installs the peer libraries safely: both declare torchvision, which would
#: pull another torch build, and the attack modules used here need only what aslo already brings.
PEERS_INSTALL = "pip install --no-deps adv-lib==0.2.8 torchattacks==3.5.1"


class PeerUnavailableError(ImportError):
    """A peer library (an optional extra) is not installed or cannot be imported."""


@functools.lru_cache(maxsize=None)
def advlib_attack(name: str):
    """The function ``name`` ("sigma_zero" or "fmn") from adv-lib, loaded file by file."""
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
    try:
        with warnings.catch_warnings():  # adv_lib.utils.projections imports distutils
            warnings.simplefilter("ignore", DeprecationWarning)
            module_spec.loader.exec_module(module)
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
