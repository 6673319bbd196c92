"""The one reader of stored results (aslo.report.stored.read_results), its partial-grid rule, and
the report written from it (aslo.report.outputs.write_report / read_verdicts)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from aslo.experiments import grid_cells, load_profile, run_grid
from aslo.experiments.runner import store_for
from aslo.report.claims import NOT_EVALUATED, POINT_ESTIMATES, VERDICTS
from aslo.report.outputs import read_verdicts, write_report
from aslo.report.stored import MissingResultsError, read_results
from helpers.fakes import FakeBackend


class ZerosBackend(FakeBackend):
    """The stand-in layers with per-series close-to-0 counts (AS_CW: 40, the others 0) and every
    summary column Table 1 prints."""

    def run_attack(self, net, x, y, attack, overrides, **kw):
        summary, records = super().run_attack(net, x, y, attack, overrides, **kw)
        zeros = 40.0 if attack == "AS_CW" else 0.0
        failed = records.loc[~records["success"], "l2"]
        summary = {**summary, "close_to_zero": zeros,
                   "mean_failure_distance": float(failed.mean()) if len(failed) else float("nan")}
        return summary, records.assign(close_to_zero=zeros)


@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory):
    """The smoke profile's grid, computed once by the stand-in layers."""
    root = tmp_path_factory.mktemp("stored")
    backend = ZerosBackend()
    prof = load_profile("smoke")
    run_grid(prof, results_dir=root / "results", runs_dir=root / "runs", progress=False, backend=backend)
    return prof, root / "results", backend


def test_a_full_grid_reads_complete(smoke_store):
    prof, results, backend = smoke_store
    stored = read_results(prof, results, records=True, backend=backend)
    assert stored.complete and stored.missing.empty and len(stored.summaries) == stored.expected == len(grid_cells(prof))
    assert stored.coverage_note() == f"All {stored.expected} cells of profile 'smoke' are stored."
    assert set(stored.records["attack"]) == set(stored.summaries["attack"])
    assert {"dataset", "model", "attack", "test_index", "success", "l2", "close_to_zero"} <= set(stored.records.columns)
    part1 = read_results(prof, results, part=1, backend=backend)
    assert part1.complete and part1.expected == len(grid_cells(prof, part=1)) and part1.records.empty


def test_a_partial_grid_returns_what_is_finished_and_names_the_missing_cells(smoke_store, tmp_path):
    prof, results, backend = smoke_store
    copy = tmp_path / "results"
    shutil.copytree(results, copy)
    gone = [c for c in grid_cells(prof) if c.attack == "CW_L2"][0]
    shutil.rmtree(store_for(prof, copy).path(gone))
    stored = read_results(prof, copy, records=True, backend=backend)
    assert not stored.complete
    assert stored.missing.to_dict("records") == [dict(dataset=gone.dataset, model=gone.model, attack="CW_L2",
                                                      seed=gone.seed)]
    assert len(stored.summaries) == stored.expected - 1
    assert not ((stored.records["attack"] == "CW_L2") & (stored.records["model"] == gone.model)).any()
    note = stored.coverage_note()
    assert note.startswith(f"Partial grid: 1 of {stored.expected} cells of profile 'smoke'")
    assert f"{gone.dataset} x {gone.model} x CW_L2 (seed {gone.seed})" in note
    assert f"aslo run --profile smoke --results-dir {copy}" in note
    # The report says it, and the claims needing the missing cell are not evaluated for that model.
    paths = write_report(stored, tmp_path / "out", n_boot=50)
    assert paths["coverage"].read_text().strip() == note
    _, verdicts = read_verdicts(tmp_path / "out")
    from aslo.report.labels import model_label

    row = verdicts.set_index(["claim", "model"]).loc[("C3: ASL0 raises close-to-0 far above L2 and none",
                                                      model_label(gone.model))]
    assert row["verdict"] in (NOT_EVALUATED, "contradicted") and "AS_CW vs CW_L2: not evaluated" in row["intervals"]


def test_stale_cells_count_as_missing(smoke_store):
    """Cells stored under another configuration are not read: here every one, so nothing is stored."""
    prof, results, _ = smoke_store
    with pytest.raises(MissingResultsError, match="no stored results"):
        read_results(prof, results, backend=ZerosBackend(metrics="fake-2"))  # other layers: other hashes


def test_an_empty_store_is_refused_with_the_command(tmp_path):
    with pytest.raises(MissingResultsError, match=r"no stored results for profile 'smoke'.*aslo run --profile smoke"):
        read_results("smoke", tmp_path / "none")


def test_write_report_writes_the_verdicts_once_and_reads_them_back(smoke_store, tmp_path):
    prof, results, backend = smoke_store
    stored = read_results(prof, results, records=True, backend=backend)
    paths = write_report(stored, tmp_path / "out", n_boot=100)
    assert {"table1_csv", "figure1_png", "claims", "claim_intervals", "paper_claims", "paper_comparison",
            "coverage"} <= set(paths)
    assert all(p.is_file() for p in paths.values())
    intervals, verdicts = read_verdicts(tmp_path / "out")
    assert set(verdicts["verdict"]) <= {*VERDICTS, NOT_EVALUATED} and set(verdicts["point_estimate"]) <= set(POINT_ESTIMATES)
    assert len(verdicts) == 5 * stored.summaries["model"].nunique()  # C1-C4 and check 5 per model
    assert (intervals["parts"].map(type) == str).all()
    paper = pd.read_csv(paths["paper_claims"])
    assert "verdict" not in paper.columns and set(paper["point_estimate"]) <= set(POINT_ESTIMATES)
    with pytest.raises(ValueError, match="records=True"):
        write_report(read_results(prof, results, backend=backend), tmp_path / "no_records")
    with pytest.raises(TypeError, match="StoredResults"):
        write_report(stored.summaries, tmp_path / "frame")
    with pytest.raises(FileNotFoundError, match="aslo report"):
        read_verdicts(tmp_path / "nothing")
