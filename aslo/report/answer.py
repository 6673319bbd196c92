"""The book's first page: the answer to "do the paper's claims hold?", generated from the verdicts.

:func:`write_answer` runs after the notebooks (``aslo book``) and writes ``book/executed/answer.md``,
which the first page includes. Every sentence comes from files the chapters wrote or from the
committed evidence; the verdicts are those of the chapter "The paper versus ours" (one writer,
:func:`aslo.report.outputs.write_report`), so the first page cannot disagree with it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from aslo.report.claims import CLAIMS, NOT_EVALUATED, SUPPORTED, CONTRADICTED
from aslo.report.verdict_views import answer_lines, verdict_matrix, verdict_matrix_html

#: The file the first page includes, relative to the executed-notebook folder.
ANSWER_FILE = "answer.md"
#: Written by the archive chapter: the archive share's verdicts and its coverage.
ARCHIVE_VERDICTS_FILE = "archive_claims.csv"
ARCHIVE_COVERAGE_FILE = "archive_coverage.md"
#: Written by the archive chapter where the literal-reading slice (profile ``archive_literal``) is stored.
LITERAL_COVERAGE_FILE = "archive_literal_coverage.md"
#: Where the chapters are, for links (paths from the book's root).
CHAPTERS = {"verdicts": "/book/executed/05_paper_vs_ours", "map": "/book/executed/07_where_claims_hold",
            "archive": "/book/executed/08_archive", "table1": "/book/executed/03_part1_table1",
            "figure1": "/book/executed/04_part2_figure1", "reproduce": "/book/reproduce",
            "deviations": "/book/deviations"}


def survival_sentence(survival: pd.DataFrame) -> str:
    """How many (claim, model) verdicts stay the same across the committed runs of the default
    profile (models retrained under other thread counts and CPU kernels), and which decided ones."""
    if survival is None or survival.empty:
        return ""
    runs = [c for c in survival.columns if c not in ("claim", "model", "same in every run")]
    same = survival[survival["same in every run"] == "yes"]
    decided = same[same[runs[0]].isin([SUPPORTED, CONTRADICTED])]
    names = "; ".join(f"{r.claim.split(':')[0]} {r.model} {r[runs[0]]}" for _, r in decided.iterrows())
    return (f"**How sure.** The default profile was run {len(runs)} times, with its models retrained under other "
            f"thread counts and CPU kernels: {len(same)} of {len(survival)} (claim, model) verdicts are the same in "
            f"every run, {len(decided)} of them decided ({names or 'none'}). A verdict that flips with retraining "
            "reflects the trained models more than the attacks: read single-run verdicts with that in mind.")


def not_checked(verdicts: pd.DataFrame, profile, literal_coverage: str = "") -> list[str]:
    """What this book could not check, in words (generated from the verdicts, the profile and the
    archive chapter's note on the literal-reading slice, empty where that slice is not stored)."""
    lines = []
    matrix = verdict_matrix(verdicts)
    missing = [(c, m) for c in matrix.index for m in matrix.columns if matrix.loc[c, m] == NOT_EVALUATED]
    if missing:
        lines.append(f"{len(missing)} (claim, model) pairs are not evaluated: an attack they need was not run.")
    if getattr(profile, "samples", 0):
        lines.append(f"The paper attacks whole test sets; this run attacks {profile.samples} seeded series per dataset.")
    where = ("the fidelity map's slice and the archive share's literal slice (" + literal_coverage.rstrip(".") + ")"
             if literal_coverage else "the fidelity map's slice")
    lines.append(f"The paper's budget (1000 Adam steps at lr 1e-4) and literal lambda were run only on {where}, "
                 "not on the whole grid or the whole archive share.")
    lines.append("The paper summarises the 128-set archive; the archive share covers the datasets its rule admits "
                 "(fixed-length, installable offline, cheap enough for a 2-core CPU).")
    return lines


def answer_markdown(verdicts: pd.DataFrame, profile, budget: str, *, survival: pd.DataFrame | None = None,
                    archive_verdicts: pd.DataFrame | None = None, archive_coverage: str = "",
                    literal_coverage: str = "") -> str:
    """The first page's answer: the verdict matrix and one line per claim for this run, the
    archive share's verdicts where computed, how sure, what could not be checked, and links."""
    claims = ", ".join(f"{c.id} ({c.words})" for c in CLAIMS if c.in_paper)
    out = ["## The answer", "",
           f"*Do the paper's claims hold?* The paper makes four claims: {claims}. Each is decided per model by a "
           "paired bootstrap over the attacked series: **supported**, **contradicted** or **inconclusive** when its "
           "95 % interval does not settle it.", "",
           f"**On this run** (profile `{profile.name}`). {budget}", "",
           verdict_matrix_html(verdicts), ""]
    out += [f"- {line}" for line in answer_lines(verdicts)]
    out.append("")
    if archive_verdicts is not None and not archive_verdicts.empty:
        out += [f"**Over the archive share.** {archive_coverage}".rstrip(), "",
                verdict_matrix_html(archive_verdicts), ""]
        out += [f"- {line}" for line in answer_lines(archive_verdicts)]
        out.append("")
    else:
        out += ["**Over the archive share:** not computed in this build (see the archive chapter).", ""]
    sure = survival_sentence(survival) if survival is not None else ""
    if sure:
        out += [sure, ""]
    out += ["**Not checked here.**", ""] + [f"- {line}" for line in not_checked(verdicts, profile, literal_coverage)] + [""]
    out += [f"The evidence: the verdicts and their intervals in {{doc}}`{CHAPTERS['verdicts']}`; Table 1 beside the "
            f"paper's in {{doc}}`{CHAPTERS['table1']}`; Figure 1 in {{doc}}`{CHAPTERS['figure1']}`; the readings the "
            f"paper leaves open in {{doc}}`{CHAPTERS['map']}`; the archive share in {{doc}}`{CHAPTERS['archive']}`; "
            f"where we deviate in {{doc}}`{CHAPTERS['deviations']}`.", ""]
    return "\n".join(out)


def write_answer(outputs_dir, executed_dir, profile, *, survival_csv=None) -> Path:
    """Write ``<executed_dir>/answer.md`` from the verdict files in ``outputs_dir`` (written by the
    chapters) and the committed runs' verdict survival; return its path."""
    from aslo.report.outputs import read_verdicts
    from aslo.report.uncertainty import budget_sentence

    outputs = Path(outputs_dir)
    _, verdicts = read_verdicts(outputs)
    archive = outputs / ARCHIVE_VERDICTS_FILE
    coverage = outputs / ARCHIVE_COVERAGE_FILE
    literal = outputs / LITERAL_COVERAGE_FILE
    survival_path = Path(survival_csv) if survival_csv else outputs / "conclusions_survival.csv"
    text = answer_markdown(
        verdicts, profile, budget_sentence(profile),
        survival=pd.read_csv(survival_path) if survival_path.is_file() else None,
        archive_verdicts=pd.read_csv(archive) if archive.is_file() else None,
        archive_coverage=coverage.read_text().strip() if coverage.is_file() else "",
        literal_coverage=literal.read_text().strip() if literal.is_file() else "")
    path = Path(executed_dir) / ANSWER_FILE
    path.write_text(text, encoding="utf-8")
    return path
