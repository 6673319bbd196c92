"""Verdicts with uncertainty: a paired, dataset-stratified bootstrap of each claim's margin.

Each claim of :mod:`aslo.report.claims` (where it is defined, once: what is compared, the
direction, the margin and its words) compares two attacks on the *same* series (paired) of each
dataset (a stratum). A bootstrap replicate redraws, within every dataset, as many series as it
has, with replacement, and uses the same draw for both attacks (:func:`paired_bootstrap`); the
claim's quantities are then aggregated like Table 1 (per dataset, then the unweighted mean over
datasets; :func:`table1_quantities`). From ``n_boot`` replicates we take the percentile interval
at ``level`` (95 %) of each part's quantity and margin, and of the comparison's margin (the
minimum of its parts').

**Verdict rule** (:func:`aslo.report.claims.verdict_from_interval`): with ``[m_lo, m_hi]`` the
interval of the margin and ``m`` its estimate, *supported* if ``m_lo > 0`` and ``m`` favours the
claim, *contradicted* if ``m_hi < 0`` and ``m`` does not, *inconclusive* otherwise (more series,
datasets or seeds are needed). A claim with several comparators is supported for a model when
every comparison is, contradicted when any is, inconclusive otherwise. :func:`claim_parts` gives
each part its own interval and verdict and :func:`claim_intervals` says them in words, so an
inconclusive verdict names the part that is undecided.

**Series needed.** For an inconclusive comparison, :func:`series_needed` extrapolates the
interval's half-width on the side of 0 as ``1 / sqrt(n)`` to the series per dataset at which it
would equal the observed margin; :func:`series_needed_text` says it per claim and model.
"""

from __future__ import annotations

import warnings
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from aslo.report.claims import (CLAIMS, COMPARISONS, CONTRADICTED, EPS, INCONCLUSIVE, NOT_EVALUATED, SUPPORTED,
                                ClaimRules, Quantities, claim_by_label, combine_point_estimates, combine_verdicts,
                                combined_margin, comparison_parts, point_estimate, rule_words,
                                verdict_from_interval)
from aslo.report.labels import MODEL_LABELS
from aslo.report.stored import RECORD_COLUMNS, read_results

INTERVAL_COLUMNS = ("claim", "model", "a", "b", "quantity", "estimate", "ci_low", "ci_high", "margin",
                    "margin_low", "margin_high", "verdict", "datasets", "series", "parts", "series_needed",
                    "point_estimate", "rule")
PART_COLUMNS = ("claim", "model", "a", "b", "part", "quantity", "rule", "estimate", "ci_low", "ci_high", "margin",
                "margin_low", "margin_high", "verdict", "series_needed")
VERDICT_COLUMNS = ("claim", "model", "verdict", "intervals", "series", "datasets", "series_needed",
                   "point_estimate", "rule")


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
    """Replicates of ``mean over strata of statistic(w, a, b)``; element 0 (along the last axis) is the estimate.

    ``strata`` maps a stratum to its paired per-series arrays ``(a, b)`` (same length, same
    series order; each may be 2-D, one column per per-series quantity). ``statistic(w, a, b)``
    gets the ``(n_boot + 1, n)`` weights and returns one value per row (shape ``(n_boot + 1,)``),
    or several quantities per row (shape ``(k, n_boot + 1)``, e.g. :func:`table1_quantities`).
    A stratum where a statistic is NaN (e.g. no success drawn) is left out of that replicate's mean.
    """
    if not strata:
        raise ValueError("paired_bootstrap needs at least one stratum")
    for k, (a, b) in strata.items():
        if len(a) != len(b):
            raise ValueError(f"stratum {k!r}: the paired arrays differ in length ({len(a)} vs {len(b)})")
    rng = np.random.default_rng(seed)
    weights = bootstrap_weights({k: len(v[0]) for k, v in strata.items()}, n_boot, rng)
    per = np.stack([statistic(weights[k], np.asarray(a, float), np.asarray(b, float)) for k, (a, b) in strata.items()])
    with warnings.catch_warnings():  # a replicate with no success in any stratum: its MSD is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(per, axis=0)


def table1_quantities(w: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Table 1's quantities of A and B in one dataset, per replicate: shape ``(6, rows)``.

    ``a`` and ``b`` hold one row per series with columns success, l2, close-to-0. Rows of the
    result: ASR, mean success distance (over successful series; NaN without any) and close-to-0
    of A, then of B, in the order of :class:`aslo.report.claims.Quantities`.
    """
    out = []
    for v in (a, b):
        success, dist, c0 = v[:, 0], v[:, 1], v[:, 2]
        out += [_wmean(w, success), _wmean(w, dist, success > 0), _wmean(w, c0)]
    return np.vstack(out)


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


def _fmt_part(name: str, value: float) -> str:
    """A part's quantity in its own unit: distance as a percentage, ASR to two decimals."""
    if not np.isfinite(value):
        return "nan"
    if name == "distance":
        return f"{100 * value:+.1f} %"
    if name == "ASR kept":
        return f"{value:+.2f}"
    return f"{value:+.3g}"


#: The part whose unit formats a single-part comparison's headline quantity.
_LABEL_PART = {"ASR(A) - ASR(B)": "ASR kept", "MSD(A)/MSD(B) - 1": "distance"}


def _interval_text(name: str, estimate: float, low: float, high: float) -> str:
    """E.g. ``-22.0 % [-30.1 %, -17.2 %]`` for the distance part."""
    return f"{_fmt_part(name, estimate)} [{_fmt_part(name, low)}, {_fmt_part(name, high)}]"


def _part_text(name: str, estimate: float, low: float, high: float, verdict: str) -> str:
    """E.g. ``distance -22.0 % [-30.1 %, -17.2 %] supported``."""
    return f"{name} {_interval_text(name, estimate, low, high)} {verdict}"


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


def series_needed(margin: float, margin_low: float, margin_high: float, series: float) -> float:
    """Series per dataset at which the margin's interval would just clear 0, at the observed margin.

    The interval's half-width on the side of 0 (``h = margin - margin_low`` for a positive margin,
    ``margin_high - margin`` for a negative one; ``z se`` read off the percentile interval) shrinks
    as ``1 / sqrt(n)`` with the series per dataset (same datasets, same design), so the interval
    clears 0 at ``n_needed = series * (h / |margin|)^2``, rounded up. An inconclusive interval
    gives ``n_needed >= series``. Returns ``inf`` when the margin estimate is ~0 (the comparison
    cannot be decided at this effect) and ``nan`` when the margin or its interval is not finite.
    """
    if not (np.isfinite(series) and series > 0):
        raise ValueError(f"series must be a finite number > 0, got {series!r}")
    values = (margin, margin_low, margin_high)
    if not all(np.isfinite(v) for v in values):
        return float("nan")
    if margin_low > margin_high:
        raise ValueError(f"the margin's interval is reversed: [{margin_low}, {margin_high}]")
    if abs(margin) <= EPS:
        return float("inf")
    half = margin - margin_low if margin > 0 else margin_high - margin
    return float(np.ceil(series * (max(half, 0.0) / abs(margin)) ** 2 - 1e-9))


def _strata_of(sub: pd.DataFrame, a_name: str, b_name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per dataset, the paired (A, B) arrays of success, l2, close-to-0 on their common series."""
    strata = {}
    for dataset, group in sub.groupby("dataset", sort=True):
        a = group[group["attack"] == a_name].set_index("test_index")
        b = group[group["attack"] == b_name].set_index("test_index")
        common = a.index.intersection(b.index).sort_values()
        if len(common) == 0:
            continue
        cols = ["success", "l2", "close_to_zero"]
        strata[dataset] = (a.loc[common, cols].to_numpy(float), b.loc[common, cols].to_numpy(float))
    return strata


def _analyse(records: pd.DataFrame, rules: ClaimRules | None, n_boot: int, level: float,
             seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(intervals, parts) of every comparison and model: one bootstrap per comparison."""
    rules = rules or ClaimRules()
    if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 1):
        raise ValueError(f"n_boot must be an integer >= 1, got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    frame = check_records(records)
    rows, part_rows = [], []
    for model in frame["model"].unique():
        sub = frame[frame["model"] == model]
        for claim, a, b in COMPARISONS:
            strata = _strata_of(sub, a, b)
            if not strata:  # an attack the comparison needs is not stored: claim_verdicts says so
                continue
            key = dict(claim=claim.label, model=MODEL_LABELS.get(model, model), a=a, b=b)
            series = int(sum(len(v[0]) for v in strata.values()))
            per_dataset = series / len(strata)
            boot = paired_bootstrap(strata, table1_quantities, n_boot=n_boot, seed=seed)
            parts = comparison_parts(claim, Quantities(*boot), rules)
            texts = []
            for part in parts:
                lo, hi = percentile_interval(part.value, level)
                mlo, mhi = percentile_interval(part.margin, level)
                m = float(part.margin[0])
                verdict = verdict_from_interval(mlo, mhi, m)
                part_rows.append(dict(**key, part=part.name, quantity=part.label, rule=part.rule,
                                      estimate=float(part.value[0]), ci_low=lo, ci_high=hi, margin=m,
                                      margin_low=mlo, margin_high=mhi, verdict=verdict,
                                      series_needed=series_needed(m, mlo, mhi, per_dataset)
                                      if verdict == INCONCLUSIVE else np.nan))
                texts.append(_part_text(part.name, float(part.value[0]), lo, hi, verdict))
            d = parts[0].value
            margin = combined_margin(parts)
            m = float(margin[0])
            lo, hi = percentile_interval(d, level)
            mlo, mhi = percentile_interval(margin, level)
            verdict = verdict_from_interval(mlo, mhi, m)
            rows.append(dict(**key, quantity=parts[0].label, estimate=float(d[0]), ci_low=lo, ci_high=hi, margin=m,
                             margin_low=mlo, margin_high=mhi, verdict=verdict, datasets=len(strata), series=series,
                             parts="; ".join(texts) if len(parts) > 1 else "",
                             series_needed=series_needed(m, mlo, mhi, per_dataset) if verdict == INCONCLUSIVE
                             else np.nan, point_estimate=point_estimate(m),
                             rule=" and ".join(p.rule for p in parts)))
    return pd.DataFrame(rows, columns=list(INTERVAL_COLUMNS)), pd.DataFrame(part_rows, columns=list(PART_COLUMNS))


def claim_intervals(records: pd.DataFrame, *, rules: ClaimRules | None = None, n_boot: int = 2000,
                    level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Bootstrap interval and verdict of every comparison of :data:`COMPARISONS`, per model.

    ``records``: per-series rows with :data:`RECORD_COLUMNS` (one seed, one reading). Series are
    paired on ``test_index`` within each dataset; a dataset where either attack is missing is
    left out of that comparison. Returns :data:`INTERVAL_COLUMNS`: the headline difference and
    its interval, the combined margin (the paper-faithful rule) and its verdict, ``parts`` (each
    part's interval and verdict in words, for comparisons whose margin combines several) and
    ``series_needed`` (series per dataset that would decide an inconclusive comparison at the
    observed margin, :func:`series_needed`; ``inf``: cannot be decided at this effect).
    """
    return _analyse(records, rules, n_boot, level, seed)[0]


def claim_parts(records: pd.DataFrame, *, rules: ClaimRules | None = None, n_boot: int = 2000,
                level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Each part of every comparison's margin, with its own interval and verdict (:data:`PART_COLUMNS`).

    C4's margin is min(distance part, ASR part) and C3's min(difference part, factor part); the
    combined verdict of :func:`claim_intervals` stays the rule, the parts say which one is undecided.
    Same bootstrap draws (same ``seed``) as :func:`claim_intervals`.
    """
    return _analyse(records, rules, n_boot, level, seed)[1]


def _deciding(group: pd.DataFrame) -> pd.Series | None:
    """The comparison whose decision would decide an inconclusive claim (None when decided or not evaluated).

    An inconclusive comparison with a negative margin decides the claim (contradicted) once it is
    decided, so the fewest such series count; otherwise every inconclusive comparison must become
    supported, so the most series count.
    """
    if combine_verdicts(group["verdict"]) != INCONCLUSIVE:
        return None
    if set(zip(group["a"], group["b"])) != set(claim_by_label(group["claim"].iloc[0]).comparisons):
        return None  # a comparison is not stored: the claim is not evaluated
    open_ = group[group["verdict"] == INCONCLUSIVE]
    if open_.empty:
        return None
    failing = open_[open_["margin"] < -EPS]
    if not failing.empty:
        return failing.loc[failing["series_needed"].fillna(np.inf).idxmin()]
    return open_.loc[open_["series_needed"].fillna(np.inf).idxmax()]


def _check_intervals(intervals: pd.DataFrame) -> None:
    """Raise a clear error unless ``intervals`` is a frame of :func:`claim_intervals`."""
    if not isinstance(intervals, pd.DataFrame):
        raise TypeError(f"intervals must be a pandas DataFrame from claim_intervals, got {type(intervals).__name__}")
    missing = [c for c in INTERVAL_COLUMNS if c not in intervals.columns]
    if missing:
        raise ValueError(f"intervals lacks column(s) {missing}: pass the frame that claim_intervals returns")


def claim_verdicts(intervals: pd.DataFrame) -> pd.DataFrame:
    """One row per (claim, model): the combined verdict, each comparison's interval in words, the
    point estimate and the rule (:data:`VERDICT_COLUMNS`).

    Every claim of :data:`aslo.report.claims.CLAIMS` gets a row for each model of ``intervals``;
    a comparison absent from ``intervals`` (an attack not stored) is ``not evaluated``, and so is
    its claim unless another comparison contradicts it. ``series_needed``: for an inconclusive
    claim, the series per dataset of the comparison that would decide it (see
    :func:`series_needed_text`); ``nan`` otherwise.
    """
    _check_intervals(intervals)
    rows = []
    for model in intervals["model"].unique():
        of_model = intervals[intervals["model"] == model]
        for claim in CLAIMS:
            group = of_model[of_model["claim"] == claim.label]
            done = set(zip(group["a"], group["b"]))
            absent = [pair for pair in claim.comparisons if pair not in done]
            texts = [f"{r.a} vs {r.b}: {r.estimate:+.3g} [{r.ci_low:+.3g}, {r.ci_high:+.3g}] ({r.verdict}"
                     + (f": {r.parts})" if r.parts else ")") for r in group.itertuples()]
            texts += [f"{a} vs {b}: {NOT_EVALUATED} (not stored)" for a, b in absent]
            deciding = _deciding(group)
            rule = rule_words(group["rule"].iloc[0], claim.comparisons) if len(group) else claim.rule()
            rows.append(dict(claim=claim.label, model=model,
                             verdict=combine_verdicts([*group["verdict"], *[NOT_EVALUATED] * len(absent)]),
                             intervals="; ".join(texts), series=int(group["series"].max()) if len(group) else 0,
                             datasets=int(group["datasets"].max()) if len(group) else 0,
                             series_needed=np.nan if deciding is None else deciding["series_needed"],
                             point_estimate=combine_point_estimates([*group["point_estimate"],
                                                                     *[NOT_EVALUATED] * len(absent)]),
                             rule=rule))
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))


def _about(n: float) -> str:
    """A count rounded up to two significant figures (``237`` -> ``240``)."""
    n = int(n)
    if n < 100:
        return str(n)
    step = 10 ** (len(str(n)) - 2)
    return f"{-(-n // step) * step:,}"


def series_needed_text(intervals: pd.DataFrame) -> str:
    """Sentences, from the numbers, on how many series would decide each inconclusive claim.

    For each inconclusive (claim, model), the deciding comparison (see :func:`claim_verdicts`)
    at its observed effect, its parts where its margin combines several, and this run's series.
    """
    _check_intervals(intervals)
    if intervals.empty:
        return "No comparison was evaluated: no pair of attacks is stored."
    per_dataset = intervals["series"] / intervals["datasets"]
    have = _about(per_dataset.max())
    if per_dataset.nunique() > 1:
        have = f"{_about(per_dataset.min())}-{have}"
    datasets = int(intervals["datasets"].max())
    groups = sorted(intervals.groupby(["claim", "model"], sort=False), key=lambda kv: kv[0][0])
    sentences = []
    for (claim, model), group in groups:
        row = _deciding(group)
        if row is None:
            continue
        label = claim.split(":")[0]
        what = f"{row['a']} vs {row['b']}"
        if row["parts"]:
            effect = f"{what}: {row['parts']}"
        else:
            name = _LABEL_PART.get(row["quantity"], "")
            interval = _interval_text(name, row["estimate"], row["ci_low"], row["ci_high"])
            effect = f"{what}, {row['quantity']} = {interval}"
        n = row["series_needed"]
        if np.isnan(n):
            sentences.append(f"{label} for {model} cannot be sized: its margin or interval is not finite ({effect}).")
        elif np.isinf(n):
            sentences.append(f"{label} for {model} cannot be decided at this effect: the margin of {effect} "
                             "is estimated at 0, so no number of series moves its interval off 0.")
        else:
            side = SUPPORTED if row["margin"] > 0 else CONTRADICTED
            sentences.append(f"{label} for {model} would need about {_about(n)} series per dataset to be decided "
                             f"(as {side}, the side its estimate lies on) at the observed effect ({effect}); "
                             f"this run has {have}.")
    if not sentences:
        return (f"Every comparison evaluated is decided (supported or contradicted) at this run's {have} series per dataset "
                f"({datasets} dataset(s)).")
    scope = "the same datasets and design" if datasets > 1 else "the same dataset and design"
    return (f"Series per dataset that would decide each inconclusive claim ({scope}; the interval's half-width on "
            "the side of 0 shrinking as 1/sqrt(n) at the observed margin):\n\n"
            + "\n".join(f"- {sentence}" for sentence in sentences))


def discordant_end(series: int, level: float = 0.95) -> float:
    """The interval's end of ``|ASR(A) - ASR(B)|`` in one dataset of ``series`` series where one series is discordant.

    One series that one attack fools and the other does not moves the ASR difference by
    ``1 / series``; the bootstrap redraws it ``Binomial(series, 1 / series)`` times, so the
    percentile interval reaches ``q / series`` with ``q`` that count's ``(1 + level) / 2`` quantile.
    """
    if not (isinstance(series, (int, np.integer)) and series >= 1):
        raise ValueError(f"series must be an integer >= 1, got {series!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if series == 1:
        return 1.0
    p = 1.0 / series
    pmf, cdf, k = (1 - p) ** series, 0.0, 0
    while True:  # the smallest k with P(count <= k) >= (1 + level) / 2
        cdf += pmf
        if cdf >= (1 + level) / 2 - 1e-12 or k == series:
            return k / series
        pmf *= (series - k) / (k + 1) * p / (1 - p)
        k += 1


def verdict_rule_text(rules: ClaimRules | None = None, level: float = 0.95, n_boot: int = 2000, *,
                      series: int | None = None) -> str:
    """The verdict rule in one paragraph (for the book); ``series`` per dataset adds worked numbers."""
    rules = rules or ClaimRules()
    text = (f"Each claim's difference gets a {level:.0%} percentile interval from {n_boot} paired bootstrap "
            "replicates (the same series under both attacks, redrawn within each dataset; aggregated like "
            "Table 1). The claim's rule (ASR within "
            f"{rules.asr_tolerance:g}; success distance at least {rules.min_reduction:.0%} lower; close-to-0 at "
            f"least {rules.far_factor:g} times and {rules.far_margin:g} higher) becomes a margin that is >= 0 "
            "exactly when the rule holds. Supported: the margin's interval lies above 0; contradicted: it lies "
            "below 0; inconclusive: it straddles 0. A claim with several comparators is supported when all are, "
            "contradicted when any is. Where a margin combines parts (C3: the difference and the factor; C4: the "
            "distance and the ASR), the combined margin (the minimum of the parts) decides, and each part's own "
            "interval and verdict are shown beside it, so an inconclusive verdict names the undecided part. "
            f"\"Similar ASR\" (C1, and C4's ASR part) is an equivalence test: |ASR(A) - ASR(B)| <= "
            f"{rules.asr_tolerance:g} must hold across the whole interval, not only at the estimate. It is hard to "
            "support with few series: every series that one attack fools and the other does not moves the "
            "difference by 1/n (n series per dataset), and the bootstrap redraws such a series several times")
    if series:
        tol = rules.asr_tolerance
        end = discordant_end(series, level)
        # The count's quantile is >= 1 and small (about 3 at 95 %), so the first n lies below 10 / tol.
        enough = next((n for n in range(1, int(10 / tol) + 2) if discordant_end(n, level) < tol), None) if tol else None
        text += (f": at the {series} series per dataset here, a single discordant series already puts the "
                 f"interval's end at {end:.2f}" + (f" > {tol:g}" if end >= tol else "")
                 + ", and a single discordant series (one in total, not a share) stays within the tolerance "
                 + (f"only from {enough} series per dataset" if enough else "at no number of series"))
    text += (". For an inconclusive comparison, \"series needed\" is the number of series per dataset (same "
             "datasets and design) at which the interval's half-width on the side of 0, shrinking as 1/sqrt(n), "
             "would equal the observed margin: n (h / |margin|)^2; a margin estimated at 0 cannot be decided at "
             "this effect by any number of series.")
    return text


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


def profile_verdicts(profile, results_dir="results", *, n_boot: int = 2000, seed: int = 0,
                     rules: ClaimRules | None = None, backend=None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(intervals, verdicts, budget sentence) of a profile's stored cells; see :func:`claim_intervals`."""
    stored = read_results(profile, results_dir, records=True, backend=backend)
    return verdicts_of(stored, n_boot=n_boot, seed=seed, rules=rules)


def verdicts_of(stored, *, n_boot: int = 2000, seed: int = 0,
                rules: ClaimRules | None = None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(intervals, verdicts, budget sentence) of :class:`aslo.report.stored.StoredResults` read with records."""
    if stored.records.empty:
        raise ValueError(f"no per-series records of profile {stored.profile.name!r}: read them with "
                         "read_results(..., records=True)")
    intervals = claim_intervals(stored.records, rules=rules, n_boot=n_boot, seed=seed)
    return intervals, claim_verdicts(intervals), budget_sentence(stored.profile)
