"""``aslo train``: train (or reuse) one classifier on one UCR dataset and print its record."""

from __future__ import annotations

import argparse

from aslo.models import MODEL_NAMES
from aslo.cli.options import add_device_option, add_store_options, runs_dir


def register(subparsers) -> None:
    """Add the ``train`` sub-command."""
    parser = subparsers.add_parser(
        "train",
        help="train one classifier on one UCR dataset (reuses a matching checkpoint)",
        description="Train one classifier on a UCR dataset's training split with the default "
        "CPU budget (see aslo.training.config), save it under RUNS_DIR and print its record.",
    )
    parser.add_argument("--dataset", required=True, help="UCR 2018 dataset name, e.g. GunPoint")
    parser.add_argument("--model", required=True, choices=MODEL_NAMES, help="classifier")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--epochs", type=int, help="epoch cap (default: the model's budget)")
    parser.add_argument("--max-seconds", type=float,
                        help="wall-clock cap in seconds; 0 means no cap (default: the model's budget)")
    add_store_options(parser, results=False)
    add_device_option(parser)
    parser.add_argument("--retrain", action="store_true", help="train even if a checkpoint matches")
    parser.add_argument("--balanced", action="store_true", help="class-balanced cross-entropy")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def build_config(args: argparse.Namespace):
    """The TrainConfig the arguments ask for (model defaults plus overrides)."""
    from aslo.training import default_train_config

    changes = {}
    if args.epochs is not None:
        changes["epochs"] = args.epochs
    if args.max_seconds is not None:
        if args.max_seconds < 0:
            raise ValueError(f"--max-seconds must be >= 0, got {args.max_seconds}")
        changes["max_seconds"] = args.max_seconds or None
    if args.balanced:
        changes["balanced"] = True
    return default_train_config(args.model).replace(**changes)


def format_record(record: dict) -> str:
    """The record as a small two-column table."""

    def fmt(value):
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.4f}"
        return str(value)

    rows = [(key, fmt(record.get(key))) for key in (
        "dataset", "model", "seed", "config_hash", "epochs", "best_epoch", "stopped_by",
        "seconds", "train_loss", "train_accuracy", "test_accuracy", "n_parameters", "device",
    )]
    width = max(len(key) for key, _ in rows)
    return "\n".join(f"{key:<{width}}  {value}" for key, value in rows)


def run(args: argparse.Namespace) -> int:
    """Load the dataset, get the trained model and print its record."""
    from aslo.data import load_ucr
    from aslo.training import get_trained_model, resolve_device, run_directory

    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    config = build_config(args)
    resolve_device(args.device)  # fail on a bad device before loading data
    dataset = load_ucr(args.dataset)
    _, record = get_trained_model(
        dataset, args.model, config, seed=args.seed, runs_dir=runs_dir(args), device=args.device,
        retrain=args.retrain, progress=not args.no_progress,
    )
    print(format_record(record))
    print(f"checkpoint: {run_directory(runs_dir(args), record['dataset'], record['model'], record['seed'], record['config_hash'])}")
    return 0
