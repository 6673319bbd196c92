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
    parser.add_argument("--save-conclusions", nargs="?", const="", default=None, metavar="DIR",
                        help="also store the profile's claim intervals and verdicts with their provenance "
                             "(default DIR: evidence/conclusions/<profile>), as the committed evidence")
    parser.add_argument("--compare-conclusions", nargs="?", const="", default=None, metavar="DIR",
                        help="compare this store's conclusions with stored ones (default DIR: "
                             "evidence/conclusions/<profile>) and print the table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read the stored results, say which cells are missing, write every report artefact; print the paths."""
    from pathlib import Path

    from aslo.report.outputs import write_report
    from aslo.report.stored import read_results

    root = results_dir(args)
    stored = read_results(args.profile, root, records=True)
    print(stored.coverage_note())
    out_dir = Path(args.out_dir) if args.out_dir else Path(root) / Path(str(args.profile)).stem / "report"
    for name, path in write_report(stored, out_dir).items():
        print(f"{name}: {path}")
    if args.save_conclusions is not None or args.compare_conclusions is not None:
        return _conclusions(args, root, out_dir)
    return 0


def _conclusions(args: argparse.Namespace, root, out_dir) -> int:
    """Store (--save-conclusions) or compare (--compare-conclusions) the profile's conclusions."""
    import shlex
    import sys
    from pathlib import Path

    import pandas as pd

    from aslo.experiments.profiles import as_profile
    from aslo.report import conclusions as cc

    name = as_profile(args.profile).name
    if args.save_conclusions is not None:
        folder = Path(args.save_conclusions or cc.DEFAULT_CONCLUSIONS_DIR / name)
        command = "aslo " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        print(f"conclusions: {cc.save_conclusions(args.profile, root, folder, command=command)}")
    if args.compare_conclusions is not None:
        folder = Path(args.compare_conclusions or cc.DEFAULT_CONCLUSIONS_DIR / name)
        if folder.name != name:
            raise ValueError(f"--compare-conclusions expects a folder named after the profile ({name}), got {folder}")
        path = cc.recheck_conclusions(args.profile, root, out_dir, conclusions_dir=folder.parent, progress=False)
        if path is None:
            raise FileNotFoundError(f"no stored conclusions for profile {name} in {folder}")
        table = pd.read_csv(path)
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(table.to_string(index=False))
        print(cc.conclusions_sentence(table, cc.load_conclusions(folder)[1]))
    return 0
