"""Model registry: names -> constructors, and ``build_model``."""

from __future__ import annotations

from typing import Callable

from torch import nn

from aslo.models.inception import InceptionTime
from aslo.models.lstmfcn import LSTMFCN
from aslo.models.macnn import MACNN
from aslo.models.resnet18 import ResNet18

MODEL_NAMES = ("inception", "resnet18", "macnn", "lstmfcn")

_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "inception": InceptionTime,
    "resnet18": ResNet18,
    "macnn": MACNN,
    "lstmfcn": LSTMFCN,
}


def validate_model_name(name: str) -> str:
    """Return ``name`` if it is a registered model, else raise ValueError listing valid names."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODEL_NAMES)}")
    return name


def build_model(name: str, in_channels: int, n_classes: int, length: int, **options) -> nn.Module:
    """Build classifier ``name`` for input (N, in_channels, length); it returns logits.

    ``options`` go to the model's constructor (e.g. ``variant="torchvision"`` for resnet18,
    ``hidden=8`` for lstmfcn).
    """
    return _BUILDERS[validate_model_name(name)](in_channels, n_classes, length, **options)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
