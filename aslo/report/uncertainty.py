"""Verdicts with uncertainty: a paired, dataset-stratified bootstrap of each claim's difference.

Each claim of :mod:`aslo.report.claims` compares two attacks on the *same* series (paired) of
each dataset (a stratum). A bootstrap replicate redraws, within every dataset, as many series
as it has, with replacement, and uses the same draw for both attacks; the claim's quantities are
then aggregated like Table 1 (per dataset, then the unweighted mean over datasets). From
``n_boot`` replicates we take the percentile interval at ``level`` (95 %).

Quantities, per model and pair (A = the AS attack, B = a comparator):

* C1 (ASL0 keeps ASR): ``d = ASR(A) - ASR(B)``; margin ``m = tol - |d|``;
* C2 (ASL0 lowers the mean success distance): ``d = MSD(A) / MSD(B) - 1`` (relative);
  ``m = -d - min_reduction``;
* C3 (close-to-0 far above): ``d = C(A) - C(B)``; ``m = min(d - far_margin, C(A) - far_factor C(B))``;
* C4 (AS lowers the success distance of its base attack at similar ASR):
  ``d = MSD(A) / MSD(B) - 1``; ``m = min(-d - min_reduction, tol - |ASR(A) - ASR(B)|)``.

The tolerances are those of :class:`aslo.report.claims.ClaimRules`, so ``m >= 0`` is exactly the
point rule of :mod:`aslo.report.claims`.

**Verdict rule.** With ``[m_lo, m_hi]`` the bootstrap interval of the margin ``m``:
*supported* if ``m_lo > 0`` (the rule holds across the interval), *contradicted* if ``m_hi < 0``
(it fails across the interval), *inconclusive* otherwise (the interval straddles the rule's
boundary: more series, datasets or seeds are needed). A claim with several comparators (C1,
C2: L1, L2, none; C3: L2, none) is supported for a model when every comparison is, contradicted
when any is, inconclusive otherwise.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from aslo.report.claims import ClaimRules
from aslo.report.labels import MODEL_LABELS

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE)
RECORD_COLUMNS = ("dataset", "model", "attack", "test_index", "success", "l2", "close_to_zero")
INTERVAL_COLUMNS = ("claim", "model", "a", "b", "quantity", "estimate", "ci_low", "ci_high", "margin",
                    "margin_low", "margin_high", "verdict", "datasets", "series")
VERDICT_COLUMNS = ("claim", "model", "verdict", "intervals", "series", "datasets")


@dataclass(frozen=True)
class Comparison:
    """One claim's comparison of attack ``a`` against attack ``b``."""

    claim: str
    a: str
    b: str
    quantity: str  # "asr_diff", "msd_rel", "c0_diff", "msd_rel_asr"


#: The comparisons behind claims C1-C4 (Table 1's column labels in brackets).
COMPARISONS = (
    *(Comparison("C1: ASL0 keeps ASR", "AS_CW", b, "asr_diff") for b in ("CW_L1", "CW_L2", "CW")),
    *(Comparison("C2: ASL0 lowers the mean success distance", "AS_CW", b, "msd_rel") for b in ("CW_L1", "CW_L2", "CW")),
    *(Comparison("C3: ASL0 raises close-to-0 far above L2 and none", "AS_CW", b, "c0_diff") for b in ("CW_L2", "CW")),
    Comparison("C4: AS lowers the success distance of its base attack", "AS_GM_PGD", "GM_PGD", "msd_rel_asr"),
    Comparison("C4: AS lowers the success distance of its base attack", "AS_CW", "CW", "msd_rel_asr"),
)
QUANTITY_LABELS = {"asr_diff": "ASR(A) - ASR(B)", "msd_rel": "MSD(A)/MSD(B) - 1",
                   "c0_diff": "C(A) - C(B)", "msd_rel_asr": "MSD(A)/MSD(B) - 1"}


def bootstrap_weights(sizes: Mapping[str, int], n_boot: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per stratum, a ``(n_boot + 1, n)`` matrix of resampling counts; row 0 is the data itself."""
    out = {}
    for stratum, n in sizes.items():
        if n < 1:
            raise ValueError(f"stratum {stratum!r} has no series")
        draws = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)
        out[stratum] = np.vstack([np.ones((1, n), dtype=draws.dtype), draws]).astype(float)
    return out


def _wmean(w: np.ndarray, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Weighted mean per replicate row (NaN where the weights of the mask are all zero)."""
    if mask is not None:
        w = w * mask
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (w * values).sum(axis=1) / np.where(total > 0, total, 1), np.nan)


def paired_bootstrap(strata: Mapping[str, tuple[np.ndarray, np.ndarray]],
                     statistic: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
                     *, n_boot: int = 2000, seed: int = 0) -> np.ndarray:
    """Replicates of ``mean over strata of statistic(w, a, b)``; element 0 is the point estimate.

    ``strata`` maps a stratum to its paired per-series arrays ``(a, b)`` (same length, same
    series order; each may be 2-D, one column per per-series quantity). ``statistic(w, a, b)``
    gets the ``(n_boot + 1, n)`` weights and returns one value per row.
    """
    rng = np.random.default_rng(seed)
    sizes = {k: len(v[0]) for k, v in strata.items()}
    for k, (a, b) in strata.items():
        if len(a) != len(b):
            raise ValueError(f"stratum {k!r}: the paired arrays differ in length ({len(a)} vs {len(b)})")
    weights = bootstrap_weights(sizes, n_boot, rng)
    per = np.vstack([statistic(weights[k], np.asarray(a, float), np.asarray(b, float)) for k, (a, b) in strata.items()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(per, axis=0)


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval of the finite replicates (1..n; element 0 is the estimate)."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    boot = replicates[1:]
    boot = boot[np.isfinite(boot)]
    if len(boot) == 0:
        return (np.nan, np.nan)
    alpha = (1 - level) / 2
    return (float(np.quantile(boot, alpha)), float(np.quantile(boot, 1 - alpha)))


def verdict_from_interval(low: float, high: float) -> str:
    """The verdict rule on the margin's interval (see the module docstring)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return INCONCLUSIVE
    if low > 0:
        return SUPPORTED
    if high < 0:
        return CONTRADICTED
    return INCONCLUSIVE


def _stats(w, a, b):
    """Per-replicate ASR, MSD and close-to-0 of both attacks (columns: success, l2, c0)."""
    out = {}
    for name, v in (("a", a), ("b", b)):
        success, dist, c0 = v[:, 0], v[:, 1], v[:, 2]
        out[name] = (_wmean(w, success), _wmean(w, dist, success > 0), _wmean(w, c0))
    return out


def _per_dataset(w, a, b):
    """Stack the three per-dataset Table-1 quantities of A and B: shape (6, rows)."""
    s = _stats(w, a, b)
    return np.vstack([*s["a"], *s["b"]])


def _margin(kind: str, agg: np.ndarray, rules: ClaimRules) -> tuple[np.ndarray, np.ndarray]:
    """(difference, margin) from Table-1-aggregated quantities ``agg`` (6, rows)."""
    asr_a, msd_a, c_a, asr_b, msd_b, c_b = agg
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = msd_a / msd_b - 1
    if kind == "asr_diff":
        d = asr_a - asr_b
        return d, rules.asr_tolerance - np.abs(d)
    if kind == "msd_rel":
        return rel, -rel - rules.min_reduction
    if kind == "c0_diff":
        d = c_a - c_b
        return d, np.minimum(d - rules.far_margin, c_a - rules.far_factor * c_b)
    if kind == "msd_rel_asr":
        return rel, np.minimum(-rel - rules.min_reduction, rules.asr_tolerance - np.abs(asr_a - asr_b))
    raise ValueError(f"unknown quantity {kind!r}")


def _aggregate_strata(strata, n_boot, seed) -> np.ndarray:
    """Table-1 aggregation of the six quantities: per dataset, then the mean over datasets."""
    rng = np.random.default_rng(seed)
    weights = bootstrap_weights({k: len(v[0]) for k, v in strata.items()}, n_boot, rng)
    per = np.stack([_per_dataset(weights[k], a, b) for k, (a, b) in strata.items()])  # (D, 6, rows)
    with warnings.catch_warnings():  # a replicate with no success in any dataset: MSD is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(per, axis=0)


def check_records(records: pd.DataFrame) -> pd.DataFrame:
    """Validate per-series records (columns :data:`RECORD_COLUMNS`); return a clean copy."""
    if not isinstance(records, pd.DataFrame):
        raise TypeError(f"records must be a pandas DataFrame, got {type(records).__name__}")
    missing = [c for c in RECORD_COLUMNS if c not in records.columns]
    if missing:
        raise ValueError(f"records lacks column(s) {missing}; has {list(records.columns)}")
    frame = records.copy()
    frame["attack"] = frame["attack"].astype(str).str.upper()
    if frame.duplicated(["dataset", "model", "attack", "test_index"]).any():
        raise ValueError("records holds the same (dataset, model, attack, series) twice; pass one seed and one reading")
    return frame


def claim_intervals(records: pd.DataFrame, *, rules: ClaimRules | None = None, n_boot: int = 2000,
                    level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Bootstrap interval and verdict of every comparison of :data:`COMPARISONS`, per model.

    ``records``: per-series rows with :data:`RECORD_COLUMNS` (one seed, one reading). Series are
    paired on ``test_index`` within each dataset; a dataset where either attack is missing is
    left out of that comparison. Returns claim, model, a, b, quantity, estimate, ci_low,
    ci_high, margin, margin_low, margin_high, verdict, datasets, series.
    """
    rules = rules or ClaimRules()
    frame = check_records(records)
    rows = []
    for model in frame["model"].unique():
        sub = frame[frame["model"] == model]
        for comp in COMPARISONS:
            strata = {}
            for dataset, group in sub.groupby("dataset", sort=True):
                a = group[group["attack"] == comp.a].set_index("test_index")
                b = group[group["attack"] == comp.b].set_index("test_index")
                common = a.index.intersection(b.index).sort_values()
                if len(common) == 0:
                    continue
                cols = ["success", "l2", "close_to_zero"]
                strata[dataset] = (a.loc[common, cols].to_numpy(float), b.loc[common, cols].to_numpy(float))
            if not strata:
                continue
            agg = _aggregate_strata(strata, n_boot, seed)
            d, m = _margin(comp.quantity, agg, rules)
            lo, hi = percentile_interval(d, level)
            mlo, mhi = percentile_interval(m, level)
            rows.append(dict(claim=comp.claim, model=MODEL_LABELS.get(model, model), a=comp.a, b=comp.b,
                             quantity=QUANTITY_LABELS[comp.quantity], estimate=float(d[0]), ci_low=lo, ci_high=hi,
                             margin=float(m[0]), margin_low=mlo, margin_high=mhi,
                             verdict=verdict_from_interval(mlo, mhi), datasets=len(strata),
                             series=int(sum(len(v[0]) for v in strata.values()))))
    return pd.DataFrame(rows, columns=list(INTERVAL_COLUMNS))


def combine_verdicts(verdicts) -> str:
    """A claim's verdict from its comparisons: all supported / any contradicted / else inconclusive."""
    verdicts = list(verdicts)
    if not verdicts:
        return INCONCLUSIVE
    if any(v == CONTRADICTED for v in verdicts):
        return CONTRADICTED
    if all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    return INCONCLUSIVE


def claim_verdicts(intervals: pd.DataFrame) -> pd.DataFrame:
    """One row per (claim, model): the combined verdict and each comparison's interval in words."""
    rows = []
    for (claim, model), group in intervals.groupby(["claim", "model"], sort=False):
        parts = [f"{r.a} vs {r.b}: {r.estimate:+.3g} [{r.ci_low:+.3g}, {r.ci_high:+.3g}] ({r.verdict})"
                 for r in group.itertuples()]
        rows.append(dict(claim=claim, model=model, verdict=combine_verdicts(group["verdict"]),
                         intervals="; ".join(parts), series=int(group["series"].max()),
                         datasets=int(group["datasets"].max())))
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))


def verdict_rule_text(rules: ClaimRules | None = None, level: float = 0.95, n_boot: int = 2000) -> str:
    """The verdict rule in one paragraph (for the book)."""
    rules = rules or ClaimRules()
    return (f"Each claim's difference gets a {level:.0%} percentile interval from {n_boot} paired bootstrap "
            "replicates (the same series under both attacks, redrawn within each dataset; aggregated like "
            "Table 1). The claim's rule (ASR within "
            f"{rules.asr_tolerance:g}; success distance at least {rules.min_reduction:.0%} lower; close-to-0 at "
            f"least {rules.far_factor:g} times and {rules.far_margin:g} higher) becomes a margin that is >= 0 "
            "exactly when the rule holds. Supported: the margin's interval lies above 0; contradicted: it lies "
            "below 0; inconclusive: it straddles 0. A claim with several comparators is supported when all are, "
            "contradicted when any is.")


def budget_sentence(profile, *, reading: str | None = None) -> str:
    """Steps, lr, the lambda reading, series, datasets and seeds of a profile, in one sentence."""
    from aslo.attacks import get_attack_config

    cfg = get_attack_config("AS_CW", **profile.attack_kwargs("AS_CW"))
    if cfg.objective_scaling == "parent_batch":
        lam = (f"lambda {cfg.reg_coef:g} weighed as the parent framework's batch-level regulariser "
               f"(B = {cfg.reference_batch_size}: {cfg.effective_reg_coef:g} per sample)")
    else:
        lam = f"lambda {cfg.reg_coef:g} per sample"
    series = "whole test sets" if not profile.samples else f"{profile.samples} series per dataset (sample seed {profile.sample_seed})"
    seeds = ", ".join(str(s) for s in profile.seeds)
    text = (f"Budget: {cfg.steps} Adam steps at lr {cfg.lr:g} in the box eps {cfg.eps:g}, {lam}, "
            f"CW loss '{cfg.loss}', {series}, {len(profile.datasets)} dataset(s) "
            f"({', '.join(profile.datasets)}), attack seed(s) {seeds}")
    return text + (f"; reading: {reading}." if reading else ".")


def profile_records(profile, results_dir="results", seed: int | None = None, *, backend=None) -> pd.DataFrame:
    """Per-series records of a profile's stored cells (config matching the profile), one seed.

    ``seed`` None takes the profile's first seed. Nothing is computed: cells not stored are absent.
    ``backend`` substitutes the layers whose configs enter the cells' hashes (tests).
    """
    from aslo.experiments.grid import grid_cells
    from aslo.experiments.profiles import as_profile
    from aslo.experiments.runner import ConfigHasher, store_for

    prof = as_profile(profile)
    seed = prof.seeds[0] if seed is None else seed
    store = store_for(prof, results_dir)
    hasher = ConfigHasher(prof, backend or _backend())
    parts = []
    for cell in grid_cells(prof):
        if cell.seed != seed or not store.has(cell, hasher.hash(cell)):
            continue
        rec = store.read(cell).records
        parts.append(rec.assign(dataset=cell.dataset, model=cell.model, attack=cell.attack))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(RECORD_COLUMNS))


def _backend():
    from aslo.experiments.backend import Backend

    return Backend()


def profile_verdicts(profile, results_dir="results", *, n_boot: int = 2000, seed: int = 0,
                     rules: ClaimRules | None = None, backend=None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(intervals, verdicts, budget sentence) of a profile's stored cells; see :func:`claim_intervals`."""
    from aslo.experiments.profiles import as_profile

    prof = as_profile(profile)
    records = profile_records(prof, results_dir, backend=backend)
    if records.empty:
        raise FileNotFoundError(f"no stored cells for profile {prof.name!r} under {results_dir}: run `aslo run` first")
    intervals = claim_intervals(records, rules=rules, n_boot=n_boot, seed=seed)
    return intervals, claim_verdicts(intervals), budget_sentence(prof)
