"""Peer attack libraries (installed by ``PEERS_INSTALL``) run on our models, seen through [0, 1].

``run_peer(model, x, y, "SIGMA_ZERO", steps=50, eps=1.0)``; ``available_peers()`` lists what
can run here. The L0 benchmark's attacks, ours and the peers', and their measurement by the L0
literature's protocol are in :mod:`aslo.peers.l0`. The affine map (``UnitBox``) needs only torch
and is always importable.
"""

from ._advlib import PEERS_INSTALL, PeerUnavailableError
from .affine import UnitBox, UnitModel, unit_box_for
from .runners import PEERS, PeerResult, available_peers, peer_status, run_peer

__all__ = ["PEERS", "PEERS_INSTALL", "PeerResult", "PeerUnavailableError", "UnitBox", "UnitModel", "available_peers",
           "peer_status", "run_peer", "unit_box_for"]
