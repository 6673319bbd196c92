"""Experiment grids, TOML profiles, the resumable result store and the grid runner.

One pipeline: ``plan_grid`` / ``plan_cells`` (cells, config hashes, and why each stored cell is
or is not reusable) -> ``run_plan`` (compute what is pending, serially or on Dask, through the
``CellExecutor`` into the store; ``run_grid`` does both for a profile's grid, ``aslo map`` for the
fidelity map's cells) -> ``load_results`` (summaries of the finished cells).
"""

from aslo.experiments.backend import Backend
from aslo.experiments.examples import AdversarialExamples, ExamplesError, load_examples, save_examples
from aslo.experiments.grid import (
    GRID_ATTACKS,
    PART1_ATTACKS,
    PART2_ATTACKS,
    PARTS,
    Cell,
    attacks_for_part,
    grid_cells,
    select_samples,
)
from aslo.experiments.profiles import PROFILES, Profile, load_profile, parse_profile, profile_path
from aslo.experiments.executor import CellExecutor, TrainedModels
from aslo.experiments.runner import (ConfigHasher, GridPlan, default_results_dir, default_runs_dir, load_cell_examples, load_results,
                                     plan_cells, plan_grid, run_grid, run_plan)
from aslo.experiments.store import TIMING_COLUMNS, CellRecord, CellState, CorruptRecordError, ResultStore

__all__ = [
    "AdversarialExamples", "ExamplesError", "load_cell_examples", "load_examples", "save_examples",
    "Backend", "Cell", "CellExecutor", "CellRecord", "CellState", "ConfigHasher", "CorruptRecordError",
    "GRID_ATTACKS", "GridPlan", "TrainedModels", "plan_cells", "plan_grid", "run_plan",
    "PART1_ATTACKS", "PART2_ATTACKS", "PARTS", "PROFILES", "Profile", "ResultStore",
    "TIMING_COLUMNS", "attacks_for_part", "default_results_dir", "default_runs_dir",
    "grid_cells", "load_profile", "load_results", "parse_profile", "profile_path", "run_grid",
    "select_samples",
]
