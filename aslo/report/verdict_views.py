"""The claims' verdicts as a reader sees them: a coloured matrix, forest plots, the first page's answer.

Everything here is drawn from the verdict and interval tables that :mod:`aslo.report.uncertainty`
derives from the claims' single definitions (:mod:`aslo.report.claims`); nothing is recomputed,
so every page shows the same verdict for the same claim and model.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from aslo.report.claims import CLAIMS, CONTRADICTED, INCONCLUSIVE, NOT_EVALUATED, SUPPORTED, claim_by_label
from aslo.report.labels import MODEL_ORDER
from aslo.report.tables import TABLE_CLASS, verdict_class

#: The verdict words in the order a summary lists them, and their colours (as in _static/aslo.css).
VERDICT_ORDER = (SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_EVALUATED)
VERDICT_COLOURS = {SUPPORTED: "#2e7d32", CONTRADICTED: "#c62828", INCONCLUSIVE: "#9e8a2b", NOT_EVALUATED: "#9e9e9e"}


def _claim_order(labels) -> list[str]:
    """The claims present, in the order of :data:`aslo.report.claims.CLAIMS`."""
    present = {claim_by_label(str(label)).label: label for label in labels}
    return [present[c.label] for c in CLAIMS if c.label in present]


def _model_order(models) -> list[str]:
    present = list(dict.fromkeys(str(m) for m in models))
    return [m for m in MODEL_ORDER if m in present] + [m for m in present if m not in MODEL_ORDER]


def verdict_matrix(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Claims (rows, in definition order) x models (columns, in the paper's order) of verdict words."""
    missing = {"claim", "model", "verdict"} - set(verdicts.columns)
    if missing:
        raise KeyError(f"verdict table lacks column(s) {sorted(missing)}")
    matrix = verdicts.pivot(index="claim", columns="model", values="verdict")
    return matrix.reindex(index=_claim_order(matrix.index), columns=_model_order(matrix.columns)).fillna(NOT_EVALUATED)


def verdict_matrix_html(verdicts: pd.DataFrame, caption: str | None = None) -> str:
    """The verdict matrix as a coloured HTML table; each cell's intervals show on hover (its title)
    and the series and datasets behind it beneath the word."""
    matrix = verdict_matrix(verdicts)
    rows = verdicts.set_index(["claim", "model"])
    out = [f'<table class="{TABLE_CLASS} aslo-verdicts">']
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append("<thead><tr><th>Claim</th>" + "".join(f"<th>{html.escape(m)}</th>" for m in matrix.columns)
               + "</tr></thead><tbody>")
    for claim in matrix.index:
        out.append(f'<tr><th>{html.escape(str(claim))}</th>')
        for model in matrix.columns:
            word = matrix.loc[claim, model]
            hover, beneath = "", ""
            if (claim, model) in rows.index:
                row = rows.loc[(claim, model)]
                hover = str(row.get("intervals", "") or "")
                if pd.notna(row.get("series")):
                    beneath = f'<span class="paper">{int(row["series"])} series, {int(row["datasets"])} dataset(s)</span>'
            out.append(f'<td class="text {verdict_class(word)}" title="{html.escape(hover)}">'
                       f"{html.escape(word)}{beneath}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "\n".join(out) + "\n"


def claim_answer(claim: str, row: pd.Series) -> str:
    """One line on one claim: its verdict across models, e.g. "supported for ResNet18;
    inconclusive for INCEPTION, MACNN, LSTMFCN"."""
    groups = {}
    for model, word in row.items():
        groups.setdefault(word, []).append(str(model))
    parts = [f"**{word}** for {', '.join(groups[word])}" for word in VERDICT_ORDER if word in groups]
    if len(groups) == 1:
        only = next(iter(groups))
        parts = [f"**{only}** for every model ({', '.join(groups[only])})"]
    return f"{claim}: " + "; ".join(parts) + "."


def answer_lines(verdicts: pd.DataFrame) -> list[str]:
    """The first page's answer: one Markdown line per claim (:func:`claim_answer`)."""
    matrix = verdict_matrix(verdicts)
    return [claim_answer(claim, matrix.loc[claim]) for claim in matrix.index]


def interval_rows(intervals: pd.DataFrame) -> pd.DataFrame:
    """The interval table for a reader: claim id, model, comparison, the compared quantity, its
    estimate and 95 % interval (in words), and the comparison's verdict."""
    rows = []
    for row in intervals.itertuples():
        rows.append({"claim": claim_by_label(row.claim).id, "model": row.model, "comparison": f"{row.a} vs {row.b}",
                     "quantity": row.quantity, "estimate": row.estimate,
                     "interval": f"[{row.ci_low:.3g}, {row.ci_high:.3g}]", "verdict": row.verdict})
    return pd.DataFrame(rows, columns=["claim", "model", "comparison", "quantity", "estimate", "interval", "verdict"])


def forest_plot(intervals: pd.DataFrame, *, level: float = 0.95, width: float = 7.0) -> Figure:
    """Forest plots of the claims' margins: one panel per claim, one line per (model, comparison),
    the point estimate and its bootstrap interval, coloured by the comparison's verdict.

    A margin >= 0 means the claim's rule holds for that comparison; the vertical line marks 0.
    ``width`` in inches (7 fits the book's text column at 100 dpi).
    """
    needed = {"claim", "model", "a", "b", "margin", "margin_low", "margin_high", "verdict"}
    if needed - set(intervals.columns):
        raise KeyError(f"interval table lacks column(s) {sorted(needed - set(intervals.columns))}")
    claims = _claim_order(intervals["claim"].unique())
    heights = [max(1, len(intervals[intervals["claim"] == c])) for c in claims]
    fig = Figure(figsize=(width, 0.8 + 0.24 * sum(heights) + 0.45 * len(claims)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(claims), 1, gridspec_kw={"height_ratios": heights}))
    for ax, claim in zip(axes, claims):
        sub = intervals[intervals["claim"] == claim].copy()
        sub["_model"] = sub["model"].map({m: i for i, m in enumerate(_model_order(sub["model"]))})
        sub = sub.sort_values(["_model", "a", "b"]).reset_index(drop=True)
        y = np.arange(len(sub))[::-1]
        for yi, row in zip(y, sub.itertuples()):
            colour = VERDICT_COLOURS.get(row.verdict, "black")
            low, high = sorted((row.margin_low, row.margin_high))
            ax.plot([low, high], [yi, yi], color=colour, linewidth=2.2, solid_capstyle="butt")
            ax.plot([row.margin], [yi], marker="o", color=colour, markersize=4.5)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(y, [f"{r.model}: {r.a} vs {r.b}" for r in sub.itertuples()], fontsize=8)
        ax.set_title(str(claim), fontsize=9.5, loc="left")
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", linewidth=0.4, alpha=0.5)
    axes[-1].set_xlabel(f"margin of the claim's rule (>= 0: the rule holds), {level:.0%} bootstrap interval", fontsize=8.5)
    handles = [axes[0].plot([], [], color=VERDICT_COLOURS[w], linewidth=2.2, label=w)[0]
               for w in (SUPPORTED, CONTRADICTED, INCONCLUSIVE)]
    fig.legend(handles=handles, loc="outside upper center", ncols=3, fontsize=8.5)
    return fig
