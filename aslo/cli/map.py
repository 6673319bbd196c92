"""``aslo map``: compute the map of where the paper's claims hold (resumable), or recheck it."""

from __future__ import annotations

import argparse

import pandas as pd

from aslo.cli.options import (add_compute_options, add_restamp_option, invocation_command, report_restamp,
                              report_verified_restamp, stop_cleanly_on_sigterm)


def register(subparsers) -> None:
    """Add the ``map`` sub-command."""
    p = subparsers.add_parser(
        "map", help="compute the map of where the claims hold (resumable), or recheck stored cells",
        description="Run Table 1's four attacks under the open readings (lambda x budget plane, "
                    "then one factor at a time) on the map's slice; stored cells are skipped, so an "
                    "interrupted run resumes. With --recheck N, re-execute N seeded random stored cells "
                    "and print the agreement instead.")
    p.add_argument("--evidence-dir", default=None, help="where the map's store lives (default evidence/fidelity_map)")
    p.add_argument("--runs-dir", default=None, help="checkpoint folder (default $ASLO_RUNS_DIR or runs/)")
    p.add_argument("--factors", nargs="+", metavar="FACTOR",
                   help="only these readings' factors (lambda, centre, loss, sigma0, eta, j_star, improvement, amsgrad)")
    p.add_argument("--datasets", nargs="+", metavar="NAME",
                   help="restrict to these of the map's datasets (with --recheck: the cells drawn)")
    p.add_argument("--models", nargs="+", metavar="NAME", help="restrict to these models")
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    p.add_argument("--recheck", type=int, metavar="N",
                   help="recompute N (>= 3) seeded stored cells from the shipped weights instead of running")
    p.add_argument("--models-dir", default=None,
                   help="with --recheck: the shipped weights (default evidence/models; read only)")
    add_compute_options(p)
    add_restamp_option(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the recheck's choice of cells")
    p.add_argument("--recheck-out", metavar="CSV",
                   help="also write the recheck's table here (notebook 07 shows <report folder>/map_recheck.csv)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run (or recheck) the map and print a short table."""
    from aslo.experiments import fidelity_map as fm
    from aslo.experiments.runner import default_runs_dir

    stop_cleanly_on_sigterm()
    evidence = args.evidence_dir or fm.DEFAULT_EVIDENCE_DIR
    runs = args.runs_dir or default_runs_dir()
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 4):
        if args.restamp_verified:
            from aslo.experiments.restamp import restamp_verified

            plan = fm.map_plan(evidence)
            return report_verified_restamp(restamp_verified(plan, runs, command=invocation_command(),
                                                            progress=not args.no_progress), plan.store.root)
        if args.restamp_from is not None:
            from aslo.experiments.restamp import restamp_plan, scheme_code

            plan = fm.map_plan(evidence)
            return report_restamp(restamp_plan(plan, scheme_code(args.restamp_from), scheme=args.restamp_from,
                                               command=invocation_command()), plan.store.root)
        if args.recheck is not None:
            table = fm.recheck_stored_cells(args.recheck, args.seed, evidence_dir=evidence,
                                            models_dir=args.models_dir or fm.DEFAULT_MODELS_DIR,
                                            device=args.device, progress=not args.no_progress,
                                            datasets=args.datasets)
            print(table.to_string(index=False))
            print(fm.recheck_sentence(table))
            if args.recheck_out:
                from pathlib import Path

                Path(args.recheck_out).parent.mkdir(parents=True, exist_ok=True)
                table.to_csv(args.recheck_out, index=False)
            return 0 if table["agree"].all() else 1
        command = invocation_command()
        table = fm.run_map(evidence_dir=evidence, runs_dir=runs, factors=args.factors, datasets=args.datasets,
                           models=args.models, device=args.device, progress=not args.no_progress,
                           command=command, threads=args.threads, workers=args.workers,
                           scheduler=args.scheduler)
        print(f"{int(table['stored'].sum())} of {len(table)} planned (reading, cell) rows stored in {evidence}")
    return 0
