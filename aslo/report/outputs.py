"""Write every report artefact of one profile's summaries: Table 1, Figure 1, comparison, claims."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from aslo.report.claims import evaluate_claims, evaluate_paper_claims
from aslo.report.figure1 import figure1_paths, plot_figure1
from aslo.report.labels import PART1_COLUMNS, PART2_ATTACKS
from aslo.report.paper import compare_with_paper
from aslo.report.table1 import build_table1, write_table1
from aslo.writable import require_writable_dir


def load_summaries(profile, results_dir="results") -> pd.DataFrame:
    """Stored cell summaries of a profile (no attack is run); raises if there are none."""
    from aslo.experiments import load_results

    summaries = load_results(profile, results_dir=results_dir)
    if summaries is None or len(summaries) == 0:
        raise FileNotFoundError(
            f"no stored results for profile {profile!r} under {results_dir!s}: run `aslo run --profile ...` first"
        )
    return summaries


def write_report(summaries: pd.DataFrame, out_dir) -> dict[str, Path]:
    """Write the artefacts the summaries allow into ``out_dir`` and return their paths.

    Part 1 cells give table1.{csv,md,html} and paper_comparison.csv; Part 2 cells give
    figure1.{png,svg}; claims.csv always (verdicts "not evaluated" where an attack is missing),
    and paper_claims.csv (the same rules on the paper's own Table 1).
    """
    out = require_writable_dir(out_dir, "report folder")
    out.mkdir(parents=True, exist_ok=True)
    attacks = set(summaries["attack"].astype(str).str.upper()) if "attack" in summaries.columns else set()
    paths: dict[str, Path] = {}
    if attacks & set(PART1_COLUMNS):
        table = build_table1(summaries)
        paths.update({f"table1_{k}": p for k, p in write_table1(table, out).items()})
        paths["paper_comparison"] = out / "paper_comparison.csv"
        compare_with_paper(table).to_csv(paths["paper_comparison"], index=False)
        paths["claims"] = out / "claims.csv"
        evaluate_claims(summaries).to_csv(paths["claims"], index=False)
    if attacks & set(PART2_ATTACKS):
        plot_figure1(summaries, out)
        paths.update({f"figure1_{k}": p for k, p in figure1_paths(out).items()})
    if not paths:
        raise ValueError(f"summaries hold no Part 1 or Part 2 attack (attacks: {sorted(attacks)})")
    paths["paper_claims"] = out / "paper_claims.csv"
    evaluate_paper_claims().to_csv(paths["paper_claims"], index=False)
    return paths
