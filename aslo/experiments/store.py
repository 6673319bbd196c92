"""A resumable per-cell result store with atomic writes and a completion marker.

Layout, under ``<results_dir>/<profile>/``::

    <dataset>/<model>/<attack>/seed<k>/
        summary.json   the cell's summary (ASR, distances, duration, ...)
        records.csv    one row per attacked test series
        meta.json      cell, config and its hash, timing, versions, model record, sample indices
        examples.safetensors  the perturbation of each attacked series (``aslo.experiments.examples``)
        COMPLETE       written last: sha256 of each file and the row count

A record is written into a temporary sibling folder (each file fsynced) and moved into place
with one ``os.rename``, so a reader sees either nothing or a whole record. A record whose
marker is missing, whose checksums or row count disagree, or whose JSON does not parse is
*corrupt* and is redone; a record whose config hash differs from the current one is *stale*
and is recomputed. Neither is deleted: it is renamed aside (``seed0.stale-...``) and logged.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from aslo.experiments.examples import EXAMPLES_FILE, ExamplesError, check_examples_blob
from aslo.experiments.grid import Cell
from aslo.experiments.locks import HOST, FileLock, pid_alive

log = logging.getLogger("aslo.experiments")

MARKER = "COMPLETE"
PROVENANCE_FILE = "provenance.json"
FILES = ("summary.json", "records.csv", "meta.json")
_SEED_DIR = re.compile(r"seed(\d+)")
_TMP_DIR = re.compile(r"\.tmp-(?P<leaf>.+)-(?P<host>[^-]+)-(?P<pid>\d+)-[0-9a-f]{8}")


class CorruptRecordError(ValueError):
    """A cell record exists but is incomplete or damaged."""


@dataclass(frozen=True)
class CellState:
    """Whether a stored cell can be reused: ``state`` is "done", "missing", "corrupt" (damaged or
    half-written) or "stale" (computed with another configuration); ``reason`` says why."""

    state: str
    reason: str


def config_differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The dotted keys where two JSON configurations differ, as ``key: old -> new``."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            out += config_differences(old.get(key, "<absent>"), new.get(key, "<absent>"), name)
        return out
    return [] if old == new else [f"{prefix or 'config'}: {old!r} -> {new!r}"]


def _explain(change: str) -> str:
    """A configuration difference in words where it is a code fingerprint (``code.attacks: ...``)."""
    key = change.split(":", 1)[0]
    if key.startswith("code."):
        return f"the {key[5:]} code changed since ({change})"
    return change


@dataclass(frozen=True)
class CellRecord:
    """A finished cell as read back from the store."""

    cell: Cell
    summary: dict[str, Any]
    records: pd.DataFrame
    meta: dict[str, Any]

    @property
    def config_hash(self) -> str:
        """Hash of the configuration that produced this record."""
        return self.meta["config_hash"]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class ResultStore:
    """Per-cell records of one profile under ``root`` (usually ``results/<profile>``)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    # ---------------------------------------------------------------- paths and status
    def path(self, cell: Cell) -> Path:
        """Folder of a cell's record: ``<root>/<dataset>/<model>/<attack>/seed<seed>`` (the store's
        layout, read back by :meth:`cells`)."""
        return self.root / cell.dataset / cell.model / cell.attack / f"seed{cell.seed}"

    def lock(self, cell: Cell) -> FileLock:
        """The lock that a runner holds while computing ``cell``."""
        return FileLock(self.root / ".locks" / f"{cell.dataset}__{cell.model}__{cell.attack}__seed{cell.seed}.lock")

    def check(self, cell: Cell, config_hash: str | None = None,
              config: dict[str, Any] | None = None) -> CellState:
        """The one place that decides whether a stored cell is still valid, and says why not.

        With ``config`` (the cell's current configuration), a stale record's reason lists the
        settings that changed since it was computed.
        """
        folder = self.path(cell)
        if not folder.exists():
            return CellState("missing", f"no record at {folder}")
        try:
            meta = self._verify(folder)[2]
        except CorruptRecordError as exc:
            return CellState("corrupt", str(exc))
        if config_hash is not None and meta.get("config_hash") != config_hash:
            changed = config_differences(meta.get("config", {}), config) if config is not None else []
            detail = "; ".join(_explain(change) for change in changed) if changed else "configuration hash differs"
            return CellState("stale", f"stored with config {meta.get('config_hash')}, now {config_hash}: {detail}")
        return CellState("done", "intact record" + (" of the current configuration" if config_hash else ""))

    def status(self, cell: Cell, config_hash: str | None = None) -> str:
        """"done", "missing", "corrupt" or "stale" (see :meth:`check`)."""
        return self.check(cell, config_hash).state

    def has(self, cell: Cell, config_hash: str | None = None) -> bool:
        """True if a complete, intact record (with this config hash, if given) exists."""
        return self.status(cell, config_hash) == "done"

    # ---------------------------------------------------------------- reading
    def _verify(self, folder: Path) -> tuple[dict, bytes, dict, dict]:
        """Check marker, checksums, JSON and row count; return (summary, csv, meta, marker)."""
        try:
            marker = json.loads((folder / MARKER).read_text())
        except FileNotFoundError as exc:
            raise CorruptRecordError(f"{folder}: no {MARKER} marker (half-written record)") from exc
        except (OSError, ValueError) as exc:
            raise CorruptRecordError(f"{folder}: unreadable {MARKER} marker: {exc}") from exc
        blobs = {}
        for name in FILES:
            try:
                blobs[name] = (folder / name).read_bytes()
            except OSError as exc:
                raise CorruptRecordError(f"{folder}: missing {name}") from exc
            if _sha256(blobs[name]) != marker.get("sha256", {}).get(name):
                raise CorruptRecordError(f"{folder}: checksum mismatch in {name}")
        try:
            summary = json.loads(blobs["summary.json"])
            meta = json.loads(blobs["meta.json"])
        except ValueError as exc:
            raise CorruptRecordError(f"{folder}: JSON does not parse: {exc}") from exc
        rows = blobs["records.csv"].count(b"\n") - 1
        if rows != marker.get("rows") or rows != meta.get("rows"):
            raise CorruptRecordError(f"{folder}: records.csv has {rows} rows, expected {marker.get('rows')}")
        if "config_hash" not in meta:
            raise CorruptRecordError(f"{folder}: meta.json has no config_hash")
        self._verify_examples(folder, meta, marker, rows)
        return summary, blobs["records.csv"], meta, marker

    @staticmethod
    def _verify_examples(folder: Path, meta: dict, marker: dict, rows: int) -> None:
        """A record that declares examples must hold them whole (checksum and header)."""
        declared = meta.get("examples")
        if declared is None and EXAMPLES_FILE not in marker.get("sha256", {}):
            return  # written without examples (a backend that returns none)
        try:
            blob = (folder / EXAMPLES_FILE).read_bytes()
        except OSError as exc:
            raise CorruptRecordError(f"{folder}: missing {EXAMPLES_FILE}") from exc
        digest = _sha256(blob)
        if digest != marker.get("sha256", {}).get(EXAMPLES_FILE) or digest != (declared or {}).get("sha256"):
            raise CorruptRecordError(f"{folder}: checksum mismatch in {EXAMPLES_FILE}")
        try:
            check_examples_blob(blob, rows, source=str(folder / EXAMPLES_FILE))
        except ExamplesError as exc:
            raise CorruptRecordError(str(exc)) from exc

    def read_examples(self, cell: Cell, config_hash: str | None = None) -> bytes:
        """The verified examples file of a finished cell (KeyError if absent, stale or without examples)."""
        self.read(cell, config_hash)  # verifies the whole record, examples included
        folder = self.path(cell)
        if not (folder / EXAMPLES_FILE).is_file():
            raise KeyError(f"result for {cell.label()} holds no stored examples")
        return (folder / EXAMPLES_FILE).read_bytes()

    def read(self, cell: Cell, config_hash: str | None = None) -> CellRecord:
        """Read a finished cell; raises KeyError if absent/stale, CorruptRecordError if damaged."""
        folder = self.path(cell)
        if not folder.exists():
            raise KeyError(f"no result for {cell.label()} in {self.root}")
        summary, csv, meta, _ = self._verify(folder)
        if config_hash is not None and meta["config_hash"] != config_hash:
            raise KeyError(f"result for {cell.label()} has config {meta['config_hash']}, not {config_hash}")
        records = pd.read_csv(io.BytesIO(csv), float_precision="round_trip")  # exactly what was written
        return CellRecord(cell, summary, records, meta)

    def summaries(self, cells: Iterable[Cell] | None = None,
                  hashes: dict[Cell, str] | None = None) -> pd.DataFrame:
        """One row per finished cell (all cells in the store, or only the given ones)."""
        if cells is None:
            cells = self.cells()
        rows = []
        for cell in cells:
            want = hashes.get(cell) if hashes else None
            if self.status(cell, want) != "done":
                continue
            rec = self.read(cell)
            rows.append(summary_row(rec))
        return pd.DataFrame(rows, columns=None if rows else list(SUMMARY_LEAD_COLUMNS))

    def cells(self) -> list[Cell]:
        """Every cell folder present in the store (finished or not)."""
        found = []
        for marker_dir in sorted(self.root.glob("*/*/*/seed*")):
            match = _SEED_DIR.fullmatch(marker_dir.name)
            if not match or not marker_dir.is_dir():
                continue
            attack_dir = marker_dir.parent
            found.append(Cell(self.root.name, attack_dir.parent.parent.name, attack_dir.parent.name,
                              attack_dir.name, int(match.group(1))))
        return found

    # ---------------------------------------------------------------- provenance
    @property
    def provenance_path(self) -> Path:
        """``provenance.json`` at the store's root: one entry per invocation that computed cells."""
        return self.root / PROVENANCE_FILE

    def provenance(self) -> list[dict]:
        """The recorded invocations, oldest first (empty if none)."""
        try:
            return json.loads(self.provenance_path.read_text())["runs"]
        except FileNotFoundError:
            return []
        except (ValueError, KeyError) as exc:
            raise CorruptRecordError(f"{self.provenance_path}: not a provenance file: {exc}") from exc

    def append_provenance(self, record: dict) -> None:
        """Add one invocation's record (written to a temporary file, then renamed into place)."""
        runs = self.provenance() + [record]
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{PROVENANCE_FILE}.{os.getpid()}-{uuid.uuid4().hex[:8]}"
        _write_synced(tmp, (json.dumps({"runs": runs}, indent=2) + "\n").encode())
        os.replace(tmp, self.provenance_path)

    # ---------------------------------------------------------------- writing
    def write(self, cell: Cell, summary: dict, records: pd.DataFrame, meta: dict,
              examples: bytes | None = None) -> Path:
        """Atomically store a cell's result; an existing stale/corrupt record is moved aside.

        ``examples`` (bytes of :func:`aslo.experiments.examples.encode_examples`, one series per
        record row) is stored beside the records; its checksum enters meta.json and the marker.
        """
        if "config_hash" not in meta:
            raise ValueError("meta must contain the cell's config_hash")
        final = self.path(cell)
        final.parent.mkdir(parents=True, exist_ok=True)
        self._clean_dead_temps(final)
        tmp = final.parent / f".tmp-{final.name}-{HOST.replace('-', '_')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        csv = records.to_csv(index=False, lineterminator="\n").encode()
        meta = {**meta, "rows": len(records)}
        if examples is not None:
            try:
                check_examples_blob(examples, len(records))
            except ExamplesError as exc:
                raise ValueError(f"{cell.label()}: refusing to store bad examples: {exc}") from exc
            meta["examples"] = {"file": EXAMPLES_FILE, "sha256": _sha256(examples), "bytes": len(examples)}
        blobs = {
            "summary.json": json.dumps(summary, indent=2, sort_keys=True).encode(),
            "records.csv": csv,
            "meta.json": json.dumps(meta, indent=2, sort_keys=True).encode(),
        }
        if examples is not None:
            blobs[EXAMPLES_FILE] = examples
        return self._write_blobs(cell, tmp, blobs, len(records), meta["config_hash"])

    def restamp(self, cell: Cell, config: dict, config_hash: str, note: dict) -> Path:
        """Give an intact record a new identity (``config`` and its hash) without touching its
        numbers: summary, records and examples are kept byte for byte, ``note`` is appended to the
        meta's ``restamped`` list, and the record is swapped in atomically (the old one removed).
        Only for a change of identity scheme that changes no numbers (:mod:`aslo.experiments.restamp`)."""
        final = self.path(cell)
        summary, csv, meta, marker = self._verify(final)
        meta = {**meta, "config": config, "config_hash": config_hash,
                "restamped": meta.get("restamped", []) + [{**note, "from_config_hash": meta["config_hash"]}]}
        blobs = {name: (final / name).read_bytes() for name in marker["sha256"] if name != "meta.json"}
        blobs["meta.json"] = json.dumps(meta, indent=2, sort_keys=True).encode()
        tmp = final.parent / f".tmp-{final.name}-{HOST.replace('-', '_')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        self._write_blobs(cell, tmp, blobs, marker["rows"], config_hash, keep_replaced=False)
        return final

    def _write_blobs(self, cell: Cell, tmp: Path, blobs: dict[str, bytes], rows: int, config_hash: str,
                     keep_replaced: bool = True) -> Path:
        """Write a record's files into ``tmp``, the marker last, and rename it into place; an existing
        record is moved aside (and removed once replaced, unless ``keep_replaced``)."""
        final = self.path(cell)
        for name, data in blobs.items():
            _write_synced(tmp / name, data)
        marker = {"sha256": {n: _sha256(d) for n, d in blobs.items()}, "rows": rows,
                  "config_hash": config_hash, "finished": time.time()}
        _write_synced(tmp / MARKER, json.dumps(marker, indent=2).encode())  # last
        _fsync_dir(tmp)
        aside = self._move_aside(cell, final, config_hash, quiet=not keep_replaced) if final.exists() else None
        os.rename(tmp, final)
        _fsync_dir(final.parent)
        if aside is not None and not keep_replaced:
            shutil.rmtree(aside)
        return final

    def _move_aside(self, cell: Cell, final: Path, new_hash: str, quiet: bool = False) -> Path:
        state = self.status(cell, new_hash)
        reason = {"done": "replaced", "missing": "gone"}.get(state, state)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = final.with_name(f"{final.name}.{reason}-{stamp}-{uuid.uuid4().hex[:6]}")
        os.rename(final, aside)
        if not quiet:
            log.warning("%s: %s record moved aside to %s", cell.label(), reason, aside.name)
        return aside

    def _clean_dead_temps(self, final: Path) -> None:
        """Remove temporary folders of this cell left by processes that died mid-write."""
        for tmp in final.parent.glob(f".tmp-{final.name}-*"):
            match = _TMP_DIR.fullmatch(tmp.name)
            if match and match["host"] == HOST.replace("-", "_") and not pid_alive(int(match["pid"])):
                for child in tmp.iterdir():
                    child.unlink()
                tmp.rmdir()


SUMMARY_LEAD_COLUMNS = ("profile", "dataset", "model", "attack", "seed")
# Columns measured in wall-clock time: they differ between otherwise identical runs.
TIMING_COLUMNS = ("duration", "wall_seconds")


def summary_row(rec: CellRecord) -> dict[str, Any]:
    """Flatten a record into one table row: cell keys, summary keys, model accuracy, hash."""
    c = rec.cell
    row: dict[str, Any] = {"profile": c.profile, "dataset": c.dataset, "model": c.model,
                           "attack": c.attack, "seed": c.seed}
    row.update(rec.summary)
    model = rec.meta.get("model", {})
    row["train_accuracy"] = model.get("train_accuracy")
    row["test_accuracy"] = model.get("test_accuracy")
    row["wall_seconds"] = rec.meta.get("wall_seconds")
    row["config_hash"] = rec.meta["config_hash"]
    return row
