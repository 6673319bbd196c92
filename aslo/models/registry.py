"""Model registry, the one list of model names: constructor, the paper's label, the published
accuracy column that is its yardstick; and ``build_model``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from aslo.models.inception import InceptionTime
from aslo.models.lstmfcn import LSTMFCN
from aslo.models.macnn import MACNN
from aslo.models.resnet18 import ResNet18


@dataclass(frozen=True)
class ModelSpec:
    """A registered classifier: its constructor ``(c_in, c_out, seq_len, **options)``, the label
    the paper prints, and the column of the published accuracy table that is its yardstick."""

    builder: Callable[..., nn.Module]
    label: str
    yardstick: str


#: Every model, in the paper's Table 1 order. ResNet18 has no published UCR table; its yardstick
#: is the 3-block ResNet column (``resnet``).
MODELS = {
    "inception": ModelSpec(InceptionTime, "INCEPTION", "inception"),
    "resnet18": ModelSpec(ResNet18, "ResNet18", "resnet"),
    "macnn": ModelSpec(MACNN, "MACNN", "macnn"),
    "lstmfcn": ModelSpec(LSTMFCN, "LSTMFCN", "lstmfcn"),
}
MODEL_NAMES = tuple(MODELS)
#: Model name -> the paper's label.
MODEL_LABELS = {name: spec.label for name, spec in MODELS.items()}


def validate_model_name(name: str) -> str:
    """Return ``name`` if it is a registered model, else raise ValueError listing valid names."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODEL_NAMES)}")
    return name


def build_model(name: str, in_channels: int, n_classes: int, length: int, **options) -> nn.Module:
    """Build classifier ``name`` for input (N, in_channels, length); it returns logits.

    ``options`` go to the model's constructor (e.g. ``variant="torchvision"`` for resnet18,
    ``hidden=8`` for lstmfcn).
    """
    return MODELS[validate_model_name(name)].builder(in_channels, n_classes, length, **options)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
