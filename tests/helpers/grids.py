"""Shared real smoke grids for the fault, determinism and reader-view tests (no tests here).

Each grid is computed once per pytest process (``functools.lru_cache``) by ``aslo run`` in a
subprocess, single-threaded, into a temporary folder removed at exit; test modules import the
helpers (``from helpers.grids import ...``) and copy a grid before they damage it.

Two grids:

* ``fixed_grid()``: the smoke profile (ItalyPowerDemand, 8 series x 10 steps) restricted to
  lstmfcn and inception, with training capped by epochs (10) instead of the smoke profile's
  5-second wall clock. The wall-clock cap makes the number of epochs, hence the weights, depend
  on machine load (documented in ``aslo.training.loop``); only an epoch cap lets a retrained
  model, and so a resumed or recomputed grid, be compared bit for bit with an uninterrupted one.
* ``smoke_grid()``: the smoke profile exactly as shipped, restricted to lstmfcn.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from aslo.experiments import TIMING_COLUMNS, ResultStore, load_results, profile_path

FIXED_MODELS = ("lstmfcn", "inception")
FIXED_EPOCHS = 10
FIXED_NAME = "smoke-fixed-epochs"
SMOKE_MODELS = ("lstmfcn",)


@dataclass(frozen=True)
class Grid:
    """A finished grid: its profile (name or TOML path), result root and runs folder."""

    profile: str
    name: str
    results: Path
    runs: Path

    @property
    def store(self) -> ResultStore:
        """The result store of this grid's profile."""
        return ResultStore(self.results / self.name)


@functools.lru_cache(maxsize=1)
def _session_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="aslo-faults-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def to_toml(data: dict) -> str:
    """Serialise a profile mapping (scalars, lists and one level of tables) as TOML."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for key, table in data.items():
        if isinstance(table, dict):
            lines.append(f"\n[{key}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    return "\n".join(lines) + "\n"


def write_fixed_profile(folder: Path) -> Path:
    """The smoke profile with FIXED_MODELS and FIXED_EPOCHS epochs."""
    raw = tomllib.loads(profile_path("smoke").read_text())
    raw.update(name=FIXED_NAME, models=list(FIXED_MODELS),
               description=f"smoke, {', '.join(FIXED_MODELS)}, {FIXED_EPOCHS} epochs")
    raw["training"] = {**raw.get("training", {}), "epochs": FIXED_EPOCHS}
    path = folder / f"{FIXED_NAME}.toml"
    path.write_text(to_toml(raw))
    return path


def aslo_env(results: Path, runs: Path) -> dict[str, str]:
    """Environment of an ``aslo`` subprocess: one thread, the given result and runs folders."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", ASLO_RESULTS_DIR=str(results),
               ASLO_RUNS_DIR=str(runs), PYTHONUNBUFFERED="1")
    return env


def aslo_command(*args: str) -> list[str]:
    """``python -m aslo ARGS`` with this interpreter."""
    return [sys.executable, "-m", "aslo", *args]


def run_cli(args: list[str], results: Path, runs: Path, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run ``aslo ARGS`` to completion; fail with its output if it exits non-zero."""
    done = subprocess.run(aslo_command(*args), env=aslo_env(results, runs), capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"aslo {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done


def run_grid_cli(grid: Grid, timeout: float = 1800) -> subprocess.CompletedProcess:
    """``aslo run`` of the grid's profile (and model restriction) into its folders."""
    models = SMOKE_MODELS if grid.name == "smoke" else FIXED_MODELS
    return run_cli(["run", "--profile", grid.profile, "--models", *models],  # progress: stderr says what was skipped
                   grid.results, grid.runs, timeout)


def new_fixed_grid(folder: Path) -> Grid:
    """An empty grid of the fixed-epoch profile under ``folder`` (nothing computed yet)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Grid(str(write_fixed_profile(folder)), FIXED_NAME, folder / "results", folder / "runs")


@functools.lru_cache(maxsize=1)
def fixed_grid() -> Grid:
    """The fixed-epoch grid, computed once per process without interruption."""
    grid = new_fixed_grid(_session_dir() / "fixed")
    run_grid_cli(grid)
    return grid


@functools.lru_cache(maxsize=1)
def smoke_grid() -> Grid:
    """The shipped smoke profile restricted to SMOKE_MODELS, computed once per process."""
    folder = _session_dir() / "smoke"
    grid = Grid("smoke", "smoke", folder / "results", folder / "runs")
    run_grid_cli(grid)
    return grid


def copy_grid(grid: Grid, folder: Path) -> Grid:
    """A copy of a finished grid (results, runs, profile file) under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = grid.profile
    if Path(profile).is_file():
        profile = str(shutil.copy(profile, folder / Path(profile).name))
    shutil.copytree(grid.results, folder / "results", symlinks=True)
    shutil.copytree(grid.runs, folder / "runs", symlinks=True)
    return Grid(profile, grid.name, folder / "results", folder / "runs")


def table(grid: Grid) -> pd.DataFrame:
    """The grid's summary table as ``load_results`` gives it, timing columns dropped, sorted."""
    df = load_results(grid.profile, grid.results)
    df = df.drop(columns=[c for c in TIMING_COLUMNS if c in df.columns])
    return df.sort_values(["dataset", "model", "attack", "seed"]).reset_index(drop=True)


def per_sample_records(grid: Grid) -> dict[str, pd.DataFrame]:
    """Every finished cell's per-sample records, keyed by the cell's relative path."""
    store = grid.store
    return {cell.label(): store.read(cell).records for cell in store.cells() if store.has(cell)}


def markers(grid: Grid) -> dict[str, tuple[int, bytes]]:
    """(mtime in ns, bytes) of every COMPLETE marker, keyed by the cell's relative path."""
    root = grid.results / grid.name
    return {str(p.parent.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(root.glob("*/*/*/seed*/COMPLETE")) if re.fullmatch(r"seed\d+", p.parent.name)}


def leftovers(grid: Grid) -> list[str]:
    """Temporary or moved-aside cell folders in the store (names relative to its root)."""
    root = grid.results / grid.name
    return sorted(str(p.relative_to(root)) for p in root.glob("*/*/*/*")
                  if p.is_dir() and (p.name.startswith(".tmp-") or "." in p.name))
