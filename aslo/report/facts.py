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
