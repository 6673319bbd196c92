"""Carry stored cells over a change of the identity scheme, where today's code computed them.

A cell's identity holds fingerprints of the code that decides its numbers, grouped by a scheme
(:data:`aslo.experiments.identity.SCHEME`). Regrouping that code (say, moving the sparse
extension into a group of its own) changes every fingerprint but no number. A stored cell can then
be carried over, not recomputed, exactly when its stored configuration equals today's with the
code fingerprinted under the earlier scheme: the earlier scheme's fingerprints of *today's* source
equal the ones it was stored with, so it was computed by this very code (docstrings, comments and
blank lines aside). Anything else (other settings, other code) stays stale and is recomputed.
A carried-over record keeps its summary, records and examples byte for byte; its meta gets the
new configuration, and a ``restamped`` note (schemes, commit, date, previous hash); the store's
provenance records the invocation.

A refactoring of code inside a group (say, moving the L0-budget attack out of Algorithm 1's loop)
changes that group's fingerprint though it may change no number of the other cells. No
fingerprint can tell; a recomputation can. :func:`restamp_verified` recomputes a seeded sample of
the cells whose configuration is unchanged but whose code fingerprints moved, at least one per
attack, from the same weights and with the thread count each recorded, and carries an attack's
cells over only if every recomputed cell of that attack is identical to its stored record, bit for
bit (an edit of one attack inside a shared group leaves the others' cells reusable; the edited
attack's cells stay stale and a run recomputes them). The note
names the recomputed cells, so the evidence for the carry-over stays with each record.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aslo.environment import git_commit, invocation_record, REPOSITORY_ROOT
from aslo.experiments.identity import PREVIOUS_SCHEMES, SCHEME, code_fingerprints


def scheme_code(scheme: int) -> dict[str, Any]:
    """A cell's ``code`` entry as the real backend wrote it under an earlier ``scheme``, computed
    from today's source (scheme 1 had no per-attack groups)."""
    from aslo.experiments.examples import EXAMPLES_FORMAT
    from aslo.experiments.runner import RUNNER_VERSION

    if scheme not in PREVIOUS_SCHEMES:
        raise ValueError(f"unknown earlier identity scheme {scheme!r}; known: {sorted(PREVIOUS_SCHEMES)}")
    return {**code_fingerprints(PREVIOUS_SCHEMES[scheme]), "examples": EXAMPLES_FORMAT, "runner": RUNNER_VERSION}


def restamp_plan(plan, previous_code: dict[str, Any], *, scheme: int, command: str | None = None) -> pd.DataFrame:
    """Carry over every stale cell of ``plan`` (a ``runner.GridPlan``) whose stored configuration
    is today's with ``code`` = ``previous_code`` (:func:`scheme_code` of ``scheme``). Returns one
    row per stale cell: dataset, model, attack, seed, ``restamped`` and, where not, ``reason``."""
    started, t0 = time.time(), time.perf_counter()
    note = {"scheme": f"{scheme} -> {SCHEME}", "commit": git_commit(REPOSITORY_ROOT),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))}
    rows = []
    for cell in plan.cells:
        if plan.states[cell].state != "stale":
            continue
        stored = plan.store.read(cell).meta.get("config")
        same_code = stored == {**plan.configs[cell], "code": previous_code}
        if same_code:
            plan.store.restamp(cell, plan.configs[cell], plan.hashes[cell], note)
        rows.append(dict(dataset=cell.dataset, model=cell.model, attack=cell.attack, seed=cell.seed, restamped=same_code,
                         reason="" if same_code else plan.states[cell].reason))
    table = pd.DataFrame(rows, columns=["dataset", "model", "attack", "seed", "restamped", "reason"])
    if table["restamped"].any():
        plan.store.append_provenance(invocation_record(
            command, started, time.perf_counter() - t0, cells_restamped=int(table["restamped"].sum()),
            identity_scheme=note["scheme"]))
    return table


def code_only_changes(plan) -> list:
    """The stale cells of ``plan`` whose stored configuration is today's but for the code fingerprints."""
    cells = []
    for cell in plan.cells:
        if plan.states[cell].state != "stale":
            continue
        stored = plan.store.read(cell).meta.get("config", {})
        today = plan.configs[cell]
        if {k: v for k, v in stored.items() if k != "code"} == {k: v for k, v in today.items() if k != "code"}:
            cells.append(cell)
    return cells


def restamp_verified(plan, models_dir, *, per_attack: int = 2, seed: int = 0, backend=None,
                     command: str | None = None, progress: bool = False) -> pd.DataFrame:
    """Carry over the cells of :func:`code_only_changes` after recomputing a sample of them, attack
    by attack.

    The sample: ``per_attack`` cells per attack (seeded with ``seed``), recomputed from the weights
    in ``models_dir`` (they must be the ones each stored cell records) with the torch thread count
    each recorded. An attack's candidates are carried over only if every recomputed record of that
    attack is identical to the stored one; otherwise none of them is. Returns one row per recomputed
    cell: dataset, model, attack, ``identical`` and, in ``restamped``, whether its attack's
    candidates were carried over (``candidates`` holds their number).
    """
    from aslo.experiments.backend import Backend
    from aslo.experiments.executor import CellExecutor, torch_threads
    from aslo.experiments.recheck import compare_records

    if isinstance(per_attack, bool) or not isinstance(per_attack, int) or per_attack < 1:
        raise ValueError(f"per_attack must be a positive integer, got {per_attack!r}")
    started, t0 = time.time(), time.perf_counter()
    candidates = code_only_changes(plan)
    columns = ["dataset", "model", "attack", "identical", "restamped", "candidates"]
    if not candidates:
        return pd.DataFrame(columns=columns)
    rng = np.random.default_rng(seed)
    by_attack: dict[str, list] = {}
    for cell in candidates:  # by the task's attack (a map reading is an attack with overrides)
        by_attack.setdefault(plan.tasks[cell].attack, []).append(cell)
    executor = CellExecutor(plan.profile, plan.store, Path(models_dir), backend or Backend())

    def recomputed_identical(cell) -> bool:
        # the same weights and, recomputed with the stored thread count, the same records bit for bit
        if progress:
            print(f"recomputing {cell.label()}", flush=True)
        stored = plan.store.read(cell)
        with torch_threads(stored.meta.get("torch_threads")):
            _, records, meta, _ = executor.attack(plan.tasks[cell])
        return meta.get("model", {}).get("weights_sha256") == stored.meta.get("model", {}).get("weights_sha256") \
            and compare_records(stored.records, records)["identical"]

    stamp = {"commit": git_commit(REPOSITORY_ROOT), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))}
    rows, carried, recomputed = [], 0, 0
    for group in by_attack.values():
        sample = [group[i] for i in sorted(rng.choice(len(group), size=min(per_attack, len(group)), replace=False))]
        checked = [dict(dataset=c.dataset, model=c.model, attack=c.attack, identical=recomputed_identical(c))
                   for c in sample]
        verified = all(row["identical"] for row in checked)
        if verified:
            note = {"verified_refactor": [f"{r['dataset']}/{r['model']}/{r['attack']}" for r in checked], **stamp}
            for cell in group:
                plan.store.restamp(cell, plan.configs[cell], plan.hashes[cell], note)
            carried, recomputed = carried + len(group), recomputed + len(checked)
        rows += [{**row, "restamped": verified, "candidates": len(group)} for row in checked]
    if carried:
        plan.store.append_provenance(invocation_record(command, started, time.perf_counter() - t0,
                                                       cells_restamped=carried, verified_by_recomputing=recomputed))
    return pd.DataFrame(rows, columns=columns)
