"""Unit tests of aslo.report on synthetic summary frames."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from aslo.report import (
    ClaimRules,
    build_table1,
    compare_with_paper,
    paper_point_estimates,
    point_estimates,
    point_summary,
    figure1_data,
    figure1_paths,
    paper_table1,
    plot_figure1,
    write_table1,
)

ALL_ATTACKS = ("AS_CW", "CW_L1", "CW_L2", "CW", "GM_PGD", "GM_PGD_L2", "AS_GM_PGD")
MODELS = ("lstmfcn", "inception", "macnn", "resnet18")  # deliberately not the paper's order


def make_summaries(models=MODELS, attacks=ALL_ATTACKS, datasets=("A", "B"), seeds=(0, 1), value=None):
    """One row per cell; every metric is a distinct, predictable function of the cell."""
    rows = []
    for m, (i, a), (j, d), s in itertools.product(models, enumerate(attacks), enumerate(datasets), seeds):
        base = value(m, a, d, s) if value else 0.1 * i + 0.01 * j + 0.001 * s
        rows.append(dict(
            profile="unit", dataset=d, model=m, attack=a, seed=s, asr=min(base, 1.0),
            mean_success_distance=base + 1, mean_failure_distance=base + 2, overall_mean_distance=base + 3,
            duration=base + 4, close_to_zero=base + 5, mean_l0=10.0, n=20, n_success=10, n_fail=10,
            train_accuracy=1.0, test_accuracy=0.9,
        ))
    return pd.DataFrame(rows)


def test_table1_shape_order_and_aggregation():
    table = build_table1(make_summaries())
    assert list(table.columns) == ["ASL0", "L1", "L2", "No Reg."]
    assert list(table.index.get_level_values("model").unique()) == ["INCEPTION", "ResNet18", "MACNN", "LSTMFCN"]
    assert list(table.loc["MACNN"].index) == [
        "ASR", "Mean Success Distance", "Mean Failure Distance", "Overall Mean Distance", "duration", "close to 0"]
    # CW_L1 is attack index 1: mean over datasets (0, 0.01) and seeds (0, 0.001).
    expected = 0.1 + 0.005 + 0.0005
    assert table.loc[("INCEPTION", "ASR"), "L1"] == pytest.approx(expected)
    assert table.loc[("INCEPTION", "close to 0"), "No Reg."] == pytest.approx(0.3 + 0.0055 + 5)
    assert table.attrs["n_datasets"] == 2 and table.attrs["seeds"] == [0, 1]


def test_table1_is_mean_over_datasets_of_seed_means():
    # Dataset A has 1 seed, dataset B has 3: a pooled mean would weight B three times.
    frame = make_summaries(models=("macnn",), attacks=("AS_CW",), datasets=("A", "B"), seeds=(0, 1, 2))
    frame = frame[~((frame.dataset == "A") & (frame.seed > 0))].copy()
    frame.loc[frame.dataset == "A", "asr"] = 0.0
    frame.loc[frame.dataset == "B", "asr"] = [0.3, 0.6, 0.9]
    table = build_table1(frame)
    assert table.loc[("MACNN", "ASR"), "ASL0"] == pytest.approx((0.0 + 0.6) / 2)
    assert np.isnan(table.loc[("MACNN", "ASR"), "L1"])  # not run -> NaN, never invented


def test_table1_skips_nan_distances_but_rejects_nan_asr():
    frame = make_summaries(models=("resnet18",), attacks=("AS_CW",), seeds=(0,))
    frame.loc[frame.dataset == "A", "mean_success_distance"] = np.nan  # no success on A
    table = build_table1(frame)
    assert table.loc[("ResNet18", "Mean Success Distance"), "ASL0"] == pytest.approx(1.01)
    frame.loc[0, "asr"] = np.nan
    with pytest.raises(ValueError, match="asr"):
        build_table1(frame)


def test_part1_aliases_map_to_columns():
    frame = make_summaries(models=("inception",), attacks=("CW_ASL0", "CW_NONE"))
    table = build_table1(frame)
    assert not np.isnan(table.loc[("INCEPTION", "ASR"), "ASL0"])
    assert not np.isnan(table.loc[("INCEPTION", "ASR"), "No Reg."])


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.drop(columns=["close_to_zero"]), "close_to_zero"),
    (lambda f: f.assign(model="vgg"), "unknown model 'vgg'"),
    (lambda f: pd.concat([f, f.iloc[:1]]), "same cell twice"),
    (lambda f: f.assign(profile=["a", "b"] * (len(f) // 2)), "mixes profiles"),
    (lambda f: f.assign(duration=np.inf), "duration"),
    (lambda f: f.iloc[:0], "empty"),
    (lambda f: f[f.attack.str.startswith("GM")], "no Part 1 attack"),
])
def test_table1_rejects_bad_input(mutate, message):
    with pytest.raises(ValueError, match=message):
        build_table1(mutate(make_summaries()))


def test_table1_rejects_non_frame():
    with pytest.raises(TypeError, match="DataFrame"):
        build_table1([{"asr": 1}])


def test_write_table1(tmp_path):
    table = build_table1(make_summaries())
    paths = write_table1(table, tmp_path / "out")
    assert set(paths) == {"csv", "md", "html"} and all(p.exists() for p in paths.values())
    back = pd.read_csv(paths["csv"], index_col=[0, 1])
    np.testing.assert_allclose(back.to_numpy(), table.to_numpy())
    md = paths["md"].read_text()
    assert "| Model | Metric | ASL0 | L1 | L2 | No Reg. |" in md and f"{table.iloc[0, 0]:.2f}" in md
    assert 'rowspan="6">INCEPTION' in paths["html"].read_text()
    with pytest.raises(ValueError, match="Table 1"):
        write_table1(pd.DataFrame({"a": [1]}), tmp_path)


def test_paper_table1_transcription():
    table = paper_table1()
    assert table.shape == (24, 4) and not table.isna().any().any()
    assert table.loc[("INCEPTION", "ASR"), "ASL0"] == 0.59
    assert table.loc[("MACNN", "close to 0"), "L1"] == 241.59
    # The duplicated MACNN row inside the LSTMFCN block is dropped; the first row is kept.
    assert list(table.loc[("LSTMFCN", "Overall Mean Distance")]) == [0.65, 0.84, 0.89, 0.89]
    long = paper_table1(long=True)
    noted = long[long.note != ""]
    assert set(noted.model) == {"LSTMFCN"} and set(noted.metric) == {"Overall Mean Distance"}
    assert "typo" in table.attrs["notes"][0]


def test_compare_with_paper():
    ours = paper_table1() * 2
    ours = ours.drop(index="MACNN", level="model")
    comparison = compare_with_paper(ours)
    assert len(comparison) == 96
    row = comparison[(comparison.model == "ResNet18") & (comparison.metric == "ASR") & (comparison.regulariser == "L2")]
    assert row[["ours", "paper", "difference", "ratio"]].iloc[0].tolist() == pytest.approx([1.82, 0.91, 0.91, 2.0])
    assert comparison[comparison.model == "MACNN"]["ours"].isna().all()
    with pytest.raises(ValueError, match="build_table1"):
        compare_with_paper(pd.DataFrame({"ASL0": [1.0]}))


def _points(frame):
    """(claim id, model) -> point estimate of a point_summary frame."""
    return {(c.split(":")[0], m): p for c, m, p in zip(frame["claim"], frame["model"], frame["point_estimate"])}


def test_paper_claims_follow_the_numbers():
    points = _points(point_summary(paper_point_estimates()))
    assert {c for c, _ in points} == {"C1", "C2", "C3"}  # C4 needs Figure 1, which prints no numbers
    # MACNN: ASL0's ASR 0.40 vs 0.57/0.58 for L2/none; its success distance ties L1 (0.16).
    assert points[("C1", "MACNN")] == points[("C2", "MACNN")] == "does not favour"
    assert all(p == "favours" for (c, m), p in points.items() if m != "MACNN")
    # A stricter tolerance flips LSTMFCN (0.68 vs 0.73): the rule depends on its stated tolerance.
    strict = _points(point_summary(paper_point_estimates(ClaimRules(asr_tolerance=0.01))))
    assert strict[("C1", "LSTMFCN")] == "does not favour"


def _claims_frame(values):
    def value(m, a, d, s):
        return values[a]
    frame = make_summaries(models=("inception",), value=value)
    frame["asr"] = frame["attack"].map({a: v[0] for a, v in ASR_MSD.items()})
    frame["mean_success_distance"] = frame["attack"].map({a: v[1] for a, v in ASR_MSD.items()})
    frame["close_to_zero"] = frame["attack"].map(values)
    return frame


ASR_MSD = {"AS_CW": (0.80, 0.5), "CW_L1": (0.82, 0.6), "CW_L2": (0.83, 0.7), "CW": (0.84, 0.8),
           "GM_PGD": (0.9, 1.2), "GM_PGD_L2": (0.9, 1.1), "AS_GM_PGD": (0.7, 0.5)}


def test_point_estimates_from_numbers():
    zeros = {"AS_CW": 20.0, "CW_L1": 30.0, "CW_L2": 1.0, "CW": 2.5, "GM_PGD": 0, "GM_PGD_L2": 0, "AS_GM_PGD": 9}
    estimates = point_estimates(_claims_frame(zeros))
    assert list(estimates.columns) == ["claim", "model", "a", "b", "estimate", "margin", "point_estimate", "numbers",
                                       "rule"]
    each = {(c.split(":")[0], b): p for c, b, p in zip(estimates["claim"], estimates["b"], estimates["point_estimate"])}
    assert each[("C1", "CW")] == "favours"              # 0.80 within 0.05 of 0.82, 0.83, 0.84
    assert each[("C2", "CW_L1")] == "favours"           # 0.5 < 0.95 x 0.6
    assert each[("C3", "CW")] == "does not favour"      # 20 < 10 x 2.5
    assert each[("C3", "CW_L2")] == "favours"           # 20 >= 10 x 1 and 19 more
    assert each[("C4", "GM_PGD")] == "does not favour"  # distance lower but ASR drops by 0.2
    assert each[("C4", "CW")] == "favours"              # AS_CW vs CW: 0.5 < 0.8, ASR gap 0.04
    assert each[("Check 5", "CW_L2")] == "favours"      # AS_CW vs CW_L2: 0.5 <= 0.95 x 0.7, ASR gap 0.03
    assert each[("Check 5", "GM_PGD_L2")] == "does not favour"  # ASR drops by 0.2
    row = estimates.iloc[0]
    assert "ASR AS_CW=0.8" in row["numbers"] and "0.05" in row["rule"] and row["margin"] == pytest.approx(0.03)
    summary = _points(point_summary(estimates))
    assert summary[("C3", "INCEPTION")] == summary[("C4", "INCEPTION")] == "does not favour"
    assert summary[("C1", "INCEPTION")] == summary[("C2", "INCEPTION")] == "favours"


def test_a_float_level_decrease_is_not_a_reduction():
    frame = _claims_frame({a: 0.0 for a in ASR_MSD})
    frame.loc[frame["attack"] == "AS_CW", "mean_success_distance"] = 0.7999  # CW: 0.8, CW_L2: 0.7
    frame.loc[frame["attack"] == "CW_L2", "mean_success_distance"] = 0.8
    each = point_estimates(frame).set_index(["claim", "b"])["point_estimate"]
    assert each[("C4: AS lowers the success distance of its base attack", "CW")] == "does not favour"
    assert each[("C2: ASL0 lowers the mean success distance", "CW")] == "does not favour"
    looser = point_estimates(frame, ClaimRules(min_reduction=0.0)).set_index(["claim", "b"])["point_estimate"]
    assert looser[("C4: AS lowers the success distance of its base attack", "CW")] == "favours"


def test_claims_not_evaluated_when_attack_missing():
    frame = make_summaries(models=("macnn",), attacks=("AS_CW", "CW_L1", "CW_L2", "CW"))
    estimates = point_estimates(frame)
    gm = estimates[estimates["a"] == "AS_GM_PGD"]
    assert len(gm) == 2 and (gm["point_estimate"] == "not evaluated").all()
    assert not (estimates["point_estimate"] == "not evaluated").all()
    summary = _points(point_summary(estimates))
    assert summary[("Check 5", "MACNN")] == "does not favour"  # AS_CW's ASR is 0.2 below CW_L2's: decided anyway
    assert summary[("C4", "MACNN")] == "does not favour"
    kept = point_estimates(frame, claims=("C1", "C2: ASL0 lowers the mean success distance"))
    assert set(kept["claim"].str[:2]) == {"C1", "C2"}
    with pytest.raises(KeyError, match="unknown claim"):
        point_estimates(frame, claims=("C9",))


def test_claim_rules_validated():
    with pytest.raises(ValueError, match="asr_tolerance"):
        ClaimRules(asr_tolerance=-1)


def test_figure1(tmp_path):
    frame = make_summaries()
    frame["distance"] = "l2"
    data = figure1_data(frame)
    assert list(data["model"].unique()) == ["INCEPTION", "ResNet18", "MACNN", "LSTMFCN"]
    assert list(data[data.model == "MACNN"]["attack"]) == ["GM_PGD", "GM_PGD_L2", "AS_GM_PGD", "CW", "CW_L2", "AS_CW"]
    fig = plot_figure1(frame, tmp_path)
    upper, lower = fig.axes
    assert upper.get_ylabel().startswith("ASR") and "L2" in lower.get_ylabel()
    assert [t.get_text() for t in lower.get_xticklabels()] == ["INCEPTION", "ResNet18", "MACNN", "LSTMFCN"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(data["attack"].unique())
    # Bar heights are the aggregated numbers: first bar = GM_PGD on INCEPTION.
    first = data[(data.model == "INCEPTION") & (data.attack == "GM_PGD")].iloc[0]
    assert upper.patches[0].get_height() == pytest.approx(first["asr"])
    assert lower.patches[0].get_height() == pytest.approx(first["mean_success_distance"])
    paths = figure1_paths(tmp_path)
    assert paths["png"].stat().st_size > 10_000 and paths["svg"].exists()
    from matplotlib import image
    height, width = image.imread(paths["png"]).shape[:2]
    assert width >= 8 * 150 and height >= 6 * 150


def test_figure1_errors():
    with pytest.raises(ValueError, match="Part 2"):
        figure1_data(make_summaries(attacks=("CW_L1",)))
    with pytest.raises(ValueError, match="dpi"):
        plot_figure1(make_summaries(), dpi=72)
