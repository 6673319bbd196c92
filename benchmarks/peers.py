"""Our attacks against the sparse-attack state of the art on the profile's models and series.

For every (dataset, model) of the profile, on the profile's seeded test subset and with the same
step budget for every attack: AS_CW (the paper, profile settings), AS_CW_SPARSE (eps = 1),
AS_CW_SPARSE_BOX (the peers' feasible set) and every installed peer (sigma-zero, FMN-L0,
torchattacks CW and PGD). Writes benchmarks/results/peers.csv (one row per attack and cell),
peers_curves.csv (robustness curves) and peers.md (the table, with the machine it ran on).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/peers.py --profile default \
        --runs-dir runs --steps 50
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
from aslo.peers import available_peers, compare_on
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
    peers = available_peers()
    print(f"peers available: {', '.join(peers) or 'none'}")
    paper_kwargs = {k: v for k, v in prof.attack_kwargs("AS_CW").items() if k != "steps"}

    tables, curves = [], []
    began = time.perf_counter()
    for dataset_name, model_name in tqdm([(d, m) for d in datasets for m in models], desc="cells"):
        data, net, _ = trained_model_for(prof, dataset_name, model_name, runs_dir=args.runs_dir)
        idx = select_samples(int(len(data.y_test)), samples, prof.sample_seed)
        x, y = torch.as_tensor(data.x_test[idx]), torch.as_tensor(data.y_test[idx])
        table, cell_curves = compare_on(net, x, y, steps=steps, peers=peers, paper_kwargs=paper_kwargs)
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
    header = (f"# Our attacks vs peers ({prof.name} profile, {steps} steps, {samples or 'all'} series "
              f"per dataset)\n\nMachine: {platform.processor() or platform.machine()}, "
              f"{torch.get_num_threads()} torch thread(s), CPU, shared; total {total:.0f} s. "
              f"Peers: {', '.join(peers) or 'none installed'}. ratio_* = value / value of AS_CW_SPARSE_BOX.\n\n")
    body = ("## Mean over cells\n\n" + mean.round(3).to_markdown(index=False)
            + "\n\n## Every cell\n\n" + table.round(3).to_markdown(index=False) + "\n")
    (out / "peers.md").write_text(header + body, encoding="utf-8")
    print(mean.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
