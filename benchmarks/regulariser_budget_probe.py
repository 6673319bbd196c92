"""Probe where Table 1's regularisers act: budgets x lambda readings on one cheap slice.

For one dataset, a few models and the default profile's 20 series (sample seed 0), run Table 1's
four attacks (AS_CW, CW_L1, CW_L2, CW) under each budget and lambda reading given, and print
ASR, mean success distance and close-to-0 per column with the wall time. Models come from
``--runs-dir`` (trained with the default training config if absent). Writes a Markdown table to
``benchmarks/results/regulariser_budget_probe.md`` (or ``--out``).

    python benchmarks/regulariser_budget_probe.py --dataset ItalyPowerDemand --models lstmfcn resnet18 \
        --budgets 50x2e-3 200x5e-4 1000x1e-4 --scalings per_sample parent_batch
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch

from aslo.data import load_ucr
from aslo.experiments.backend import Backend
from aslo.experiments.grid import PART1_ATTACKS, select_samples


def main() -> None:
    """Run the probe and write the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="ItalyPowerDemand")
    p.add_argument("--models", nargs="+", default=["lstmfcn", "resnet18"])
    p.add_argument("--budgets", nargs="+", default=["50x2e-3", "200x5e-4", "1000x1e-4"])
    p.add_argument("--scalings", nargs="+", default=["parent_batch"])
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--runs-dir", default="runs")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="benchmarks/results/regulariser_budget_probe.md")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    backend = Backend()
    data = load_ucr(args.dataset)
    idx = select_samples(len(data.y_test), args.samples, 0)
    x, y = data.x_test[idx], data.y_test[idx]
    rows = []
    for model in args.models:
        net, _ = backend.trained_model(data, model, {}, seed=0, runs_dir=args.runs_dir, device="cpu", progress=False)
        for budget in args.budgets:
            steps, lr = budget.split("x")
            for scaling in args.scalings:
                for attack, column in PART1_ATTACKS.items():
                    over = dict(steps=int(steps), lr=float(lr), objective_scaling=scaling)
                    t0 = time.perf_counter()
                    summary, *_ = backend.run_attack(net, x, y, attack, over, seed=0, device="cpu", distance="l2",
                                                    batch_size=None, progress=False)
                    rows.append(dict(dataset=args.dataset, model=model, budget=budget, scaling=scaling, column=column,
                                     asr=summary["asr"], msd=summary["mean_success_distance"],
                                     close_to_zero=summary["close_to_zero"], seconds=time.perf_counter() - t0))
                    print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(f"# Regulariser budget probe ({args.dataset}, {args.samples} series, "
                              f"{args.threads} thread(s))\n\n" + frame.round(4).to_markdown(index=False) + "\n")


if __name__ == "__main__":
    main()
