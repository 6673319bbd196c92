"""Peer attacks (sigma-zero, FMN-L0, VFGA, PDPGD-L0, Brendel-Bethge L0, CW, PGD) on our models and
series, measured like ours; foolbox's Pointwise as a check of any attack's output.

Each peer sees the model and the series through the same exact ``UnitBox`` (see ``affine``),
gets the same step budget (forward+backward passes), attacks the clean prediction
(untargeted), and is measured in original units: the returned perturbation is mapped back
exactly, the example ``x + delta`` is re-classified by the original model, and the records are
:func:`aslo.metrics.per_sample_metrics` plus ``best_l0``.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass

import pandas as pd
import torch

from ..attacks._tensor import as_label_tensor, as_series_tensor, attack_mode
from ..metrics import per_sample_metrics, summarize
from ..observed import observed_mask
from ._advlib import PEERS_INSTALL, PeerUnavailableError, advlib_attack
from ._foolbox import foolbox_module, nearest_other_class
from .affine import UnitBox, UnitModel, unit_box_for

#: Peer name -> (library, what it is).
PEERS = {
    "SIGMA_ZERO": ("adv-lib", "sigma-zero (Cina et al.), L0, untargeted"),
    "FMN_L0": ("adv-lib", "Fast Minimum-Norm attack, L0 (Pintor et al.)"),
    "VFGA": ("adv-lib", "Voting Folded Gaussian Attack (Hajri et al.), L0, greedy; max_iter = steps"),
    "PDPGD_L0": ("adv-lib", "Primal-Dual Proximal Gradient Descent (Matyasko and Chau), L0, proximal operator 2/3"),
    "BB_L0": ("foolbox", "Brendel-Bethge L0 (Brendel et al.), from the nearest series of the batch predicted as "
                         "another class"),
    "TA_CW": ("torchattacks", "Carlini-Wagner L2 (c=1, kappa=0, lr=0.01)"),
    "TA_PGD": ("torchattacks", "PGD L-infinity in our box eps (alpha = 2.5 eps / steps)"),
}
_MODULES = {"adv-lib": "adv_lib", "torchattacks": "torchattacks", "foolbox": "foolbox"}
#: Peers that evaluate sub-batches and tiles of the batch (VFGA: the series still to attack, and
#: 2 x n_samples perturbed copies of each; Brendel-Bethge: its line searches): :class:`ObservedOnly`, which needs the whole batch in
#: order, cannot hold their padding fixed. On a variable-length set their perturbation of the
#: padding is dropped afterwards and the example re-classified without it, like every peer's.
RESHAPES_BATCH = frozenset({"VFGA", "BB_L0"})
#: adv-lib peer -> the adv-lib function it runs.
_ADVLIB_FUNCTIONS = {"SIGMA_ZERO": "sigma_zero", "FMN_L0": "fmn", "VFGA": "vfga", "PDPGD_L0": "pdpgd"}


@dataclass
class PeerResult:
    """The outcome of :func:`run_peer` (tensors on CPU, distances in original units)."""

    x_adv: torch.Tensor
    delta: torch.Tensor
    records: pd.DataFrame
    summary: dict
    box: UnitBox
    config: dict


def peer_status() -> dict:
    """``{peer: None}`` when it can run here, else ``{peer: reason}``."""
    out = {}
    for name, (library, _) in PEERS.items():
        if importlib.util.find_spec(_MODULES[library]) is None:
            out[name] = f"{library} is not installed ({PEERS_INSTALL})"
            continue
        try:
            if library == "adv-lib":
                advlib_attack(_ADVLIB_FUNCTIONS[name])
            elif library == "foolbox":
                foolbox_module()
            else:
                import torchattacks  # noqa: F401
        except (ImportError, OSError) as exc:
            out[name] = f"{library} does not import: {exc}"
        else:
            out[name] = None
    return out


def available_peers() -> tuple:
    """The peers that can run here."""
    return tuple(name for name, reason in peer_status().items() if reason is None)


class ObservedOnly(torch.nn.Module):
    """``model`` with every series' padding held at its clean values ``clean`` (N, C, L).

    The peers cannot be told about padding: through this wrapper a change to the padding
    (``~observed``) changes neither the logits nor the gradient, so perturbing it has no effect.
    It only takes the whole batch it was built for, in order (the peers forward whole batches).
    """

    def __init__(self, model: torch.nn.Module, clean: torch.Tensor, observed: torch.Tensor):
        super().__init__()
        self.model, self.clean, self.observed = model, clean, observed

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """Logits of ``model`` on ``u`` with the padding replaced by the clean values."""
        if u.shape != self.clean.shape:
            raise RuntimeError(f"ObservedOnly was built for a batch of shape {tuple(self.clean.shape)}, "
                               f"got {tuple(u.shape)}")
        return self.model(torch.where(self.observed, u, self.clean.to(u.dtype)))


def _attack(name: str, umodel, u, labels, steps: int, eps_u: float):
    """Run one peer in unit space; returns the adversarial inputs in [0, 1]."""
    if name == "SIGMA_ZERO":
        return advlib_attack("sigma_zero")(umodel, u, labels, num_steps=steps)
    if name == "FMN_L0":
        return advlib_attack("fmn")(umodel, u, labels, norm=0, steps=steps)
    if name == "VFGA":  # greedy: one component per iteration at most, so L0 <= steps
        return advlib_attack("vfga")(umodel, u, labels, targeted=False, max_iter=steps)
    if name == "PDPGD_L0":  # proximal_operator=23: the L2/3 operator adv-lib's docstring advises for L0
        return advlib_attack("pdpgd")(umodel, u, labels, norm=0, num_steps=steps, proximal_operator=23)
    if name == "BB_L0":
        return _brendel_bethge_l0(umodel, u, labels, steps)
    import torchattacks

    if name == "TA_CW":
        attack = torchattacks.CW(umodel, c=1.0, kappa=0.0, steps=steps, lr=0.01)
    else:
        attack = torchattacks.PGD(umodel, eps=eps_u, alpha=2.5 * eps_u / steps, steps=steps, random_start=True)
    return attack(u, labels)


def _brendel_bethge_l0(umodel, u, labels, steps: int):
    """foolbox's L0 Brendel-Bethge from the nearest series of another predicted class (a series
    with none is returned unchanged: a failure)."""
    fb = foolbox_module()
    starts, found = nearest_other_class(u, labels)
    out = u.clone()
    if found.any():
        fmodel = fb.PyTorchModel(umodel.eval(), bounds=(0, 1), device="cpu")
        keep = found.nonzero().squeeze(1)
        attack = fb.attacks.L0BrendelBethgeAttack(steps=steps)
        advs = attack.run(fmodel, u[keep].float(), fb.criteria.Misclassification(labels[keep]),
                          starting_points=starts[keep].float())
        out[keep] = advs.to(out.dtype)
    return out


def pointwise_reduce(umodel, u, labels, u_adv, success, seed: int = 0) -> torch.Tensor:
    """foolbox's Pointwise attack started from each successful ``u_adv``: components are reset to
    the clean series while it stays adversarial (L0 only, without its L2 binary search). Returns the reduced examples (``u_adv`` where
    ``success`` is False); forwards only, seeded (it draws its order with numpy)."""
    import numpy as np

    fb = foolbox_module()
    out = u_adv.clone()
    keep = success.nonzero().squeeze(1)
    if len(keep):
        fmodel = fb.PyTorchModel(umodel.eval(), bounds=(0, 1), device="cpu")
        state = np.random.get_state()
        np.random.seed(seed % 2**32)
        try:
            # L0 only: no binary search on each kept component's size (foolbox's L2 refinement)
            attack = fb.attacks.PointwiseAttack(l2_binary_search=False)
            out[keep] = attack.run(fmodel, u[keep], fb.criteria.Misclassification(labels[keep]),
                                   starting_points=u_adv[keep]).to(out.dtype)
        finally:
            np.random.set_state(state)
    return out


def run_peer(model, x, y, name: str, *, steps: int, eps: float, box: UnitBox | None = None,
             seed: int = 0, distance: str = "l2", lengths=None) -> PeerResult:
    """Run peer ``name`` for ``steps`` steps on ``x`` (N, C, L) and measure it like our attacks.

    ``eps`` is our box (original units): it widens the UnitBox (when ``box`` is None) and bounds
    TA_PGD. Success means the prediction on ``x + delta`` differs from the clean prediction.
    ``lengths`` (as in :func:`aslo.attacks.run_attack`): the peer attacks the model through
    :class:`ObservedOnly` (except those in :data:`RESHAPES_BATCH`), the returned delta is zeroed
    on the padding, and the metrics count observed steps only.
    Raises ValueError on bad input and PeerUnavailableError when the peer's library is missing.
    """
    if name not in PEERS:
        raise ValueError(f"unknown peer {name!r}; known: {', '.join(PEERS)}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    x = as_series_tensor(x)
    y = as_label_tensor(y, x.shape[0])
    observed = None if lengths is None else observed_mask(lengths, x.shape[2], n=x.shape[0])
    box = box or unit_box_for(x, eps)
    if float(x.min()) < box.lo or float(x.max()) > box.hi:
        raise ValueError(f"x lies outside the box [{box.lo}, {box.hi}]")
    reason = peer_status()[name]
    if reason is not None:
        raise PeerUnavailableError(f"{name}: {reason}")
    device = torch.device("cpu")
    with attack_mode(model, device), torch.random.fork_rng():
        torch.manual_seed(seed)
        with torch.no_grad():
            clean = model(x).argmax(dim=1)
        u = box.to_unit(x).float()
        umodel = UnitModel(model, box)
        if observed is not None and name not in RESHAPES_BATCH:
            umodel = ObservedOnly(umodel, u, observed)
        began = time.perf_counter()
        u_adv = _attack(name, umodel, u, clean, steps, box.eps_to_unit(eps)).detach()
        duration = time.perf_counter() - began
        delta = box.delta_from_unit(u_adv - u)  # exact: float32 times a power of two
        if observed is not None:
            delta = delta.masked_fill(~observed, 0.0)
        x_adv = x + delta
        with torch.no_grad():
            adv_pred = model(x_adv).argmax(dim=1)
    records = per_sample_metrics(x, x_adv, clean, adv_pred, y, delta=delta, lengths=lengths)
    records.insert(0, "index", range(x.shape[0]))
    records["y_true"], records["clean_pred"], records["adv_pred"] = y.numpy(), clean.numpy(), adv_pred.numpy()
    records["best_l0"] = records["l0"].astype(float).where(records["success"])
    summary = summarize(records, duration, distance)
    summary["attack"] = name
    config = {"peer": name, "library": PEERS[name][0], "steps": steps, "eps": eps, "seed": seed,
              "box_lo": box.lo, "box_scale": box.scale}
    return PeerResult(x_adv=x_adv, delta=delta, records=records, summary=summary, box=box, config=config)
