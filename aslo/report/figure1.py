"""Figure 1: ASR (upper panel) and mean success distance (lower panel) of the Part 2 attacks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from aslo.report.aggregate import aggregate, validate_summaries
from aslo.report.figures import save_figure
from aslo.report.labels import MODEL_ORDER, PART2_ATTACKS

DISTANCE_NAMES = {"l2": "L2", "l2_squared": "squared L2", "linf": "L-inf", "l0": "L0"}


def figure1_data(summaries: pd.DataFrame, attacks=PART2_ATTACKS) -> pd.DataFrame:
    """Aggregate Part 2 cells for Figure 1: per model and attack, ASR and mean success distance.

    Same aggregation as Table 1 (mean over datasets of the per-dataset mean over seeds). Returns
    columns model, attack, asr, mean_success_distance, n_datasets, n_seeds for the attacks
    present; raises ValueError when none of ``attacks`` was run.
    """
    attacks = tuple(str(a).upper() for a in attacks)
    frame = validate_summaries(summaries, ("asr", "mean_success_distance"))
    frame = frame[frame["attack"].isin(attacks)]
    if frame.empty:
        raise ValueError(f"summaries has none of the Part 2 attacks {list(attacks)}")
    agg = aggregate(frame, ("asr", "mean_success_distance")).rename(columns={"model_label": "model"})
    agg["model"] = pd.Categorical(agg["model"], categories=list(MODEL_ORDER), ordered=True)
    agg["attack"] = pd.Categorical(agg["attack"], categories=list(attacks), ordered=True)
    agg = agg.sort_values(["model", "attack"]).reset_index(drop=True)
    agg["model"] = agg["model"].astype(str)
    agg["attack"] = agg["attack"].astype(str)
    return agg


def figure1_table(summaries: pd.DataFrame, attacks=PART2_ATTACKS) -> pd.DataFrame:
    """:func:`figure1_data` for a reader: model, attack, ASR, mean success distance, and the
    paper's value where its text states one (NaN elsewhere), in columns named in words."""
    from aslo.report.paper import paper_figure1_points

    data = figure1_data(summaries, attacks)
    stated = paper_figure1_points()
    stated = stated[stated["metric"] == "mean_success_distance"].set_index(["model", "attack"])["value"]
    data["paper"] = [stated.get((m, a), np.nan) for m, a in zip(data["model"], data["attack"])]
    return data.rename(columns={"asr": "ASR", "mean_success_distance": "mean success distance",
                                "paper": "paper (text)"})[["model", "attack", "ASR", "mean success distance",
                                                            "paper (text)"]]


def distance_name(summaries: pd.DataFrame, default: str = "L2") -> str:
    """Name the distance of the summaries (their ``distance`` column if present, else ``default``)."""
    if "distance" in summaries.columns and summaries["distance"].nunique() == 1:
        raw = str(summaries["distance"].iloc[0])
        return DISTANCE_NAMES.get(raw.lower(), raw)
    return default


def plot_figure1(summaries: pd.DataFrame, out_dir=None, *, attacks=PART2_ATTACKS, distance=None,
                 stem: str = "figure1", dpi: int = 200, paper_points: bool = True) -> Figure:
    """Draw Figure 1 and, when ``out_dir`` is given, save ``figure1.png`` (dpi >= 150) and ``.svg``.

    Upper panel: ASR; lower panel: mean success distance (named ``distance``, default taken from
    the summaries' ``distance`` column or "L2"); grouped bars per model, one bar per attack.
    With ``paper_points``, the values the paper states in its text
    (:func:`aslo.report.paper.paper_figure1_points`) are marked on their bars as black diamonds
    labelled "paper (text)". Returns the matplotlib Figure (not registered with pyplot; a notebook
    displays it by ending a
    cell with it). The saved files are at :func:`figure1_paths` ``(out_dir, stem)``.
    """
    if dpi < 150:
        raise ValueError(f"dpi must be >= 150 for print, got {dpi}")
    data = figure1_data(summaries, attacks)
    distance = distance or distance_name(summaries)
    models = [m for m in MODEL_ORDER if m in set(data["model"])]
    shown = [a for a in (str(x).upper() for x in attacks) if a in set(data["attack"])]
    values = data.set_index(["model", "attack"])
    fig = Figure(figsize=(8.0, 6.4), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(models))
    width = 0.8 / len(shown)
    colours = [f"C{i}" for i in range(len(shown))]
    hatches = ["", "//", "xx", "", "//", "xx"]  # GM_PGD family vs CW family stays readable in grey
    panels = (("asr", "ASR (success / attempts)"), ("mean_success_distance", f"Mean success distance ({distance})"))
    for ax, (column, label) in zip(axes, panels):
        for i, attack in enumerate(shown):
            heights = [values[column].get((m, attack), np.nan) for m in models]
            ax.bar(x + (i - (len(shown) - 1) / 2) * width, heights, width, label=attack,
                   color=colours[i], hatch=hatches[i % len(hatches)], edgecolor="black", linewidth=0.5)
        ax.set_ylabel(label)
        ax.grid(axis="y", linewidth=0.4, alpha=0.6)
        ax.set_axisbelow(True)
    if paper_points:
        _mark_paper_points(axes, models, shown, width)
    axes[0].set_ylim(0, 1.05)
    axes[1].set_ylim(bottom=0)
    axes[1].set_xticks(x, models)
    axes[1].set_xlabel("Model")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=len(shown), fontsize="small", title="Attack")
    if out_dir is not None:
        save_figure(fig, out_dir, stem, dpi=dpi)
    return fig


def _mark_paper_points(axes, models, shown, width) -> None:
    """Black diamonds at the paper's stated values, on the bar of the same model and attack."""
    from aslo.report.paper import paper_figure1_points

    panel = {"asr": axes[0], "mean_success_distance": axes[1]}
    labelled = False
    for row in paper_figure1_points().itertuples():
        if row.model not in models or row.attack not in shown or row.metric not in panel:
            continue
        x = models.index(row.model) + (shown.index(row.attack) - (len(shown) - 1) / 2) * width
        panel[row.metric].plot([x], [row.value], marker="D", color="black", markersize=6, linestyle="none",
                               label=None if labelled else "paper (text)", zorder=5)
        panel[row.metric].annotate(f"{row.value:g}", (x, row.value), textcoords="offset points", xytext=(0, 6),
                                   ha="center", fontsize="x-small")
        labelled = True
    if labelled:
        axes[1].legend(loc="upper right", fontsize="small")


def figure1_paths(out_dir, stem: str = "figure1") -> dict[str, Path]:
    """Where :func:`plot_figure1` saves the figure: ``{"png": ..., "svg": ...}``."""
    return {kind: Path(out_dir) / f"{stem}.{kind}" for kind in ("png", "svg")}
