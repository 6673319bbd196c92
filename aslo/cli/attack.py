"""``aslo attack``: attack the first N test series of one dataset with one trained classifier."""

from __future__ import annotations

import argparse
from pathlib import Path

from aslo.attacks import ATTACKS
from aslo.attacks.config import RETURN_ITERATES
from aslo.cli.options import add_device_option, add_store_options, runs_dir
from aslo.metrics import DISTANCES
from aslo.models import MODEL_NAMES


def register(subparsers) -> None:
    """Add the ``attack`` sub-command."""
    parser = subparsers.add_parser(
        "attack",
        help="attack one trained classifier on one UCR dataset's test split",
        description="Load (or first train) the classifier, attack the FIRST N test series in "
        "archive order (all of them by default), print the run summary and optionally write the "
        "per-sample records as CSV.",
    )
    parser.add_argument("--dataset", required=True, help="UCR 2018 dataset name, e.g. GunPoint")
    parser.add_argument("--model", required=True, choices=MODEL_NAMES, help="classifier")
    parser.add_argument("--attack", default="AS_CW", help=f"attack name (default AS_CW): {', '.join(ATTACKS)}")
    parser.add_argument("--samples", type=int, help="attack the first N test series (default: all)")
    parser.add_argument("--steps", type=int, help="attack steps (default 1000)")
    parser.add_argument("--lr", type=float, help="Adam learning rate (default 1e-4)")
    parser.add_argument("--eps", type=float, help="L-infinity box of the perturbation (default 0.1)")
    parser.add_argument("--reg-coef", type=float, help="regularisation coefficient (default 1e-5)")
    parser.add_argument("--seed", type=int, default=0, help="attack seed: init signs, targets (default 0)")
    parser.add_argument("--train-seed", type=int, default=0, help="seed of the trained model (default 0)")
    parser.add_argument("--batch-size", type=int, help="series per attack batch (default: all at once)")
    parser.add_argument("--distance", default="l2", choices=DISTANCES, help="summary distance (default l2)")
    parser.add_argument("--return-iterate", choices=RETURN_ITERATES, help="returned iterate (default last)")
    parser.add_argument("--out", help="write the per-sample records to this CSV file")
    parser.add_argument("--save-adv", metavar="FILE",
                        help="write the adversarial examples (series indices and float32 delta, safetensors); "
                        "aslo.experiments.examples.load_examples(FILE) rebuilds x_adv")
    add_store_options(parser, results=False)
    add_device_option(parser)
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(func=run)


def attack_overrides(args: argparse.Namespace) -> dict:
    """The AttackConfig overrides the arguments ask for."""
    pairs = {"steps": args.steps, "lr": args.lr, "eps": args.eps, "reg_coef": args.reg_coef,
             "return_iterate": args.return_iterate}
    overrides = {k: v for k, v in pairs.items() if v is not None}
    overrides["seed"] = args.seed
    return overrides


def format_summary(summary: dict) -> str:
    """The summary as a two-column table."""
    def fmt(value):
        return f"{value:.6g}" if isinstance(value, float) else str(value)
    width = max(len(k) for k in summary)
    return "\n".join(f"{k:<{width}}  {fmt(v)}" for k, v in summary.items())


def run(args: argparse.Namespace) -> int:
    """Validate everything, load data and model, attack, print and save."""
    from aslo.attacks import get_attack_config, run_attack
    from aslo.data import load_ucr
    from aslo.training import get_trained_model, resolve_device

    overrides = attack_overrides(args)
    config = get_attack_config(args.attack, **overrides)  # bad names / values fail here, first
    if args.samples is not None and args.samples < 1:
        raise ValueError(f"--samples must be >= 1, got {args.samples}")
    if args.batch_size is not None and args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.train_seed < 0:
        raise ValueError(f"--train-seed must be >= 0, got {args.train_seed}")
    out = Path(args.out) if args.out else None
    if out is not None and out.is_dir():
        raise ValueError(f"--out {out} is a directory; give a CSV file name")
    if out is not None:
        from aslo.writable import require_writable_dir

        require_writable_dir(out.parent, "--out folder")  # before the attack, not after it
    save_adv = Path(args.save_adv) if args.save_adv else None
    if save_adv is not None:
        from aslo.writable import require_writable_dir

        if save_adv.is_dir():
            raise ValueError(f"--save-adv {save_adv} is a directory; give a file name such as adv.safetensors")
        require_writable_dir(save_adv.parent, "--save-adv folder")
    device = resolve_device(args.device)

    dataset = load_ucr(args.dataset)
    model, _ = get_trained_model(dataset, args.model, seed=args.train_seed, runs_dir=runs_dir(args),
                                 device=device, progress=not args.no_progress)
    n = len(dataset.x_test) if args.samples is None else min(args.samples, len(dataset.x_test))
    result = run_attack(model, dataset.x_test[:n], dataset.y_test[:n], config.name,
                        batch_size=args.batch_size, device=device, progress=not args.no_progress,
                        distance=args.distance, lengths=dataset.lengths_test[:n], **overrides)
    summary = {"dataset": dataset.name, "model": args.model, **result.summary}
    print(format_summary(summary))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        result.records.to_csv(out, index=False)
        print(f"records: {out}")
    if save_adv is not None:
        from aslo.experiments.examples import save_examples

        save_examples(save_adv, range(n), result.delta, {
            "dataset": dataset.name, "split": "test", "normalize": True, "model": args.model,
            "attack": config.name, "seed": args.seed, "train_seed": args.train_seed})
        print(f"adversarial examples: {save_adv}")
    return 0
