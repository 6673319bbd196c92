"""``aslo report``: Table 1, Figure 1, the paper comparison and the claims from stored results."""

from __future__ import annotations

import argparse

from aslo.cli.options import add_store_options, results_dir


def register(subparsers) -> None:
    """Add the ``report`` sub-command."""
    parser = subparsers.add_parser(
        "report",
        help="write Table 1, Figure 1, the paper comparison and the claims verdicts",
        description="Reads the stored cell results of a profile (runs nothing) and writes the report files.",
    )
    parser.add_argument("--profile", default="default", help="profile name or TOML path (default: default)")
    add_store_options(parser, runs=False)
    parser.add_argument("--out-dir", default=None, help="where to write (default: <results-dir>/<profile>/report)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the stored summaries and write every report artefact; print the paths."""
    from pathlib import Path

    from aslo.report.outputs import load_summaries, write_report

    root = results_dir(args)
    summaries = load_summaries(args.profile, root)
    out_dir = Path(args.out_dir) if args.out_dir else Path(root) / Path(str(args.profile)).stem / "report"
    for name, path in write_report(summaries, out_dir).items():
        print(f"{name}: {path}")
    return 0
