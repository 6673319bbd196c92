"""Does the store hold what the code computes here? Recompute stored cells from shipped weights.

A stored cell records the SHA-256 of the weights it used. Where those weights ship with the
repository (a checkpoint folder in the layout of ``runs/``), another machine can recompute the
cell from the same weights, read-only, and compare it series by series with what is stored:
identical on the machine and thread count that wrote it, within :data:`RECHECK_TOLERANCE`
elsewhere. :func:`recheck_grid_cells` does this for any profile's store (the archive's
included); the fidelity map uses the same comparison (:func:`compare_records`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

#: The summary values a recheck reports beside its per-series comparison.
RECHECK_METRICS = ("asr", "mean_success_distance", "close_to_zero", "mean_l0")


@dataclass(frozen=True)
class RecheckTolerance:
    """When a cell recomputed from the same weights agrees with the stored one.

    The same machine and thread count give identical records. Another thread count or CPU sums
    in another order; over 50-200 Adam steps a difference in the last bits can move a series
    that sits on the decision boundary to the other side, and moves the others' distances a
    little. Measured (``benchmarks/recheck_tolerance.py``, results in
    ``benchmarks/results/recheck_tolerance.md``): over 40 cells (800 series) under one and two
    threads, an AVX2 cap and a baseline instruction set, no series changed success and the
    largest relative change of a series' L2 was 0.23 % (AS_CW, whose adaptive sigma makes
    discrete decisions; the median change was 4e-6). The bounds leave a margin of 20 over that.
    A cell agrees when at most ``success_flips`` of its series change success and every series
    that succeeds both times has an L2 within ``l2_rtol`` (relative) of its stored value.
    """

    success_flips: int = 1
    l2_rtol: float = 0.05

    def text(self) -> str:
        """The rule in words."""
        return (f"at most {self.success_flips} series changes success, and every series that succeeds both "
                f"times keeps its L2 within {self.l2_rtol:.0%}")


RECHECK_TOLERANCE = RecheckTolerance()


def compare_records(stored: pd.DataFrame, fresh: pd.DataFrame, tolerance: RecheckTolerance = RECHECK_TOLERANCE) -> dict:
    """Compare a recomputed cell's per-series records with the stored ones (matched by
    ``test_index``): ``series``, ``identical`` (every numeric column equal), ``success_changed``,
    ``l2_max_rel_diff`` (over series successful both times) and ``agree`` (by ``tolerance``)."""
    old = stored.set_index("test_index").loc[fresh["test_index"]]
    new = fresh.set_index("test_index")
    numeric = [c for c in new.columns if c in old.columns and pd.api.types.is_numeric_dtype(new[c])]
    identical = bool(all(np.array_equal(old[c].to_numpy(), new[c].to_numpy(), equal_nan=True) for c in numeric))
    ok_old, ok_new = old["success"].astype(bool).to_numpy(), new["success"].astype(bool).to_numpy()
    both = ok_old & ok_new
    l2_old, l2_new = old["l2"].to_numpy()[both], new["l2"].to_numpy()[both]
    rel = float(np.max(np.abs(l2_new - l2_old) / np.maximum(np.abs(l2_old), 1e-12))) if both.any() else 0.0
    changed = int((ok_old != ok_new).sum())
    return dict(series=len(new), identical=identical, success_changed=changed, l2_max_rel_diff=rel,
                agree=bool(changed <= tolerance.success_flips and rel <= tolerance.l2_rtol))


def recheck_grid_cells(profile, results_dir, models_dir, *, n: int = 3, seed: int = 0,
                       datasets: Iterable[str] | None = None, tolerance: RecheckTolerance = RECHECK_TOLERANCE,
                       backend=None, progress: bool = False) -> pd.DataFrame:
    """:func:`recheck_cells` over a profile's grid (on ``datasets``, None: all) in ``results_dir``."""
    from aslo.experiments.runner import plan_grid

    plan = plan_grid(profile, datasets=datasets, results_dir=results_dir, backend=backend)
    return recheck_cells(plan, models_dir, n=n, seed=seed, tolerance=tolerance, backend=backend, progress=progress)


def recheck_cells(plan, models_dir, *, n: int = 3, seed: int = 0, tolerance: RecheckTolerance = RECHECK_TOLERANCE,
                  backend=None, progress: bool = False) -> pd.DataFrame:
    """Recompute a seeded random choice of ``n`` stored cells of a plan (``runner.GridPlan``) from
    the weights shipped in ``models_dir`` (read only: nothing is trained or written); compare.

    The pool: the plan's intact stored cells whose recorded weights are the shipped ones, in the
    plan's order; drawn with ``numpy.random.default_rng(seed)``. Each cell is recomputed with the
    torch thread count it records. One row per cell: dataset, model, attack, ``current_identity``
    (whether the stored cell matches today's code and configuration), :func:`compare_records`'s
    columns, and the stored and recomputed :data:`RECHECK_METRICS`.
    """
    from tqdm.auto import tqdm

    from aslo.experiments.backend import Backend
    from aslo.experiments.executor import CellExecutor, torch_threads

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    backend = backend or Backend()
    executor = CellExecutor(plan.profile, plan.store, Path(models_dir), backend, shipped_only=True)
    shipped = shipped_fingerprints(executor, models_dir, [(c.dataset, c.model) for c in plan.cells])
    pool = [cell for cell in plan.cells if computed_from(plan.store, cell, shipped[(cell.dataset, cell.model)])]
    if len(pool) < n:
        raise ValueError(f"only {len(pool)} stored cells of profile {plan.profile.name} in {plan.store.root} were "
                         f"computed from weights shipped in {models_dir}; cannot recheck {n}")
    pick = sorted(np.random.default_rng(seed).choice(len(pool), size=n, replace=False))
    rows = []
    for cell in tqdm([pool[i] for i in pick], desc="recheck", disable=not progress):
        stored = plan.store.read(cell)
        with torch_threads(stored.meta.get("torch_threads")):
            summary, records, _, _ = executor.attack(plan.tasks[cell])
        row = dict(dataset=cell.dataset, model=cell.model, attack=plan.tasks[cell].attack, cell=cell.attack,
                   current_identity=stored.config_hash == plan.hashes[cell],
                   **compare_records(stored.records, records, tolerance))
        for metric in RECHECK_METRICS:
            row[f"{metric}_stored"] = float(stored.summary.get(metric, np.nan))
            row[f"{metric}_now"] = float(summary.get(metric, np.nan))
        rows.append(row)
    return pd.DataFrame(rows)


def shipped_fingerprints(executor, models_dir, keys) -> dict[tuple[str, str], str | None]:
    """SHA-256 of the weights shipped in ``models_dir`` per (dataset, model) of ``keys`` (loaded
    through ``executor``, a shipped-only ``CellExecutor``); None where none is shipped."""
    out = {}
    for dataset, model in dict.fromkeys(keys):
        out[(dataset, model)] = None
        if not (Path(models_dir) / dataset / model).is_dir():
            continue  # nothing shipped for it: its dataset need not even be installed
        try:
            out[(dataset, model)] = executor.backend.weights_fingerprint(executor.models.model(dataset, model)[0])
        except FileNotFoundError:
            pass
    return out


def computed_from(store, cell, fingerprint: str | None) -> bool:
    """Whether ``store`` holds an intact record of ``cell`` computed from the weights ``fingerprint``."""
    return (fingerprint is not None and store.check(cell).state == "done"
            and store.read(cell).meta.get("model", {}).get("weights_sha256") == fingerprint)
