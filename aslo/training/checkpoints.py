"""Checkpoint store: ``<runs>/<dataset>/<model>/seed<seed>-<confighash>/`` holding
``model.safetensors`` and ``record.json``.

Writes are atomic (temp file + ``os.replace``); the record is written last and removed first, so
an interrupted save never leaves a record that points at half a model. Loading never unpickles.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from aslo.models import build_model

MODEL_FILE = "model.safetensors"
RECORD_FILE = "record.json"
RECORD_KEYS = (
    "dataset", "model", "config", "config_hash", "seed", "epochs", "best_epoch",
    "train_accuracy", "test_accuracy", "train_loss", "seconds", "stopped_by", "versions",
    "created", "data", "data_fingerprint",
)


def run_directory(runs_dir, dataset: str, model: str, seed: int, config_hash: str) -> Path:
    """Folder of one trained model: ``runs_dir/dataset/model/seed<seed>-<config_hash>``."""
    return Path(runs_dir) / dataset / model / f"seed{seed}-{config_hash}"


def _atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then move the temp file onto ``path`` atomically."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_checkpoint(directory, model: nn.Module, record: dict) -> Path:
    """Write ``model``'s weights and ``record`` into ``directory`` atomically; return it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    missing = [key for key in RECORD_KEYS if key not in record]
    if missing:
        raise ValueError(f"record lacks key(s): {', '.join(missing)}")
    record_path = directory / RECORD_FILE
    if record_path.exists():
        record_path.unlink()  # a stale record must never describe the new weights
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    _atomic_write(directory / MODEL_FILE, lambda tmp: save_file(state, tmp))

    def write_record(tmp):
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=2, sort_keys=True)
            handle.write("\n")

    _atomic_write(record_path, write_record)
    return directory


def read_record(directory) -> dict | None:
    """The record in ``directory``; None (with a warning if corrupt) when unusable."""
    path = Path(directory) / RECORD_FILE
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        warnings.warn(f"corrupt checkpoint record {path} ({exc}); it will be retrained", stacklevel=2)
        return None
    missing = [key for key in RECORD_KEYS if key not in record] if isinstance(record, dict) else ["all"]
    if missing:
        warnings.warn(
            f"incomplete checkpoint record {path} (missing {', '.join(missing)}); it will be retrained",
            stacklevel=2,
        )
        return None
    return record


def load_checkpoint(directory, expected: dict, device: torch.device) -> tuple[nn.Module, dict] | None:
    """Load the model in ``directory`` if its record matches ``expected`` (a dict of record
    fields); return (model in eval mode, record) or None (warning when the files are corrupt or
    describe different data)."""
    directory = Path(directory)
    record = read_record(directory)
    if record is None:
        return None
    mismatched = [key for key, value in expected.items() if record.get(key) != value]
    if mismatched:
        warnings.warn(
            f"checkpoint {directory} does not match this run ({', '.join(mismatched)} differ); "
            "it will be retrained",
            stacklevel=2,
        )
        return None
    try:
        state = load_file(directory / MODEL_FILE)
        shape = record["data"]
        model = build_model(record["model"], shape["in_channels"], shape["n_classes"],
                            shape["length"])
        model.load_state_dict(state, strict=True)
    except Exception as exc:  # safetensors raises several types for truncated/corrupt files
        warnings.warn(
            f"corrupt checkpoint weights in {directory} ({type(exc).__name__}: {exc}); "
            "it will be retrained",
            stacklevel=2,
        )
        return None
    return model.to(device).eval(), record


def weights_fingerprint(model: nn.Module) -> str:
    """SHA-256 (hex) of a model's state dict: every tensor's name, dtype, shape and bytes, by name.

    Names the exact weights a stored result was computed from, whatever file they travel in."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes())
    return digest.hexdigest()
