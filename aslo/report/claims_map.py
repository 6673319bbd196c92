"""Reading the fidelity map: Table 1 per reading, the paper's pattern, figures and a conclusion.

The *paper's pattern* (its Table 1 for Inception, ResNet18 and LSTMFCN) has three parts, each
the point estimate of claims defined in :mod:`aslo.report.claims` (with
:class:`~aslo.report.claims.ClaimRules`' tolerances) favouring them:

* zeros: C3's rule (close-to-0 at least ``far_factor`` times and ``far_margin`` more) holds for
  ASL0 **and** for L1, each against L2 and none;
* distance: C2's rule (at least ``min_reduction`` below) holds for ASL0 against L2 and none, and
  against L1 with no reduction required (no other column lower);
* ASR kept: C1's rule holds for ASL0 against L1, L2 and none.

These are point estimates on aggregated numbers, never verdicts: the verdicts of a reading, with
their intervals, come from :func:`aslo.report.uncertainty.claim_intervals` on its records.

The same test on the paper's own Table 1 passes for 3 of its 4 models (MACNN's ASR drops), so a
reading "shows the paper's pattern" when the test passes for at least as many of the models run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from aslo.report.claims import EPS, ClaimRules, Quantities, claim_by_label, combined_margin, comparison_parts, favours
from aslo.report.labels import MODEL_LABELS, MODEL_ORDER, REGULARISERS
from aslo.report.paper import paper_table1

_QUANTITIES = {"asr": "ASR", "mean_success_distance": "Mean Success Distance", "close_to_zero": "close to 0",
               "mean_success_distance_sq": "Mean Success Distance (squared L2)"}


def table1_by_reading(map_frame: pd.DataFrame) -> pd.DataFrame:
    """Table 1 per reading: mean over datasets per (reading, model, regulariser) of stored cells.

    Returns a long frame: reading, factor, level, budget, effective_lambda, model (paper label),
    regulariser, asr, mean_success_distance, mean_success_distance_sq, close_to_zero, datasets.
    """
    done = map_frame[map_frame["stored"]].copy()
    if done.empty:
        raise ValueError("the map holds no stored cell yet: run `aslo map` first")
    done["model"] = [MODEL_LABELS.get(m, m) for m in done["model"]]
    keys = ["reading", "factor", "level", "budget", "effective_lambda", "model", "regulariser"]
    grouped = done.groupby(keys, sort=False)
    out = grouped[list(_QUANTITIES)].mean()
    out["datasets"] = grouped["dataset"].nunique()
    return out.reset_index()


def _wide(long: pd.DataFrame, metric: str) -> pd.DataFrame:
    """(reading, model) x regulariser for one metric."""
    return long.pivot_table(index=["reading", "model"], columns="regulariser", values=metric,
                            aggfunc="first").reindex(columns=list(REGULARISERS))


def pattern_checks(asr: pd.DataFrame, msd: pd.DataFrame, zero: pd.DataFrame,
                   rules: ClaimRules | None = None) -> pd.DataFrame:
    """The three parts of the paper's pattern (point estimates) per row of the wide (row x regulariser) frames."""
    rules = rules or ClaimRules()
    tie = rules.replace(min_reduction=0.0)  # "no other column lower"

    def holds(claim_id, x, y, a, m, z, claim_rules=rules):
        q = Quantities(a[x], m[x], z[x], a[y], m[y], z[y])
        return favours(float(combined_margin(comparison_parts(claim_by_label(claim_id), q, claim_rules))))

    rows = []
    for key in asr.index:
        a, m, z = asr.loc[key], msd.loc[key], zero.loc[key]
        zeros = all(holds("C3", x, y, a, m, z) for x in ("ASL0", "L1") for y in ("L2", "No Reg."))
        lowest = holds("C2", "ASL0", "L1", a, m, z, tie) and all(holds("C2", "ASL0", y, a, m, z)
                                                                 for y in ("L2", "No Reg."))
        kept = all(holds("C1", "ASL0", x, a, m, z) for x in ("L1", "L2", "No Reg."))
        complete = not (a.isna().any() or z.isna().any() or m.isna().any())
        rows.append(dict(key=key, zeros_far_above=bool(zeros and complete), asl0_lowest_distance=bool(lowest and complete),
                         asr_kept=bool(kept and complete), pattern=bool(zeros and lowest and kept and complete),
                         complete=complete,
                         c0_asl0=z["ASL0"], c0_l1=z["L1"], c0_l2=z["L2"], c0_none=z["No Reg."],
                         msd_ratio_asl0_none=m["ASL0"] / m["No Reg."] if m["No Reg."] else np.nan,
                         asr_gap=max(abs(a["ASL0"] - a[x]) for x in ("L1", "L2", "No Reg."))))
    return pd.DataFrame(rows)


def paper_pattern(rules: ClaimRules | None = None) -> pd.DataFrame:
    """The pattern test on the paper's own Table 1 (one row per model)."""
    paper = paper_table1()
    frames = {q: paper.xs(label, level="metric") for q, label in
              (("asr", "ASR"), ("msd", "Mean Success Distance"), ("zero", "close to 0"))}
    out = pattern_checks(frames["asr"], frames["msd"], frames["zero"], rules)
    out.insert(0, "model", out.pop("key"))
    return out


def reading_patterns(long: pd.DataFrame, rules: ClaimRules | None = None) -> pd.DataFrame:
    """The pattern test per (reading, model) of :func:`table1_by_reading`."""
    checks = pattern_checks(_wide(long, "asr"), _wide(long, "mean_success_distance"),
                            _wide(long, "close_to_zero"), rules)
    checks.insert(0, "reading", [k[0] for k in checks["key"]])
    checks.insert(1, "model", [k[1] for k in checks["key"]])
    meta = long.drop_duplicates("reading").set_index("reading")[["factor", "level", "budget", "effective_lambda"]]
    checks = checks.drop(columns="key").join(meta, on="reading")
    return checks


def reading_summary(patterns: pd.DataFrame) -> pd.DataFrame:
    """Per reading: how many models show each part of the pattern, and the whole of it."""
    cols = ["zeros_far_above", "asl0_lowest_distance", "asr_kept", "pattern"]
    grouped = patterns[patterns["complete"]].groupby("reading", sort=False)
    out = grouped[cols].sum().astype(int)
    out["models"] = grouped.size()
    meta = patterns.drop_duplicates("reading").set_index("reading")[["factor", "level", "budget", "effective_lambda"]]
    return out.join(meta).reset_index()


def conclusion(patterns: pd.DataFrame, rules: ClaimRules | None = None) -> str:
    """A few generated sentences naming the reading(s) that show the paper's pattern; the numbers
    behind them are in :func:`conclusion_numbers`."""
    from aslo.experiments.fidelity_map import reading_by_id

    summary = reading_summary(patterns)
    if summary.empty:
        return "The map holds no complete reading yet."
    paper = paper_pattern(rules)
    n_paper = int(paper["pattern"].sum())
    head = (f"Point estimates, not verdicts: on the paper's own Table 1 the pattern (ASL0 and L1 with close-to-0 far "
            f"above L2 and none, ASL0 with the lowest success distance, ASR kept) holds for {n_paper} of 4 models "
            f"({', '.join(paper.loc[paper['pattern'], 'model'])}).")
    best = _best_reading(summary)
    hits = summary[summary["pattern"] >= summary["models"] * n_paper / 4 - EPS]
    parts = (f"close-to-0 far above for {best['zeros_far_above']}, ASL0 lowest distance for "
             f"{best['asl0_lowest_distance']} and ASR kept for {best['asr_kept']} of its {best['models']} models")
    if len(hits):
        names = "; ".join(f"{reading_by_id(r.reading).words()} ({r.pattern} of {r.models} models)" for r in hits.itertuples())
        body = f" The map shows it, in at least the same share of models, under: {names}."
    else:
        body = " No reading of the map shows it in that share of models."
    closest = f" The closest reading is {reading_by_id(best['reading']).words()}: {parts} (its numbers are in the table below)."
    l1 = patterns.groupby("reading")["c0_l1"].max()
    asl0 = patterns.groupby("reading")["c0_asl0"].max()
    tail = (f" The largest close-to-0 counts of the map are {asl0.max():.3g} for ASL0 and {l1.max():.3g} for L1; "
            "the paper reports 14.5-220.7 and 10.6-241.6.")
    return head + body + closest + tail


def _best_reading(summary: pd.DataFrame) -> pd.Series:
    summary = summary.assign(share=summary["pattern"] / summary["models"])
    return summary.sort_values(["share", "zeros_far_above", "asl0_lowest_distance"], ascending=False).iloc[0]


def conclusion_numbers(patterns: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`conclusion`: per model, the closest reading's close-to-0 counts,
    MSD(ASL0)/MSD(none) and the largest ASR gap, with whether the pattern holds."""
    summary = reading_summary(patterns)
    if summary.empty:
        return pd.DataFrame()
    best = _best_reading(summary)["reading"]
    detail = patterns[patterns["reading"] == best]
    return pd.DataFrame({"model": detail["model"], "close-to-0 ASL0": detail["c0_asl0"], "close-to-0 L1": detail["c0_l1"],
                         "close-to-0 L2": detail["c0_l2"], "close-to-0 none": detail["c0_none"],
                         "MSD ASL0 / none": detail["msd_ratio_asl0_none"], "largest ASR gap": detail["asr_gap"],
                         "pattern": detail["pattern"].map({True: "holds", False: "does not hold"})}).reset_index(drop=True)


def _heat(ax, matrix: pd.DataFrame, title: str, fmt: str = "{:.2g}", cmap: str = "viridis", log: bool = False,
          labels: bool = True):
    values = matrix.to_numpy(dtype=float)
    ax.set_title(title, fontsize=9)
    if not np.isfinite(values).any():
        ax.set_title(title + " (not run yet)", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        return None
    shown = np.log10(values + 1) if log else values
    im = ax.imshow(np.ma.masked_invalid(shown), aspect="auto", cmap=cmap)
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], fontsize=7.5)
    ax.set_yticks(range(matrix.shape[0]), [str(i) for i in matrix.index] if labels else [], fontsize=8)
    ax.tick_params(length=0)
    finite = shown[np.isfinite(shown)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                dark = finite.min() == finite.max() or shown[i, j] < mid  # one colour: the scale's darkest
                ax.text(j, i, fmt.format(values[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
    return im


#: The quantities the map's heatmaps show: (column, title, log colour scale, number format).
PANELS = (("c0_asl0", "close-to-0, ASL0", True, "{:.3g}"), ("c0_l1", "close-to-0, L1", True, "{:.3g}"),
          ("msd_ratio_asl0_none", "MSD(ASL0) / MSD(none)", False, "{:.2f}"),
          ("asr_gap", "largest |ASR(ASL0) - ASR(X)|", False, "{:.2f}"))
_BUDGET_WORDS = {"short": "50 x 2e-3", "mid": "200 x 5e-4", "paper": "1000 x 1e-4"}


def plot_plane(patterns: pd.DataFrame, quantity: str = "c0_asl0") -> Figure:
    """One quantity of :data:`PANELS` over the lambda x budget plane, one panel per model (2 x 2),
    sized for the book's text column (7 inches)."""
    from aslo.experiments.fidelity_map import PLANE_LAMBDAS, short_number

    column, title, log, fmt = next(p for p in PANELS if p[0] == quantity)
    plane = patterns[patterns["factor"].isin(["lambda", "default"])]
    models = [m for m in MODEL_ORDER if m in set(patterns["model"])]
    fig = Figure(figsize=(7.0, 4.8), layout="constrained")
    axes = fig.subplots(2, 2, squeeze=False).ravel()
    for ax, model in zip(axes, models):
        sub = plane[plane["model"] == model]
        mat = sub.pivot_table(index="budget", columns="effective_lambda", values=column, aggfunc="first", dropna=False)
        mat = mat.reindex(index=list(_BUDGET_WORDS), columns=list(PLANE_LAMBDAS))
        mat.index = [_BUDGET_WORDS[b] for b in mat.index]
        mat.columns = [short_number(c) for c in mat.columns]
        _heat(ax, mat, model, fmt=fmt, log=log, labels=ax in axes[::2])
    for ax in axes[len(models):]:
        ax.set_visible(False)
    fig.suptitle(f"{title}: budget (steps x lr, rows) by lambda per series (columns); blank: not run", fontsize=9.5)
    return fig


def plot_one_factor(patterns: pd.DataFrame) -> Figure:
    """The one-factor-at-a-time readings (rows, named by what changes) by model (columns), one
    panel per quantity (2 x 2), sized for the book's text column."""
    from aslo.experiments.fidelity_map import map_readings

    ofat = patterns[~patterns["factor"].isin(["lambda", "default"])]
    readings = [r for r in map_readings() if r.reading_id in set(ofat["reading"])]
    models = [m for m in MODEL_ORDER if m in set(ofat["model"])]
    fig = Figure(figsize=(7.0, 1.4 + 0.56 * len(readings)), layout="constrained")
    axes = fig.subplots(2, 2, squeeze=False).ravel()
    for ax, (column, title, log, fmt) in zip(axes, PANELS):
        mat = ofat.pivot_table(index="reading", columns="model", values=column, aggfunc="first")
        mat = mat.reindex(index=[r.reading_id for r in readings], columns=models)
        mat.index = [r.change_words() for r in readings]
        mat.columns = models
        _heat(ax, mat, title, fmt=fmt, log=log, labels=ax in axes[::2])
    fig.suptitle("One factor at a time around the centre reading (lambda 6.4e-4 per series, 50 x 2e-3)", fontsize=9.5)
    return fig


def distance_comparison(long: pd.DataFrame, readings) -> pd.DataFrame:
    """Our mean success distance under L2 and squared L2 beside the paper's, per reading.

    Returns per reading: models compared, median |log10(ours / paper)| under each distance, and
    which is closer in magnitude (the paper's Eq. 2 is L2; the parent framework reported squared L2).
    """
    paper = paper_table1().xs("Mean Success Distance", level="metric")
    rows = []
    for reading in readings:
        sub = long[long["reading"] == reading]
        if sub.empty:
            continue
        errs = {}
        for col in ("mean_success_distance", "mean_success_distance_sq"):
            ratios = [np.log10(r[col] / paper.loc[r.model, r.regulariser]) for _, r in sub.iterrows()
                      if r.model in paper.index and np.isfinite(r[col]) and r[col] > 0]
            errs[col] = float(np.median(np.abs(ratios))) if ratios else np.nan
        rows.append(dict(reading=reading, budget=sub["budget"].iloc[0], cells=len(sub),
                         l2_median_abs_log10_ratio=errs["mean_success_distance"],
                         l2_squared_median_abs_log10_ratio=errs["mean_success_distance_sq"],
                         closer=("L2" if errs["mean_success_distance"] <= errs["mean_success_distance_sq"]
                                 else "squared L2")))
    return pd.DataFrame(rows)


def distance_sentence(comparison: pd.DataFrame) -> str:
    """One generated sentence on which distance matches the paper's magnitudes (the numbers per
    reading are in the comparison table)."""
    if comparison.empty:
        return "No reading is stored yet, so the distances are not compared."
    counts = comparison["closer"].value_counts()
    best = comparison["l2_median_abs_log10_ratio"].min()
    return (f"Against the paper's Table 1 mean success distances, {counts.idxmax()} matches the magnitudes better in "
            f"{counts.max()} of {len(comparison)} readings; the closest reading is off by a median factor "
            f"{10 ** best:.2f} under L2.")
