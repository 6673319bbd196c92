"""The paper's Table 1 (transcribed once into a CSV) and the ours-vs-paper comparison."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from aslo.report.labels import METRICS, MODEL_ORDER, REGULARISERS

PAPER_TABLE1_RESOURCE = "paper_table1.csv"
PAPER_FIGURE1_RESOURCE = "paper_figure1_text.csv"


def paper_table1(long: bool = False) -> pd.DataFrame:
    """Load the paper's Table 1.

    By default returns the same shape as :func:`aslo.report.build_table1` (index model, metric;
    columns ASL0, L1, L2, No Reg.). With ``long=True`` returns the stored rows
    (model, metric, regulariser, value, note); the note column records transcription anomalies
    (the LSTMFCN block's duplicated MACNN "Overall Mean Distance" row, dropped as a typo).
    """
    with resources.files("aslo.resources").joinpath(PAPER_TABLE1_RESOURCE).open("r", encoding="utf-8") as fh:
        rows = pd.read_csv(fh, comment="#", keep_default_na=False, na_values=[""], dtype={"note": str})
    rows["note"] = rows["note"].fillna("")
    expected = len(MODEL_ORDER) * len(METRICS) * len(REGULARISERS)
    if len(rows) != expected or rows.duplicated(["model", "metric", "regulariser"]).any():
        raise ValueError(f"{PAPER_TABLE1_RESOURCE} must hold {expected} distinct cells, found {len(rows)}")
    if long:
        return rows
    wide = rows.pivot(index=["model", "metric"], columns="regulariser", values="value")
    order = pd.MultiIndex.from_product([MODEL_ORDER, METRICS], names=["model", "metric"])
    wide = wide.reindex(index=order, columns=list(REGULARISERS)).astype(float)
    wide.attrs["notes"] = sorted({n for n in rows["note"] if n})
    return wide


def paper_figure1_points() -> pd.DataFrame:
    """The Figure 1 values the paper states in its text: columns model, attack, metric, value.

    The figure prints no numbers; its text gives Inception's mean success distance for GM_PGD
    (1.24) and AS_GM_PGD (0.54). Models use the paper's labels, attacks the registry's names.
    """
    with resources.files("aslo.resources").joinpath(PAPER_FIGURE1_RESOURCE).open("r", encoding="utf-8") as fh:
        rows = pd.read_csv(fh, comment="#")
    unknown = sorted(set(rows["model"]) - set(MODEL_ORDER))
    if unknown or list(rows.columns) != ["model", "attack", "metric", "value"]:
        raise ValueError(f"{PAPER_FIGURE1_RESOURCE}: expected columns model, attack, metric, value and the "
                         f"paper's model labels (unknown: {unknown})")
    return rows


def compare_with_paper(table: pd.DataFrame) -> pd.DataFrame:
    """Put every cell of our Table 1 beside the paper's.

    Returns one row per paper cell (model, metric, regulariser) with ``ours``, ``paper``,
    ``difference`` (ours - paper) and ``ratio`` (ours / paper; NaN when the paper prints 0).
    Cells our run did not cover (a model or regulariser not run) have ``ours`` = NaN.
    """
    if not isinstance(table, pd.DataFrame) or list(table.index.names) != ["model", "metric"]:
        raise ValueError("compare_with_paper expects the frame of build_table1 (index levels model, metric)")
    ours = table.reindex(columns=list(REGULARISERS)).stack(future_stack=True).rename("ours")
    paper = paper_table1().stack(future_stack=True).rename("paper")
    frame = pd.concat([paper, ours.reindex(paper.index)], axis=1).reset_index()
    frame = frame[["model", "metric", "regulariser", "ours", "paper"]]
    frame["difference"] = frame["ours"] - frame["paper"]
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["ratio"] = np.where(frame["paper"] != 0, frame["ours"] / frame["paper"], np.nan)
    return frame
