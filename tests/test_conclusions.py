"""Stored conclusions: saved with provenance, compared with a fresh run's, comparison by comparison."""

import json

import pandas as pd
import pytest

from aslo.environment import REPOSITORY_ROOT
from aslo.report import conclusions as cc


def intervals(verdict="supported", estimate=0.1, low=0.05, high=0.15):
    return pd.DataFrame([
        dict(claim="C2: x", model="lstmfcn", a="AS_CW", b="CW", estimate=estimate, ci_low=low, ci_high=high,
             verdict=verdict),
        dict(claim="C3: y", model="lstmfcn", a="AS_CW", b="CW_L2", estimate=0.0, ci_low=-0.1, ci_high=0.1,
             verdict="inconclusive"),
    ])


def test_compare_flags_a_changed_verdict_and_an_estimate_outside_the_interval():
    same = cc.compare_conclusions(intervals(), intervals(estimate=0.12, low=0.07, high=0.2))
    assert list(same.columns) == list(cc.COMPARISON_COLUMNS)
    assert same["same_verdict"].all() and same["inside_stored_interval"].all()
    assert "2 of 2 comparisons reach the stored verdict" in cc.conclusions_sentence(same)
    assert "No verdict changed" in cc.conclusions_sentence(same)
    moved = cc.compare_conclusions(intervals(), intervals(verdict="contradicted", estimate=-0.2, low=-0.3, high=-0.1))
    assert moved["same_verdict"].tolist() == [False, True]
    assert moved["inside_stored_interval"].tolist() == [False, True]
    text = cc.conclusions_sentence(moved, {"commit": "abcdef1234567", "machine": {"cpu_count": 2}})
    assert "1 of 2 comparisons" in text and "C2 lstmfcn (AS_CW vs CW): supported -> contradicted" in text
    assert "commit abcdef1234" in text


def test_missing_conclusions_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing intervals.csv, provenance.json"):
        cc.load_conclusions(tmp_path)
    assert cc.recheck_conclusions("smoke", tmp_path, tmp_path, conclusions_dir=tmp_path, progress=False) is None
    assert cc.conclusions_sentence(None) == "No stored conclusions to compare with for this profile."


def test_saved_conclusions_of_a_real_grid_hold_on_the_same_results(tmp_path):
    from helpers.grids import smoke_grid

    grid = smoke_grid()
    folder = cc.save_conclusions(grid.profile, grid.results, tmp_path / "conclusions" / "smoke", command="test",
                                 n_boot=200)
    provenance = json.loads((folder / cc.PROVENANCE_FILE).read_text())
    assert provenance["command"] == "test" and provenance["n_boot"] == 200
    assert {"cpu_count", "torch_threads", "cpu_capability"} <= set(provenance["machine"])
    path = cc.recheck_conclusions(grid.profile, grid.results, tmp_path, conclusions_dir=tmp_path / "conclusions",
                                  progress=False)
    table = pd.read_csv(path)
    assert len(table) > 0 and table["same_verdict"].all() and table["inside_stored_interval"].all()
    # a stored verdict that this run does not reach is reported
    stored = pd.read_csv(folder / cc.INTERVALS_FILE)
    stored.loc[0, "verdict"] = "no such verdict"
    stored.to_csv(folder / cc.INTERVALS_FILE, index=False)
    table = pd.read_csv(cc.recheck_conclusions(grid.profile, grid.results, tmp_path,
                                               conclusions_dir=tmp_path / "conclusions", progress=False))
    assert table["same_verdict"].tolist().count(False) == 1


def test_portability_tables_reach_the_book_with_a_note_when_absent(tmp_path, monkeypatch):
    import aslo.report.facts as facts

    written = facts.write_portability_facts(tmp_path)
    assert [p.name for p in written] == list(facts.PORTABILITY_TABLES)
    for path in written:  # the committed measurements, copied unchanged
        assert path.read_bytes() == (REPOSITORY_ROOT / "benchmarks" / "results" / path.name).read_bytes()
    monkeypatch.setattr(facts, "PORTABILITY_TABLES", ("no_such_table.csv",))
    (note,) = facts.write_portability_facts(tmp_path)
    assert "not in this installation" in note.read_text()


def test_verdict_survival_marks_the_claims_a_retrained_model_flips(tmp_path):
    def store(folder, threads, capability, verdicts):
        folder.mkdir(parents=True)
        pd.DataFrame([dict(claim=c, model="lstmfcn", verdict=v) for c, v in verdicts.items()]).to_csv(
            folder / cc.VERDICTS_FILE, index=False)
        (folder / cc.PROVENANCE_FILE).write_text(json.dumps({"machine": {"torch_threads": threads,
                                                                         "cpu_capability": capability}}))

    store(tmp_path / "default", 2, "AVX512", {"C1": "supported", "C2": "inconclusive"})
    store(tmp_path / cc.VARIANTS_FOLDER / "default__avx2", 1, "AVX2", {"C1": "supported", "C2": "contradicted"})
    store(tmp_path / cc.VARIANTS_FOLDER / "other__x", 1, "AVX2", {"C1": "contradicted"})  # another profile
    folders = cc.stored_variants("default", tmp_path)
    assert list(folders) == ["2 thread(s), AVX512", "1 thread(s), AVX2"]
    table = cc.verdict_survival(folders)
    assert table["same in every run"].tolist() == ["yes", "no"]
    assert table["1 thread(s), AVX2"].tolist() == ["supported", "contradicted"]
    path = cc.write_verdict_survival("default", tmp_path, tmp_path)
    assert pd.read_csv(path)["same in every run"].tolist() == ["yes", "no"]
    assert cc.verdict_survival({}).empty
