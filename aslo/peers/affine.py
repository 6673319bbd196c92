"""An exact affine map of a dataset's value range onto [0, 1], for attacks that assume images.

Peer libraries clamp to [0, 1]; z-normalised series are unbounded. ``UnitBox`` maps values with
``u = (x - lo) / scale`` where ``scale`` is a power of two: the map and its inverse are then exact
in float64 (a power-of-two scale only shifts the exponent), and a perturbation maps as
``delta_x = delta_u * scale`` exactly, so zeros stay zeros and L0 is the same in both units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class UnitBox:
    """The box ``[lo, lo + scale]`` of original values, mapped onto [0, 1]."""

    lo: float
    scale: float

    def __post_init__(self):
        if not (isinstance(self.lo, float) and math.isfinite(self.lo)):
            raise ValueError(f"lo must be a finite float, got {self.lo!r}")
        if not (isinstance(self.scale, float) and math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale must be a finite positive float, got {self.scale!r}")
        if math.frexp(self.scale)[0] != 0.5:
            raise ValueError(f"scale must be a power of two (for an exact map), got {self.scale!r}")

    @property
    def hi(self) -> float:
        """Upper end of the box in original units."""
        return self.lo + self.scale

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Original values -> [0, 1] (float64, exact for float32 input)."""
        return (x.double() - self.lo) / self.scale

    def from_unit(self, u: torch.Tensor) -> torch.Tensor:
        """[0, 1] -> original values (float64)."""
        return u.double() * self.scale + self.lo

    def delta_to_unit(self, delta: torch.Tensor) -> torch.Tensor:
        """A perturbation in original units -> unit units (exact: division by a power of two)."""
        return delta / self.scale

    def delta_from_unit(self, delta_u: torch.Tensor) -> torch.Tensor:
        """A perturbation in unit units -> original units (exact: multiplication by a power of two)."""
        return delta_u * self.scale

    def eps_to_unit(self, eps: float) -> float:
        """A distance (L-infinity box, L2 norm) in original units -> unit units."""
        return float(eps) / self.scale


def unit_box_for(x: torch.Tensor, eps: float) -> UnitBox:
    """The box covering ``[min(x) - eps, max(x) + eps]``, widened so its width is a power of two.

    Every perturbation of ``x`` inside the L-infinity box ``eps`` stays inside it, so the peers
    can reach everything our box-constrained attacks can.
    """
    if not isinstance(x, torch.Tensor) or x.numel() == 0:
        raise ValueError("x must be a non-empty tensor")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or inf")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    lo = float(x.min()) - float(eps)
    width = float(x.max()) + float(eps) - lo
    scale = 2.0 ** math.ceil(math.log2(max(width, 1e-6)))
    return UnitBox(lo=float(lo), scale=float(scale))


class UnitModel(torch.nn.Module):
    """``model`` seen through a UnitBox: takes inputs in [0, 1], returns the model's logits."""

    def __init__(self, model: torch.nn.Module, box: UnitBox):
        super().__init__()
        self.model, self.box = model, box

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """Logits of the model on ``box.from_unit(u)`` (mapped in float64, fed as float32).

        A float64 ``u`` from :meth:`UnitBox.to_unit` gives the model exactly the original
        inputs; a float32 ``u`` (what the peers use) is within float32 rounding of them.
        """
        return self.model(self.box.from_unit(u).to(torch.float32))
