"""Options shared by several commands, defined once so they mean the same everywhere."""

from __future__ import annotations

import argparse


def device_name(text: str) -> str:
    """argparse type: a device name (auto, cpu, cuda, cuda:N, mps), checked like every other layer."""
    from aslo.training.device import check_device_name

    try:
        return check_device_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_device_option(parser: argparse.ArgumentParser, default: str | None = "auto") -> None:
    """``--device``: validated by :func:`device_name`; ``default`` None keeps the profile's."""
    where = "the profile's" if default is None else default
    parser.add_argument("--device", type=device_name, default=default,
                        help=f"auto, cpu, cuda, cuda:N or mps (default: {where})")


def add_store_options(parser: argparse.ArgumentParser, *, results: bool = True, runs: bool = True) -> None:
    """``--results-dir`` / ``--runs-dir``, defaulting to ``$ASLO_RESULTS_DIR`` / ``$ASLO_RUNS_DIR``."""
    if results:
        parser.add_argument("--results-dir", default=None,
                            help="result store root (default: $ASLO_RESULTS_DIR, else results/)")
    if runs:
        parser.add_argument("--runs-dir", default=None,
                            help="checkpoint folder (default: $ASLO_RUNS_DIR, else runs/)")


def results_dir(args: argparse.Namespace):
    """The result store root the arguments (or the environment) name."""
    from aslo.experiments import default_results_dir

    return args.results_dir or default_results_dir()


def runs_dir(args: argparse.Namespace):
    """The checkpoint folder the arguments (or the environment) name."""
    from aslo.experiments import default_runs_dir

    return args.runs_dir or default_runs_dir()


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_compute_options(parser: argparse.ArgumentParser) -> None:
    """``--workers``, ``--scheduler``, ``--threads``: how a run of cells computes (``aslo run``, ``aslo map``)."""
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="run cells on a local Dask cluster of N single-threaded worker processes")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run cells on an existing Dask scheduler")
    parser.add_argument("--threads", type=positive_int, metavar="N",
                        help="torch CPU threads for a serial run (CPU numbers depend on the count; each "
                             "cell records it, and a recheck recomputes a cell with its own); default: torch's own")


def stop_cleanly_on_sigterm() -> None:
    """Make SIGTERM (and SIGINT, which a background job starts with ignored) raise
    KeyboardInterrupt, so that a long run stopped either way still writes the provenance of the
    cells it computed (its ``finally`` clauses run)."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def invocation_command() -> str:
    """This process's command line as the user typed it (``aslo ...``), for provenance records."""
    import shlex
    import sys

    return "aslo " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def add_restamp_option(parser: argparse.ArgumentParser) -> None:
    """``--restamp-from SCHEME`` and ``--restamp-verified``: carry stored cells over to the current
    identity (from an earlier scheme, or across a refactoring verified by recomputation), then stop."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--restamp-from", type=positive_int, metavar="SCHEME",
                       help="instead of computing: give the stored cells that identity scheme SCHEME fingerprinted "
                            "with today's code the current identity (aslo.experiments.restamp); nothing else changes")
    group.add_argument("--restamp-verified", action="store_true",
                       help="instead of computing: recompute two seeded stored cells per attack among those whose "
                            "settings are today's but whose code fingerprints changed; each attack whose recomputed "
                            "cells are identical bit for bit gets all its such cells the current identity "
                            "(aslo.experiments.restamp)")


def report_verified_restamp(table, store_root) -> int:
    """Print what :func:`aslo.experiments.restamp.restamp_verified` did, attack by attack; exit code 0
    if every attack's cells were carried over (or none needed it), 1 if a recomputed cell differed
    (that attack's cells stay stale for a run to recompute)."""
    if table.empty:
        print(f"{store_root}: no stored cell differs from today's identity in its code alone")
        return 0
    for attack, rows in table.groupby("attack", sort=False):
        n, same = int(rows["candidates"].iloc[0]), int(rows["identical"].sum())
        if bool(rows["restamped"].iloc[0]):
            print(f"{store_root} {attack}: {same} of {len(rows)} recomputed cells identical; "
                  f"{n} cells carried over to today's code")
        else:
            print(f"{store_root} {attack}: only {same} of {len(rows)} recomputed cells identical; "
                  f"none of its {n} cells carried over (a run recomputes them)")
    differing = table[~table["identical"]]
    if len(differing):
        print(differing.to_string(index=False))
    return 0 if bool(table["restamped"].all()) else 1


def report_restamp(table, store_root) -> int:
    """Print what :func:`aslo.experiments.restamp.restamp_plan` did; exit code 0."""
    done = int(table["restamped"].sum()) if len(table) else 0
    print(f"{store_root}: {done} of {len(table)} stale cells carried over to the current identity scheme "
          "(their stored code is today's under the earlier scheme)")
    rest = table[~table["restamped"]] if len(table) else table
    if len(rest):
        print(f"{len(rest)} stay stale, e.g. {rest.iloc[0]['dataset']}/{rest.iloc[0]['model']}/{rest.iloc[0]['attack']}: "
              f"{rest.iloc[0]['reason']}")
    return 0
