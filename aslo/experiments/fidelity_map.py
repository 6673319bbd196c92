"""The map of where the paper's claims hold: Table 1's four attacks under the open readings.

The paper fixes the surrogate, J and Algorithm 1, but not the weight the regulariser really had
(``lambda = 1e-5`` per sample, or the parent framework's batch-level term, ``B x 1e-5`` per
sample), the budget the numbers need (the parent's 1000 Adam steps at lr 1e-4, or our default 50
at 2e-3), which loss "CW" names (the margin, or the parent's targeted cross-entropy with fooled
samples' loss zeroed) and the ASL0 constants (sigma0, eta_d / eta_i, J*, the improvement rule,
AMSGrad). A *reading* fixes all of them. The map runs Table 1's four attacks (AS_CW, CW_L1, CW_L2,
CW) under

* the lambda x budget plane: effective lambda in :data:`PLANE_LAMBDAS` (per sample) times the two
  budgets, the paper's 1000 x 1e-4 only on the slice :data:`PAPER_BUDGET_SLICE`;
* one factor at a time around the :data:`CENTRE` reading (parent_batch scaling, 50 x 2e-3).

An attack's settings that a reading does not touch are not repeated: each distinct (attack,
settings) is one variant of the map's profile (:func:`map_profile`), and each (dataset, model,
variant) one cell of the one pipeline (plan -> executor -> store, :mod:`aslo.experiments.runner`),
stored under ``evidence/fidelity_map`` (summary JSON + per-series CSV, no tensors) with the same
identity as every grid cell (settings, training recipe, sample selection, code fingerprints). So
a run resumes where it stopped, readings share cells (CW has no lambda, AS-only factors leave
L1/L2/CW as at the centre), and a cell whose code or settings changed is stale, with the reason.
``aslo map`` computes it; :func:`recheck_stored_cells` re-executes a seeded random choice of
stored cells from the shipped weights and reports the agreement.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from aslo.experiments.backend import Backend, canonical_hash, json_safe
from aslo.experiments.executor import CellExecutor
from aslo.experiments.grid import PART1_ATTACKS, Cell
from aslo.experiments.profiles import Profile, check_profile_layers
from aslo.experiments.recheck import (RECHECK_TOLERANCE, RecheckTolerance, computed_from, recheck_cells,
                                      shipped_fingerprints)
from aslo.experiments.runner import GridPlan, plan_cells, run_plan
from aslo.experiments.store import ResultStore

MAP_NAME = "fidelity_map"
#: Where the committed evidence lives, relative to the repository root.
DEFAULT_EVIDENCE_DIR = Path("evidence") / MAP_NAME
#: The map's slice: all four models on two short datasets (ItalyPowerDemand, length 24, costs a
#: sixth of GunPoint, length 150), the default profile's 20 series per dataset and sample seed.
MAP_DATASETS = ("ItalyPowerDemand", "GunPoint")
MAP_MODELS = ("inception", "resnet18", "macnn", "lstmfcn")
MAP_SAMPLES, MAP_SAMPLE_SEED, MAP_SEED = 20, 0, 0
#: The paper's budget costs 20 times the short one: only on the cheapest dataset.
PAPER_BUDGET_DATASETS = ("ItalyPowerDemand", "GunPoint")
#: The paper's budget per dataset: every model on ItalyPowerDemand (whose models the box eps = 0.1
#: rarely fools), and the cheapest model on GunPoint, where most series are fooled.
PAPER_BUDGET_SLICE = {"ItalyPowerDemand": MAP_MODELS, "GunPoint": ("lstmfcn",)}
#: short: the old default profile's; mid: the default profile's (same steps x lr = 0.1, 4x the
#: steps); paper: the parent framework's.
BUDGETS = {"short": dict(steps=50, lr=2e-3), "mid": dict(steps=200, lr=5e-4), "paper": dict(steps=1000, lr=1e-4)}
#: Table 1's attacks and their column labels.
TABLE1_ATTACKS = dict(PART1_ATTACKS)
#: Effective per-sample lambdas of the plane; 6.4e-4 is the paper's 1e-5 under parent_batch (B=64).
PLANE_LAMBDAS = (1e-5, 1e-4, 6.4e-4, 1e-3, 1e-2)
#: The lambdas of the plane at the paper's budget (the literal reading, the parent's batch-level
#: reading, then the strongest, computed last).
PAPER_BUDGET_LAMBDAS = (1e-5, 6.4e-4, 1e-2)
#: The ASL0-only settings (they change AS_CW alone).
ASL0_FIELDS = ("sigma0", "eta_d", "eta_i", "j_star", "improvement")


def short_number(value: float) -> str:
    """A small positive number as a reader writes it: 6.4e-4, 1e-5, 0.1."""
    if value >= 0.01:
        return f"{value:g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


@dataclass(frozen=True)
class Reading:
    """One reading of the open choices (see the module docstring); ``factor`` names what varies."""

    factor: str
    level: str
    budget: str = "short"
    loss_reading: str = "margin"
    reg_coef: float = 1e-5
    objective_scaling: str = "parent_batch"
    sigma0: float = 0.01
    eta_d: float = 0.9
    eta_i: float = 1.1
    j_star: str = "running_best"
    improvement: str = "either"
    amsgrad: bool = True

    @property
    def reading_id(self) -> str:
        """Short stable name, e.g. ``sigma0=0.001``; ``@paper`` / ``@mid`` mark the longer budgets."""
        return f"{self.factor}={self.level}" + ("" if self.budget == "short" else f"@{self.budget}")

    @property
    def effective_lambda(self) -> float:
        """The per-sample coefficient next to an unscaled per-sample loss."""
        return self.reg_coef * (64 if self.objective_scaling == "parent_batch" else 1)

    def words(self) -> str:
        """The reading named for a reader, e.g. "lambda 6.4e-4 per series, 1000 steps x 1e-4";
        a one-factor reading adds the factor that differs from the centre."""
        budget = BUDGETS[self.budget]
        text = f"lambda {short_number(self.effective_lambda)} per series, {budget['steps']} steps x {short_number(budget['lr'])}"
        extra = self._factor_words()
        return text + (f", {extra}" if extra else "")

    def change_words(self) -> str:
        """What a one-factor reading changes from the centre, in words ("centre" for the centre)."""
        return self._factor_words() or ("centre" if self.factor == "centre" else self.words())

    def _factor_words(self) -> str | None:
        return {"loss": "CW loss: parent's cross-entropy", "sigma0": f"sigma0 {self.sigma0:g}",
                "eta": f"eta_d / eta_i {self.eta_d:g} / {self.eta_i:g}", "j_star": f"J* {self.j_star.replace('_', ' ')}",
                "improvement": f"improvement rule '{self.improvement.replace('_', ' ')}'",
                "amsgrad": "AMSGrad off" if not self.amsgrad else "AMSGrad on"}.get(self.factor)

    def lambda_reading(self) -> str:
        """The lambda reading in words."""
        if self.objective_scaling == "parent_batch":
            return f"lambda {self.reg_coef:g} with the parent's batch-level regulariser (B = 64): {self.effective_lambda:g} per sample"
        return f"lambda {self.reg_coef:g} per sample"

    def overrides(self, attack: str) -> dict[str, Any]:
        """The attack-layer overrides of ``attack`` under this reading (only fields it uses)."""
        from aslo.attacks.config import CW_LOSS_READINGS

        out: dict[str, Any] = {**BUDGETS[self.budget], **CW_LOSS_READINGS[self.loss_reading],
                               "amsgrad": self.amsgrad}
        if attack != "CW":
            out.update(reg_coef=self.reg_coef, objective_scaling=self.objective_scaling)
        if attack == "AS_CW":
            out.update({f: getattr(self, f) for f in ASL0_FIELDS})
        return out


CENTRE = Reading(factor="centre", level="parent_batch")
#: The default profile's Part 1 reading (aslo/profiles/default.toml): the centre at 200 x 5e-4.
DEFAULT_READING = Reading(factor="default", level="parent_batch", budget="mid")


def map_readings() -> list[Reading]:
    """The readings of the map: the lambda x budget plane, then one factor at a time."""
    out = []
    for budget in ("short", "paper"):
        for lam in (PLANE_LAMBDAS if budget == "short" else PAPER_BUDGET_LAMBDAS):
            if lam == 6.4e-4:
                reading = Reading("lambda", f"{lam:g}", budget=budget)  # parent_batch, 1e-5 x 64
            else:
                reading = Reading("lambda", f"{lam:g}", budget=budget, reg_coef=lam, objective_scaling="per_sample")
            out.append(reading)
    out.append(CENTRE)
    out.append(DEFAULT_READING)
    one = [("loss", "parent_ce", dict(loss_reading="parent_ce")),
           ("sigma0", "0.001", dict(sigma0=1e-3)), ("sigma0", "0.1", dict(sigma0=0.1)),
           ("eta", "0.5/2", dict(eta_d=0.5, eta_i=2.0)), ("eta", "0.99/1.01", dict(eta_d=0.99, eta_i=1.01)),
           ("j_star", "initial", dict(j_star="initial")),
           ("improvement", "adversarial", dict(improvement="adversarial")),
           ("improvement", "loss_decrease", dict(improvement="loss_decrease")),
           ("amsgrad", "off", dict(amsgrad=False))]
    for factor, level, changes in one:
        out.append(Reading(factor, level, **changes))
    return out


def reading_datasets(reading: Reading, datasets: Iterable[str] = MAP_DATASETS) -> tuple[str, ...]:
    """The datasets a reading runs on (the paper's budget only on :data:`PAPER_BUDGET_SLICE`)."""
    if reading.budget == "paper":
        return tuple(d for d in datasets if d in PAPER_BUDGET_DATASETS)
    return tuple(datasets)


def cell_for(dataset: str, model: str, attack: str, overrides: Mapping[str, Any], seed: int = MAP_SEED) -> Cell:
    """The store cell of one attack with these settings: its attack field names the map profile's
    variant, ``<attack>-<hash of the settings>``, so readings with the same settings share it."""
    return Cell(MAP_NAME, dataset, model, variant_name(attack, overrides), seed)


def variant_name(attack: str, overrides: Mapping[str, Any]) -> str:
    """``<attack>-<10 hex digits>``: the name of one attack's settings under a reading."""
    return f"{attack}-{canonical_hash({'attack': attack, 'overrides': json_safe(dict(overrides))})[:10]}"


def plan(readings: Iterable[Reading] | None = None, datasets: Iterable[str] = MAP_DATASETS,
         models: Iterable[str] = MAP_MODELS) -> pd.DataFrame:
    """One row per (reading, dataset, model, attack): the reading's fields and its cell's folder."""
    rows = []
    for reading in readings or map_readings():
        for dataset in reading_datasets(reading, datasets):
            for model in models:
                if reading.budget == "paper" and model not in PAPER_BUDGET_SLICE.get(dataset, ()):
                    continue
                for attack in TABLE1_ATTACKS:
                    over = reading.overrides(attack)
                    cell = cell_for(dataset, model, attack, over)
                    rows.append(dict(reading=reading.reading_id, factor=reading.factor, level=reading.level,
                                     budget=reading.budget, effective_lambda=reading.effective_lambda,
                                     loss_reading=reading.loss_reading, dataset=dataset, model=model,
                                     attack=attack, regulariser=TABLE1_ATTACKS[attack], cell=cell.attack,
                                     steps=over["steps"], lr=over["lr"], overrides=json.dumps(json_safe(over), sort_keys=True)))
    return pd.DataFrame(rows)


#: Cheapest model first, so that a cut-short run has whole readings for the cheap models.
MODEL_COST_ORDER = ("lstmfcn", "resnet18", "inception", "macnn")


def run_priority(row) -> int:
    """The order in which the map computes a (reading, cell) row: what the report needs first.

    MACNN costs about as much as the three other models together, so its cells come later in
    each stage. 0: the short budget on the first dataset (MACNN: the lambda plane only); 1: the
    paper's budget, literal and batch-level lambda, for the two cheapest models; 2: the default
    profile's reading (not MACNN); 3: the short budget's lambda plane on the other datasets (not
    MACNN); 4: their one-factor readings (not MACNN), MACNN's default reading and first-dataset
    one-factor readings; 5: MACNN's short lambda plane elsewhere, the paper's budget for
    Inception and MACNN; 6: the rest.
    """
    plane = row.factor in ("lambda", "centre")
    macnn = row.model == "macnn"
    if row.budget == "paper":
        if row.effective_lambda > 1e-3:
            return 6
        return 1 if row.model in MODEL_COST_ORDER[:2] else 5
    if row.budget == "mid":
        return 4 if macnn else 2
    if row.dataset == MAP_DATASETS[0]:
        return 4 if (macnn and not plane) else 0
    if plane:
        return 5 if macnn else 3
    return 6 if macnn else 4


def _unique_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct cell, in :func:`run_priority` order, cheapest model first."""
    frame = frame.copy()
    frame["_priority"] = [run_priority(r) for r in frame.itertuples()]
    frame["_priority"] = frame.groupby(["dataset", "model", "cell"])["_priority"].transform("min")
    cells = frame.sort_values("_priority", kind="stable").drop_duplicates(["dataset", "model", "cell"]).copy()
    cells["_model"] = cells["model"].map({m: i for i, m in enumerate(MODEL_COST_ORDER)})
    return cells.sort_values(["_priority", "_model", "dataset", "cell"]).drop(columns=["_priority", "_model"])


def map_profile(device: str = "cpu") -> Profile:
    """The map as a profile of the one pipeline (plan -> executor -> store): its datasets, models,
    series and seeds, the default training recipe, compact records (no tensors), and every distinct
    (attack, settings) of its readings as a named variant (:func:`variant_name`)."""
    frame = plan()
    variants = {row.cell: (row.attack, json.loads(row.overrides)) for row in frame.drop_duplicates("cell").itertuples()}
    return check_profile_layers(Profile(
        name=MAP_NAME, description="Table 1's four attacks under the open readings (aslo.experiments.fidelity_map)",
        datasets=MAP_DATASETS, models=MAP_MODELS, seeds=(MAP_SEED,), train_seed=MAP_SEED, samples=MAP_SAMPLES,
        sample_seed=MAP_SAMPLE_SEED, distance="l2", normalize=True, device=device, store_examples=False,
        variants=variants, source="aslo.experiments.fidelity_map"))


def map_plan(evidence_dir: str | os.PathLike = DEFAULT_EVIDENCE_DIR, frame: pd.DataFrame | None = None, *,
             device: str = "cpu", backend: Backend | None = None) -> GridPlan:
    """The map's cells (of ``frame``, default the whole :func:`plan`) planned into the store at
    ``evidence_dir``, in :func:`run_priority` order, cheapest model first."""
    cells = _unique_cells(plan() if frame is None else frame)
    return plan_cells(map_profile(device), [Cell(MAP_NAME, r.dataset, r.model, r.cell, MAP_SEED) for r in cells.itertuples()],
                      ResultStore(evidence_dir), backend=backend)


def run_map(*, evidence_dir: str | os.PathLike = DEFAULT_EVIDENCE_DIR, runs_dir: str | os.PathLike = "runs",
            factors: Iterable[str] | None = None, datasets: Iterable[str] | None = None,
            models: Iterable[str] | None = None, device: str = "cpu", progress: bool = True,
            command: str | None = None, backend: Backend | None = None, threads: int | None = None,
            workers: int | None = None, scheduler: str | None = None) -> pd.DataFrame:
    """Compute the map (resumably) through :func:`aslo.experiments.runner.run_plan`, then write
    ``plan.csv`` and ``map.csv`` beside the store; returns :func:`map_table`.

    ``factors`` restricts the readings (e.g. ``["lambda"]``), ``datasets``/``models`` the slice;
    ``threads``, ``workers``, ``scheduler``: as for ``aslo run`` (each cell records its thread count). The store's
    ``provenance.json`` gets the command, commit, date, machine and wall time of this invocation.
    """
    evidence = Path(evidence_dir)
    readings = [r for r in map_readings() if factors is None or r.factor in set(factors)]
    if not readings:
        raise ValueError(f"no reading has a factor in {list(factors)}; known: "
                         f"{sorted({r.factor for r in map_readings()})}")
    backend = backend or Backend()
    grid = map_plan(evidence, plan(readings, datasets or MAP_DATASETS, models or MAP_MODELS), device=device,
                    backend=backend)
    try:
        run_plan(grid, runs_dir=runs_dir, progress=progress, backend=backend, threads=threads, workers=workers,
                 scheduler=scheduler, command=command, factors=sorted({r.factor for r in readings}))
    finally:  # an interrupted run still leaves the tables of what it computed
        plan().to_csv(evidence / "plan.csv", index=False, lineterminator="\n")
        table = map_table(evidence, backend=backend)
        table.to_csv(evidence / "map.csv", index=False, lineterminator="\n")
    return table


def map_table(evidence_dir: str | os.PathLike = DEFAULT_EVIDENCE_DIR, *, backend: Backend | None = None) -> pd.DataFrame:
    """The plan joined with each stored cell's summary; ``state`` and ``state_reason`` say whether
    the store holds it with today's identity ("done"; ``stored`` True) or why not (missing, stale:
    which code or setting changed, corrupt)."""
    frame = plan()
    grid = map_plan(evidence_dir, frame, backend=backend)
    summaries = {}
    for cell in grid.cells:
        if grid.states[cell].state == "done":
            rec = grid.store.read(cell)
            ok = rec.records["success"].astype(bool)
            summaries[(cell.dataset, cell.model, cell.attack)] = {
                **rec.summary, "wall_seconds": rec.meta.get("wall_seconds"),
                # the parent framework's distance: mean squared L2 over successes
                "mean_success_distance_sq": float(rec.records.loc[ok, "l2_squared"].mean()) if ok.any() else np.nan}
    keys = ("asr", "mean_success_distance", "close_to_zero", "mean_l0", "n", "wall_seconds", "mean_success_distance_sq")
    rows = list(frame.itertuples())
    for key in keys:
        frame[key] = [summaries.get((r.dataset, r.model, r.cell), {}).get(key, np.nan) for r in rows]
    states = [grid.states[Cell(MAP_NAME, r.dataset, r.model, r.cell, MAP_SEED)] for r in rows]
    frame["state"] = [s.state for s in states]
    frame["state_reason"] = [s.reason for s in states]
    frame["stored"] = frame["state"] == "done"
    return frame


def map_records(evidence_dir: str | os.PathLike = DEFAULT_EVIDENCE_DIR, reading: str | None = None, *,
                backend: Backend | None = None) -> pd.DataFrame:
    """Per-series records of the cells stored with today's identity, labelled with reading,
    dataset, model, attack and steps."""
    frame = plan()
    grid = map_plan(evidence_dir, frame, backend=backend)
    if reading is not None:
        frame = frame[frame["reading"] == reading]
    parts = []
    for row in frame.itertuples():
        cell = Cell(MAP_NAME, row.dataset, row.model, row.cell, MAP_SEED)
        if grid.states[cell].state == "done":
            rec = grid.store.read(cell).records.copy()
            for position, (column, value) in enumerate([("reading", row.reading), ("dataset", row.dataset),
                                                        ("model", row.model), ("attack", row.attack),
                                                        ("steps", row.steps)]):
                rec.insert(position, column, value)
            parts.append(rec)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


#: The committed weights of the models whose map cells can be recomputed anywhere (a checkpoint
#: folder in the layout of ``runs/``; written by ``aslo map --runs-dir evidence/models``).
DEFAULT_MODELS_DIR = Path("evidence") / "models"




def evidence_coverage(evidence_dir: str | os.PathLike = DEFAULT_EVIDENCE_DIR,
                      models_dir: str | os.PathLike = DEFAULT_MODELS_DIR, *, backend: Backend | None = None) -> pd.DataFrame:
    """Per (dataset, model): cells stored with today's identity, and how many were computed from
    weights shipped in ``models_dir`` (only those can be recomputed elsewhere from the same weights)."""
    grid = map_plan(evidence_dir, backend=backend)
    executor = CellExecutor(grid.profile, grid.store, Path(models_dir), backend or Backend(), shipped_only=True)
    shipped = shipped_fingerprints(executor, models_dir, [(c.dataset, c.model) for c in grid.cells])
    rows = []
    for (dataset, model), fingerprint in shipped.items():
        cells = [c for c in grid.cells if (c.dataset, c.model) == (dataset, model) and grid.states[c].state == "done"]
        rows.append(dict(dataset=dataset, model=model, cells_stored=len(cells), weights_shipped=fingerprint is not None,
                         cells_from_shipped_weights=sum(computed_from(grid.store, c, fingerprint) for c in cells)))
    return pd.DataFrame(rows).sort_values(["dataset", "model"], key=lambda col: col.map(
        {name: i for i, name in enumerate(MAP_DATASETS + MAP_MODELS)})).reset_index(drop=True)


def coverage_sentence(coverage: pd.DataFrame) -> str:
    """What the shipped weights let another machine recompute, and what they do not."""
    ok = coverage[coverage["cells_from_shipped_weights"] > 0]
    missing = coverage[coverage["cells_from_shipped_weights"] < coverage["cells_stored"]]
    text = (f"{int(ok['cells_from_shipped_weights'].sum())} of {int(coverage['cells_stored'].sum())} stored map cells "
            f"were computed from weights committed with them ({', '.join(f'{r.dataset}/{r.model}' for r in ok.itertuples())})"
            " and can be recomputed anywhere.")
    if missing.empty:
        return text
    return text + (" Not verifiable from weights: the cells of " + ", ".join(
        f"{r.dataset}/{r.model}" for r in missing.itertuples()) + " (their weights are not shipped: ResNet18 and MACNN "
        "take 17 and 33 MB per model); for them only the conclusions of retrained models can be compared.")


def recheck_stored_cells(n: int = 3, seed: int = 0, *, evidence_dir: str | os.PathLike = DEFAULT_EVIDENCE_DIR,
                         models_dir: str | os.PathLike = DEFAULT_MODELS_DIR, device: str = "cpu",
                         max_steps: int | None = 200, datasets: Iterable[str] | None = None,
                         tolerance: RecheckTolerance = RECHECK_TOLERANCE, progress: bool = False,
                         backend: Backend | None = None) -> pd.DataFrame:
    """Recompute a seeded random choice of ``n`` (>= 3) stored map cells from the shipped weights
    (:func:`aslo.experiments.recheck.recheck_cells`: read only, each with its recorded thread count).

    The pool: stored cells with at most ``max_steps`` steps (None: any) on ``datasets`` (None:
    any) computed from weights shipped in ``models_dir``. One row per cell, with its ``steps``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 3:
        raise ValueError(f"n must be an integer >= 3, got {n!r}")
    frame = plan()
    if max_steps is not None:
        frame = frame[frame["steps"] <= max_steps]
    if datasets is not None:
        frame = frame[frame["dataset"].isin(list(datasets))]
    grid = map_plan(evidence_dir, frame, device=device, backend=backend)
    table = recheck_cells(grid, models_dir, n=n, seed=seed, tolerance=tolerance, backend=backend, progress=progress)
    steps = dict(zip(frame["cell"], frame["steps"]))
    table.insert(4, "steps", [steps[c] for c in table["cell"]])
    return table


def reading_by_id(reading_id: str) -> Reading:
    """The map's reading named ``reading_id`` (e.g. ``"lambda=1e-05@paper"``)."""
    for reading in map_readings():
        if reading.reading_id == reading_id:
            return reading
    raise ValueError(f"unknown reading {reading_id!r}; known: {sorted({r.reading_id for r in map_readings()})}")


def reading_sentence(reading: Reading, datasets: Iterable[str] | None = None) -> str:
    """Steps, lr, the lambda reading, CW loss, series, datasets and seed of one reading, in words."""
    budget = BUDGETS[reading.budget]
    ds = reading_datasets(reading, datasets or MAP_DATASETS)
    if reading.budget == "paper":
        where = "; ".join(f"{d} ({', '.join(PAPER_BUDGET_SLICE[d])})" for d in ds)
    else:
        where = f"datasets {', '.join(ds)}, models {', '.join(MAP_MODELS)}"
    return (f"Budget: {budget['steps']} Adam steps at lr {budget['lr']:g} (AMSGrad {'on' if reading.amsgrad else 'off'}), "
            f"{reading.lambda_reading()}, CW loss read as '{reading.loss_reading}', sigma0 {reading.sigma0:g}, "
            f"eta_d/eta_i {reading.eta_d:g}/{reading.eta_i:g}, J* {reading.j_star}, improvement '{reading.improvement}'; "
            f"{MAP_SAMPLES} series per dataset (sample seed {MAP_SAMPLE_SEED}), {where}, attack seed {MAP_SEED}.")


def provenance_table(evidence_dir: str | os.PathLike = DEFAULT_EVIDENCE_DIR) -> pd.DataFrame:
    """Who computed the stored map, one row per invocation that computed cells: date, commit,
    command, CPU, torch threads, cells computed and minutes of wall time."""
    path = Path(evidence_dir) / "provenance.json"
    runs = json.loads(path.read_text()).get("runs", []) if path.exists() else []
    return invocations_table(runs)


def invocations_table(runs: list[dict]) -> pd.DataFrame:
    """Provenance records (:func:`aslo.environment.invocation_record`) that computed cells, as a
    short table for a reader."""
    rows = [{"date": r["date"][:10], "commit": str(r["commit"])[:10], "command": r["command"],
             "CPU": f"{r['machine'].get('processor', '?')} ({r['machine'].get('cpu_count', '?')} CPUs)",
             "threads": r["machine"].get("torch_threads"), "cells": r.get("cells_ran", 0),
             "minutes": round(r["wall_seconds"] / 60, 1)} for r in runs if r.get("cells_ran")]
    return pd.DataFrame(rows, columns=["date", "commit", "command", "CPU", "threads", "cells", "minutes"])


def store_sentence(table: pd.DataFrame) -> str:
    """How much of the map the store holds with today's identity (:func:`map_table`), and why the
    rest is not there (missing, or stale with the first reason)."""
    cells = table.drop_duplicates(["dataset", "model", "cell"])
    done = int((cells["state"] == "done").sum())
    text = (f"The map holds {done} of its {len(cells)} distinct cells with today's code and settings "
            f"({int(table['stored'].sum())} of {len(table)} planned (reading, cell) rows).")
    for state in ("stale", "corrupt", "missing"):
        rows = cells[cells["state"] == state]
        if len(rows):
            # a stale reason reads "stored with config A, now B: <what changed>"; keep what changed
            why = rows["state_reason"].iloc[0].split(": ", 1)[-1] if state == "stale" else rows["state_reason"].iloc[0]
            text += f" {len(rows)} {state}" + (f" (for example: {why})." if state != "missing" else ".")
    return text


def recheck_sentence(recheck: pd.DataFrame, tolerance: RecheckTolerance = RECHECK_TOLERANCE) -> str:
    """One generated sentence on the recheck's agreement (see :func:`recheck_stored_cells`)."""
    if recheck is None or recheck.empty:
        return "No stored cell was recomputed."
    names = ", ".join(f"{r.dataset}/{r.model}/{r.attack}" for r in recheck.itertuples())
    same = int(recheck["identical"].sum())
    bad = recheck[~recheck["agree"].astype(bool)]
    head = (f"{len(recheck)} stored cells ({names}) were recomputed from the shipped weights: {same} "
            f"identical series by series")
    if bad.empty:
        return (head + f"; all {len(recheck)} agree within the tolerance ({tolerance.text()}; largest L2 "
                f"difference {recheck['l2_max_rel_diff'].max():.2g}, {int(recheck['success_changed'].sum())} "
                "series changed success in all).")
    worst = bad.sort_values(["success_changed", "l2_max_rel_diff"], ascending=False).iloc[0]
    return (head + f"; {len(bad)} disagree beyond the tolerance ({tolerance.text()}): the worst, "
            f"{worst['dataset']}/{worst['model']}/{worst['attack']}, has {worst['success_changed']} series "
            f"changing success and an L2 differing by up to {worst['l2_max_rel_diff']:.2g}. The attack code no "
            "longer computes what the store holds.")
