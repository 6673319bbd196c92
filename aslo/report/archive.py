"""The archive share for the book: per-dataset effects, where the regularisers act, the models'
accuracy against the published numbers.

Verdicts over the archive come from the same bootstrap as everywhere (datasets as strata, see
:mod:`aslo.report.uncertainty`). This module adds what a reader needs to see the archive dataset
by dataset: per-dataset *point estimates* of each claim, whether the regulariser changes anything
at all on a dataset (:data:`ACTS_RULE`), and the same rules' verdicts on each dataset's series
alone (:func:`per_dataset_verdicts`): ten series decide little where the regulariser acts, but
where it is inert the attacks agree series by series and the verdict is decided (contradicted).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from aslo.report.aggregate import validate_summaries
from aslo.report.claims import (DOES_NOT_FAVOUR, FAVOURS, NOT_EVALUATED, ClaimRules, claim_by_label, point_estimates,
                                point_summary)
from aslo.report.labels import MODEL_ORDER


def acts_rule(rules: ClaimRules | None = None) -> str:
    """When the regulariser *acts* on a (dataset, model), in words."""
    rules = rules or ClaimRules()
    return (f"AS_CW's mean success distance differs from CW's by at least {rules.min_reduction:.0%}, or its mean "
            f"close-to-0 count by at least {rules.far_margin:g}")


#: The rule in words with the default tolerances.
ACTS_RULE = acts_rule()


def regulariser_acts(summaries: pd.DataFrame, rules: ClaimRules | None = None) -> pd.DataFrame:
    """Per (dataset, model): AS_CW against CW, ``distance_change`` (MSD ratio - 1),
    ``close_to_zero_change`` (difference of counts) and ``acts`` (:data:`ACTS_RULE`); NaN/False
    where a cell is missing or no series succeeded."""
    rules = rules or ClaimRules()
    frame = validate_summaries(summaries, ("mean_success_distance", "close_to_zero"))
    per = frame.groupby(["dataset", "model_label", "attack"], sort=False)[["mean_success_distance", "close_to_zero"]].mean()
    rows = []
    for (dataset, model), _ in frame.groupby(["dataset", "model_label"], sort=False):
        try:
            a, b = per.loc[(dataset, model, "AS_CW")], per.loc[(dataset, model, "CW")]
        except KeyError:
            a = b = pd.Series({"mean_success_distance": np.nan, "close_to_zero": np.nan})
        with np.errstate(divide="ignore", invalid="ignore"):
            distance = a["mean_success_distance"] / b["mean_success_distance"] - 1.0
        close = a["close_to_zero"] - b["close_to_zero"]
        acts = bool((np.isfinite(distance) and abs(distance) >= rules.min_reduction)
                    or (np.isfinite(close) and abs(close) >= rules.far_margin))
        rows.append(dict(dataset=dataset, model=model, distance_change=distance, close_to_zero_change=close, acts=acts))
    return pd.DataFrame(rows)


def per_dataset_claims(summaries: pd.DataFrame, rules: ClaimRules | None = None) -> pd.DataFrame:
    """Per (dataset, claim, model): the claim's combined point estimate on that dataset alone
    (``favours`` / ``does not favour`` / ``not evaluated``), from the claims' single definitions."""
    frame = validate_summaries(summaries, ("asr", "mean_success_distance", "close_to_zero"))
    parts = []
    for dataset, sub in frame.groupby("dataset", sort=False):
        summary = point_summary(point_estimates(sub, rules))
        summary.insert(0, "dataset", dataset)
        parts.append(summary[["dataset", "claim", "model", "point_estimate"]])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["dataset", "claim", "model", "point_estimate"])


def per_dataset_verdicts(records: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0,
                         rules: ClaimRules | None = None) -> pd.DataFrame:
    """Per (dataset, claim, model): the claim's verdict from the paired bootstrap on that dataset's
    series alone (the rules and intervals of :mod:`aslo.report.uncertainty`)."""
    from aslo.report.uncertainty import claim_intervals, claim_verdicts

    parts = [claim_verdicts(claim_intervals(sub, rules=rules, n_boot=n_boot, seed=seed)).assign(dataset=dataset)
             for dataset, sub in records.groupby("dataset", sort=False)]
    columns = ["dataset", "claim", "model", "verdict"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def verdict_counts(per_dataset: pd.DataFrame) -> pd.DataFrame:
    """Per claim and model: on how many datasets each verdict (one column per verdict that occurs),
    claims in their order and models in the book's."""
    counts = per_dataset.pivot_table(index=["claim", "model"], columns="verdict", values="dataset",
                                     aggfunc="count", fill_value=0).reset_index()
    counts.columns.name = None
    claims = {c: i for i, c in enumerate(dict.fromkeys(per_dataset["claim"]))}
    models = {m: i for i, m in enumerate(MODEL_ORDER)}
    key = counts["claim"].map(claims) * 100 + counts["model"].map(models).fillna(99)
    return counts.assign(_key=key).sort_values("_key", kind="stable").drop(columns="_key").reset_index(drop=True)


def dataset_shares(claims: pd.DataFrame, acts: pd.DataFrame) -> pd.DataFrame:
    """Per model: on how many datasets the regulariser acts, and on how many each claim's point
    estimate favours it (of the datasets where it could be evaluated), as ``k of n`` and a share."""
    rows = []
    for model, sub in acts.groupby("model", sort=False):
        rows.append(dict(question="the regulariser acts", model=model, datasets=int(sub["acts"].sum()), of=len(sub)))
    for (claim, model), sub in claims.groupby(["claim", "model"], sort=False):
        evaluated = sub[sub["point_estimate"] != NOT_EVALUATED]
        rows.append(dict(question=f"{claim_by_label(claim).id} favoured", model=model,
                         datasets=int((evaluated["point_estimate"] == FAVOURS).sum()), of=len(evaluated)))
    table = pd.DataFrame(rows)
    table["share"] = table["datasets"] / table["of"].replace(0, np.nan)
    questions = {q: i for i, q in enumerate(dict.fromkeys(table["question"]))}  # acts first, claims in order
    models = {m: i for i, m in enumerate(MODEL_ORDER)}
    key = table["question"].map(questions) * 100 + table["model"].map(models).fillna(99)
    return table.assign(_key=key).sort_values("_key", kind="stable").drop(columns="_key").reset_index(drop=True)


_STATES = {DOES_NOT_FAVOUR: 0, NOT_EVALUATED: 1, FAVOURS: 2}


def effects_figure(claims: pd.DataFrame, acts: pd.DataFrame, width: float = 7.0) -> Figure:
    """One panel per question (the regulariser acts, then each claim), datasets as rows and models
    as columns: green where the regulariser acts / the claim's point estimate favours it, red
    where it does not, grey where it could not be evaluated. ``width`` in inches."""
    datasets = list(dict.fromkeys(acts["dataset"]))
    models = [m for m in MODEL_ORDER if m in set(acts["model"])]
    questions = ["regulariser acts"] + [c for c in dict.fromkeys(claims["claim"])]
    fig = Figure(figsize=(width, 1.2 + 0.19 * len(datasets)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(questions), sharey=True))
    cmap = ListedColormap(["#e57373", "#d6d6d6", "#66bb6a"])
    for ax, question in zip(axes, questions):
        grid = np.full((len(datasets), len(models)), 1.0)
        if question == "regulariser acts":
            table = acts.pivot(index="dataset", columns="model", values="acts").reindex(index=datasets, columns=models)
            grid = np.where(table.isna(), 1.0, np.where(table.fillna(False).astype(bool), 2.0, 0.0))
            title = "regulariser\nacts"
        else:
            sub = claims[claims["claim"] == question]
            table = sub.pivot(index="dataset", columns="model", values="point_estimate").reindex(index=datasets, columns=models)
            grid = table.fillna(NOT_EVALUATED).replace(_STATES).to_numpy(dtype=float)
            title = claim_by_label(question).id
        ax.imshow(grid, cmap=cmap, vmin=0, vmax=2, aspect="auto", interpolation="nearest")
        ax.set_xticks(range(len(models)), [m[:4] for m in models], rotation=90, fontsize=7.5)
        ax.set_yticks(range(len(datasets)), datasets, fontsize=7.5)
        ax.set_title(title, fontsize=8.5)
        ax.tick_params(length=0)
    fig.suptitle("Per dataset (point estimates): green = acts / favours, red = does not, grey = not evaluated",
                 fontsize=8.5)
    return fig


def archive_coverage(stored) -> str:
    """One sentence on how much of the archive share is stored: complete datasets and cells."""
    summaries = stored.summaries
    per_dataset = summaries.groupby("dataset").size() if not summaries.empty else pd.Series(dtype=int)
    cells_per_dataset = stored.expected // max(1, len(stored.profile.datasets))
    complete = int((per_dataset >= cells_per_dataset).sum())
    return (f"{complete} of {len(stored.profile.datasets)} datasets complete ({len(summaries)} of {stored.expected} "
            f"cells stored: {len(stored.profile.models)} models x {cells_per_dataset // max(1, len(stored.profile.models))} "
            f"attacks x {stored.profile.samples} series per dataset).")


def cost_table(stored, store) -> pd.DataFrame:
    """Measured cost per dataset and model from the stored cells' meta: training seconds (from the
    model's training record), attack seconds summed over the stored cells, and their threads."""
    rows = []
    for row in stored.summaries.itertuples():
        from aslo.experiments.grid import Cell

        meta = store.read(Cell(row.profile, row.dataset, row.model, row.attack, int(row.seed))).meta
        record = meta.get("model", {}).get("record", {})
        rows.append(dict(dataset=row.dataset, model=row.model, train_seconds=record.get("seconds", np.nan),
                         attack_seconds=meta.get("wall_seconds", np.nan), threads=meta.get("torch_threads")))
    if not rows:
        return pd.DataFrame(columns=["dataset", "model", "train_seconds", "attack_seconds", "cells", "threads"])
    frame = pd.DataFrame(rows)
    return (frame.groupby(["dataset", "model"], sort=False)
            .agg(train_seconds=("train_seconds", "first"), attack_seconds=("attack_seconds", "sum"),
                 cells=("attack_seconds", "size"), threads=("threads", "first")).reset_index())


def model_accuracies(summaries: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model): our test accuracy and the published one where there is one
    (:func:`aslo.report.models.accuracy_vs_published`)."""
    from aslo.report.models import accuracy_vs_published

    ours = summaries.groupby(["dataset", "model"], sort=False)["test_accuracy"].first().reset_index()
    return accuracy_vs_published(ours)


def live_beside_archive(archive_table: pd.DataFrame, live_table: pd.DataFrame,
                        metrics=("ASR", "Mean Success Distance", "close to 0")) -> pd.DataFrame:
    """ASL0 and No Reg. of Table 1 over the archive share beside the same cells of this build's
    live run (both frames of :func:`aslo.report.table1.build_table1`), per model and metric."""
    rows = []
    for model, metric in archive_table.index:
        if metric not in metrics:
            continue
        live = live_table.loc[(model, metric)] if (model, metric) in live_table.index else None
        rows.append({"model": model, "metric": metric,
                     "ASL0, archive": archive_table.loc[(model, metric), "ASL0"],
                     "ASL0, this run": np.nan if live is None else live["ASL0"],
                     "No Reg., archive": archive_table.loc[(model, metric), "No Reg."],
                     "No Reg., this run": np.nan if live is None else live["No Reg."]})
    return pd.DataFrame(rows)
