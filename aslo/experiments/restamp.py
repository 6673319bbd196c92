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
"""

from __future__ import annotations

import time
from typing import Any

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
