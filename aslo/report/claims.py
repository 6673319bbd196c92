"""The paper's qualitative claims, each checked by an explicit rule on the numbers.

Claims 1-3 (Part 1, Table 1) are checked per model on a Table 1 frame, so the same rules run on
our table and on the paper's own (:func:`evaluate_paper_claims`). Claim 4 (Part 2) compares each
AS attack with its base attack per model, aggregated like Table 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from aslo.config_base import Config
from aslo.report.aggregate import aggregate, validate_summaries
from aslo.report.paper import paper_table1
from aslo.report.table1 import build_table1

REPRODUCED, NOT_REPRODUCED, NOT_EVALUATED = "reproduced", "not reproduced", "not evaluated"
CLAIM_COLUMNS = ("claim", "model", "verdict", "numbers", "rule")
_EPS = 1e-9  # absorb float noise at a rule's boundary (e.g. 0.73 - 0.68)


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


def _fmt(value: float) -> str:
    return "nan" if pd.isna(value) else f"{value:.4g}"


def _lower(value: float, reference: float, rules: ClaimRules) -> bool:
    """Whether ``value`` is at least ``rules.min_reduction`` (relative) below ``reference``."""
    return value <= (1.0 - rules.min_reduction) * reference + _EPS


def _verdict(values: list[float], holds: bool) -> str:
    if any(pd.isna(v) for v in values):
        return NOT_EVALUATED
    return REPRODUCED if holds else NOT_REPRODUCED


def claims_from_table1(table: pd.DataFrame, rules: ClaimRules | None = None) -> pd.DataFrame:
    """Evaluate claims 1-3 on a Table 1 frame (ours or the paper's); one row per claim and model."""
    rules = rules or ClaimRules()
    others = ("L1", "L2", "No Reg.")
    rows = []
    for model in table.index.get_level_values("model").unique():
        asr = table.loc[(model, "ASR")]
        gaps = [abs(asr["ASL0"] - asr[o]) for o in others]
        rows.append(dict(
            claim="1: ASL0 keeps ASR close to L1, L2 and no regulariser",
            model=model,
            verdict=_verdict([asr["ASL0"], *(asr[o] for o in others)],
                             all(g <= rules.asr_tolerance + _EPS for g in gaps)),
            numbers=f"ASR ASL0={_fmt(asr['ASL0'])}; " + "; ".join(f"{o}={_fmt(asr[o])}" for o in others),
            rule=f"|ASR(ASL0) - ASR(X)| <= {rules.asr_tolerance} for X in L1, L2, No Reg.",
        ))
        dist = table.loc[(model, "Mean Success Distance")]
        rows.append(dict(
            claim="2: ASL0 lowers the mean success distance",
            model=model,
            verdict=_verdict([dist["ASL0"], *(dist[o] for o in others)],
                             all(_lower(dist["ASL0"], dist[o], rules) for o in others)),
            numbers=f"MSD ASL0={_fmt(dist['ASL0'])}; " + "; ".join(f"{o}={_fmt(dist[o])}" for o in others),
            rule=f"MSD(ASL0) <= (1 - {rules.min_reduction:g}) x MSD(X) for X in L1, L2, No Reg.",
        ))
        zero = table.loc[(model, "close to 0")]
        far = [zero["ASL0"] >= rules.far_factor * zero[o] - _EPS and zero["ASL0"] - zero[o] >= rules.far_margin - _EPS
               for o in ("L2", "No Reg.")]
        rows.append(dict(
            claim="3: ASL0 raises close-to-0 far above L2 and no regulariser",
            model=model,
            verdict=_verdict([zero["ASL0"], zero["L2"], zero["No Reg."]], all(far)),
            numbers=f"close to 0 ASL0={_fmt(zero['ASL0'])}; L2={_fmt(zero['L2'])}; No Reg.={_fmt(zero['No Reg.'])}",
            rule=f"C(ASL0) >= {rules.far_factor:g} x C(X) and C(ASL0) - C(X) >= {rules.far_margin:g} for X in L2, No Reg.",
        ))
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))


# Claim 4 compares each AS attack with its base attack; check 5 asks whether the decrease is the
# ASL0 term's doing, by comparing with the same attack carrying L2 instead (for GM_PGD the L2
# variant also zeroes the loss of fooled samples, exactly like AS_GM_PGD).
_PART2_PAIRS = (
    ("4: AS lowers the success distance of {base} at similar ASR", "GM_PGD", "AS_GM_PGD"),
    ("4: AS lowers the success distance of {base} at similar ASR", "CW", "AS_CW"),
    ("5: AS lowers the success distance below {base}, the same attack with L2", "GM_PGD_L2", "AS_GM_PGD"),
    ("5: AS lowers the success distance below {base}, the same attack with L2", "CW_L2", "AS_CW"),
)


def claims_part2(summaries: pd.DataFrame, rules: ClaimRules | None = None) -> pd.DataFrame:
    """Evaluate claim 4 (AS_GM_PGD vs GM_PGD, AS_CW vs CW) and check 5 (AS vs the L2 variant).

    Per model, aggregated like Table 1. Check 5 is not a sentence of the paper: it separates the
    ASL0 term's effect from that of the loss zeroing that AS_GM_PGD shares with GM_PGD_L2.
    """
    rules = rules or ClaimRules()
    metrics = ("asr", "mean_success_distance")
    frame = validate_summaries(summaries, metrics)
    agg = aggregate(frame, metrics).set_index(["model_label", "attack"])
    rows = []
    for model in agg.index.get_level_values("model_label").unique():
        for claim, base, adaptive in _PART2_PAIRS:
            def get(attack, metric):
                return agg[metric].get((model, attack), np.nan)
            asr_b, asr_a = get(base, "asr"), get(adaptive, "asr")
            msd_b, msd_a = get(base, "mean_success_distance"), get(adaptive, "mean_success_distance")
            holds = _lower(msd_a, msd_b, rules) and abs(asr_a - asr_b) <= rules.asr_tolerance + _EPS
            rows.append(dict(
                claim=claim.format(base=base),
                model=model,
                verdict=_verdict([asr_b, asr_a, msd_b, msd_a], holds),
                numbers=(f"MSD {adaptive}={_fmt(msd_a)}, {base}={_fmt(msd_b)}; "
                         f"ASR {adaptive}={_fmt(asr_a)}, {base}={_fmt(asr_b)}"),
                rule=(f"MSD({adaptive}) <= (1 - {rules.min_reduction:g}) x MSD({base}) and "
                      f"|ASR({adaptive}) - ASR({base})| <= {rules.asr_tolerance}"),
            ))
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))


def evaluate_claims(summaries: pd.DataFrame, rules: ClaimRules | None = None) -> pd.DataFrame:
    """Evaluate the paper's claims 1-4 (and check 5, see :func:`claims_part2`) on our summaries.

    Returns one row per (claim, model): claim, model, verdict ("reproduced", "not reproduced",
    or "not evaluated" when an attack needed by the rule was not run), numbers (the values that
    decide it) and rule (the test, with its tolerance). See :class:`ClaimRules`.
    """
    rules = rules or ClaimRules()
    part1 = claims_from_table1(build_table1(summaries), rules)
    part2 = claims_part2(summaries, rules)
    return pd.concat([part1, part2], ignore_index=True)


def evaluate_paper_claims(rules: ClaimRules | None = None) -> pd.DataFrame:
    """Apply the rules of claims 1-3 to the paper's own Table 1 (to show the rules are fair)."""
    return claims_from_table1(paper_table1(), rules)
