"""Our attacks against the sparse-attack state of the art on the profile's models and series.

For every (dataset, model) of the profile, on the profile's seeded test subset and with the same
step budget for every attack: AS_CW (the paper, profile settings), AS_CW_SPARSE (eps = 1),
AS_CW_SPARSE_BOX (the peers' feasible set), AS_CW_SPARSE_SEARCH (the same followed by the greedy
L0 search), AS_CW_BUDGET (our strongest: an adaptive L0 budget, then the search; ``--ours``
picks among these) and every installed peer (sigma-zero, FMN-L0, torchattacks CW and PGD). Writes
benchmarks/results/peers.csv (one row per attack and cell), peers_curves.csv (robustness
curves), peers_goal.csv (issue 12's goal per cell) and peers.md (the tables, with the machine
it ran on). Datasets outside aeon's bundle are read from $ASLO_DATA_DIR (e.g. ../shared/ucr).

    ASLO_DATA_DIR=../shared/ucr OMP_NUM_THREADS=1 .venv/bin/python benchmarks/peers.py \
        --profile default --runs-dir runs/bench --steps 50 \
        --datasets GunPoint ItalyPowerDemand ArrowHead ECG200 TwoLeadECG
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from aslo.experiments import load_profile, select_samples
from aslo.peers import BEST, GOAL_PEERS, available_peers, compare_on, goal_check, goal_sentence
from aslo.report.models import trained_model_for

OUT = Path(__file__).resolve().parent / "results"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--runs-dir", default=os.environ.get("ASLO_RUNS_DIR", "runs"))
    parser.add_argument("--steps", type=int, default=None, help="step budget (default: the profile's)")
    parser.add_argument("--samples", type=int, default=None, help="series per dataset (default: the profile's)")
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--peers", nargs="*", default=None, help="peers to run (default: every installed one)")
    parser.add_argument("--ours", nargs="*", default=None, help="our attack labels to run (default: all)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="timed runs per attack; sec_per_sample is their median (records from the first)")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    prof = load_profile(args.profile)
    steps = args.steps or int(prof.attack_kwargs("AS_CW").get("steps", 1000))
    samples = prof.samples if args.samples is None else args.samples
    if steps < 1 or samples < 0:
        raise SystemExit("--steps must be >= 1 and --samples >= 0")
    datasets = args.datasets or list(prof.datasets)
    models = args.models or list(prof.models)
    peers = available_peers() if args.peers is None else tuple(args.peers)
    print(f"peers available: {', '.join(peers) or 'none'}")
    paper_kwargs = {k: v for k, v in prof.attack_kwargs("AS_CW").items() if k != "steps"}

    tables, curves = [], []
    commit = _commit()  # the code that runs, not whatever is checked out when it ends
    began = time.perf_counter()
    for dataset_name, model_name in tqdm([(d, m) for d in datasets for m in models], desc="cells"):
        data, net, _ = trained_model_for(prof, dataset_name, model_name, runs_dir=args.runs_dir)
        idx = select_samples(int(len(data.y_test)), samples, prof.sample_seed)
        x, y = torch.as_tensor(data.x_test[idx]), torch.as_tensor(data.y_test[idx])
        lengths = getattr(data, "lengths_test", None)
        table, cell_curves = compare_on(net, x, y, steps=steps, peers=peers, paper_kwargs=paper_kwargs,
                                        ours=args.ours, lengths=None if lengths is None else lengths[idx],
                                        repeats=args.repeats)
        table.insert(0, "model", model_name)
        table.insert(0, "dataset", dataset_name)
        tables.append(table)
        for attack, curve in cell_curves.items():
            curves.append(curve.assign(dataset=dataset_name, model=model_name, attack=attack))
    total = time.perf_counter() - began

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = pd.concat(tables, ignore_index=True)
    table.to_csv(out / "peers.csv", index=False)
    pd.concat(curves, ignore_index=True).to_csv(out / "peers_curves.csv", index=False)
    mean = table.groupby("attack", sort=False).mean(numeric_only=True).reset_index()
    ran = set(table["attack"])
    goal = goal_check(table) if BEST in ran and ran & set(GOAL_PEERS) else None
    if goal is not None:
        goal.to_csv(out / "peers_goal.csv", index=False)
    header = (f"# Our attacks vs peers ({prof.name} profile, {steps} steps, {samples or 'all'} series "
              f"per dataset)\n\nMachine: {platform.processor() or platform.machine()}, "
              f"{torch.get_num_threads()} torch thread(s), CPU; sec_per_sample is the median of {args.repeats} "
              f"timed run(s) per attack; total {total:.0f} s; commit {commit}; "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
              f"Peers: {', '.join(peers) or 'none installed'}. ratio_* = value / value of AS_CW_SPARSE_BOX.\n\n")
    goal_md = ("## Goal per cell (issue 12)\n\n" + goal_sentence(goal) + "\n\n"
               + goal.round(3).to_markdown(index=False) + "\n\n") if goal is not None else ""
    body = (goal_md + "## Mean over cells\n\n" + mean.round(3).to_markdown(index=False)
            + "\n\n## Every cell\n\n" + table.round(3).to_markdown(index=False) + "\n")
    (out / "peers.md").write_text(header + body, encoding="utf-8")
    print(mean.round(3).to_string(index=False))


def _commit() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=7"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


if __name__ == "__main__":
    main()
