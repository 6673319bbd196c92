"""``aslo book``: execute the notebooks for a profile and build the Jupyter Book offline."""

from __future__ import annotations

import argparse

from aslo.cli.options import add_store_options


def register(subparsers) -> None:
    """Add the ``book`` sub-command."""
    parser = subparsers.add_parser(
        "book",
        help="train, run the grid, execute the notebooks and build the book into _build/html",
        description="For a profile: trains (or reuses) the models, runs the attack grid (finished cells "
                    "are skipped), executes notebooks/*.ipynb into book/executed/ (they read the stored "
                    "results), then builds the Jupyter Book with warnings as errors.",
    )
    parser.add_argument("--profile", default="default", help="profile name or TOML path (default: default)")
    parser.add_argument("--no-execute", action="store_true",
                        help="rebuild from the notebooks already executed in book/executed/")
    add_store_options(parser)
    parser.add_argument("--build-dir", default=None, help="build output root; HTML lands in <dir>/_build/html (default: .)")
    parser.add_argument("--root", default=".", help="book root holding _config.yml, _toc.yml, references.bib, book/, notebooks/")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute (unless --no-execute) and build; print where the HTML is."""
    from aslo.cli import CLIError
    from aslo.report.book import BookError, make_book

    try:
        html = make_book(args.profile, root=args.root, execute=not args.no_execute,
                         results_dir=args.results_dir, runs_dir=args.runs_dir, build_dir=args.build_dir)
    except BookError as exc:
        raise CLIError(str(exc)) from exc
    print(f"book: {html / 'index.html'}")
    return 0
