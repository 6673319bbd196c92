"""Command-line entry point: ``aslo <command> ...``.

Each command lives in its own module under ``aslo.cli`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable taking the
parsed namespace and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Command modules, in the order ``aslo --help`` lists them.
COMMAND_MODULES = ("data", "train", "attack", "run", "map", "report", "book")


class CLIError(Exception):
    """An error caused by the user's input; printed without a traceback."""


def _version() -> str:
    from aslo import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="aslo",
        description="Adaptive sparse L0 (ASLO) attacks on UCR time-series classifiers.",
    )
    parser.add_argument("--version", action="version", version=f"aslo {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"aslo.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (CLIError, ValueError, KeyError, OSError) as exc:  # OSError: missing, unwritable, full
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"aslo {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"aslo {args.command}: interrupted; finished work is kept.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
