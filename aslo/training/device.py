"""Device selection."""

from __future__ import annotations

import torch

#: The plain device names; :func:`check_device_name` also accepts "cuda:N" and "mps".
DEVICES = ("auto", "cpu", "cuda")

DEVICE_FORMS = "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"


def check_device_name(device: str) -> str:
    """Return ``device`` if it is a device name this package accepts (whether or not this machine
    has it), else raise ValueError. Every command and profile validates devices with this."""
    text = str(device).strip().lower()
    if text == "auto":
        return text
    try:
        parsed = torch.device(text)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"unknown device {device!r}: use {DEVICE_FORMS}") from exc
    if parsed.type not in ("cpu", "cuda", "mps") or (parsed.type != "cuda" and parsed.index is not None):
        raise ValueError(f"unknown device {device!r}: use {DEVICE_FORMS}")
    return text


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """Turn ``device`` into a usable ``torch.device``.

    None or "auto" picks CUDA when available, else CPU. An explicit CUDA/MPS device that this
    machine lacks raises ValueError (rather than failing later inside a kernel).
    """
    if device is None or (isinstance(device, str) and device.strip().lower() == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"invalid device {device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'") from exc
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available here")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {device!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} requested but MPS is not available here")
    elif resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unsupported device {device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'")
    return resolved
