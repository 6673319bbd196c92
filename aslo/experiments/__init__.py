"""Experiment grids, TOML profiles, the resumable result store and the grid runner."""

from aslo.experiments.backend import Backend
from aslo.experiments.examples import AdversarialExamples, ExamplesError, load_cell_examples, load_examples, save_examples
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
from aslo.experiments.runner import ConfigHasher, default_results_dir, default_runs_dir, load_results, run_grid
from aslo.experiments.store import TIMING_COLUMNS, CellRecord, CorruptRecordError, ResultStore

__all__ = [
    "AdversarialExamples", "ExamplesError", "load_cell_examples", "load_examples", "save_examples",
    "Backend", "Cell", "CellRecord", "ConfigHasher", "CorruptRecordError", "GRID_ATTACKS",
    "PART1_ATTACKS", "PART2_ATTACKS", "PARTS", "PROFILES", "Profile", "ResultStore",
    "TIMING_COLUMNS", "attacks_for_part", "default_results_dir", "default_runs_dir",
    "grid_cells", "load_profile", "load_results", "parse_profile", "profile_path", "run_grid",
    "select_samples",
]
