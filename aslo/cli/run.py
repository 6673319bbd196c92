"""``aslo run``: compute a profile's grid of attack cells into the resumable result store."""

from __future__ import annotations

import argparse

import pandas as pd

from aslo.cli.options import (add_compute_options, add_device_option, add_restamp_option, add_store_options,
                              invocation_command, report_restamp, report_verified_restamp, stop_cleanly_on_sigterm)
from aslo.experiments.profiles import PROFILES

# Columns of the short table printed at the end (means over datasets and seeds).
TABLE_COLUMNS = ("asr", "mean_success_distance", "overall_mean_distance", "close_to_zero", "duration")


def register(subparsers) -> None:
    """Add the ``run`` sub-command."""
    p = subparsers.add_parser(
        "run", help="run a profile's experiment grid (resumable)",
        description="Train the models and run the attack cells of a profile; finished cells are "
                    "skipped, so an interrupted run resumes where it stopped.")
    p.add_argument("--profile", default="default", help=f"built-in name ({', '.join(PROFILES)}) or path to a .toml")
    p.add_argument("--part", type=int, choices=(1, 2), help="only the cells of Part 1 or Part 2")
    p.add_argument("--datasets", nargs="+", metavar="NAME", help="restrict to these datasets")
    p.add_argument("--models", nargs="+", metavar="NAME", help="restrict to these models")
    add_store_options(p)
    add_device_option(p, default=None)
    add_compute_options(p)
    add_restamp_option(p)
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=main)


def summary_table(summaries: pd.DataFrame) -> pd.DataFrame:
    """Mean of the key metrics per (model, attack) over datasets and seeds, with a cell count."""
    if summaries.empty:
        return pd.DataFrame()
    cols = [c for c in TABLE_COLUMNS if c in summaries.columns]
    grouped = summaries.groupby(["model", "attack"], sort=False)
    table = grouped[cols].mean(numeric_only=True)
    table.insert(0, "cells", grouped.size())
    return table


def main(args: argparse.Namespace) -> int:
    """Run the grid and print the summary table."""
    from aslo.experiments import run_grid

    if args.restamp_from is not None or args.restamp_verified:
        from aslo.experiments import plan_grid
        from aslo.experiments.restamp import restamp_plan, restamp_verified, scheme_code
        from aslo.experiments.runner import default_runs_dir

        plan = plan_grid(args.profile, part=args.part, datasets=args.datasets, models=args.models,
                         results_dir=args.results_dir)
        if args.restamp_verified:
            return report_verified_restamp(restamp_verified(plan, args.runs_dir or default_runs_dir(),
                                                            command=invocation_command(),
                                                            progress=not args.no_progress), plan.store.root)
        return report_restamp(restamp_plan(plan, scheme_code(args.restamp_from), scheme=args.restamp_from,
                                           command=invocation_command()), plan.store.root)
    stop_cleanly_on_sigterm()  # a stopped run still records its provenance
    summaries = run_grid(args.profile, part=args.part, datasets=args.datasets, models=args.models,
                         results_dir=args.results_dir, runs_dir=args.runs_dir,
                         progress=not args.no_progress, workers=args.workers,
                         scheduler=args.scheduler, device=args.device, threads=args.threads,
                         command=invocation_command())
    table = summary_table(summaries)
    if table.empty:
        print("no finished cells")
        return 1
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 4):
        print(table.to_string())
    return 0
