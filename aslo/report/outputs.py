"""Write every report artefact of one profile's stored results: Table 1, Figure 1, the comparison
with the paper, the claims' verdicts with their intervals, and read the verdicts back.

``aslo report`` and the book's chapter "The paper versus ours" call :func:`write_report` (the
only writer of the verdict files); later chapters read them with :func:`read_verdicts`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from aslo.report.claims import paper_point_estimates, point_summary
from aslo.report.figure1 import figure1_paths, plot_figure1
from aslo.report.labels import PART1_COLUMNS, PART2_ATTACKS
from aslo.report.paper import compare_with_paper
from aslo.report.stored import StoredResults
from aslo.report.table1 import build_table1, write_table1
from aslo.report.uncertainty import verdicts_of
from aslo.writable import require_writable_dir

#: Per comparison: the bootstrap interval, margin, verdict and point estimate (INTERVAL_COLUMNS).
INTERVALS_FILE = "claim_intervals.csv"
#: Per (claim, model): the verdict, its intervals in words and the point estimate (VERDICT_COLUMNS).
VERDICTS_FILE = "claims.csv"
#: Per (claim, model) of the paper's own Table 1: point estimates only (it prints no intervals).
PAPER_FILE = "paper_claims.csv"
#: The stored results' coverage note (which cells are missing), for the pages.
COVERAGE_FILE = "coverage.md"


def write_report(stored: StoredResults, out_dir, *, n_boot: int = 2000, seed: int = 0) -> dict[str, Path]:
    """Write the artefacts the stored results allow into ``out_dir`` and return their paths.

    ``stored`` comes from :func:`aslo.report.stored.read_results` with ``records=True``. Part 1
    cells give table1.{csv,md,html} and paper_comparison.csv, Part 2 cells figure1.{png,svg};
    always: :data:`INTERVALS_FILE` and :data:`VERDICTS_FILE` (the claims' verdicts, "not
    evaluated" where an attack is not stored), :data:`PAPER_FILE` (point estimates on the
    paper's Table 1) and :data:`COVERAGE_FILE`.
    """
    out = require_writable_dir(out_dir, "report folder")
    if not isinstance(stored, StoredResults):
        raise TypeError(f"write_report expects the StoredResults of read_results, got {type(stored).__name__}")
    summaries = stored.summaries
    out.mkdir(parents=True, exist_ok=True)
    attacks = set(summaries["attack"].astype(str).str.upper()) if "attack" in summaries.columns else set()
    if not attacks & (set(PART1_COLUMNS) | set(PART2_ATTACKS)):
        raise ValueError(f"the stored results hold no Part 1 or Part 2 attack (attacks: {sorted(attacks)})")
    paths: dict[str, Path] = {}
    if attacks & set(PART1_COLUMNS):
        table = build_table1(summaries)
        paths.update({f"table1_{k}": p for k, p in write_table1(table, out).items()})
        paths["paper_comparison"] = out / "paper_comparison.csv"
        compare_with_paper(table).to_csv(paths["paper_comparison"], index=False)
    if attacks & set(PART2_ATTACKS):
        plot_figure1(summaries, out)
        paths.update({f"figure1_{k}": p for k, p in figure1_paths(out).items()})
    intervals, verdicts, _ = verdicts_of(stored, n_boot=n_boot, seed=seed)
    paths["claim_intervals"] = out / INTERVALS_FILE
    intervals.to_csv(paths["claim_intervals"], index=False)
    paths["claims"] = out / VERDICTS_FILE
    verdicts.to_csv(paths["claims"], index=False)
    paths["paper_claims"] = out / PAPER_FILE
    point_summary(paper_point_estimates()).to_csv(paths["paper_claims"], index=False)
    paths["coverage"] = out / COVERAGE_FILE
    paths["coverage"].write_text(stored.coverage_note() + "\n")
    return paths


def read_verdicts(out_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(intervals, verdicts) written by :func:`write_report` into ``out_dir``; nothing is computed."""
    folder = Path(out_dir)
    missing = [name for name in (INTERVALS_FILE, VERDICTS_FILE) if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"no claim verdicts in {folder} (missing {', '.join(missing)}): run `aslo report "
                                "--profile P --out-dir DIR` or the chapter 'The paper versus ours' first")
    intervals = pd.read_csv(folder / INTERVALS_FILE)
    intervals["parts"] = intervals["parts"].fillna("")  # an empty text is read back as NaN
    return intervals, pd.read_csv(folder / VERDICTS_FILE)
