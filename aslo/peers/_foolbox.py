"""Load foolbox 3.3.4 quietly, and the start its Brendel-Bethge L0 attack needs.

``import foolbox`` imports GitPython (for its model zoo), requests and, through its blur attack,
``scipy.ndimage.filters``, whose deprecation warning fails an import under ``-W error``: the
import runs with that warning silenced. Nothing of the zoo is used.
"""

from __future__ import annotations

import functools
import warnings

import torch

from ._advlib import PEERS_INSTALL, PeerUnavailableError


@functools.lru_cache(maxsize=1)
def foolbox_module():
    """The ``foolbox`` package (PeerUnavailableError when it is missing or does not import)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import foolbox
    except ImportError as exc:
        raise PeerUnavailableError(f"foolbox does not import ({PEERS_INSTALL}): {exc}") from exc
    return foolbox


def nearest_other_class(u: torch.Tensor, predictions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per series, the nearest (L2) series of the batch that the model predicts as another class:
    an adversarial starting point for Brendel-Bethge (as foolbox's DatasetAttack draws one).

    Returns ``(starts, found)``; where no series of another class exists, the start is the series
    itself and ``found`` is False."""
    flat = u.flatten(1).double()
    distances = torch.cdist(flat, flat)
    distances[predictions[:, None] == predictions[None, :]] = float("inf")
    nearest = distances.argmin(dim=1)
    found = torch.isfinite(distances.gather(1, nearest[:, None]).squeeze(1))
    starts = torch.where(found.view(-1, *[1] * (u.dim() - 1)), u[nearest], u)
    return starts, found
