"""Stored conclusions and whether they hold on another machine.

A profile's conclusions are its claims' verdicts and the paired-bootstrap intervals behind them
(:func:`aslo.report.uncertainty.profile_verdicts`). Models retrained on another CPU, or with
another thread count, have other weights, so the attacks' numbers move; what should survive is
the conclusion. :func:`save_conclusions` commits one run's intervals and verdicts with their
provenance (``evidence/conclusions/<profile>/``); :func:`compare_conclusions` sets a fresh
run's beside them, comparison by comparison: the same verdict, and whether the fresh estimate
falls inside the stored interval.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

from aslo.environment import REPOSITORY_ROOT, invocation_record

#: Where the committed conclusions live, relative to the repository root (one folder per profile).
DEFAULT_CONCLUSIONS_DIR = Path("evidence") / "conclusions"
#: The same profile run again under other float settings (models retrained there), one folder
#: per setting: ``<DEFAULT_CONCLUSIONS_DIR>/variants/<profile>__<setting>/``.
VARIANTS_FOLDER = "variants"
INTERVALS_FILE, VERDICTS_FILE, PROVENANCE_FILE = "intervals.csv", "verdicts.csv", "provenance.json"
#: The columns of :func:`compare_conclusions`.
COMPARISON_COLUMNS = ("claim", "model", "a", "b", "stored_verdict", "stored_estimate", "stored_low", "stored_high",
                      "verdict_now", "estimate_now", "low_now", "high_now", "same_verdict", "inside_stored_interval")


def conclusions_base(conclusions_dir=None) -> Path:
    """The folder holding the stored conclusions: ``conclusions_dir``, or the repository's
    :data:`DEFAULT_CONCLUSIONS_DIR`."""
    return Path(conclusions_dir) if conclusions_dir else REPOSITORY_ROOT / DEFAULT_CONCLUSIONS_DIR


def save_conclusions(profile, results_dir, out_dir, *, command: str | None = None, n_boot: int = 2000) -> Path:
    """Write the profile's intervals, verdicts and provenance into ``out_dir``; return it.

    Provenance: command, commit, date, machine (platform, CPU count, torch threads, CPU
    capability) and the budget sentence. Nothing is computed beyond the bootstrap over stored cells.
    """
    from aslo.report.uncertainty import profile_verdicts

    started = time.time()
    intervals, verdicts, budget = profile_verdicts(profile, results_dir, n_boot=n_boot)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    intervals.to_csv(out / INTERVALS_FILE, index=False, lineterminator="\n")
    verdicts.to_csv(out / VERDICTS_FILE, index=False, lineterminator="\n")
    provenance = {**invocation_record(command, started, time.time() - started), "budget": budget, "n_boot": n_boot}
    (out / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2) + "\n")
    return out


def load_conclusions(folder) -> tuple[pd.DataFrame, dict]:
    """(stored intervals, provenance) from a folder written by :func:`save_conclusions`."""
    folder = Path(folder)
    missing = [name for name in (INTERVALS_FILE, PROVENANCE_FILE) if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"no stored conclusions in {folder} (missing {', '.join(missing)})")
    return pd.read_csv(folder / INTERVALS_FILE), json.loads((folder / PROVENANCE_FILE).read_text())


def compare_conclusions(stored: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison (claim, model, A, B) held by both interval tables: the stored and
    the fresh verdict, estimate and interval, ``same_verdict`` and ``inside_stored_interval``."""
    keys = ["claim", "model", "a", "b"]
    cols = ["verdict", "estimate", "ci_low", "ci_high"]
    joined = stored[keys + cols].merge(fresh[keys + cols], on=keys, suffixes=("_stored", "_now"))
    table = pd.DataFrame({
        **{k: joined[k] for k in keys},
        "stored_verdict": joined["verdict_stored"], "stored_estimate": joined["estimate_stored"],
        "stored_low": joined["ci_low_stored"], "stored_high": joined["ci_high_stored"],
        "verdict_now": joined["verdict_now"], "estimate_now": joined["estimate_now"],
        "low_now": joined["ci_low_now"], "high_now": joined["ci_high_now"],
    })
    table["same_verdict"] = table["stored_verdict"] == table["verdict_now"]
    # an estimate that is undefined both times (e.g. no success under either attack) stays undefined
    undefined = table["estimate_now"].isna() & table["stored_estimate"].isna()
    table["inside_stored_interval"] = table["estimate_now"].between(table["stored_low"], table["stored_high"]) | undefined
    return table[list(COMPARISON_COLUMNS)]


def comparison_rows(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare_conclusions`' table for a reader: claim id, model, comparison, the stored and
    the fresh verdict, and whether the fresh estimate falls inside the stored interval."""
    from aslo.report.claims import claim_by_label

    return pd.DataFrame({"claim": [claim_by_label(c).id for c in table["claim"]], "model": table["model"],
                         "comparison": table["a"] + " vs " + table["b"], "stored verdict": table["stored_verdict"],
                         "verdict now": table["verdict_now"],
                         "estimate inside stored interval": table["inside_stored_interval"].map({True: "yes", False: "no"})})


def conclusions_sentence(table: pd.DataFrame | None, provenance: dict | None = None) -> str:
    """What the comparison of :func:`compare_conclusions` says, in two sentences."""
    if table is None or table.empty:
        return "No stored conclusions to compare with for this profile."
    where = ""
    if provenance:
        machine = provenance.get("machine", {})
        where = (f" (stored at commit {str(provenance.get('commit', ''))[:10]} on {provenance.get('date', '?')}, "
                 f"{machine.get('cpu_count', '?')} CPUs, {machine.get('torch_threads', '?')} torch threads, "
                 f"CPU capability {machine.get('cpu_capability', '?')})")
    same, inside = int(table["same_verdict"].sum()), int(table["inside_stored_interval"].sum())
    changed = table[~table["same_verdict"]]
    text = (f"With the models trained in this run, {same} of {len(table)} comparisons reach the stored verdict "
            f"and {inside} of {len(table)} estimates fall inside the stored 95 % interval{where}.")
    if changed.empty:
        return text + " No verdict changed."
    moved = "; ".join(f"{r.claim.split(':')[0]} {r.model} ({r.a} vs {r.b}): {r.stored_verdict} -> {r.verdict_now}"
                      for r in changed.itertuples())
    return text + f" Changed: {moved}."


def recheck_conclusions(profile, results_dir, out_dir, *, conclusions_dir=None, progress: bool = True) -> Path | None:
    """Compare this run's conclusions with the stored ones of the same profile; write
    ``<out_dir>/conclusions_recheck.csv`` and return its path (None, with a note on the terminal,
    when nothing is stored for the profile)."""
    from aslo.experiments.profiles import as_profile
    from aslo.report.uncertainty import profile_verdicts

    prof = as_profile(profile)
    base = conclusions_base(conclusions_dir)
    path = Path(out_dir) / "conclusions_recheck.csv"
    path.unlink(missing_ok=True)
    folder = base / prof.name
    if not (folder / INTERVALS_FILE).is_file():
        if progress:
            print(f"  no stored conclusions for profile {prof.name} in {base}: nothing to compare", file=sys.stderr)
        return None
    stored, provenance = load_conclusions(folder)
    intervals, _, budget = profile_verdicts(prof, results_dir, n_boot=int(provenance.get("n_boot", 2000)))
    table = compare_conclusions(stored, intervals)
    table.to_csv(path, index=False)
    if progress:
        print(f"  {conclusions_sentence(table, provenance)}", file=sys.stderr, flush=True)
        if provenance.get("budget") != budget:  # the profile changed since: other numbers are expected
            print(f"  warning: the stored conclusions were computed under another budget ({provenance.get('budget')}); "
                  f"this run: {budget}", file=sys.stderr, flush=True)
    return path


def stored_variants(profile_name: str, conclusions_dir=None) -> dict[str, Path]:
    """The committed conclusions of ``profile_name``: the reference first, then each variant.

    Keys are a label of the setting each was computed under (from its provenance: threads and CPU
    capability); values are folders readable by :func:`load_conclusions`."""
    base = conclusions_base(conclusions_dir)
    folders = [base / profile_name] + sorted((base / VARIANTS_FOLDER).glob(f"{profile_name}__*"))
    out = {}
    for folder in folders:
        if (folder / VERDICTS_FILE).is_file() and (folder / PROVENANCE_FILE).is_file():
            machine = json.loads((folder / PROVENANCE_FILE).read_text()).get("machine", {})
            label = f"{machine.get('torch_threads', '?')} thread(s), {machine.get('cpu_capability', '?')}"
            out[label if label not in out else f"{label} ({folder.name})"] = folder
    return out


def verdict_survival(folders: dict[str, Path]) -> pd.DataFrame:
    """One row per (claim, model): its verdict in each stored run (models retrained under each
    setting) and whether all agree; the claims that a retrained model does not flip."""
    frames = []
    for label, folder in folders.items():
        verdicts = pd.read_csv(Path(folder) / VERDICTS_FILE)[["claim", "model", "verdict"]]
        frames.append(verdicts.rename(columns={"verdict": label}).set_index(["claim", "model"]))
    if not frames:
        return pd.DataFrame(columns=["claim", "model", "same in every run"])
    table = pd.concat(frames, axis=1, join="inner").reset_index()
    labels = list(folders)
    table["same in every run"] = (table[labels].nunique(axis=1) == 1).map({True: "yes", False: "no"})
    return table


def write_verdict_survival(profile_name: str, out_dir, conclusions_dir=None) -> Path:
    """Write :func:`verdict_survival` of the committed runs of ``profile_name`` to
    ``<out_dir>/conclusions_survival.csv`` (the reproduce chapter includes it)."""
    path = Path(out_dir) / "conclusions_survival.csv"
    verdict_survival(stored_variants(profile_name, conclusions_dir)).to_csv(path, index=False)
    return path
