"""Readings of the claims in sentences, generated from the numbers (never typed).

:func:`verdicts_text` says the interval verdicts (:func:`aslo.report.uncertainty.claim_verdicts`);
:func:`point_summary_text` says point estimates (:func:`aslo.report.claims.point_summary`),
labelled as such: they favour or do not favour a claim, they are not verdicts.
"""

from __future__ import annotations

import pandas as pd

from aslo.report.claims import DOES_NOT_FAVOUR, FAVOURS, NOT_EVALUATED, VERDICTS

#: The sentence that heads every point summary on a page.
POINT_LEAD = ("Point estimates, not verdicts: whether the aggregated numbers lie on the claim's side of its rule, "
              "without an interval. A verdict (supported, contradicted, inconclusive) needs the paired-bootstrap "
              "interval of the same numbers, and is reached only where the estimate lies on the side of its "
              "whole interval, so the two never say opposite things.")


def _require(frame: pd.DataFrame, columns: set[str], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = columns - set(frame.columns)
    if missing:
        raise ValueError(f"{what} lacks column(s) {sorted(missing)}")


def verdicts_text(verdicts: pd.DataFrame) -> str:
    """One Markdown sentence per claim: the models for which it is supported, contradicted,
    inconclusive or not evaluated (a frame of ``claim_verdicts``)."""
    _require(verdicts, {"claim", "model", "verdict"}, "verdicts")
    if verdicts.empty:
        return "No claim could be checked: the store holds none of the attacks the claims compare."
    sentences = []
    for claim, rows in verdicts.groupby("claim", sort=False):
        said = [f"{v} for {', '.join(rows.loc[rows['verdict'] == v, 'model'])}"
                for v in (*VERDICTS, NOT_EVALUATED) if (rows["verdict"] == v).any()]
        sentences.append(f"**{claim}**: " + "; ".join(said) + ".")
    return "\n\n".join(sentences)


def point_summary_text(summary: pd.DataFrame) -> str:
    """:data:`POINT_LEAD`, then one Markdown sentence per claim of a ``point_summary`` frame: for
    how many models the point estimate favours it, and the numbers of the first that it does not."""
    _require(summary, {"claim", "model", "point_estimate", "numbers"}, "point summary")
    if summary.empty:
        return "No claim could be estimated: the results hold none of the attacks the claims compare."
    sentences = [POINT_LEAD]
    for claim, rows in summary.groupby("claim", sort=False):
        evaluated = rows[rows["point_estimate"] != NOT_EVALUATED]
        if evaluated.empty:
            sentences.append(f"**{claim}**: not evaluated (an attack it compares was not run).")
            continue
        held = evaluated[evaluated["point_estimate"] == FAVOURS]
        failed = evaluated[evaluated["point_estimate"] == DOES_NOT_FAVOUR]
        text = f"**{claim}**: the point estimate favours it for {len(held)} of {len(evaluated)} model(s)"
        if not failed.empty:
            first = failed.iloc[0]
            text += (f"; it does not for {', '.join(failed['model'])} "
                     f"(e.g. {first['model']}: {first['numbers']})")
        sentences.append(text + ".")
    return "\n\n".join(sentences)
