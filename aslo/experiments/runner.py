"""A profile's grid as one pipeline: plan the cells, skip what is stored, compute the rest
(serially here, or on Dask in ``distributed.py``), store, summarise."""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from aslo.experiments.backend import Backend, canonical_hash
from aslo.environment import REPOSITORY_ROOT, git_commit, invocation_record
from aslo.experiments.executor import CellExecutor, CellTask, progress_bar, torch_threads
from aslo.experiments.grid import Cell, grid_cells
from aslo.experiments.profiles import Profile, as_profile
from aslo.experiments.store import CellState, ResultStore
from aslo.training.device import check_device_name
from aslo.writable import require_writable_dir

log = logging.getLogger("aslo.experiments")

# Bump when the meaning of a stored cell changes in the experiment layer (e.g. how samples are chosen).
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
        self._spec: dict[str, tuple[str, dict]] = {}  # the profile's settings, per attack and model
        self._training_kwargs: dict[str, dict] = {}
        self._attack: dict[str, tuple[dict, dict]] = {}  # what the backend makes of them
        self._train: dict[str, dict] = {}
        self._code: dict | None = None

    def config(self, cell: Cell) -> dict[str, Any]:
        """Everything that determines a cell's numbers (device and timing excepted)."""
        p = self.profile
        # the profile's settings first, then what the backend makes of them
        if cell.attack not in self._spec:  # a registered attack, or a variant of one
            self._spec[cell.attack] = p.attack_spec(cell.attack)
        if cell.model not in self._training_kwargs:
            self._training_kwargs[cell.model] = p.training_kwargs(cell.model)
        if cell.attack not in self._attack:
            attack, overrides = self._spec[cell.attack]
            self._attack[cell.attack] = (self.backend.attack_config(attack, overrides), self.backend.attack_code(attack))
        if cell.model not in self._train:
            self._train[cell.model] = self.backend.train_config(cell.model, self._training_kwargs[cell.model],
                                                                p.training_recipe)
        if self._code is None:
            self._code = {**self.backend.code_version(), "runner": RUNNER_VERSION}
        config = {
            "cell": {"dataset": cell.dataset, "model": cell.model, "attack": cell.attack, "seed": cell.seed},
            "attack": self._attack[cell.attack][0],
            "training": self._train[cell.model],
            "train_seed": p.train_seed,
            "samples": p.samples,
            "sample_seed": p.sample_seed,
            "distance": p.distance,
            "normalize": p.normalize,
            "batch_size": p.batch_size,  # batch-coupled losses (regulariser l2_batch) depend on it
            "code": {**self._code, **self._attack[cell.attack][1], **self.backend.series_code(p.series)},
        }
        if p.series != "all":  # only then: the cells of earlier profiles keep their identity
            config["series"] = p.series
        return config

    def hash(self, cell: Cell) -> str:
        """Short stable hash of :meth:`config`."""
        return canonical_hash(self.config(cell))

    def task(self, cell: Cell) -> CellTask:
        """The cell with its configuration, hash and the resolved settings the executor runs."""
        config = self.config(cell)
        attack, overrides = self._spec[cell.attack]
        return CellTask(cell, config, canonical_hash(config), attack, overrides, self._training_kwargs[cell.model])


@dataclass
class GridPlan:
    """The cells of a run, their configurations and hashes, and the state of each in the store."""

    profile: Profile
    store: ResultStore
    cells: list[Cell]
    tasks: dict[Cell, CellTask]  # what the executor runs: each cell's settings, config and hash
    states: dict[Cell, CellState]

    @functools.cached_property
    def configs(self) -> dict[Cell, dict[str, Any]]:
        """Each cell's configuration (from its task)."""
        return {c: t.config for c, t in self.tasks.items()}

    @functools.cached_property
    def hashes(self) -> dict[Cell, str]:
        """Each cell's configuration hash (from its task)."""
        return {c: t.config_hash for c, t in self.tasks.items()}

    @property
    def pending(self) -> list[Cell]:
        """The cells to compute (not stored with the current configuration)."""
        return [c for c in self.cells if self.states[c].state != "done"]

    def table(self) -> pd.DataFrame:
        """One row per cell: dataset, model, attack, seed, state and the reason for it."""
        return pd.DataFrame([dict(dataset=c.dataset, model=c.model, attack=c.attack, seed=c.seed,
                                  state=self.states[c].state, reason=self.states[c].reason)
                             for c in self.cells])

    def summaries(self) -> pd.DataFrame:
        """The stored summaries of the planned cells that match their current configuration."""
        return self.store.summaries(self.cells, self.hashes)


def plan_grid(profile: "Profile | str", *, part: int | None = None, datasets: Iterable[str] | None = None,
              models: Iterable[str] | None = None, results_dir: str | os.PathLike | None = None,
              backend: Backend | None = None) -> GridPlan:
    """Plan a run: every cell of the selection, its config hash, and why it is (not) reusable."""
    prof = as_profile(profile)
    cells = grid_cells(prof, part=part, datasets=datasets, models=models)
    return plan_cells(prof, cells, store_for(prof, results_dir), backend=backend)


def plan_cells(profile: Profile, cells: Iterable[Cell], store: ResultStore, *,
               backend: Backend | None = None) -> GridPlan:
    """Plan chosen cells of a profile (run in the given order) into ``store``: their configs, hashes
    and states. A cell's attack is a registered attack or one of the profile's variants."""
    cells = list(dict.fromkeys(cells))
    for cell in cells:
        if cell.profile != profile.name:
            raise ValueError(f"cell {cell.label()} belongs to profile {cell.profile!r}, not {profile.name!r}")
    hasher = ConfigHasher(profile, backend or Backend())
    tasks = {c: hasher.task(c) for c in cells}
    states = {c: store.check(c, t.config_hash, t.config) for c, t in tasks.items()}
    return GridPlan(profile, store, cells, tasks, states)


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
    threads: int | None = None,
    command: str | None = None,
) -> pd.DataFrame:
    """Compute every unfinished cell of a profile's grid; return the table of cell summaries.

    Finished cells (intact record, same config hash) are skipped, so an interrupted run
    resumes where it stopped; the log says why any other stored cell is recomputed.
    ``workers``/``scheduler`` run cells as Dask tasks; the default is serial and imports no
    Dask. ``backend`` substitutes the layers (tests). ``threads``: torch threads for a serial
    run (None: torch's default; CPU numbers depend on it, each cell's meta records it). An
    invocation that computes cells appends its provenance (``command``, default this process's
    argv; commit, machine, wall time, cells run) to the store's ``provenance.json``.
    """
    prof = as_profile(profile)
    if device is not None:
        prof = prof.replace(device=check_device_name(device))
    backend = backend or Backend()
    plan = plan_grid(prof, part=part, datasets=datasets, models=models, results_dir=results_dir, backend=backend)
    run_plan(plan, runs_dir=runs_dir, progress=progress, workers=workers, scheduler=scheduler, backend=backend,
             wait_poll=wait_poll, threads=threads, command=command)
    return plan.summaries()


def run_plan(plan: GridPlan, *, runs_dir: str | os.PathLike | None = None, progress: bool = True,
             workers: int | None = None, scheduler: str | None = None, backend: Backend | None = None,
             wait_poll: float = 1.0, threads: int | None = None, command: str | None = None,
             **provenance) -> int:
    """Compute the plan's pending cells in its order (serially, or on Dask with ``workers`` /
    ``scheduler``) and append this invocation's provenance to the store; returns the cells computed.

    The one executor of every computation of cells (the grid of a profile, the fidelity map).
    ``provenance``: extra JSON-safe fields of the invocation's record.
    """
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    backend = backend or Backend()
    prof = plan.profile
    runs = Path(runs_dir or default_runs_dir())
    require_writable_dir(plan.store.root, "results folder")  # fail before training, not at the first write
    require_writable_dir(runs, "runs folder")
    pending = plan.pending
    for cell in pending:
        if plan.states[cell].state != "missing":
            log.info("%s: will recompute: %s", cell.label(), plan.states[cell].reason)
    message = (f"aslo run {prof.name}: {len(plan.cells)} cells, {len(plan.cells) - len(pending)} already "
               f"finished (skipped), {len(pending)} to run")
    log.info(message)
    if progress:
        print(message, file=sys.stderr, flush=True)
    if not pending:
        return 0
    started, t0, commit = time.time(), time.perf_counter(), git_commit(REPOSITORY_ROOT)  # the code this run imported
    outcomes: dict[str, int] = {}  # filled as cells finish, so an interrupted run still knows its count
    try:
        if workers or scheduler:
            from aslo.experiments.distributed import run_cells_dask

            run_cells_dask(plan, pending, runs, backend, workers=workers, scheduler=scheduler, progress=progress,
                           outcomes=outcomes)
        else:
            with torch_threads(threads):
                run_cells_serially(plan, pending, CellExecutor(prof, plan.store, runs, backend, progress=progress),
                                   progress, wait_poll, outcomes)
    finally:  # an interrupted run still records what it computed
        ran = outcomes.get("ran", 0)  # by this invocation: cells other runners finished meanwhile are theirs
        plan.store.append_provenance(invocation_record(
            command, started, time.perf_counter() - t0, commit=commit, device=prof.device, cells_ran=ran,
            cells_already_stored=len(plan.cells) - len(pending), cells_planned=len(plan.cells),
            workers=workers, threads=threads, **provenance))
    return ran


def run_cells_serially(plan: GridPlan, pending: list[Cell], executor: CellExecutor, progress: bool,
                       wait_poll: float, outcomes: dict[str, int] | None = None) -> dict[str, int]:
    """Compute ``pending`` one after the other; then wait for cells another runner holds. Counts
    the outcomes ("ran": computed here, "done": finished by another runner) into ``outcomes``
    as cells finish, and returns it."""
    outcomes = {} if outcomes is None else outcomes

    def finished(state: str) -> bool:
        if state == "busy":
            return False
        outcomes[state] = outcomes.get(state, 0) + 1
        bar.update(1)
        return True

    busy: list[Cell] = []
    with progress_bar(len(pending), progress, f"{plan.profile.name} cells") as bar:
        for cell in pending:
            bar.set_postfix_str(cell.label(), refresh=True)
            if not finished(executor.execute(plan.tasks[cell])):
                busy.append(cell)
        # Cells another runner is computing: wait for them (or take over if it died).
        while busy:
            busy = [cell for cell in busy
                    if not finished(executor.execute(plan.tasks[cell]))]
            if busy:
                bar.set_postfix_str(f"waiting for {len(busy)} cells held by another runner")
                time.sleep(wait_poll)
    return outcomes


def load_results(profile: "Profile | str", results_dir: str | os.PathLike | None = None,
                 part: int | None = None, *, backend: Backend | None = None) -> pd.DataFrame:
    """Summaries of the finished cells of a profile's grid whose config matches the profile."""
    prof = as_profile(profile)
    cells = grid_cells(prof, part=part)
    hasher = ConfigHasher(prof, backend or Backend())
    return store_for(prof, results_dir).summaries(cells, {c: hasher.hash(c) for c in cells})


def load_cell_examples(profile, dataset: str, model: str, attack: str, seed: int = 0, *,
                       results_dir=None, runs_dir=None, compute: bool = False,
                       backend=None):
    """The stored examples of one cell of a profile, with ``x``, ``x_adv`` and ``records``.

    The cell must be finished with the profile's current configuration (KeyError otherwise),
    unless ``compute`` is true: then a missing, stale or corrupt cell is computed first, exactly
    as the grid runner would (models from ``runs_dir``). A damaged record raises
    :class:`~aslo.experiments.store.CorruptRecordError`.
    """
    import dataclasses

    from aslo.experiments.examples import EXAMPLES_FILE, decode_examples

    prof = as_profile(profile)
    backend = backend or Backend()
    cell = Cell(prof.name, dataset, model, attack, int(seed))
    store = store_for(prof, results_dir)
    task = ConfigHasher(prof, backend).task(cell)
    if compute and not store.has(cell, task.config_hash):
        CellExecutor(prof, store, Path(runs_dir or default_runs_dir()), backend).execute(task)
    record = store.read(cell, task.config_hash)
    blob = store.read_examples(cell, task.config_hash)
    examples = decode_examples(blob, source=str(store.path(cell) / EXAMPLES_FILE))
    data = backend.load_dataset(dataset, prof.normalize)
    return dataclasses.replace(examples.rebuild(data.x_test), records=record.records)
