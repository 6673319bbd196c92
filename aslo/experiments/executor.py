"""Computing cells: the trained models a profile needs, and one cell's attack into the store.

Used by the serial runner, by every Dask worker (``distributed.py``) and by the report's model
pages, so all of them train, reuse checkpoints and take locks the same way.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aslo.experiments.backend import Backend, json_safe
from aslo.experiments.examples import cell_examples
from aslo.experiments.grid import Cell, correct_subset, select_samples
from aslo.experiments.locks import FileLock
from aslo.experiments.profiles import Profile
from aslo.experiments.store import ResultStore

log = logging.getLogger("aslo.experiments")


def progress_bar(total: int, enabled: bool, desc: str):
    """The terminal progress bar of a grid run, counting cells."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="cell", disable=not enabled, dynamic_ncols=True)


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


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """Run the body with ``threads`` torch threads (None: leave as is), then restore the count."""
    import torch

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def torch_thread_count() -> int:
    """The number of threads torch's CPU kernels use now (CPU results depend on it)."""
    import torch

    return torch.get_num_threads()


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that produce the numbers."""
    return dict(_versions())


def take(array, idx: np.ndarray):
    """Rows ``idx`` of a numpy array or a torch tensor."""
    if hasattr(array, "index_select"):  # torch tensor
        import torch

        return array.index_select(0, torch.as_tensor(idx, device=array.device))
    return np.asarray(array)[idx]


def accuracy(record: dict[str, Any], split: str) -> float | None:
    """A training record's ``<split>_accuracy`` as float (None where it was not computed)."""
    value = record.get(f"{split}_accuracy")
    return None if value is None else float(value)


@dataclass(frozen=True, eq=False)
class CellTask:
    """One cell as its plan resolved it. The executor runs exactly these settings: the ones the
    cell's configuration, and so its identity (``config_hash``), were computed from."""

    cell: Cell
    config: dict[str, Any]
    config_hash: str
    attack: str  # the registered attack (a profile's variant resolves to one, with overrides)
    overrides: dict[str, Any]
    training_kwargs: dict[str, Any]


class TrainedModels:
    """The datasets and trained models of a profile, loaded once (the last one kept in memory).

    A model is trained, or its matching checkpoint loaded, under a lock in the runs folder, so
    two runners or workers never train the same model at once. ``shipped_only``: ``runs_dir`` is
    a read-only folder of shipped weights; models come only from there (FileNotFoundError when
    one is missing), nothing is trained or locked.
    """

    def __init__(self, profile: Profile, runs_dir: str | Path, backend: Backend | None = None,
                 progress: bool = False, shipped_only: bool = False):
        self.profile, self.runs_dir, self.backend = profile, Path(runs_dir), backend or Backend()
        self.progress, self.shipped_only = progress, shipped_only
        if shipped_only and (profile.training_recipe != "default" or profile.training
                             or profile.training_overrides):
            raise ValueError(f"profile {profile.name}: shipped weights are of the default training recipe without "
                             "overrides; this profile trains otherwise")
        self._dataset: tuple[str, Any] | None = None
        self._model: tuple[tuple[str, str], Any, dict] | None = None

    def dataset(self, name: str):
        """The dataset ``name``, normalised as the profile says."""
        if self._dataset is None or self._dataset[0] != name:
            self._dataset = self._model = None
            self._dataset = (name, self.backend.load_dataset(name, self.profile.normalize))
        return self._dataset[1]

    def model(self, dataset: str, model: str, training_kwargs: dict[str, Any] | None = None):
        """(model in eval mode, JSON-safe training record) for one dataset and model, trained with
        ``training_kwargs`` (None: the profile's for that model)."""
        key = (dataset, model)
        if self._model is None or self._model[0] != key:
            self._model = None
            p = self.profile
            data = self.dataset(dataset)
            if self.shipped_only:
                net, record = self.backend.shipped_model(data, model, seed=p.train_seed, models_dir=str(self.runs_dir),
                                                         device=p.device)
                self._model = (key, net, record)
                return net, record
            kwargs = p.training_kwargs(model) if training_kwargs is None else training_kwargs
            with FileLock(self.runs_dir / ".locks" / f"{dataset}__{model}__seed{p.train_seed}.lock"):
                net, record = self.backend.trained_model(
                    data, model, kwargs, seed=p.train_seed, runs_dir=str(self.runs_dir),
                    device=p.device, progress=self.progress, recipe=p.training_recipe)
            self._model = (key, net, record)
        return self._model[1], self._model[2]


class CellExecutor:
    """Computes cells into a store: claims a cell's lock, re-checks the store, runs, writes."""

    def __init__(self, profile: Profile, store: ResultStore, runs_dir: str | Path,
                 backend: Backend | None = None, progress: bool = False, shipped_only: bool = False):
        self.profile, self.store = profile, store
        self.models = TrainedModels(profile, runs_dir, backend, progress, shipped_only)
        self.backend, self.progress = self.models.backend, progress

    def execute(self, task: CellTask) -> str:
        """Run one cell unless done: returns "done" (already there), "ran" or "busy" (locked)."""
        cell = task.cell
        lock = self.store.lock(cell)
        if not lock.try_acquire():
            return "busy"
        try:
            state = self.store.check(cell, task.config_hash, task.config)
            if state.state == "done":  # finished already, or by another runner meanwhile
                return "done"
            if state.state != "missing":
                log.warning("%s: stored record is %s; recomputing (%s)", cell.label(), state.state, state.reason)
            self.compute(task)
            return "ran"
        finally:
            lock.release()

    def compute(self, task: CellTask) -> None:
        """Attack the cell's seeded test subset and store the summary, records and meta."""
        self.store.write(task.cell, *self.attack(task))

    def attack(self, task: CellTask) -> tuple[dict, pd.DataFrame, dict, bytes | None]:
        """Attack the cell's seeded test subset; return (summary, records, meta, examples) unwritten."""
        p, cell = self.profile, task.cell
        data = self.models.dataset(cell.dataset)
        net, model_record = self.models.model(cell.dataset, cell.model, task.training_kwargs)
        if p.series == "correct":  # the L0 literature's protocol: only series the model gets right
            predictions = self.backend.predict(net, data.x_test, p.device)
            idx = correct_subset(predictions, np.asarray(data.y_test), p.samples, p.sample_seed)
        else:
            idx = select_samples(int(len(data.y_test)), p.samples, p.sample_seed)
        x, y = take(data.x_test, idx), take(data.y_test, idx)
        # observed lengths of variable-length series; a stand-in dataset without them gets none
        lengths = getattr(data, "lengths_test", None)
        observed = {} if lengths is None else {"lengths": take(lengths, idx)}
        started = time.time()
        t0 = time.perf_counter()
        summary, records, *delta = self.backend.run_attack(  # delta: absent from stand-in backends
            net, x, y, task.attack, task.overrides, seed=cell.seed,
            device=p.device, distance=p.distance, batch_size=p.batch_size or None,
            progress=self.progress, **observed)
        wall = time.perf_counter() - t0
        records = pd.DataFrame(records).reset_index(drop=True)
        if len(records) != len(idx):
            raise RuntimeError(f"{cell.label()}: attack returned {len(records)} records for {len(idx)} series")
        records.insert(0, "test_index", idx)  # position in the test set
        meta = {
            "cell": {"profile": cell.profile, "dataset": cell.dataset, "model": cell.model,
                     "attack": cell.attack, "seed": cell.seed},
            "config": task.config,
            "config_hash": task.config_hash,
            "profile_source": p.source,
            "device": str(p.device),
            "started": started,
            "wall_seconds": wall,
            "torch_threads": torch_thread_count(),
            "versions": package_versions(),
            "model": {"train_accuracy": accuracy(model_record, "train"),
                      "test_accuracy": accuracy(model_record, "test"), "record": model_record,
                      # which weights: shipped weights with this hash let another machine recompute the cell
                      "weights_sha256": self.backend.weights_fingerprint(net)},
        }
        # the profile may keep only the compact record (archive evidence: no tensors)
        examples = cell_examples(cell, idx, delta[0], p.normalize) if delta and p.store_examples else None
        return json_safe(summary), records, json_safe(meta), examples
