"""``aslo report``: Table 1, Figure 1, the paper comparison and the claims from stored results."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add the ``report`` sub-command."""
    parser = subparsers.add_parser(
        "report",
        help="write Table 1, Figure 1, the paper comparison and the claims verdicts",
        description="Reads the stored cell results of a profile (runs nothing) and writes the report files.",
    )
    parser.add_argument("--profile", default="default", help="profile name or TOML path (default: default)")
    parser.add_argument("--results-dir", default="results", help="result store root (default: results)")
    parser.add_argument("--out-dir", default=None, help="where to write (default: <results-dir>/<profile>/report)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the stored summaries and write every report artefact; print the paths."""
    from pathlib import Path

    from aslo.report.outputs import load_summaries, write_report

    summaries = load_summaries(args.profile, args.results_dir)
    out_dir = Path(args.out_dir) if args.out_dir else Path(args.results_dir) / Path(str(args.profile)).stem / "report"
    for name, path in write_report(summaries, out_dir).items():
        print(f"{name}: {path}")
    return 0
