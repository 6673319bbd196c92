"""Report the wall time of each part of the fidelity map, from the cells' own records.

Each stored cell's ``meta.json`` records the wall time of its attack (``wall_seconds``; model
training is not included). This script sums them per budget, dataset and model, derives the cost
of one attack step over the 20 series, and projects the attack cost of the ``default`` profile
(7 attacks x its datasets x 4 models at the mid budget) from the mid-budget cells. It measures
nothing itself: rerun it after ``aslo map`` to update ``benchmarks/results/map_times.md``.

    python benchmarks/map_times.py [--evidence-dir evidence/fidelity_map]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aslo.experiments import fidelity_map as fm


def main() -> None:
    """Write the Markdown table of times."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--evidence-dir", default=str(fm.DEFAULT_EVIDENCE_DIR))
    p.add_argument("--out", default="benchmarks/results/map_times.md")
    args = p.parse_args()
    table = fm.map_table(args.evidence_dir)
    cells = table[table["stored"]].drop_duplicates(["dataset", "model", "cell"])
    parts = cells.groupby(["budget", "dataset", "model"]).agg(cells=("cell", "size"), wall_seconds=("wall_seconds", "sum"),
                                                              steps=("steps", "first"))
    parts["seconds_per_step"] = parts["wall_seconds"] / parts["cells"] / parts["steps"]
    lines = [f"# Wall time of the fidelity map's parts ({len(cells)} stored cells, attacks only)", "",
             parts.round(3).to_markdown(), "",
             f"Total attack wall time: {cells['wall_seconds'].sum() / 60:.1f} min.", ""]
    mid = parts.xs("mid", level="budget") if "mid" in parts.index.get_level_values("budget") else None
    if mid is not None and len(mid):
        per_attack = mid["wall_seconds"] / mid["cells"]
        lines.append(f"Projected attack cost of the default profile (7 attacks x the {len(per_attack)} "
                     f"(dataset, model) pairs measured at 200 steps): {7 * per_attack.sum() / 60:.1f} min "
                     f"single-threaded; pairs measured: {', '.join('/'.join(k) for k in per_attack.index)}.")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
