"""Our attacks and the peers on the same model, series, box and step budget: one row each.

Ours are run through :func:`aslo.attacks.run_attack`; ``AS_CW_SPARSE_BOX`` is AS_CW_SPARSE given
the peers' feasible set (the L-infinity box as wide as the UnitBox, and ``x + delta`` clamped to
it) with steps x lr = 4 x box width (large steps, as sigma-zero's unit step on [0, 1]).
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from ..attacks import run_attack
from ..robustness import curve_points, median_success_l0, robustness_curve
from .affine import unit_box_for
from .runners import run_peer

#: The attack every row is compared with (the ``ratio_*`` columns).
REFERENCE = "AS_CW_SPARSE_BOX"


def our_attacks(steps: int, box, paper_kwargs: dict | None = None) -> dict:
    """``{label: (registered attack, overrides)}`` for our side of the comparison."""
    paper = {"steps": steps, **(paper_kwargs or {})}
    return {
        "AS_CW": ("AS_CW", paper),
        "AS_CW_SPARSE": ("AS_CW_SPARSE", {"steps": steps, "lr": 1.0 / steps}),
        REFERENCE: ("AS_CW_SPARSE", {"steps": steps, "eps": box.scale, "lr": 4 * box.scale / steps,
                                     "clip_min": box.lo, "clip_max": box.hi}),
    }


def _row(label: str, records: pd.DataFrame, duration: float, n_features: int) -> dict:
    success = records["success"].astype(bool)
    return {
        "attack": label,
        "asr": float(success.mean()),
        "median_l0": median_success_l0(records),
        "mean_l2": float(records.loc[success, "l2"].mean()) if success.any() else math.nan,
        **curve_points(records, n_features),
        "sec_per_sample": duration / len(records),
    }


def compare_on(model, x, y, *, steps: int, eps: float = 1.0, peers=(), paper_kwargs: dict | None = None,
               seed: int = 0, progress: bool = False):
    """Run our attacks and ``peers`` on ``x`` (N, C, L); returns ``(table, curves)``.

    ``table`` has one row per attack (asr, median_l0 and mean_l2 over successes, ASR at L0
    budgets of 1-20 % of the series, sec_per_sample) and ``ratio_<col>`` = value / value of
    ``AS_CW_SPARSE_BOX``; ``curves`` maps each attack to its :func:`robustness_curve`.
    """
    x = torch.as_tensor(x)
    box = unit_box_for(x, eps)
    n_features = int(x[0].numel())
    rows, curves = [], {}
    for label, (name, kwargs) in our_attacks(steps, box, paper_kwargs).items():
        result = run_attack(model, x, y, name, progress=progress, seed=seed, **kwargs)
        rows.append(_row(label, result.records, result.summary["duration"], n_features))
        curves[label] = robustness_curve(result.records, n_features)
    for name in peers:
        result = run_peer(model, x, y, name, steps=steps, eps=eps, box=box, seed=seed)
        rows.append(_row(name, result.records, result.summary["duration"], n_features))
        curves[name] = robustness_curve(result.records, n_features)
    table = pd.DataFrame(rows)
    ref = table.set_index("attack").loc[REFERENCE]
    for col in ("asr", "median_l0", "mean_l2", "sec_per_sample"):
        table[f"ratio_{col}"] = table[col] / ref[col] if ref[col] else math.nan
    return table, curves


def goal_check(table: pd.DataFrame, peer: str = "SIGMA_ZERO", ours: str = REFERENCE) -> pd.DataFrame:
    """Per (dataset, model): does ``ours`` reach ``peer``'s ASR with a median L0 no larger?

    ``table`` is the benchmark table (columns dataset, model, attack, asr, median_l0,
    sec_per_sample). Returns one row per cell with both sides, ``asr_ok``, ``l0_ok``,
    ``cost_ratio`` (our seconds per sample / the peer's) and ``goal_met``.
    """
    need = {"dataset", "model", "attack", "asr", "median_l0", "sec_per_sample"}
    if not need <= set(table.columns):
        raise ValueError(f"table lacks column(s) {sorted(need - set(table.columns))}")
    keys = ["dataset", "model"]
    cols = ["asr", "median_l0", "sec_per_sample"]
    a = table[table["attack"] == ours].set_index(keys)[cols]
    b = table[table["attack"] == peer].set_index(keys)[cols]
    if a.empty or b.empty:
        raise ValueError(f"table has no rows of {ours!r} or of {peer!r}")
    both = a.join(b, lsuffix="_ours", rsuffix=f"_{peer.lower()}", how="inner")
    p = peer.lower()
    both["asr_ok"] = both["asr_ours"] >= both[f"asr_{p}"]
    # NaN median (no success) on our side fails; on the peer's side only the ASR test matters
    both["l0_ok"] = (both["median_l0_ours"] <= both[f"median_l0_{p}"]) | both[f"median_l0_{p}"].isna()
    both["cost_ratio"] = both["sec_per_sample_ours"] / both[f"sec_per_sample_{p}"]
    both["goal_met"] = both["asr_ok"] & both["l0_ok"]
    return both.reset_index()
