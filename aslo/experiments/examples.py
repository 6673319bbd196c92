"""Stored adversarial examples: each attacked series' perturbation, compact and checkable.

One safetensors file holds two tensors and string metadata, nothing else:

* ``indices`` (int64, shape (N,)): the positions of the attacked series in the dataset's test split;
* ``delta`` (float32, shape (N, C, L)): the exact perturbation the attack returned.

``x_adv`` is rebuilt as ``x_test[indices] + delta`` in float32, the same sum the attack layer
computes, so it equals the attack's output bit for bit. The metadata names the dataset, the
split and whether it was z-normalised (``normalize``), so a file can be turned back into
``x_adv`` without anything else. The result store keeps one such file per cell
(``examples.safetensors``, listed in the cell's ``COMPLETE`` marker and ``meta.json``);
``aslo attack --save-adv FILE`` writes the same format.
"""

from __future__ import annotations

import dataclasses
import json
import os
import struct
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import torch

#: File name of a cell's examples inside its record folder.
EXAMPLES_FILE = "examples.safetensors"
#: Format tag stored in every file's metadata (bump when the layout changes).
EXAMPLES_FORMAT = "aslo-examples-1"
_TENSORS = {"indices": "I64", "delta": "F32"}
_MAX_HEADER = 1 << 20  # a header above 1 MiB is not one this module wrote


class ExamplesError(ValueError):
    """An examples file is missing, truncated or not in the expected format."""


@dataclass(frozen=True)
class AdversarialExamples:
    """Perturbations read back from a file: series indices, delta and (when rebuilt) ``x_adv``.

    ``x`` is the clean series ``x_test[indices]`` and ``records`` the cell's per-sample records
    (stored cells only).
    """

    indices: np.ndarray
    delta: torch.Tensor
    metadata: dict[str, str] = field(default_factory=dict)
    x_adv: torch.Tensor | None = None
    x: torch.Tensor | None = None
    records: pd.DataFrame | None = None

    def rebuild(self, x_test) -> "AdversarialExamples":
        """The same examples with ``x_adv = x_test[indices] + delta`` (float32, on CPU) and ``x``."""
        x_adv = rebuild_x_adv(self.indices, self.delta, x_test)
        return dataclasses.replace(self, x_adv=x_adv, x=_select(x_test, self.indices))


def _as_indices(indices) -> np.ndarray:
    arr = np.asarray(indices.detach().cpu() if isinstance(indices, torch.Tensor) else indices)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"indices must be a 1-D array of integers, got shape {arr.shape} and dtype {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise ValueError("indices must be non-negative positions in the test split")
    return arr.astype(np.int64)


def _as_delta(delta, n: int) -> np.ndarray:
    arr = delta.detach().cpu().numpy() if isinstance(delta, torch.Tensor) else np.asarray(delta)
    if arr.ndim != 3 or arr.shape[0] != n:
        raise ValueError(f"delta must have shape (N, C, L) with N = {n} indices, got {arr.shape}")
    if arr.dtype != np.float32:
        raise ValueError(f"delta must be float32 (the attack's own dtype, stored exactly), got {arr.dtype}")
    if not np.isfinite(arr).all():
        raise ValueError("delta contains NaN or inf")
    return np.ascontiguousarray(arr)


def encode_examples(indices, delta, metadata: Mapping[str, Any] | None = None) -> bytes:
    """The safetensors bytes of ``indices`` (N,) and float32 ``delta`` (N, C, L) with metadata."""
    from safetensors.numpy import save

    idx = _as_indices(indices)
    arr = _as_delta(delta, len(idx))
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta["format"] = EXAMPLES_FORMAT
    return save({"indices": idx, "delta": arr}, metadata=meta)


def _header(blob: bytes, source: str) -> dict:
    """Parse and check the safetensors header (sizes, names, dtypes) without loading tensors."""
    if len(blob) < 8:
        raise ExamplesError(f"{source}: truncated examples file ({len(blob)} bytes)")
    (size,) = struct.unpack("<Q", blob[:8])
    if size > _MAX_HEADER or 8 + size > len(blob):
        raise ExamplesError(f"{source}: truncated or damaged examples file (header of {size} bytes, file of {len(blob)})")
    try:
        header = json.loads(blob[8:8 + size])
    except ValueError as exc:
        raise ExamplesError(f"{source}: examples header does not parse: {exc}") from exc
    if not isinstance(header, dict):
        raise ExamplesError(f"{source}: examples header is not a mapping")
    meta = header.get("__metadata__") or {}
    if meta.get("format") != EXAMPLES_FORMAT:
        raise ExamplesError(f"{source}: not an ASLO examples file (format {meta.get('format')!r}, "
                            f"expected {EXAMPLES_FORMAT!r})")
    end = 0
    for name, dtype in _TENSORS.items():
        info = header.get(name)
        if not isinstance(info, dict) or info.get("dtype") != dtype:
            raise ExamplesError(f"{source}: examples file lacks a {dtype} tensor {name!r}")
        try:
            end = max(end, int(info["data_offsets"][1]))
            shape = [int(v) for v in info["shape"]]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ExamplesError(f"{source}: damaged header entry for {name!r}: {exc}") from exc
        info["shape"] = shape
    if 8 + size + end != len(blob):
        raise ExamplesError(f"{source}: truncated or damaged examples file "
                            f"({len(blob)} bytes, the header describes {8 + size + end})")
    shape_i, shape_d = header["indices"]["shape"], header["delta"]["shape"]
    if len(shape_i) != 1 or len(shape_d) != 3 or shape_d[0] != shape_i[0]:
        raise ExamplesError(f"{source}: inconsistent shapes indices {shape_i} and delta {shape_d}")
    return header


def check_examples_blob(blob: bytes, rows: int | None = None, source: str = "examples") -> None:
    """Raise ExamplesError unless ``blob`` is a whole examples file (of ``rows`` series, if given)."""
    header = _header(blob, source)
    n = header["indices"]["shape"][0]
    if rows is not None and n != rows:
        raise ExamplesError(f"{source}: holds {n} series, the records have {rows}")


def decode_examples(blob: bytes, source: str = "examples") -> AdversarialExamples:
    """Read the bytes written by :func:`encode_examples` (ExamplesError when damaged)."""
    from safetensors.numpy import load

    header = _header(blob, source)
    try:
        tensors = load(bytes(blob))
    except Exception as exc:  # safetensors raises its own error type
        raise ExamplesError(f"{source}: examples file does not load: {exc}") from exc
    delta = torch.from_numpy(tensors["delta"].copy())
    if not torch.isfinite(delta).all():
        raise ExamplesError(f"{source}: delta contains NaN or inf")
    return AdversarialExamples(indices=tensors["indices"].astype(np.int64), delta=delta,
                               metadata=dict(header.get("__metadata__") or {}))


def save_examples(path: str | os.PathLike, indices, delta, metadata: Mapping[str, Any] | None = None) -> Path:
    """Write an examples file atomically (temporary sibling, fsync, rename); return its path."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give a file name such as adv.safetensors")
    blob = encode_examples(indices, delta, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _select(x_test, indices) -> torch.Tensor:
    """``x_test[indices]`` as a float32 CPU tensor, as the attack layer sees it (ExamplesError
    for an index out of range)."""
    x = x_test.detach().cpu() if isinstance(x_test, torch.Tensor) else torch.as_tensor(np.asarray(x_test))
    x = x.to(torch.float32)
    if x.ndim != 3:
        raise ExamplesError(f"x_test must have shape (N, C, L), got {tuple(x.shape)}")
    idx = _as_indices(indices)
    if idx.size and idx.max() >= x.shape[0]:
        raise ExamplesError(f"index {int(idx.max())} is outside the test split of {x.shape[0]} series")
    return x.index_select(0, torch.as_tensor(idx))


def rebuild_x_adv(indices, delta: torch.Tensor, x_test) -> torch.Tensor:
    """``x_test[indices] + delta`` in float32 on CPU (the attack layer's own sum)."""
    chosen = _select(x_test, indices)
    if chosen.shape != delta.shape:
        raise ExamplesError(f"delta has shape {tuple(delta.shape)}, the series have {tuple(chosen.shape)}")
    return chosen + delta.to(chosen.dtype)


def load_examples(path: str | os.PathLike, dataset=None) -> AdversarialExamples:
    """Read an examples file and rebuild ``x_adv`` from the dataset it names.

    ``dataset`` (an object with ``x_test``) skips loading; otherwise the UCR dataset named in the
    file's metadata is loaded with the same ``normalize`` setting. Raises ExamplesError for a
    missing, truncated or foreign file.
    """
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise ExamplesError(f"{path}: cannot read examples file: {exc}") from exc
    examples = decode_examples(blob, source=str(path))
    if dataset is None:
        from aslo.data import load_ucr

        name = examples.metadata.get("dataset")
        if not name:
            raise ExamplesError(f"{path}: metadata names no dataset; pass dataset=")
        dataset = load_ucr(name, normalize=examples.metadata.get("normalize", "True") == "True")
    return examples.rebuild(dataset.x_test)


def cell_examples(cell, indices, delta, normalize: bool) -> bytes:
    """The examples bytes of one grid cell (the runner's hook into this module)."""
    return encode_examples(indices, delta, {
        "dataset": cell.dataset, "split": "test", "normalize": bool(normalize), "model": cell.model,
        "attack": cell.attack, "seed": cell.seed, "profile": cell.profile})
