"""Our attacks and the peers on the same model, series, box and step budget: one row each.

Ours are run through :func:`aslo.attacks.run_attack`; ``AS_CW_SPARSE_BOX`` is AS_CW_SPARSE given
the peers' feasible set (the L-infinity box as wide as the UnitBox, and ``x + delta`` clamped to
it) with steps x lr = 4 x box width (large steps, as sigma-zero's unit step on [0, 1]);
``AS_CW_SPARSE_SEARCH`` is the same followed by the greedy L0 search; ``AS_CW_BUDGET`` (``BEST``)
grows its support under an adaptive L0 budget with normalised steps of one box width, then runs
the search, in the same feasible set.
"""

from __future__ import annotations

import math
import statistics

import pandas as pd
import torch

from ..attacks import run_attack
from ..robustness import budget_points, curve_points, median_success_l0, robustness_curve
from .affine import unit_box_for
from .l0 import PROTOCOL_COUNTS, median_l0_failures_infinite
from .passes import PassCounter
from .runners import run_peer

#: The attack every row is compared with (the ``ratio_*`` columns).
REFERENCE = "AS_CW_SPARSE_BOX"
#: REFERENCE followed by the greedy L0 search (aslo.attacks.l0_search).
SEARCH = "AS_CW_SPARSE_SEARCH"
#: Our strongest sparse attack: the registered AS_CW_BUDGET in the peers' feasible set.
BEST = "AS_CW_BUDGET"
#: The sparse peers the goal of issue 12 is stated against.
GOAL_PEERS = ("FMN_L0", "SIGMA_ZERO")


def our_attacks(steps: int, box, paper_kwargs: dict | None = None) -> dict:
    """``{label: (registered attack, overrides)}`` for our side of the comparison."""
    paper = {"steps": steps, **(paper_kwargs or {})}
    in_box = {"steps": steps, "eps": box.scale, "lr": 4 * box.scale / steps, "clip_min": box.lo, "clip_max": box.hi}
    return {
        "AS_CW": ("AS_CW", paper),
        "AS_CW_SPARSE": ("AS_CW_SPARSE", {"steps": steps, "lr": 1.0 / steps}),
        REFERENCE: ("AS_CW_SPARSE", in_box),
        SEARCH: ("AS_CW_SPARSE", {**in_box, "search": "greedy"}),
        BEST: ("AS_CW_BUDGET", {"steps": steps, "eps": box.scale, "alpha": box.scale,
                                "clip_min": box.lo, "clip_max": box.hi}),
    }


def _row(label: str, records: pd.DataFrame, duration: float, n_features: int) -> dict:
    success = records["success"].astype(bool)
    return {
        "attack": label,
        "asr": float(success.mean()),
        "median_l0": median_success_l0(records),
        "median_l0_failures_inf": median_l0_failures_infinite(records),
        "mean_l2": float(records.loc[success, "l2"].mean()) if success.any() else math.nan,
        **budget_points(records, n_features, counts=PROTOCOL_COUNTS),
        **curve_points(records, n_features),
        "sec_per_sample": duration / len(records),
    }


def compare_on(model, x, y, *, steps: int, eps: float = 1.0, peers=(), paper_kwargs: dict | None = None,
               seed: int = 0, progress: bool = False, ours=None, lengths=None, repeats: int = 1):
    """Run our attacks and ``peers`` on ``x`` (N, C, L); returns ``(table, curves)``.

    ``ours``: labels of :func:`our_attacks` to run (None: all; must include REFERENCE).
    ``lengths``: observed length per series (variable-length sets): every attack touches and
    counts only observed steps. ``repeats``: runs of each attack; ``sec_per_sample`` is the median
    of their durations (one run's time on a small batch varies by 20 % on this CPU) and the
    records come from the first (every attack is deterministic; a rerun that differs is an error).
    ``table`` has one row per attack (asr, median_l0 and mean_l2 over successes,
    median_l0_failures_inf (failures as infinite), ASR at L0 budgets of 1, 2, 5 and 10 components
    (:data:`PROTOCOL_COUNTS`) and of 1-20 % of the series, sec_per_sample, forwards_per_series and
    backwards_per_series counted by :class:`~aslo.peers.passes.PassCounter` over the whole call,
    clean prediction and final check included) and ``ratio_<col>`` = value / value of
    ``AS_CW_SPARSE_BOX``; ``curves`` maps each attack to its :func:`robustness_curve`.
    """
    x = torch.as_tensor(x)
    box = unit_box_for(x, eps)
    n_features = int(x[0].numel())
    rows, curves = [], {}
    mine = our_attacks(steps, box, paper_kwargs)
    unknown = set(ours or ()) - set(mine)
    if unknown:
        raise ValueError(f"unknown attack label(s) {sorted(unknown)}; ours are {', '.join(mine)}")
    if ours is not None and REFERENCE not in ours:
        raise ValueError(f"ours must include {REFERENCE}, the reference of the ratio columns")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    counter = PassCounter(model)  # every attack sees the model through it: passes counted alike
    runs = {label: (lambda name=name, kwargs=kwargs: run_attack(counter, x, y, name, progress=progress, seed=seed,
                                                                lengths=lengths, **kwargs))
            for label, (name, kwargs) in mine.items() if ours is None or label in ours}
    runs.update({name: (lambda name=name: run_peer(counter, x, y, name, steps=steps, eps=eps, box=box, seed=seed,
                                                    lengths=lengths)) for name in peers})
    for label, run in runs.items():
        counter.reset()
        results = [run()]
        passes = counter.per_series(len(results[0].records))  # the first run's, clean prediction included
        results += [run() for _ in range(repeats - 1)]
        records = results[0].records
        if any(not torch.equal(torch.as_tensor(r.delta), torch.as_tensor(results[0].delta)) for r in results[1:]):
            raise RuntimeError(f"{label} gave different perturbations on reruns with the same seed")
        duration = statistics.median(r.summary["duration"] for r in results)
        rows.append({**_row(label, records, duration, n_features), **passes})
        curves[label] = robustness_curve(records, n_features)
    table = pd.DataFrame(rows)
    ref = table.set_index("attack").loc[REFERENCE]
    for col in ("asr", "median_l0", "mean_l2", "sec_per_sample"):
        table[f"ratio_{col}"] = table[col] / ref[col] if ref[col] else math.nan
    return table, curves


def goal_check(table: pd.DataFrame, ours: str = BEST, peers=GOAL_PEERS, cost_factor: float = 1.2) -> pd.DataFrame:
    """Issue 12's goal per (dataset, model): ``ours`` against the best of ``peers`` in that cell.

    ``table``: the benchmark table (columns dataset, model, attack, asr, median_l0,
    sec_per_sample). Per cell: ``asr_ok`` (ours has ASR 1.0 wherever a peer reaches 1.0, and
    is not below the best peer's ASR otherwise), ``l0_ok`` (our median L0 of successes is no
    larger than the smallest peer median; NaN on our side fails), ``l0_smaller`` (strictly
    smaller), ``cost_ratio`` (our seconds per sample over the faster peer's) and ``cost_ok``
    (at most ``cost_factor``), and ``goal_met`` (all three). Peers missing from the table are
    left out; ValueError if ``ours`` or every peer is missing.
    """
    need = {"dataset", "model", "attack", "asr", "median_l0", "sec_per_sample"}
    if not need <= set(table.columns):
        raise ValueError(f"table lacks column(s) {sorted(need - set(table.columns))}")
    present = [p for p in peers if p in set(table["attack"])]
    if ours not in set(table["attack"]) or not present:
        raise ValueError(f"table has no rows of {ours!r} or of any of {list(peers)}")
    keys = ["dataset", "model"]
    mine = table[table["attack"] == ours].set_index(keys)
    theirs = table[table["attack"].isin(present)].groupby(keys)
    out = pd.DataFrame({
        "asr_ours": mine["asr"],
        "median_l0_ours": mine["median_l0"],
        "sec_per_sample_ours": mine["sec_per_sample"],
        "best_peer_asr": theirs["asr"].max(),
        "best_peer_median_l0": theirs["median_l0"].min(),
        "sparsest_peer": theirs.apply(lambda g: g.loc[g["median_l0"].idxmin(), "attack"]
                                      if g["median_l0"].notna().any() else None, include_groups=False),
        "fastest_peer_sec": theirs["sec_per_sample"].min(),
    }).dropna(subset=["asr_ours"])
    out["asr_ok"] = out["asr_ours"] >= out["best_peer_asr"]
    out["l0_ok"] = (out["median_l0_ours"] <= out["best_peer_median_l0"]) | (
        out["best_peer_median_l0"].isna() & out["median_l0_ours"].notna())
    out["l0_smaller"] = out["median_l0_ours"] < out["best_peer_median_l0"]
    out["cost_ratio"] = out["sec_per_sample_ours"] / out["fastest_peer_sec"]
    out["cost_ok"] = out["cost_ratio"] <= cost_factor
    out["goal_met"] = out["asr_ok"] & out["l0_ok"] & out["cost_ok"]
    return out.reset_index()


def goal_sentence(goal: pd.DataFrame, ours: str = BEST) -> str:
    """How many cells meet each part of the goal, in one sentence generated from ``goal``."""
    if "goal_met" not in goal.columns:
        return str(goal.iloc[0, 0]) if len(goal) else "No benchmark table."
    n = len(goal)

    def count(col):
        return int(goal[col].sum())

    # a median L0 of 1 cannot be beaten: L0 = 0 is the clean input
    open_cells = int((goal["best_peer_median_l0"] > 1).sum())
    return (f"{ours} against the best of the peers in each of {n} (dataset, model) cells: ASR kept on "
            f"{count('asr_ok')}, median L0 no larger on {count('l0_ok')} (smaller on {count('l0_smaller')} of "
            f"the {open_cells} where the sparsest peer's median exceeds 1), "
            f"cost within 1.2x of the faster peer on {count('cost_ok')} (median cost ratio "
            f"{goal['cost_ratio'].median():.2f}); all parts met on {count('goal_met')}.")
