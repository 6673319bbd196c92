"""Facts the book states about the profiles, generated from the profile files so they cannot drift."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def profile_facts() -> pd.DataFrame:
    """One row per built-in profile: datasets, models, series, attack budget, seeds, cells."""
    from aslo.attacks import get_attack_config
    from aslo.experiments import PROFILES, grid_cells, load_profile

    rows = []
    for name in PROFILES:
        prof = load_profile(name)
        config = get_attack_config("AS_CW", **prof.attack_kwargs("AS_CW"))
        rows.append({
            "profile": prof.name,
            "datasets": ", ".join(prof.datasets) if len(prof.datasets) <= 6 else f"{len(prof.datasets)} UCR datasets",
            "models": ", ".join(prof.models),
            "series per dataset": str(prof.samples) if prof.samples else "whole test set",
            "attack budget": f"{config.steps} Adam steps at lr {config.lr:g}",
            "regulariser weight": (f"{config.reg_coef:g} ({config.objective_scaling.replace('_', ' ')}: "
                                   f"{config.effective_reg_coef:g} per series)"),
            "seeds": len(prof.seeds),
            "attack cells": len(grid_cells(prof)),
        })
    return pd.DataFrame(rows)


def write_profile_facts(out_dir) -> Path:
    """Write :func:`profile_facts` to ``<out_dir>/profiles.csv`` (the reproduce chapter includes it)."""
    path = Path(out_dir) / "profiles.csv"
    profile_facts().to_csv(path, index=False)
    return path


#: Committed benchmark tables the reproduce chapter includes (under ``benchmarks/results/``).
PORTABILITY_TABLES = ("float_portability.csv", "recheck_tolerance_summary.csv")


def write_portability_facts(out_dir) -> list[Path]:
    """Copy the committed portability measurements into ``out_dir`` for the reproduce chapter.

    They are measured once by ``benchmarks/float_portability.py`` and
    ``benchmarks/recheck_tolerance.py`` (their ``.md`` files name the machine and commit); a table
    that is missing (a package installed without its repository) is replaced by a one-row note."""
    from aslo.environment import REPOSITORY_ROOT

    source = REPOSITORY_ROOT / "benchmarks" / "results"
    written = []
    for name in PORTABILITY_TABLES:
        target = Path(out_dir) / name
        if (source / name).is_file():
            target.write_bytes((source / name).read_bytes())
        else:
            pd.DataFrame({"note": [f"benchmarks/results/{name} is not in this installation"]}).to_csv(target, index=False)
        written.append(target)
    return written
