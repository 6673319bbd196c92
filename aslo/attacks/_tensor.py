"""Small tensor and model helpers shared by the attack modules."""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from aslo.training.device import resolve_device as resolve_named_device


def as_series_tensor(x) -> torch.Tensor:
    """Validate ``x`` as a finite (N, C, L) batch of series and return it as float32 CPU tensor."""
    if isinstance(x, torch.Tensor):
        tensor = x.detach().cpu()
    else:
        try:
            tensor = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"x cannot be converted to a tensor: {exc}") from exc
    if tensor.ndim != 3:
        raise ValueError(f"x must have shape (N, C, L), got {tuple(tensor.shape)}")
    if min(tensor.shape) == 0:
        raise ValueError(f"x must be non-empty, got shape {tuple(tensor.shape)}")
    if not (tensor.is_floating_point() or tensor.dtype in (torch.int32, torch.int64)):
        raise ValueError(f"x must hold numbers, got dtype {tensor.dtype}")
    tensor = tensor.to(torch.float32)
    if not torch.isfinite(tensor).all():
        bad = int((~torch.isfinite(tensor)).reshape(tensor.shape[0], -1).any(dim=1).nonzero()[0, 0])
        raise ValueError(f"x contains NaN or inf (first in sample {bad})")
    return tensor.contiguous()


def as_label_tensor(y, n: int) -> torch.Tensor:
    """Validate ``y`` as ``n`` integer labels and return an int64 CPU tensor."""
    tensor = y.detach().cpu() if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    tensor = tensor.reshape(-1)
    if tensor.numel() != n:
        raise ValueError(f"y has {tensor.numel()} labels but x has {n} samples")
    if tensor.is_floating_point():
        if not torch.isfinite(tensor).all() or (tensor != tensor.round()).any():
            raise ValueError("y must hold integer class labels")
    elif tensor.dtype == torch.bool:
        raise ValueError("y must hold integer class labels, got booleans")
    return tensor.to(torch.int64)


def resolve_device(device, model) -> torch.device:
    """``None`` -> the model's parameter device (CPU if it has none); otherwise as
    :func:`aslo.training.device.resolve_device` ("auto" -> cuda if available; an unavailable
    device raises ValueError)."""
    if device is None:
        params = list(model.parameters()) if isinstance(model, torch.nn.Module) else []
        return params[0].device if params else torch.device("cpu")
    return resolve_named_device(device)


def has_recurrent(model) -> bool:
    """Whether the model contains an RNN module (cuDNN cannot backprop those in eval mode)."""
    return isinstance(model, torch.nn.Module) and any(
        isinstance(m, torch.nn.RNNBase) for m in model.modules())


@contextlib.contextmanager
def attack_mode(model, device: torch.device):
    """Eval mode, frozen parameters, on ``device``; everything restored on exit.

    Freezing the parameters stops autograd from computing weight gradients the attack never uses.
    For recurrent models on CUDA, cuDNN is disabled (it refuses RNN backward in eval mode).
    """
    if not isinstance(model, torch.nn.Module):
        yield model
        return
    was_training = model.training
    params = list(model.parameters())
    flags = [p.requires_grad for p in params]
    original_device = params[0].device if params else None
    cudnn_off = (torch.backends.cudnn.flags(enabled=False)
                 if device.type == "cuda" and has_recurrent(model) else contextlib.nullcontext())
    try:
        model.eval()
        for p in params:
            p.requires_grad_(False)
        if original_device is not None and original_device != device:
            model.to(device)
        with cudnn_off:
            yield model
    finally:
        if original_device is not None and original_device != device:
            model.to(original_device)
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)
        model.train(was_training)
