"""Our L0 attack's settings against the strong peers on a development subset, by the L0 benchmark's protocol.

For each ``DATASET:MODEL`` cell: the `l0bench` profile's model (trained into ``--runs-dir`` with its
recipe if absent), its ten correctly classified series (seeded as the profile draws them) and its
box; then ``AS_CW_BUDGET_BOX`` under each variant (JSON settings laid over the benchmark's own,
``{}`` = as the benchmark runs it) and each peer named, all through
:func:`aslo.peers.l0.run_l0_attack` (passes counted by the same hooks). Prints and writes per cell
and attack: ASR, median L0 of successes, forward + backward passes per series and seconds, then a
summary per variant: on how many cells its median L0 is no larger than the best peer's, smaller
where that exceeds 1, and its passes against the cheapest peer reaching the best peer's L0.

    python benchmarks/l0_options.py --cells GunPoint:macnn GunPoint:inception ArrowHead:inception \
        ArrowHead:macnn --variants '{}' '{"probe_candidates": 10}' '{"patience": 40}' \
        --peers SIGMA_ZERO FMN_L0 VFGA --threads 2

Only a development tool: the benchmark's numbers come from `aslo run --profile l0bench`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from aslo.experiments import load_profile
from aslo.experiments.backend import Backend
from aslo.experiments.grid import correct_subset
from aslo.peers import l0 as l0_peers

OURS = "AS_CW_BUDGET_BOX"


def with_settings(base: l0_peers.L0Attack, overrides: dict) -> l0_peers.L0Attack:
    """Our benchmark attack ``base`` with ``overrides`` laid over the settings the benchmark gives it."""
    return dataclasses.replace(base, settings=lambda box, steps: {**base.settings(box, steps), **overrides})


def cell_series(backend: Backend, profile, dataset: str, model: str, runs_dir: str):
    """The profile's trained model and its seeded correctly classified test series of one cell."""
    data = backend.load_dataset(dataset, profile.normalize)
    net, _ = backend.trained_model(data, model, profile.training_kwargs(model), seed=profile.train_seed,
                                   runs_dir=runs_dir, device="cpu", progress=True, recipe=profile.training_recipe)
    predictions = backend.predict(net, data.x_test, "cpu")
    idx = correct_subset(predictions, np.asarray(data.y_test), profile.samples, profile.sample_seed)
    return net, torch.as_tensor(data.x_test[idx]), torch.as_tensor(np.asarray(data.y_test)[idx])


def measure(net, x, y, name: str, steps: int, eps: float) -> dict:
    """One attack on one cell: ASR, median L0 of successes, passes per series, seconds."""
    t0 = time.perf_counter()
    s = l0_peers.run_l0_attack(net, x, y, name, steps=steps, eps=eps, pointwise=False).summary
    return dict(asr=s["asr"], median_l0=s["median_l0"], passes=s["forwards_per_series"] + s["backwards_per_series"],
                seconds=time.perf_counter() - t0)


def goal_rows(frame: pd.DataFrame, peers: list[str]) -> pd.DataFrame:
    """Per variant: the goal's parts over the cells (see the module docstring)."""
    rows = []
    for variant, ours in frame[frame["attack"] == OURS].groupby("variant", sort=False):
        met = dict(variant=variant, cells=0, l0_no_larger=0, best_exceeds_1=0, l0_smaller=0, passes_ok=0)
        for row in ours.itertuples():
            cell = frame[(frame["cell"] == row.cell) & frame["attack"].isin(peers)]
            best = cell.sort_values(["median_l0", "asr"], ascending=[True, False]).iloc[0]
            reaching = cell[cell["median_l0"] <= best["median_l0"]]
            met["cells"] += 1
            met["l0_no_larger"] += bool(row.median_l0 <= best["median_l0"] and row.asr >= best["asr"])
            if best["median_l0"] > 1:
                met["best_exceeds_1"] += 1
                met["l0_smaller"] += bool(row.median_l0 < best["median_l0"])
            met["passes_ok"] += bool(row.passes <= 1.2 * reaching["passes"].min())
        rows.append(met)
    return pd.DataFrame(rows)


def main() -> None:
    """Run the cells, print and write the tables."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cells", nargs="+", required=True, metavar="DATASET:MODEL")
    p.add_argument("--variants", nargs="+", default=["{}"], metavar="JSON")
    p.add_argument("--peers", nargs="+", default=["SIGMA_ZERO", "FMN_L0", "VFGA"])
    p.add_argument("--runs-dir", default="runs")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="benchmarks/results/l0_options.md")
    args = p.parse_args()
    unknown = [name for name in args.peers if name not in l0_peers.L0_ATTACKS or name == OURS]
    if unknown:
        p.error(f"unknown peers {unknown}; choose from {sorted(set(l0_peers.L0_ATTACKS) - {OURS})}")
    variants = [json.loads(v) for v in args.variants]
    torch.set_num_threads(args.threads)
    profile, backend = load_profile("l0bench"), Backend()
    steps, eps = profile.attack["steps"], profile.attack["eps"]
    original = l0_peers.L0_ATTACKS[OURS]
    rows = []
    try:
        for spec in args.cells:
            dataset, model = spec.split(":")
            net, x, y = cell_series(backend, profile, dataset, model, args.runs_dir)
            for text, overrides in zip(args.variants, variants):
                l0_peers.L0_ATTACKS[OURS] = with_settings(original, overrides)
                rows.append(dict(cell=spec, attack=OURS, variant=text, **measure(net, x, y, OURS, steps, eps)))
                print(rows[-1], flush=True)
            l0_peers.L0_ATTACKS[OURS] = original
            for peer in args.peers:
                rows.append(dict(cell=spec, attack=peer, variant="", **measure(net, x, y, peer, steps, eps)))
                print(rows[-1], flush=True)
    finally:
        l0_peers.L0_ATTACKS[OURS] = original
    frame = pd.DataFrame(rows)
    goals = goal_rows(frame, args.peers)
    print(goals.to_string(index=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(f"# {__doc__.splitlines()[0]}\n\nsteps {steps}, eps {eps}, threads {args.threads}, "
                              f"torch {torch.__version__}\n\n{frame.round(3).to_markdown(index=False)}\n\n"
                              f"{goals.to_markdown(index=False)}\n")


if __name__ == "__main__":
    main()
