"""Table 1: Part 1 (CW loss with ASL0, L1, L2 or no regulariser) per model."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from aslo.report.aggregate import aggregate, validate_summaries
from aslo.report.labels import METRIC_COLUMNS, METRICS, MODEL_ORDER, PART1_COLUMNS, REGULARISERS
from aslo.report.tables import TABLE_CLASS

AGGREGATION = (
    "each cell is the mean over datasets of the per-dataset mean over seeds "
    "(unweighted; NaN distances of cells without successes or failures are skipped)"
)


def build_table1(summaries: pd.DataFrame) -> pd.DataFrame:
    """Build Table 1 from cell summaries (one row per profile/dataset/model/attack/seed).

    Rows: (model, metric) for the models present, in the paper's order (INCEPTION, ResNet18,
    MACNN, LSTMFCN) and metrics ASR, Mean Success Distance, Mean Failure Distance, Overall Mean
    Distance, duration, close to 0. Columns: ASL0, L1, L2, No Reg. (attacks AS_CW, CW_L1,
    CW_L2, CW). Aggregation: for each model and attack, the mean over datasets of the
    per-dataset mean over seeds. A regulariser that was not run is NaN. Rows of other attacks
    are ignored. ``table.attrs`` records the aggregation and the dataset/seed counts.
    """
    frame = validate_summaries(summaries, tuple(METRIC_COLUMNS.values()))
    part1 = frame[frame["attack"].isin(PART1_COLUMNS)].copy()
    if part1.empty:
        raise ValueError(
            f"summaries has no Part 1 attack (one of {sorted(PART1_COLUMNS)}); "
            f"attacks present: {sorted(frame['attack'].unique())}"
        )
    part1["regulariser"] = part1["attack"].map(PART1_COLUMNS)
    clashing = part1.groupby(["model_label", "regulariser"])["attack"].nunique()
    if (clashing > 1).any():
        model, reg = clashing[clashing > 1].index[0]
        raise ValueError(f"{model}: several attacks map to the {reg!r} column (an alias and its target)")
    part1["attack"] = part1["regulariser"]  # aggregate per Table 1 column
    agg = aggregate(part1, tuple(METRIC_COLUMNS.values()))
    models = [m for m in MODEL_ORDER if m in set(agg["model_label"])]
    index = pd.MultiIndex.from_product([models, list(METRICS)], names=["model", "metric"])
    table = pd.DataFrame(np.nan, index=index, columns=list(REGULARISERS))
    table.columns.name = "regulariser"
    for row in agg.itertuples(index=False):
        for metric, column in METRIC_COLUMNS.items():
            table.loc[(row.model_label, metric), row.attack] = getattr(row, column)
    table.attrs.update(
        aggregation=AGGREGATION,
        n_datasets=int(part1["dataset"].nunique()),
        datasets=sorted(part1["dataset"].unique()),
        seeds=sorted(int(s) for s in part1["seed"].unique()),
    )
    return table


def _check_table(table: pd.DataFrame) -> None:
    if not isinstance(table, pd.DataFrame) or list(table.index.names) != ["model", "metric"]:
        raise ValueError("expected a Table 1 frame from build_table1 (index levels model, metric)")
    missing = [c for c in REGULARISERS if c not in table.columns]
    if missing:
        raise ValueError(f"Table 1 frame lacks column(s) {missing}")


def format_value(value: float, digits: int = 2) -> str:
    """Format a table value the way the paper prints it (fixed decimals; '-' for missing)."""
    return "-" if pd.isna(value) else f"{value:.{digits}f}"


def table1_markdown(table: pd.DataFrame, digits: int = 2) -> str:
    """Render Table 1 as a GitHub/MyST Markdown pipe table."""
    _check_table(table)
    header = ["Model", "Metric", *REGULARISERS]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * len(REGULARISERS)) + "|"]
    previous = None
    for (model, metric), row in table.iterrows():
        shown = model if model != previous else ""
        previous = model
        cells = [shown, metric, *(format_value(row[c], digits) for c in REGULARISERS)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def table1_html(table: pd.DataFrame, digits: int = 2, paper: pd.DataFrame | None = None) -> str:
    """Render Table 1 as an HTML table laid out as the paper prints it (model cells span their
    metric rows). With ``paper`` (:func:`aslo.report.paper.paper_table1`), every cell also shows
    the paper's value and our difference from it beneath ours."""
    _check_table(table)
    out = [f'<table class="{TABLE_CLASS} aslo-table1">']
    if paper is not None:
        out.append("<caption>Ours, with the paper's value and our difference (ours - paper) beneath</caption>")
    out.append("<thead><tr><th>Model</th><th>Metric</th>")
    out += [f"<th>{html.escape(c)}</th>" for c in REGULARISERS]
    out.append("</tr></thead><tbody>")
    for model in table.index.get_level_values("model").unique():
        block = table.loc[model]
        for i, (metric, row) in enumerate(block.iterrows()):
            out.append("<tr>")
            if i == 0:
                out.append(f'<th rowspan="{len(block)}">{html.escape(model)}</th>')
            out.append(f'<td class="text">{html.escape(metric)}</td>')
            for column in REGULARISERS:
                cell = format_value(row[column], digits)
                if paper is not None:
                    theirs = paper.loc[(model, metric), column] if (model, metric) in paper.index else np.nan
                    gap = "" if pd.isna(theirs) or pd.isna(row[column]) else f" ({row[column] - theirs:+.{digits}f})"
                    cell += f'<span class="paper">paper {format_value(theirs, digits)}{gap}</span>'
                out.append(f'<td class="num">{cell}</td>')
            out.append("</tr>")
    out.append("</tbody></table>")
    return "\n".join(out) + "\n"


def write_table1(table: pd.DataFrame, out_dir, stem: str = "table1") -> dict[str, Path]:
    """Write Table 1 as CSV (full precision), Markdown and HTML (two decimals) into ``out_dir``.

    Returns the written paths keyed by format ("csv", "md", "html").
    """
    _check_table(table)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / f"{stem}.csv", "md": out / f"{stem}.md", "html": out / f"{stem}.html"}
    table.to_csv(paths["csv"])
    paths["md"].write_text(table1_markdown(table), encoding="utf-8")
    paths["html"].write_text(table1_html(table), encoding="utf-8")
    return paths
