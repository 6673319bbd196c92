"""The 'beyond the paper' chapter: the paper's AS_CW, our sparse attacks and the peers on the book
profile's first dataset, as cells of one more grid (:func:`beyond_profile`) that ``aslo book``
computes through the same plan, executor and store as the profile's own grid; here they are only
read: robustness curves, the sparsity each attack reaches, what it costs."""

from __future__ import annotations

import math

import pandas as pd

#: Series per model in the comparison (at most the profile's subset).
BEYOND_SERIES = 8
#: The columns of :func:`comparison_table` and their words.
COMPARISON_COLUMNS = {"model": "model", "attack": "attack", "asr": "ASR", "median_l0": "median L0",
                      "mean_l2": "mean L2", "asr@5%": "ASR at 5 %", "asr@10%": "ASR at 10 %",
                      "seconds_per_series": "seconds per series", "passes_per_series": "passes per series"}


def beyond_attacks() -> tuple[str, ...]:
    """AS_CW (the paper's attack, with the profile's settings), our L0 attacks in the peers' box and
    every L0 peer installed here."""
    from aslo.peers import available_peers
    from aslo.peers.l0 import L0_ATTACKS

    installed = set(available_peers())
    return ("AS_CW",) + tuple(n for n, a in L0_ATTACKS.items() if a.side == "ours" or n in installed)


def beyond_profile(profile, samples: int = BEYOND_SERIES):
    """The comparison's grid: the profile's first dataset, its models, seed and training (so its
    checkpoints serve), ``samples`` of its series (at most its subset), :func:`beyond_attacks` at
    the profile's AS_CW step budget (AS_CW with all the profile's settings), stored examples."""
    from aslo.experiments.profiles import as_profile, check_profile_layers

    prof = as_profile(profile)
    if samples < 1:
        raise ValueError(f"the number of series must be >= 1, got {samples}")
    paper = dict(prof.attack_kwargs("AS_CW"))
    return check_profile_layers(prof.replace(
        name=f"{prof.name}_beyond", datasets=prof.datasets[:1], seeds=prof.seeds[:1],
        description=f"beyond the paper: {prof.datasets[0]}, the paper's AS_CW, our L0 attacks and the peers",
        samples=min(samples, prof.samples) if prof.samples else samples, attacks=beyond_attacks(),
        attack={"steps": int(paper.get("steps", 1000))}, attack_overrides={"AS_CW": paper},
        series="all", store_examples=True, variants={}))


def beyond_records(profile, results_dir, *, runs_dir=None, compute: bool = False) -> pd.DataFrame:
    """Per-series records of the comparison's cells (model, attack, then the record's columns),
    with each cell's seconds and passes per series. Missing cells are computed first through the
    pipeline when ``compute`` is true (``aslo book`` has computed them already), else KeyError
    names the first one."""
    from aslo.experiments import plan_grid, run_plan
    from aslo.robustness import best_l0

    plan = plan_grid(beyond_profile(profile), results_dir=results_dir)
    if compute and plan.pending:
        run_plan(plan, runs_dir=runs_dir, progress=False, command="aslo.report.beyond.beyond_records(compute=True)")
    parts = []
    for cell in plan.cells:
        record = plan.store.read(cell, plan.hashes[cell])
        summary = record.summary
        passes = summary.get("forwards_per_series", math.nan) + summary.get("backwards_per_series", math.nan)
        # every cell gets best_l0 (the paper's attacks record only l0): concatenated records then
        # never hold a success without it
        parts.append(record.records.assign(best_l0=best_l0(record.records), dataset=cell.dataset, model=cell.model,
                                           attack=cell.attack,
                                           seconds_per_series=summary["duration"] / max(len(record.records), 1),
                                           passes_per_series=passes))
    return pd.concat(parts, ignore_index=True)


def comparison_table(records: pd.DataFrame, n_features: int) -> pd.DataFrame:
    """One row per (model, attack): ASR, median L0 of successes, mean L2 of successes, ASR within
    5 and 10 % of the series, seconds and (L0 attacks) forward + backward passes per series."""
    from aslo.robustness import curve_points, median_success_l0

    rows = []
    for (model, attack), group in records.groupby(["model", "attack"], sort=False):
        success = group["success"].astype(bool)
        rows.append(dict(model=model, attack=attack, asr=float(success.mean()), median_l0=median_success_l0(group),
                         mean_l2=float(group.loc[success, "l2"].mean()) if success.any() else math.nan,
                         **curve_points(group, n_features, fractions=(0.05, 0.1)),
                         seconds_per_series=float(group["seconds_per_series"].iloc[0]),
                         passes_per_series=float(group["passes_per_series"].iloc[0])))
    return pd.DataFrame(rows)


def comparison_curves(records: pd.DataFrame, n_features: int) -> dict[str, dict[str, pd.DataFrame]]:
    """Per model, per attack: the robustness curve (ASR against the L0 budget)."""
    from aslo.robustness import robustness_curve

    return {model: {attack: robustness_curve(g, n_features) for attack, g in group.groupby("attack", sort=False)}
            for model, group in records.groupby("model", sort=False)}


def plot_comparison_curves(curves: dict, dataset: str):
    """One panel per model (two per row): ASR against the fraction of changed time steps, per attack."""
    import matplotlib.pyplot as plt

    from aslo.robustness import plot_robustness_curves

    columns = min(2, len(curves))
    rows = -(-len(curves) // columns)
    # two panels per row at 7 inches: legible at the book's text width
    fig, axes = plt.subplots(rows, columns, figsize=(7.0, 3.1 * rows), squeeze=False)
    for ax, (model_name, model_curves) in zip(axes.ravel(), curves.items()):
        plot_robustness_curves(model_curves, ax=ax, title=f"{dataset}, {model_name}")
    for ax in axes.ravel()[len(curves):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def sparsity_table(table: pd.DataFrame, length: int) -> pd.DataFrame:
    """Median over models of each attack's median L0 of successes, also as a share of the length."""
    sparsity = table.groupby("attack", sort=False)["median_l0"].median().to_frame("median L0 (median over models)")
    sparsity["% of the series"] = 100 * sparsity.iloc[:, 0] / length
    return sparsity

