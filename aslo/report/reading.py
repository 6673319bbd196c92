"""One-paragraph readings of the results, generated from the numbers (never typed)."""

from __future__ import annotations

import pandas as pd

from aslo.report.claims import NOT_EVALUATED, REPRODUCED


def read_claims(claims: pd.DataFrame) -> str:
    """Summarise a claims frame (``evaluate_claims`` and friends) as Markdown sentences.

    One sentence per claim: for how many models it was reproduced, which models it failed for,
    and the numbers that decided the first failure, so a reader sees the verdict and its evidence.
    """
    missing = {"claim", "model", "verdict", "numbers"} - set(claims.columns)
    if missing:
        raise ValueError(f"claims frame lacks column(s) {sorted(missing)}")
    if claims.empty:
        return "No claim could be checked: the results hold none of the attacks the rules need."
    sentences = []
    for claim, rows in claims.groupby("claim", sort=False):
        evaluated = rows[rows["verdict"] != NOT_EVALUATED]
        if evaluated.empty:
            sentences.append(f"**{claim}**: not evaluated (an attack it needs was not run).")
            continue
        held = evaluated[evaluated["verdict"] == REPRODUCED]
        failed = evaluated[evaluated["verdict"] != REPRODUCED]
        text = f"**{claim}**: reproduced for {len(held)} of {len(evaluated)} model(s)"
        if failed.empty:
            text += "."
        else:
            first = failed.iloc[0]
            text += (f"; not for {', '.join(failed['model'])} "
                     f"(e.g. {first['model']}: {first['numbers']}).")
        sentences.append(text)
    return "\n\n".join(sentences)
