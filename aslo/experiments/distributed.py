"""Scale-out: run cells as independent Dask tasks (local cluster or an existing scheduler).

Every task claims its cell with the store's lock file and re-checks the store, so a cell is
never computed twice, even by two runners racing on one store; model training is guarded by
a lock in the runs folder. Imported only when ``workers`` or ``scheduler`` is given.
"""

from __future__ import annotations

import time
from pathlib import Path

from aslo.experiments.backend import Backend
from aslo.experiments.executor import CellExecutor, CellTask, progress_bar
from aslo.experiments.grid import Cell
from aslo.experiments.profiles import Profile
from aslo.experiments.store import ResultStore

# One executor per worker process (keeps the last trained model in memory between tasks).
_EXECUTORS: dict = {}


def execute_cell_task(profile: Profile, task: CellTask, store_root: str, runs_dir: str, backend: Backend,
                      poll: float = 1.0) -> str:
    """Dask task: compute one cell unless done; waits while another runner holds it."""
    key = (repr(profile), store_root, runs_dir, repr(type(backend)))
    executor = _EXECUTORS.get(key)
    if executor is None:
        _EXECUTORS.clear()
        executor = _EXECUTORS[key] = CellExecutor(profile, ResultStore(store_root), Path(runs_dir), backend)
    while True:
        state = executor.execute(task)
        if state != "busy":
            return state
        time.sleep(poll)


def run_cells_dask(plan, cells: list[Cell], runs_dir: Path, backend: Backend, *,
                   workers: int | None = None, scheduler: str | None = None,
                   progress: bool = True, outcomes: dict[str, int] | None = None) -> dict[str, int]:
    """Run ``cells`` of a ``runner.GridPlan`` on Dask; counts task outcomes ("ran", "done") into
    ``outcomes`` as tasks finish (so an interrupted run still knows them) and returns it."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("--workers/--scheduler need dask[distributed]: pip install 'aslo[distributed]'") from exc
    profile, store = plan.profile, plan.store

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    counts = {} if outcomes is None else outcomes
    try:
        futures = [
            client.submit(execute_cell_task, profile, plan.tasks[cell], str(store.root.resolve()),
                          str(Path(runs_dir).resolve()), backend,
                          key=f"aslo-cell-{plan.hashes[cell]}-{cell.label()}", pure=False)
            for cell in cells
        ]
        with progress_bar(len(futures), progress, f"{profile.name} cells ({workers or 'cluster'} workers)") as bar:
            for future in as_completed(futures):
                state = future.result()  # re-raises a task's exception here
                counts[state] = counts.get(state, 0) + 1
                bar.update(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return counts
