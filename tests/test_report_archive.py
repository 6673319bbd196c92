"""Per-dataset effects over the archive share: where the regulariser acts, where claims are favoured."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aslo.report.archive import (dataset_shares, effects_figure, per_dataset_claims, per_dataset_verdicts,
                                 regulariser_acts, verdict_counts)
from aslo.report.claims import CLAIMS

ATTACKS = ("AS_CW", "CW_L1", "CW_L2", "CW", "GM_PGD", "GM_PGD_L2", "AS_GM_PGD")


def _summaries():
    """Dataset 'Acts': AS_CW is sparser and closer than every other attack; 'Inert': all alike."""
    rows = []
    for dataset, acting in (("Acts", True), ("Inert", False)):
        for model in ("inception", "lstmfcn"):
            for attack in ATTACKS:
                sparse = acting and attack.startswith("AS_")
                rows.append(dict(profile="archive", dataset=dataset, model=model, attack=attack, seed=0, asr=0.8,
                                 mean_success_distance=0.5 if sparse else 1.0, close_to_zero=30.0 if sparse else 0.0))
    return pd.DataFrame(rows)


def test_the_regulariser_acts_only_where_as_cw_differs_from_cw():
    acts = regulariser_acts(_summaries()).set_index(["dataset", "model"])
    assert acts.loc[("Acts", "INCEPTION"), "acts"] and not acts.loc[("Inert", "LSTMFCN"), "acts"]
    assert acts.loc[("Acts", "INCEPTION"), "distance_change"] == -0.5
    assert acts.loc[("Acts", "INCEPTION"), "close_to_zero_change"] == 30.0


def test_per_dataset_point_estimates_and_shares():
    claims = per_dataset_claims(_summaries())
    c2 = CLAIMS[1].label
    favours = claims[(claims["claim"] == c2)].set_index(["dataset", "model"])["point_estimate"]
    assert favours[("Acts", "LSTMFCN")] == "favours" and favours[("Inert", "LSTMFCN")] == "does not favour"
    shares = dataset_shares(claims, regulariser_acts(_summaries()))
    assert shares["question"].iloc[0] == "the regulariser acts"
    row = shares[(shares["question"] == "C2 favoured") & (shares["model"] == "INCEPTION")].iloc[0]
    assert (row["datasets"], row["of"], row["share"]) == (1, 2, 0.5)


def test_effects_figure_colours_each_dataset():
    summaries = _summaries()
    fig = effects_figure(per_dataset_claims(summaries), regulariser_acts(summaries))
    first = fig.axes[0].images[0].get_array()
    assert np.array_equal(np.asarray(first), np.array([[2.0, 2.0], [0.0, 0.0]]))  # Acts: acts; Inert: does not
    assert len(fig.axes) == 1 + len(CLAIMS) and fig.get_size_inches()[0] <= 7.0


def _records():
    """Per-series records: on 'Acts' AS_CW succeeds closer with many exact zeros, on 'Inert' every
    attack returns the same series."""
    rng = np.random.default_rng(0)
    rows = []
    for dataset in ("Acts", "Inert"):
        level = rng.uniform(0.5, 1.5, 30)
        for attack in ATTACKS:
            sparse = dataset == "Acts" and attack.startswith("AS_")
            for i in range(30):
                rows.append(dict(dataset=dataset, model="inception", attack=attack, test_index=i, success=1,
                                 l2=level[i] * (0.5 if sparse else 1.0), close_to_zero=40 if sparse else 0))
    return pd.DataFrame(rows)


def test_per_dataset_verdicts_decide_inert_datasets_and_count_them():
    per = per_dataset_verdicts(_records(), n_boot=200)
    c2 = CLAIMS[1].label
    verdicts = per[per["claim"] == c2].set_index("dataset")["verdict"]
    assert verdicts["Acts"] == "supported" and verdicts["Inert"] == "contradicted"  # identical series: decided
    counts = verdict_counts(per)
    row = counts[(counts["claim"] == c2) & (counts["model"] == "INCEPTION")].iloc[0]
    assert (row["supported"], row["contradicted"]) == (1, 1)
    assert list(dict.fromkeys(counts["claim"])) == list(dict.fromkeys(per["claim"]))  # claims in order
    assert counts[["supported", "contradicted"]].sum(axis=1).le(2).all()
