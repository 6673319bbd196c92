"""Measure how far stored map cells move when recomputed from the same weights elsewhere.

The committed map cells of the shipped models (``evidence/models``) were computed with one torch
thread on one CPU. A reviewer's machine sums in another order (other thread count, other
kernels). This script recomputes a seeded choice of those cells under variations that change
float results on one machine, each in a fresh process (the settings are read at start-up):

* ``1 thread`` (the map's own setting: identical on the machine that wrote the map),
* ``2 threads``,
* ``1 thread, AVX2 cap`` (``ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2``),
* ``1 thread, no oneDNN kernels, baseline ISA`` (``ATEN_CPU_CAPABILITY=default``, ``ONEDNN_MAX_CPU_ISA=SSE41``),

and reports, per variation, how many cells are bit-identical, how many series changed success
and the largest relative change of a successful series' L2: the evidence behind
:data:`aslo.experiments.recheck.RECHECK_TOLERANCE`. It writes
``benchmarks/results/recheck_tolerance.{csv,md}``.

    python benchmarks/recheck_tolerance.py [--cells 12] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

VARIANTS = {
    "1 thread": ({}, 1),
    "2 threads": ({}, 2),
    "1 thread, AVX2 cap": ({"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2",
                            "MKL_ENABLE_INSTRUCTIONS": "AVX2"}, 1),
    "1 thread, baseline ISA": ({"ONEDNN_MAX_CPU_ISA": "SSE41", "ATEN_CPU_CAPABILITY": "default",
                                "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}, 1),
}


def run_variant(name: str, cells: int, seed: int, folder: Path) -> pd.DataFrame:
    """Recheck ``cells`` seeded cells in a fresh ``aslo`` process under one variation."""
    env_extra, threads = VARIANTS[name]
    out = folder / f"{name.replace(' ', '_').replace(',', '')}.csv"
    env = {**os.environ, **env_extra, "OMP_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-c", "import sys; from aslo.cli import main; sys.exit(main())", "map", "--recheck", str(cells), "--seed", str(seed),
           "--threads", str(threads), "--recheck-out", str(out), "--no-progress"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: some cell disagrees, which is what we measure
        raise RuntimeError(f"{name}: {' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    print(f"{name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return pd.read_csv(out).assign(variant=name)


def main() -> None:
    """Run every variation and write the CSV and the Markdown summary."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cells", type=int, default=12)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="benchmarks/results/recheck_tolerance")
    p.add_argument("--summarise-only", action="store_true", help="only rewrite <out>_summary.csv from <out>.csv")
    args = p.parse_args()
    out = Path(args.out)
    if args.summarise_only:
        table = pd.read_csv(out.with_suffix(".csv"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            frames = [run_variant(name, args.cells, args.seed, Path(tmp)) for name in VARIANTS]
        table = pd.concat(frames, ignore_index=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out.with_suffix(".csv"), index=False)
    summary = table.groupby("variant", sort=False).agg(
        cells=("cell", "size"), identical=("identical", "sum"), series=("series", "sum"),
        success_changed=("success_changed", "sum"), max_success_changed_in_a_cell=("success_changed", "max"),
        max_l2_rel_diff=("l2_max_rel_diff", "max"), agree=("agree", "sum"))
    # the table the book's Reproduce chapter includes: words for column names, rounded numbers
    compact = summary.reset_index().round({"max_l2_rel_diff": 6})
    compact = compact[["variant", "cells", "identical", "series", "success_changed", "max_l2_rel_diff", "agree"]]
    compact.rename(columns={
        "variant": "setting", "identical": "identical", "series": "series",
        "success_changed": "series changing success", "max_l2_rel_diff": "largest relative L2 change",
        "agree": "within tolerance"}).to_csv(f"{out}_summary.csv", index=False)
    if args.summarise_only:  # the .md keeps the commit and machine of the run that measured
        return
    from aslo.experiments.recheck import RECHECK_TOLERANCE

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [f"# Stored map cells recomputed from the shipped weights under other float settings", "",
             f"{args.cells} cells drawn with seed {args.seed} among the stored cells (at most 200 steps) of the "
             f"models in `evidence/models`; code at {commit}; {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs; `python benchmarks/recheck_tolerance.py --cells {args.cells} --seed {args.seed}`.",
             "", summary.to_markdown(), "",
             f"Tolerance the recheck applies: {RECHECK_TOLERANCE.text()}.", ""]
    out.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
