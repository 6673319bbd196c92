"""Peer attack libraries (optional; installed by ``PEERS_INSTALL``) run on our models, seen through [0, 1].

``run_peer(model, x, y, "SIGMA_ZERO", steps=50, eps=1.0)``; ``available_peers()`` lists what
can run here. The affine map (``UnitBox``) needs only torch and is always importable.
"""

from ._advlib import PEERS_INSTALL, PeerUnavailableError
from .affine import UnitBox, UnitModel, unit_box_for
from .compare import BEST, GOAL_PEERS, REFERENCE, SEARCH, compare_on, goal_check, goal_sentence, our_attacks
from .runners import PEERS, PeerResult, available_peers, peer_status, run_peer

__all__ = ["BEST", "GOAL_PEERS", "PEERS", "PEERS_INSTALL", "REFERENCE", "SEARCH", "compare_on", "goal_check", "goal_sentence", "our_attacks", "PeerResult", "PeerUnavailableError", "UnitBox", "UnitModel", "available_peers",
           "peer_status", "run_peer", "unit_box_for"]
