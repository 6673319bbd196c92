"""The 'beyond the paper' chapter's computations: robustness curves of our attacks and the peers
on a profile's first dataset, the sparsity they reach, and the stored peers benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class BeyondComparison:
    """Per-attack rows for every model (``table``), robustness curves per model, the series length."""

    dataset: str
    table: pd.DataFrame
    curves: dict
    length: int


def beyond_series_count(profile, requested: int | None) -> int | None:
    """Series per model: ``requested`` capped by the profile's subset size (None: the profile's)."""
    if requested is None:
        return profile.samples or None
    if requested < 1:
        raise ValueError(f"the number of series must be >= 1, got {requested}")
    return min(requested, profile.samples) if profile.samples else requested


def compare_on_first_dataset(profile, *, runs_dir, samples: int | None = None, peers=None) -> BeyondComparison:
    """Our attacks (paper settings, exact-zero variants, the strongest) and the installed peers on
    the profile's first dataset, every model, the same seeded series and the same step budget.

    ``AS_CW_SPARSE_SEARCH`` is left out here (``benchmarks/peers.py`` measures it): it costs the
    most and is neither the paper's attack nor our strongest."""
    import torch

    from aslo.experiments import select_samples
    from aslo.peers import BEST, REFERENCE, available_peers, compare_on
    from aslo.report.models import trained_model_for

    peers = available_peers() if peers is None else tuple(peers)
    paper_kwargs = dict(profile.attack_kwargs("AS_CW"))
    steps = int(paper_kwargs.pop("steps", 1000))
    dataset_name = profile.datasets[0]
    tables, curves, length = [], {}, 0
    for model_name in profile.models:
        data, net, _ = trained_model_for(profile, dataset_name, model_name, runs_dir=runs_dir)
        idx = select_samples(int(len(data.y_test)), beyond_series_count(profile, samples), profile.sample_seed)
        x, y = torch.as_tensor(data.x_test[idx]), torch.as_tensor(data.y_test[idx])
        table, curves[model_name] = compare_on(net, x, y, steps=steps, peers=peers, paper_kwargs=paper_kwargs,
                                               seed=profile.seeds[0],
                                               ours=("AS_CW", "AS_CW_SPARSE", REFERENCE, BEST))
        tables.append(table.assign(dataset=dataset_name, model=model_name))
        length = int(data.x_test.shape[-1])
    return BeyondComparison(dataset_name, pd.concat(tables, ignore_index=True), curves, length)


def plot_comparison_curves(comparison: BeyondComparison):
    """One panel per model (two per row): ASR against the fraction of changed time steps, per attack."""
    import matplotlib.pyplot as plt

    from aslo.robustness import plot_robustness_curves

    columns = min(2, len(comparison.curves))
    rows = -(-len(comparison.curves) // columns)
    # two panels per row at 7 inches: legible at the book's text width
    fig, axes = plt.subplots(rows, columns, figsize=(7.0, 3.1 * rows), squeeze=False)
    for ax, (model_name, model_curves) in zip(axes.ravel(), comparison.curves.items()):
        plot_robustness_curves(model_curves, ax=ax, title=f"{comparison.dataset}, {model_name}")
    for ax in axes.ravel()[len(comparison.curves):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def sparsity_table(comparison: BeyondComparison) -> pd.DataFrame:
    """Median over models of each attack's median L0 of successes, also as a share of the length."""
    sparsity = comparison.table.groupby("attack", sort=False)["median_l0"].median().to_frame(
        "median L0 (median over models)")
    sparsity["% of the series"] = 100 * sparsity.iloc[:, 0] / comparison.length
    return sparsity


def stored_peers_benchmark(path) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """The table ``benchmarks/peers.py`` wrote (None if absent) and the goal check per cell.

    The goal is checked for our strongest attack in the table (``BEST``, else ``REFERENCE`` in
    a table written before it existed) against FMN-L0 and sigma-zero. Without the table, or
    without those peers in it, the goal frame holds one ``note`` saying why.
    """
    from aslo.peers import BEST, GOAL_PEERS, REFERENCE, goal_check

    path = Path(path)
    if not path.is_file():
        return None, pd.DataFrame({"note": [f"no benchmark table at {path}; run benchmarks/peers.py"]})
    bench = pd.read_csv(path)
    attacks = set(bench["attack"])
    if not attacks & set(GOAL_PEERS):
        return bench, pd.DataFrame({"note": ["the benchmark ran without FMN-L0 and sigma-zero (peers not installed)"]})
    ours = BEST if BEST in attacks else REFERENCE
    return bench, goal_check(bench, ours=ours).assign(ours=ours)
