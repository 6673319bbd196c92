"""The paper's claims, each defined once: what is compared, the direction, the margin, the words.

Every verdict of the package is derived from the definitions here, with one vocabulary:

* an **interval verdict** (:func:`verdict_from_interval`, computed by
  :mod:`aslo.report.uncertainty` from a paired bootstrap of the per-series records):
  ``supported`` / ``contradicted`` / ``inconclusive``, or ``not evaluated`` when an attack the
  claim needs was not run;
* a **point estimate** (:func:`point_estimates`, on numbers without intervals: the paper's own
  Table 1, or a page that shows only aggregated numbers): the estimate ``favours`` or ``does
  not favour`` the claim. It is never a verdict, and it cannot contradict the interval verdict
  on the same data: a verdict is only reached when the estimate lies on the same side as the
  whole interval (see :func:`verdict_from_interval`).

A claim compares an attack A with one or more comparators B. Its *margin* for one comparison is
the minimum of its *parts'* margins; a part's margin is >= 0 exactly when its rule holds
(tolerances from :class:`ClaimRules`):

* ``ASR kept``: ``tol - |ASR(A) - ASR(B)|`` (quantity ``ASR(A) - ASR(B)``);
* ``distance``: ``-(MSD(A)/MSD(B) - 1) - min_reduction`` (quantity ``MSD(A)/MSD(B) - 1``);
* ``difference``: ``C(A) - C(B) - far_margin`` (quantity ``C(A) - C(B)``, close-to-0 counts);
* ``factor``: ``C(A) - far_factor C(B)``.

The claims (A = AS_CW, ASL0's column of Table 1, unless said otherwise):

* C1 ASL0 keeps ASR: ``ASR kept`` against CW_L1, CW_L2, CW;
* C2 ASL0 lowers the mean success distance: ``distance`` against CW_L1, CW_L2, CW;
* C3 ASL0 raises close-to-0 far above L2 and none: ``difference`` and ``factor`` against CW_L2, CW;
* C4 AS lowers the success distance of its base attack: ``distance`` and ``ASR kept``,
  AS_GM_PGD against GM_PGD and AS_CW against CW;
* Check 5 (ours, not a sentence of the paper): the same against the same attack carrying L2
  (AS_GM_PGD against GM_PGD_L2, AS_CW against CW_L2), which separates the ASL0 term's effect from
  the loss zeroing that AS_GM_PGD shares with GM_PGD_L2.

A claim with several comparisons is contradicted when any comparison is, not evaluated when
(otherwise) one is not stored, supported when every comparison is, inconclusive otherwise
(:func:`combine_verdicts`); its point estimate favours it when every comparison's does
(:func:`combine_point_estimates`, in the same order). Both are derived from the same margins, so
a claim supported by its intervals is favoured by its estimates, and a contradicted one is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from aslo.config_base import Config
from aslo.report.aggregate import validate_summaries
from aslo.report.labels import MODEL_ORDER, PART1_COLUMNS
from aslo.report.paper import paper_table1

SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_EVALUATED = "supported", "contradicted", "inconclusive", "not evaluated"
#: The interval verdicts (``not evaluated`` aside: it says that the data is missing).
VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE)
FAVOURS, DOES_NOT_FAVOUR = "favours", "does not favour"
#: What a point estimate says of a claim: never a verdict.
POINT_ESTIMATES = (FAVOURS, DOES_NOT_FAVOUR, NOT_EVALUATED)
#: A margin this close to 0 counts as 0: absorbs float noise at a rule's boundary (e.g. 0.73 - 0.68).
EPS = 1e-9
POINT_COLUMNS = ("claim", "model", "a", "b", "estimate", "margin", "point_estimate", "numbers", "rule")
POINT_SUMMARY_COLUMNS = ("claim", "model", "point_estimate", "numbers", "rule")


@dataclass(frozen=True)
class ClaimRules(Config):
    """Tolerances that turn the paper's words into tests.

    ``asr_tolerance``: "keeps ASR close" = within this absolute ASR of each comparator.
    ``far_factor`` / ``far_margin``: "far above" = at least ``far_factor`` times and at least
    ``far_margin`` more (close-to-0 counts).
    ``min_reduction``: "lowers the distance" = at least this fraction below (0.05: 5 %), so that
    float-level differences (0.650 against 0.651) do not count as the paper's "significantly".
    """

    asr_tolerance: float = 0.05
    far_factor: float = 10.0
    far_margin: float = 1.0
    min_reduction: float = 0.05

    KIND = "claim rule"

    def validate(self) -> None:
        """Every tolerance is a finite number >= 0."""
        for name in self.field_names():
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"ClaimRules.{name} must be a finite number >= 0, got {value!r}")


class Quantities(NamedTuple):
    """Table 1's three quantities of attacks A and B (floats, or one value per bootstrap replicate)."""

    asr_a: object
    msd_a: object
    c0_a: object
    asr_b: object
    msd_b: object
    c0_b: object


class PartValue(NamedTuple):
    """One part of a comparison: its name, quantity, rule in words, the quantity's value and its margin."""

    name: str
    label: str
    rule: str
    value: object
    margin: object


#: The parts a claim may combine (see the module docstring).
PART_NAMES = ("ASR kept", "distance", "difference", "factor")


def part_value(name: str, q: Quantities, rules: ClaimRules) -> PartValue:
    """The value and margin (>= 0 where the rule holds) of the part ``name`` of :data:`PART_NAMES`."""
    if name == "ASR kept":
        d = np.subtract(q.asr_a, q.asr_b)
        return PartValue(name, "ASR(A) - ASR(B)", f"|ASR(A) - ASR(B)| <= {rules.asr_tolerance:g}", d,
                         rules.asr_tolerance - np.abs(d))
    if name == "distance":
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.divide(q.msd_a, q.msd_b) - 1
        return PartValue(name, "MSD(A)/MSD(B) - 1", f"MSD(A)/MSD(B) - 1 <= -{rules.min_reduction:.0%}", rel,
                         -rel - rules.min_reduction)
    if name == "difference":
        d = np.subtract(q.c0_a, q.c0_b)
        return PartValue(name, "C(A) - C(B)", f"C(A) - C(B) >= {rules.far_margin:g}", d, d - rules.far_margin)
    if name == "factor":
        f = np.subtract(q.c0_a, rules.far_factor * np.asarray(q.c0_b))
        return PartValue(name, f"C(A) - {rules.far_factor:g} C(B)", f"C(A) >= {rules.far_factor:g} C(B)", f, f)
    raise ValueError(f"unknown part {name!r}; expected one of {PART_NAMES}")


@dataclass(frozen=True)
class Claim:
    """A claim: its id and words, the parts its margin combines, and the (A, B) attacks it compares."""

    id: str
    words: str
    parts: tuple[str, ...]
    comparisons: tuple[tuple[str, str], ...]
    in_paper: bool = True

    @property
    def label(self) -> str:
        """``"<id>: <words>"``, the claim's name in every table."""
        return f"{self.id}: {self.words}"

    def tests(self, rules: ClaimRules | None = None) -> str:
        """The test of one comparison in words, with its tolerances (its parts' rules)."""
        rules = rules or ClaimRules()
        q = Quantities(*(np.nan,) * 6)
        return " and ".join(part_value(p, q, rules).rule for p in self.parts)

    def rule(self, rules: ClaimRules | None = None) -> str:
        """The claim's test in words: :meth:`tests` for each of its comparisons."""
        return rule_words(self.tests(rules), self.comparisons)


def rule_words(tests: str, pairs) -> str:
    """A claim's rule from its comparison test and its (A, B) pairs, e.g. ``"... for A vs B in AS_CW vs CW"``."""
    return f"{tests}, for A vs B in " + ", ".join(f"{a} vs {b}" for a, b in pairs)


_ASL0 = "AS_CW"
#: Every claim, in the order the pages show them.
CLAIMS = (
    Claim("C1", "ASL0 keeps ASR", ("ASR kept",), tuple((_ASL0, b) for b in ("CW_L1", "CW_L2", "CW"))),
    Claim("C2", "ASL0 lowers the mean success distance", ("distance",),
          tuple((_ASL0, b) for b in ("CW_L1", "CW_L2", "CW"))),
    Claim("C3", "ASL0 raises close-to-0 far above L2 and none", ("difference", "factor"),
          tuple((_ASL0, b) for b in ("CW_L2", "CW"))),
    Claim("C4", "AS lowers the success distance of its base attack", ("distance", "ASR kept"),
          (("AS_GM_PGD", "GM_PGD"), (_ASL0, "CW"))),
    Claim("Check 5", "AS lowers the success distance below the same attack with L2", ("distance", "ASR kept"),
          (("AS_GM_PGD", "GM_PGD_L2"), (_ASL0, "CW_L2")), in_paper=False),
)


class Comparison(NamedTuple):
    """One comparison of a claim: attack ``a`` against attack ``b``."""

    claim: Claim
    a: str
    b: str


#: Every comparison of every claim.
COMPARISONS = tuple(Comparison(c, a, b) for c in CLAIMS for a, b in c.comparisons)


def claim_by_label(label: str) -> Claim:
    """The claim whose :attr:`Claim.label` (or id) is ``label``."""
    for claim in CLAIMS:
        if label in (claim.label, claim.id):
            return claim
    raise KeyError(f"unknown claim {label!r}; expected one of {[c.label for c in CLAIMS]}")


def comparison_parts(claim: Claim, q: Quantities, rules: ClaimRules | None = None) -> list[PartValue]:
    """The parts of one comparison of ``claim`` on quantities ``q`` (the first part's quantity is its headline)."""
    rules = rules or ClaimRules()
    return [part_value(name, q, rules) for name in claim.parts]


def combined_margin(parts: list[PartValue]):
    """A comparison's margin: the minimum of its parts' margins (>= 0 exactly when every rule holds)."""
    return np.minimum.reduce([np.asarray(p.margin, dtype=float) for p in parts])


def favours(margin: float) -> bool:
    """Whether a point estimate of the margin favours the claim (>= 0, up to :data:`EPS`)."""
    return bool(np.isfinite(margin) and margin >= -EPS)


def point_estimate(margin: float) -> str:
    """``favours`` / ``does not favour`` / ``not evaluated`` (a margin that is not a number)."""
    if not np.isfinite(margin):
        return NOT_EVALUATED
    return FAVOURS if favours(margin) else DOES_NOT_FAVOUR


def verdict_from_interval(low: float, high: float, estimate: float) -> str:
    """The verdict on a margin's interval ``[low, high]`` and its point ``estimate``.

    *Supported* if the whole interval lies above 0 and the estimate favours the claim,
    *contradicted* if the whole interval lies below 0 and the estimate does not, *inconclusive*
    otherwise (the interval straddles 0, or a percentile interval that excludes its own
    estimate, as a skewed bootstrap of a minimum or an absolute value can). So a point estimate
    on the same data can never say the opposite of the verdict.
    """
    if not (np.isfinite(low) and np.isfinite(high) and np.isfinite(estimate)):
        return INCONCLUSIVE
    if low > 0 and favours(estimate):
        return SUPPORTED
    if high < 0 and not favours(estimate):
        return CONTRADICTED
    return INCONCLUSIVE


def combine_verdicts(verdicts) -> str:
    """A claim's verdict from its comparisons: any contradicted / else any not evaluated / all
    supported / else inconclusive (no comparison at all: not evaluated)."""
    verdicts = list(verdicts)
    if any(v == CONTRADICTED for v in verdicts):
        return CONTRADICTED
    if not verdicts or any(v == NOT_EVALUATED for v in verdicts):
        return NOT_EVALUATED
    if all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    return INCONCLUSIVE


def combine_point_estimates(estimates) -> str:
    """A claim's point estimate from its comparisons': any does not favour / else any not
    evaluated / else favours (the same order as :func:`combine_verdicts`)."""
    estimates = list(estimates)
    if any(e == DOES_NOT_FAVOUR for e in estimates):
        return DOES_NOT_FAVOUR
    if not estimates or any(e == NOT_EVALUATED for e in estimates):
        return NOT_EVALUATED
    return FAVOURS


def _fmt(value: float) -> str:
    return "nan" if pd.isna(value) else f"{value:.4g}"


_COLUMNS = {"asr": "ASR", "mean_success_distance": "MSD", "close_to_zero": "close-to-0"}
#: The summary column each part reads.
_PART_COLUMN = {"ASR kept": "asr", "distance": "mean_success_distance", "difference": "close_to_zero",
                "factor": "close_to_zero"}


def _estimates(per_dataset: pd.DataFrame, rules: ClaimRules) -> pd.DataFrame:
    """Point estimates of every comparison per model from per-(dataset, model, attack) quantities.

    Each quantity is averaged over the datasets where both attacks are present (NaN distances left
    out), like the bootstrap's estimate; a comparison with an attack absent is ``not evaluated``.
    """
    rows = []
    for model, sub in per_dataset.groupby("model", sort=False):
        by_attack = {a: g.set_index("dataset") for a, g in sub.groupby("attack", sort=False)}
        for comp in COMPARISONS:
            claim, a, b = comp
            if a in by_attack and b in by_attack:
                common = by_attack[a].index.intersection(by_attack[b].index)
                ma = by_attack[a].loc[common, list(_COLUMNS)].mean()
                mb = by_attack[b].loc[common, list(_COLUMNS)].mean()
            else:
                ma = mb = pd.Series(np.nan, index=list(_COLUMNS))
            q = Quantities(ma["asr"], ma["mean_success_distance"], ma["close_to_zero"],
                           mb["asr"], mb["mean_success_distance"], mb["close_to_zero"])
            parts = comparison_parts(claim, q, rules)
            margin = float(combined_margin(parts))
            used = dict.fromkeys(_PART_COLUMN[name] for name in claim.parts)
            numbers = "; ".join(f"{_COLUMNS[col]} {a}={_fmt(ma[col])}, {b}={_fmt(mb[col])}" for col in used)
            rows.append(dict(claim=claim.label, model=model, a=a, b=b, estimate=float(parts[0].value), margin=margin,
                             point_estimate=point_estimate(margin), numbers=numbers, rule=claim.rule(rules)))
    return pd.DataFrame(rows, columns=list(POINT_COLUMNS))


def point_estimates(summaries: pd.DataFrame, rules: ClaimRules | None = None, *, claims=None) -> pd.DataFrame:
    """Point estimates of every comparison on cell summaries (:data:`POINT_COLUMNS`); never a verdict.

    Per (model, attack, dataset) the mean over seeds, then per comparison the mean over the
    datasets where both attacks are stored (Table 1's aggregation). ``point_estimate`` says
    whether the estimate favours the claim; the verdict needs the intervals of
    :mod:`aslo.report.uncertainty`. ``claims``: ids or labels to keep (default: all).
    """
    rules = rules or ClaimRules()
    frame = validate_summaries(summaries, tuple(_COLUMNS))
    per_dataset = (frame.groupby(["model_label", "attack", "dataset"], sort=False)[list(_COLUMNS)].mean()
                   .reset_index().rename(columns={"model_label": "model"}))
    out = _estimates(per_dataset, rules)
    if claims is None:
        return out
    keep = [claim_by_label(c).label for c in claims]
    return out[out["claim"].isin(keep)].reset_index(drop=True)


def paper_point_estimates(rules: ClaimRules | None = None) -> pd.DataFrame:
    """Point estimates of the claims the paper's own Table 1 allows (C1-C3; it prints no intervals)."""
    rules = rules or ClaimRules()
    table = paper_table1()
    metrics = {"ASR": "asr", "Mean Success Distance": "mean_success_distance", "close to 0": "close_to_zero"}
    columns: dict[str, str] = {}
    for attack, column in PART1_COLUMNS.items():  # registered names first, then their aliases
        columns.setdefault(column, attack)
    long = (table[table.index.get_level_values("metric").isin(list(metrics))].stack().rename("value").reset_index())
    long["metric"] = long["metric"].map(metrics)
    long["attack"] = long["regulariser"].map(columns)
    per_dataset = long.pivot_table(index=["model", "attack"], columns="metric", values="value").reset_index()
    per_dataset = per_dataset.sort_values("model", key=lambda m: m.map(MODEL_ORDER.index), kind="stable")
    per_dataset["dataset"] = "paper"
    out = _estimates(per_dataset, rules)
    table1_claims = [c.label for c in CLAIMS if set(a for pair in c.comparisons for a in pair) <= set(columns.values())]
    return out[out["claim"].isin(table1_claims)].reset_index(drop=True)


def point_summary(estimates: pd.DataFrame) -> pd.DataFrame:
    """One row per (claim, model) of :func:`point_estimates`: the combined point estimate and its numbers."""
    missing = [c for c in POINT_COLUMNS if c not in estimates.columns]
    if missing:
        raise ValueError(f"point estimates lack column(s) {missing}: pass the frame of point_estimates")
    rows = []
    for (claim, model), group in estimates.groupby(["claim", "model"], sort=False):
        rows.append(dict(claim=claim, model=model, point_estimate=combine_point_estimates(group["point_estimate"]),
                         numbers=" | ".join(f"{r.a} vs {r.b}: {r.numbers}" for r in group.itertuples()),
                         rule=group["rule"].iloc[0]))
    return pd.DataFrame(rows, columns=list(POINT_SUMMARY_COLUMNS))
