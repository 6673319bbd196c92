"""Benchmark: train every model on GunPoint, ArrowHead and ItalyPowerDemand with the default
CPU budgets and compare the test accuracy with the published numbers.

Writes ``benchmarks/results/train_models.md`` and ``.csv`` (dataset, model, epochs, seconds,
stopped_by, accuracy, published, gap). Usage:

    python benchmarks/train_models.py [--runs-dir DIR] [--datasets ...] [--models ...]
                                      [--seed 0] [--threads N] [--retrain]

Without ``--runs-dir`` the checkpoints go to a temporary folder (so every model is trained).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from aslo.data import load_ucr
from aslo.models import MODEL_NAMES
from aslo.models.published import published_accuracy
from aslo.training import default_train_config, get_trained_model

DATASETS = ("GunPoint", "ArrowHead", "ItalyPowerDemand")
RESULTS = Path(__file__).resolve().parent / "results"


def run(datasets, models, runs_dir, seed, retrain) -> pd.DataFrame:
    """Train (or reuse) each (dataset, model) and collect one row per pair."""
    rows = []
    for name in datasets:
        dataset = load_ucr(name)
        for model in models:
            config = default_train_config(model)
            _, record = get_trained_model(dataset, model, config, seed=seed, runs_dir=runs_dir,
                                          device="cpu", retrain=retrain, progress=True)
            published = published_accuracy(name, model)
            rows.append({
                "dataset": name,
                "model": model,
                "epochs": record["epochs"],
                "best_epoch": record["best_epoch"],
                "seconds": round(record["seconds"], 1),
                "stopped_by": record["stopped_by"],
                "accuracy": round(record["test_accuracy"], 3),
                "published": published,
                "gap": None if published is None else round(record["test_accuracy"] - published, 3),
            })
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def write(table: pd.DataFrame, threads: int, wall: float) -> None:
    """Write the CSV and a markdown table with the machine facts."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS / "train_models.csv", index=False)
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    lines = ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |"
             for row in table.itertuples(index=False)]
    text = "\n".join([
        "# Training the four classifiers with the default CPU budgets",
        "",
        f"Machine: {platform.machine()}, torch {torch.__version__}, {threads} torch thread(s); "
        f"training time {table['seconds'].sum() / 60:.1f} min (sum of the records' seconds; "
        f"this invocation took {wall / 60:.1f} min, less where checkpoints were reused). Published = the reference yardstick "
        "(ResNet18: the 3-block ResNet column). Seed 0, one run each; small training sets vary "
        "by several points from run to run.",
        "",
        header, rule, *lines, "",
    ])
    (RESULTS / "train_models.md").write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    """Parse arguments, train, write the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", help="checkpoint folder (default: a temporary folder)")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--models", nargs="+", default=list(MODEL_NAMES), choices=MODEL_NAMES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's default)")
    parser.add_argument("--retrain", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        table = run(args.datasets, args.models, args.runs_dir or tmp, args.seed, args.retrain)
    write(table, torch.get_num_threads(), time.perf_counter() - start)
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
