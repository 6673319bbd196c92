"""Our L0 attack's settings against the strong peers on a development subset, by the L0 benchmark's protocol.

For each ``DATASET:MODEL`` cell: the `l0bench` profile's model (trained into ``--runs-dir`` with its
recipe if absent), its ten correctly classified series (seeded as the profile draws them) and its
box; then ``AS_CW_BUDGET_BOX`` under each variant (JSON settings laid over the benchmark's own,
``{}`` = as the benchmark runs it) and each peer named, all through
:func:`aslo.peers.l0.run_l0_attack` (passes counted by the same hooks). Prints and writes per cell
and attack: ASR, median L0 of successes, forward + backward passes per series and seconds, then a
summary per variant: the goal's parts counted over the cells by the book's rule
(:func:`aslo.report.benchmark.goal_table`, against the peers named here).

    python benchmarks/l0_options.py --cells GunPoint:macnn GunPoint:inception ArrowHead:inception \
        ArrowHead:macnn --variants '{}' '{"probe_candidates": 10}' '{"patience": 40}' \
        --peers SIGMA_ZERO FMN_L0 VFGA --threads 2

``--peers-from evidence/l0bench`` reads the peers' numbers of each cell from that committed store (the
same models and series) instead of running them again: only our attack's variants are computed.

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


def stored_peer_rows(store_dir: str, spec: str, peers: list[str]) -> list[dict]:
    """The named peers' numbers of one ``DATASET:MODEL`` cell as a committed store holds them (the
    same columns as :func:`measure`; seconds are the stored wall time); KeyError naming a missing one."""
    from aslo.experiments.store import ResultStore

    store, (dataset, model) = ResultStore(Path(store_dir)), spec.split(":")
    table = store.summaries([cell for cell in store.cells() if (cell.dataset, cell.model) == (dataset, model)])
    rows = []
    for peer in peers:
        found = table[table["attack"] == peer] if len(table) else table
        if len(found) != 1:
            raise KeyError(f"{store_dir} holds no finished {peer} cell for {spec}")
        s = found.iloc[0]
        rows.append(dict(cell=spec, attack=peer, variant="stored", asr=s["asr"], median_l0=s["median_l0"],
                         passes=s["forwards_per_series"] + s["backwards_per_series"], seconds=s["duration"]))
    return rows


def goal_rows(frame: pd.DataFrame, peers: list[str]) -> pd.DataFrame:
    """Per variant: on how many cells each part of the goal is met, by the book's rule
    (:func:`aslo.report.benchmark.goal_table`) against ``peers``."""
    from aslo.report.benchmark import goal_table

    rows = []
    theirs = frame[frame["attack"].isin(peers)]
    for variant, ours in frame[frame["attack"] == OURS].groupby("variant", sort=False):
        table = pd.concat([ours, theirs]).assign(dataset=lambda f: f["cell"], model="",
                                                 forwards_per_series=lambda f: f["passes"], backwards_per_series=0.0)
        goal = goal_table(table)
        rows.append(dict(variant=variant, cells=len(goal), l0_no_larger=int(goal["l0_ok"].sum()),
                         best_exceeds_1=int(goal["best_exceeds_1"].sum()),
                         l0_smaller=int((goal["l0_smaller"] & goal["best_exceeds_1"]).sum()),
                         asr_no_lower=int(goal["asr_ok"].sum()), passes_ok=int(goal["passes_ok"].sum())))
    return pd.DataFrame(rows)


def main() -> None:
    """Run the cells, print and write the tables."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cells", nargs="+", required=True, metavar="DATASET:MODEL")
    p.add_argument("--variants", nargs="+", default=["{}"], metavar="JSON")
    p.add_argument("--peers", nargs="+", default=["SIGMA_ZERO", "FMN_L0", "VFGA"])
    p.add_argument("--peers-from", metavar="STORE", help="read the peers' numbers from this store instead of running them")
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
            if args.peers_from:
                rows += stored_peer_rows(args.peers_from, spec, args.peers)
                continue
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
