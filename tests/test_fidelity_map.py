"""The fidelity map's plan, its resumable store and the recheck of stored cells (tiny stand-in models)."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from aslo.experiments import fidelity_map as fm
from aslo.experiments.backend import Backend
from aslo.report import claims_map as cm


class TinyBackend(Backend):
    """Random series and a seeded linear classifier per (dataset, model): fast and deterministic."""

    def __init__(self, shift=0.0, lr_scale=1.0):
        self.shift, self.lr_scale, self.trained, self.threads_seen = shift, lr_scale, 0, set()

    def shipped_model(self, dataset, model, *, seed, models_dir, device):
        if not (Path(models_dir) / "shipped").is_file():
            raise FileNotFoundError(f"nothing shipped in {models_dir}")
        return self.trained_model(dataset, model, {}, seed=seed, runs_dir=models_dir, device=device, progress=False)

    def run_attack(self, net, x, y, attack, overrides, **kw):
        # lr_scale stands in for a change of the attack code: same weights, other numbers
        return super().run_attack(net, x, y, attack, {**overrides, "lr": overrides["lr"] * self.lr_scale}, **kw)

    def load_dataset(self, name, normalize):
        gen = torch.Generator().manual_seed(len(name))
        x = torch.randn(30, 1, 12, generator=gen)
        return SimpleNamespace(name=name, x_test=x, y_test=(x.mean(dim=(1, 2)) > 0).long())

    def trained_model(self, dataset, model, overrides, *, seed, runs_dir, device, progress, recipe="default"):
        self.threads_seen.add(torch.get_num_threads())
        torch.manual_seed(len(model))
        net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
        with torch.no_grad():
            net[1].bias[0] += self.shift  # favours one class: other predictions
        self.trained += 1
        return net.eval(), {"test_accuracy": 0.5 + self.shift}


class ChangedAttackCode(TinyBackend):
    """The same layers after an edit of the attack code."""

    def code_version(self):
        return {**super().code_version(), "attacks": "0000000000000000"}


def test_plan_shares_cells_between_readings():
    plan = fm.plan()
    assert set(plan["attack"]) == set(fm.TABLE1_ATTACKS)
    assert set(plan["model"]) == set(fm.MAP_MODELS) and set(plan["dataset"]) == set(fm.MAP_DATASETS)
    paper = plan[plan["budget"] == "paper"]
    assert set(paper["steps"]) == {1000}
    assert {(d, m) for d, m in zip(paper["dataset"], paper["model"])} == {
        (d, m) for d, models in fm.PAPER_BUDGET_SLICE.items() for m in models}
    short = plan[(plan["budget"] == "short") & (plan["dataset"] == "GunPoint") & (plan["model"] == "lstmfcn")]
    # CW carries no regulariser: one cell for every lambda; AS-only factors leave CW_L1 as at the centre.
    cw = short[(short["attack"] == "CW") & (short["factor"].isin(["lambda", "centre", "sigma0"]))]
    assert cw["cell"].nunique() == 1
    l1 = short[(short["attack"] == "CW_L1") & short["factor"].isin(["centre", "sigma0", "eta", "j_star"])]
    assert l1["cell"].nunique() == 1
    assert short[short["attack"] == "AS_CW"]["cell"].nunique() == 5 + 7 + 2  # lambdas, AS-only levels, loss, amsgrad
    # The centre is the paper's 1e-5 under the parent's batch-level reading: 6.4e-4 per sample.
    centre = json.loads(short[(short["reading"] == "centre=parent_batch") & (short["attack"] == "AS_CW")]["overrides"].item())
    assert centre["objective_scaling"] == "parent_batch" and centre["reg_coef"] == 1e-5 and centre["steps"] == 50
    lam = short[(short["reading"] == "lambda=0.00064") & (short["attack"] == "AS_CW")]["cell"].item()
    assert lam == short[(short["reading"] == "centre=parent_batch") & (short["attack"] == "AS_CW")]["cell"].item()


def test_reading_ids_and_sentences():
    ids = [r.reading_id for r in fm.map_readings()]
    assert len(ids) == len(set(ids))
    literal = fm.reading_by_id("lambda=1e-05@paper")
    text = fm.reading_sentence(literal)
    for piece in ("1000 Adam steps", "lr 0.0001", "lambda 1e-05 per sample", "20 series",
                  "ItalyPowerDemand (inception, resnet18, macnn, lstmfcn)", "GunPoint (lstmfcn)", "seed 0"):
        assert piece in text
    with pytest.raises(ValueError, match="unknown reading"):
        fm.reading_by_id("lambda=3")


def test_map_runs_resumes_and_rechecks(tmp_path):
    evidence = tmp_path / "ev"
    backend = TinyBackend()
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the run must pin its own count whatever the caller's
    try:
        table = fm.run_map(evidence_dir=evidence, runs_dir=tmp_path / "runs", factors=["centre", "sigma0"],
                           models=["lstmfcn"], progress=False, backend=backend, command="test", threads=1)
        assert torch.get_num_threads() == 2  # restored afterwards
    finally:
        torch.set_num_threads(before)
    assert backend.threads_seen == {1}
    lstm = table[table["model"] == "lstmfcn"]
    complete = lstm.groupby("reading")["stored"].all()
    # The centre is also the plane's lambda = 6.4e-4 point (same cells).
    assert set(complete[complete].index) == {"centre=parent_batch", "lambda=0.00064", "sigma0=0.001", "sigma0=0.1"}
    done = table[table["stored"]]
    assert done["asr"].notna().all() and (done["n"] == fm.MAP_SAMPLES).all()
    assert set(table.loc[~table["stored"], "state"]) == {"missing"}
    prov = json.loads((evidence / "provenance.json").read_text())
    assert prov["runs"][0]["cells_ran"] == 2 * (4 + 2) and prov["runs"][0]["command"] == "test"
    assert prov["runs"][0]["threads"] == 1 and prov["runs"][0]["factors"] == ["centre", "sigma0"]
    # The cells are the grid's: same store layout and meta (thread count, weights, full config).
    grid = fm.map_plan(evidence, backend=TinyBackend())
    stored = [c for c in grid.cells if grid.states[c].state == "done"]
    assert len(stored) == 12 and {c.attack.split("-")[0] for c in stored} == set(fm.TABLE1_ATTACKS)
    meta = grid.store.read(stored[0]).meta
    assert meta["torch_threads"] == 1 and meta["config"]["samples"] == fm.MAP_SAMPLES
    assert meta["config"]["attack"]["steps"] == 50 and "attacks" in meta["config"]["code"]
    # Resuming computes nothing (and trains nothing).
    again = TinyBackend()
    fm.run_map(evidence_dir=evidence, runs_dir=tmp_path / "runs", factors=["centre", "sigma0"],
               models=["lstmfcn"], progress=False, backend=again, command="again")
    assert again.trained == 0 and len(json.loads((evidence / "provenance.json").read_text())["runs"]) == 1
    assert fm.provenance_table(evidence)["cells"].tolist() == [12]  # only the run that computed cells
    # A change of the attack code makes every stored cell stale, and the table says so.
    stale = fm.map_table(evidence, backend=ChangedAttackCode())
    assert not stale["stored"].any()
    assert stale.loc[stale["state"] == "stale", "state_reason"].str.contains("the attacks code changed since").all()
    assert (stale["state"] == "stale").sum() == (table["stored"]).sum()
    assert fm.store_sentence(table).startswith("The map holds 12 of its ")
    assert "12 stale (for example: the attacks code changed since" in fm.store_sentence(stale)
    # The recheck recomputes the same numbers from the shipped weights ...
    shipped = tmp_path / "models"
    shipped.mkdir()
    with pytest.raises(ValueError, match="only 0 stored cells"):  # nothing shipped yet
        fm.recheck_stored_cells(3, seed=1, evidence_dir=evidence, models_dir=shipped, backend=TinyBackend())
    (shipped / "shipped").write_text("")
    for dataset in fm.MAP_DATASETS:  # the layout of a checkpoint folder: one folder per dataset and model
        for model in fm.MAP_MODELS:
            (shipped / dataset / model).mkdir(parents=True)
    check = fm.recheck_stored_cells(3, seed=1, evidence_dir=evidence, models_dir=shipped, backend=TinyBackend())
    assert len(check) == 3 and check["agree"].all() and check["identical"].all()
    assert (check["success_changed"] == 0).all() and (check["l2_max_rel_diff"] == 0).all()
    assert "3 identical series by series; all 3 agree" in fm.recheck_sentence(check)
    # ... notices an attack that computes other numbers from the same weights (the test can fail) ...
    other = fm.recheck_stored_cells(3, seed=1, evidence_dir=evidence, models_dir=shipped,
                                    backend=TinyBackend(lr_scale=30.0))
    assert not other["identical"].any() and not other["agree"].all()
    assert "disagree beyond the tolerance" in fm.recheck_sentence(other)
    # ... and never compares cells computed from other weights than the shipped ones.
    with pytest.raises(ValueError, match="only 0 stored cells"):
        fm.recheck_stored_cells(3, seed=1, evidence_dir=evidence, models_dir=shipped, backend=TinyBackend(shift=3.0))
    coverage = fm.evidence_coverage(evidence, shipped, backend=TinyBackend()).set_index(["dataset", "model"])
    lstm = coverage.xs("lstmfcn", level="model")
    assert (lstm["cells_stored"] == 6).all() and (lstm["cells_from_shipped_weights"] == 6).all()
    assert (coverage.xs("macnn", level="model")["cells_stored"] == 0).all()
    shifted = fm.evidence_coverage(evidence, shipped, backend=TinyBackend(shift=3.0))
    assert shifted["cells_from_shipped_weights"].sum() == 0
    assert "Not verifiable from weights" in fm.coverage_sentence(shifted)
    only = fm.recheck_stored_cells(3, seed=2, evidence_dir=evidence, models_dir=shipped, backend=TinyBackend(),
                                   datasets=["GunPoint"])
    assert set(only["dataset"]) == {"GunPoint"}
    with pytest.raises(ValueError, match=">= 3"):
        fm.recheck_stored_cells(2, evidence_dir=evidence, backend=TinyBackend())
    # The report side reads the store.
    long = cm.table1_by_reading(fm.map_table(evidence))
    patterns = cm.reading_patterns(long)
    assert set(patterns.loc[patterns["complete"], "reading"]) == {"centre=parent_batch", "lambda=0.00064",
                                                                  "sigma0=0.001", "sigma0=0.1"}
    assert "3 of 4 models" in cm.conclusion(patterns)
    records = fm.map_records(evidence, "centre=parent_batch")
    assert len(records) == 2 * 4 * fm.MAP_SAMPLES


def test_pattern_on_the_paper_and_on_an_inert_table():
    paper = cm.paper_pattern()
    assert paper["pattern"].sum() == 3 and not paper.set_index("model").loc["MACNN", "asr_kept"]
    inert = pd.DataFrame({"ASL0": [0.0], "L1": [0.0], "L2": [0.0], "No Reg.": [0.0]}, index=["m"])
    checks = cm.pattern_checks(inert + 0.5, inert + 0.4, inert)
    assert not checks["pattern"].item() and checks["asr_kept"].item() and not checks["zeros_far_above"].item()
    assert not np.isnan(checks["msd_ratio_asl0_none"].item())


def test_cli_recheck_reports_a_clear_error(tmp_path, capsys):
    from aslo.cli import main

    assert main(["map", "--evidence-dir", str(tmp_path), "--models-dir", str(tmp_path), "--recheck", "3"]) == 2
    assert "only 0 stored cells" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["map", "--evidence-dir", str(tmp_path), "--recheck", "3", "--threads", "0"])
    assert "--threads: must be >= 1" in capsys.readouterr().err
    assert main(["map", "--evidence-dir", str(tmp_path), "--factors", "nonsense", "--no-progress"]) == 2
    assert "no reading has a factor" in capsys.readouterr().err


def test_readings_are_named_in_words():
    words = {r.reading_id: r.words() for r in fm.map_readings()}
    assert words["lambda=0.00064@paper"] == "lambda 6.4e-4 per series, 1000 steps x 1e-4"
    assert words["default=parent_batch@mid"] == "lambda 6.4e-4 per series, 200 steps x 5e-4"
    assert words["lambda=1e-05"] == "lambda 1e-5 per series, 50 steps x 2e-3"
    assert words["sigma0=0.1"].endswith(", sigma0 0.1") and words["amsgrad=off"].endswith("AMSGrad off")
    # two readings share a name only when they are the same settings (the plane's 6.4e-4 is the centre)
    readings = fm.map_readings()
    for a in readings:
        for b in readings:
            same = all(a.overrides(t) == b.overrides(t) for t in fm.TABLE1_ATTACKS)
            assert (a.words() == b.words()) == same, (a.reading_id, b.reading_id)
