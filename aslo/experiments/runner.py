"""Run a profile's grid of cells into the result store (serial; Dask in ``distributed.py``)."""

from __future__ import annotations

import functools
import logging
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from aslo.experiments.backend import Backend, canonical_hash, json_safe
from aslo.experiments.examples import cell_examples
from aslo.experiments.grid import Cell, grid_cells, select_samples
from aslo.experiments.locks import FileLock
from aslo.experiments.profiles import Profile, as_profile
from aslo.training.device import check_device_name
from aslo.experiments.store import ResultStore
from aslo.writable import require_writable_dir

log = logging.getLogger("aslo.experiments")

# Bump when the meaning of a stored cell changes in this module (e.g. how samples are chosen).
RUNNER_VERSION = 1


def default_results_dir() -> Path:
    """``$ASLO_RESULTS_DIR`` or ``results``."""
    return Path(os.environ.get("ASLO_RESULTS_DIR") or "results")


def default_runs_dir() -> Path:
    """``$ASLO_RUNS_DIR`` or ``runs`` (trained model checkpoints)."""
    return Path(os.environ.get("ASLO_RUNS_DIR") or "runs")


def store_for(profile: Profile, results_dir: str | os.PathLike | None = None) -> ResultStore:
    """The result store of a profile: ``<results_dir>/<profile name>``."""
    return ResultStore(Path(results_dir or default_results_dir()) / profile.name)


class ConfigHasher:
    """Computes each cell's full configuration and its hash (caching per attack and model)."""

    def __init__(self, profile: Profile, backend: Backend):
        self.profile, self.backend = profile, backend
        self._attack: dict[str, dict] = {}
        self._train: dict[str, dict] = {}
        self._code: dict | None = None

    def config(self, cell: Cell) -> dict[str, Any]:
        """Everything that determines a cell's numbers (device and timing excepted)."""
        p = self.profile
        if cell.attack not in self._attack:
            self._attack[cell.attack] = self.backend.attack_config(cell.attack, p.attack_kwargs(cell.attack))
        if cell.model not in self._train:
            self._train[cell.model] = self.backend.train_config(
                cell.model, p.training_kwargs(cell.model), p.training_recipe)
        if self._code is None:
            self._code = {**self.backend.code_version(), "runner": RUNNER_VERSION}
        return {
            "cell": {"dataset": cell.dataset, "model": cell.model, "attack": cell.attack, "seed": cell.seed},
            "attack": self._attack[cell.attack],
            "training": self._train[cell.model],
            "train_seed": p.train_seed,
            "samples": p.samples,
            "sample_seed": p.sample_seed,
            "distance": p.distance,
            "normalize": p.normalize,
            "batch_size": p.batch_size,  # batch-coupled losses (GM_PGD_L2) depend on it
            "code": self._code,
        }

    def hash(self, cell: Cell) -> str:
        """Short stable hash of :meth:`config`."""
        return canonical_hash(self.config(cell))


@functools.lru_cache(maxsize=1)
def _versions() -> tuple:
    import importlib.metadata as md

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in ("aslo", "torch", "numpy", "pandas", "aeon"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "absent"
    return tuple(out.items())


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that produce the numbers."""
    return dict(_versions())


def _accuracy(record: Mapping[str, Any], split: str) -> float | None:
    for key in (f"{split}_accuracy", f"{split}_acc", f"{split}Accuracy"):
        if key in record and record[key] is not None:
            return float(record[key])
    for nested in ("metrics", "accuracy"):
        sub = record.get(nested)
        if isinstance(sub, Mapping) and sub.get(split) is not None:
            return float(sub[split])
    return None


def _take(array, idx: np.ndarray):
    if hasattr(array, "index_select"):  # torch tensor
        import torch

        return array.index_select(0, torch.as_tensor(idx, device=array.device))
    return np.asarray(array)[idx]


@dataclass
class CellExecutor:
    """Computes cells into a store; keeps the last dataset and trained model in memory."""

    profile: Profile
    store: ResultStore
    runs_dir: Path
    backend: Backend = field(default_factory=Backend)
    layer_progress: bool = False
    _dataset: tuple[str, Any] | None = None
    _model: tuple[tuple, Any, dict] | None = None

    def dataset(self, name: str):
        """Load (once) the dataset of the current cells."""
        if self._dataset is None or self._dataset[0] != name:
            self._dataset = None
            self._model = None
            self._dataset = (name, self.backend.load_dataset(name, self.profile.normalize))
        return self._dataset[1]

    def model(self, cell: Cell):
        """Obtain (once per dataset and model) the trained model, under a training lock."""
        key = (cell.dataset, cell.model)
        if self._model is None or self._model[0] != key:
            self._model = None
            data = self.dataset(cell.dataset)
            lock = FileLock(self.runs_dir / ".locks" / f"{cell.dataset}__{cell.model}__seed{self.profile.train_seed}.lock")
            with lock:  # another runner or worker may be training the same model
                net, record = self.backend.trained_model(
                    data, cell.model, self.profile.training_kwargs(cell.model),
                    seed=self.profile.train_seed, runs_dir=str(self.runs_dir),
                    device=self.profile.device, progress=self.layer_progress,
                    recipe=self.profile.training_recipe)
            self._model = (key, net, record)
        return self._model[1], self._model[2]

    def execute(self, cell: Cell, config: dict[str, Any], config_hash: str) -> str:
        """Run one cell unless done: returns "done" (already there), "ran" or "busy" (locked)."""
        if self.store.has(cell, config_hash):
            return "done"
        lock = self.store.lock(cell)
        if not lock.try_acquire():
            return "busy"
        try:
            state = self.store.status(cell, config_hash)
            if state == "done":  # finished by another runner meanwhile
                return "done"
            if state in ("stale", "corrupt"):
                log.warning("%s: stored record is %s; recomputing", cell.label(), state)
            self._compute(cell, config, config_hash)
            return "ran"
        finally:
            lock.release()

    def _compute(self, cell: Cell, config: dict[str, Any], config_hash: str) -> None:
        p = self.profile
        data = self.dataset(cell.dataset)
        net, model_record = self.model(cell)
        idx = select_samples(int(len(data.y_test)), p.samples, p.sample_seed)
        x, y = _take(data.x_test, idx), _take(data.y_test, idx)
        started = time.time()
        t0 = time.perf_counter()
        summary, records, *delta = self.backend.run_attack(  # delta: absent from stand-in backends
            net, x, y, cell.attack, p.attack_kwargs(cell.attack), seed=cell.seed,
            device=p.device, distance=p.distance, batch_size=p.batch_size or None,
            progress=self.layer_progress)
        wall = time.perf_counter() - t0
        records = pd.DataFrame(records).reset_index(drop=True)
        if len(records) != len(idx):
            raise RuntimeError(f"{cell.label()}: attack returned {len(records)} records for {len(idx)} series")
        records.insert(0, "test_index", idx)  # position in the test set
        meta = {
            "cell": {"profile": cell.profile, "dataset": cell.dataset, "model": cell.model,
                     "attack": cell.attack, "seed": cell.seed},
            "config": config,
            "config_hash": config_hash,
            "profile_source": p.source,
            "device": str(p.device),
            "started": started,
            "wall_seconds": wall,
            "versions": package_versions(),
            "model": {"train_accuracy": _accuracy(model_record, "train"),
                      "test_accuracy": _accuracy(model_record, "test"), "record": model_record},
        }
        examples = cell_examples(cell, idx, delta[0], p.normalize) if delta else None
        self.store.write(cell, json_safe(summary), records, json_safe(meta), examples)


def _progress_bar(total: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="cell", disable=not enabled, dynamic_ncols=True)


def run_grid(
    profile: "Profile | str",
    *,
    part: int | None = None,
    datasets: Iterable[str] | None = None,
    models: Iterable[str] | None = None,
    results_dir: str | os.PathLike | None = None,
    runs_dir: str | os.PathLike | None = None,
    progress: bool = True,
    workers: int | None = None,
    scheduler: str | None = None,
    device: str | None = None,
    backend: Backend | None = None,
    wait_poll: float = 1.0,
) -> pd.DataFrame:
    """Compute every unfinished cell of a profile's grid; return the table of cell summaries.

    Finished cells (intact record, same config hash) are skipped, so an interrupted run
    resumes where it stopped. ``workers``/``scheduler`` run cells as Dask tasks (phase 2);
    the default is serial and imports no Dask. ``backend`` substitutes the layers (tests).
    """
    prof = as_profile(profile)
    if device is not None:
        prof = prof.replace(device=check_device_name(device))
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    backend = backend or Backend()
    cells = grid_cells(prof, part=part, datasets=datasets, models=models)
    store = store_for(prof, results_dir)
    runs = Path(runs_dir or default_runs_dir())
    require_writable_dir(store.root, "results folder")  # fail before training, not at the first write
    require_writable_dir(runs, "runs folder")
    hasher = ConfigHasher(prof, backend)
    configs = {c: hasher.config(c) for c in cells}
    hashes = {c: canonical_hash(cfg) for c, cfg in configs.items()}
    pending = [c for c in cells if not store.has(c, hashes[c])]
    skipped = len(cells) - len(pending)
    message = f"aslo run {prof.name}: {len(cells)} cells, {skipped} already finished (skipped), {len(pending)} to run"
    log.info(message)
    if progress:
        print(message, file=sys.stderr, flush=True)

    if pending and (workers or scheduler):
        from aslo.experiments.distributed import run_cells_dask

        run_cells_dask(prof, pending, configs, hashes, store, runs, backend,
                       workers=workers, scheduler=scheduler, progress=progress)
    elif pending:
        _run_serial(prof, pending, configs, hashes, store, runs, backend, progress, wait_poll)
    return store.summaries(cells, hashes)


def _run_serial(prof, pending, configs, hashes, store, runs, backend, progress, wait_poll) -> None:
    executor = CellExecutor(prof, store, runs, backend)
    busy: list[Cell] = []
    with _progress_bar(len(pending), progress, f"{prof.name} cells") as bar:
        for cell in pending:
            bar.set_postfix_str(cell.label(), refresh=True)
            if executor.execute(cell, configs[cell], hashes[cell]) == "busy":
                busy.append(cell)
                continue
            bar.update(1)
        # Cells another runner is computing: wait for them (or take over if it died).
        while busy:
            still = []
            for cell in busy:
                if executor.execute(cell, configs[cell], hashes[cell]) == "busy":
                    still.append(cell)
                else:
                    bar.update(1)
            busy = still
            if busy:
                bar.set_postfix_str(f"waiting for {len(busy)} cells held by another runner")
                time.sleep(wait_poll)


def load_results(profile: "Profile | str", results_dir: str | os.PathLike | None = None,
                 part: int | None = None, *, backend: Backend | None = None) -> pd.DataFrame:
    """Summaries of the finished cells of a profile's grid whose config matches the profile."""
    prof = as_profile(profile)
    cells = grid_cells(prof, part=part)
    hasher = ConfigHasher(prof, backend or Backend())
    return store_for(prof, results_dir).summaries(cells, {c: hasher.hash(c) for c in cells})
