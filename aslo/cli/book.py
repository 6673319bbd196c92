"""``aslo book``: execute the notebooks for a profile and build the Jupyter Book offline."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add the ``book`` sub-command."""
    parser = subparsers.add_parser(
        "book",
        help="execute the notebooks (papermill) and build the book into _build/html",
        description="Executes notebooks/*.ipynb into book/executed/ for a profile, then builds the "
                    "Jupyter Book with warnings as errors.",
    )
    parser.add_argument("--profile", default="default", help="profile name or TOML path (default: default)")
    parser.add_argument("--no-execute", action="store_true",
                        help="rebuild from the notebooks already executed in book/executed/")
    parser.add_argument("--results-dir", default=None, help="result store root (default: ./results)")
    parser.add_argument("--runs-dir", default=None, help="checkpoint folder (default: ./runs)")
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
