"""Measure the smoke grid's attack cells with 1 and with 2 Dask workers; write the speed-up.

Models are trained once first (a warm-up run sharing the runs folder), so the timed runs
measure the 28 attack cells, each into a fresh result store.

    python benchmarks/grid_workers.py [--profile smoke] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch

from aslo.experiments import load_profile, run_grid


def main() -> None:
    """Run the benchmark and write ``grid_workers.json`` under ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", default=str(Path(__file__).with_name("results")))
    args = parser.parse_args()
    profile = load_profile(args.profile)
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        run_grid(profile, results_dir=Path(tmp) / "warmup", runs_dir=runs, progress=False,
                 models=profile.models, datasets=profile.datasets, part=1)  # trains every model
        timings = {}
        for n in args.workers:
            start = time.perf_counter()
            table = run_grid(profile, results_dir=Path(tmp) / f"w{n}", runs_dir=runs, progress=False, workers=n)
            timings[n] = time.perf_counter() - start
            print(f"{n} worker(s): {len(table)} cells in {timings[n]:.1f} s")
    base = timings[args.workers[0]]
    result = {
        "profile": profile.name,
        "cells": len(table),
        "seconds": {str(n): round(t, 2) for n, t in timings.items()},
        "speedup": {str(n): round(base / t, 3) for n, t in timings.items()},
        "cpu_count": __import__("os").cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "note": "wall clock incl. Dask cluster start-up; models pre-trained; machine load not controlled",
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "grid_workers.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
