"""A cell's identity covers the code that decides its numbers; provenance and compact records."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from aslo.experiments import ResultStore, grid_cells, load_profile, plan_grid, run_grid
from aslo.experiments.backend import Backend
from aslo.experiments.identity import (EXTENSION_CODE, NOT_NUMERIC, NUMERIC_CODE, PREVIOUS_SCHEMES, code_fingerprints,
                                      group_fingerprint, module_files, source_fingerprint)
from aslo.experiments.restamp import restamp_plan, scheme_code
from aslo.experiments.runner import ConfigHasher
from helpers.fakes import SMALL_PROFILE, FakeBackend, write_profile

CODE = '''"""Module doc."""
LIMIT = 50  # the budget factor


def step(x):
    """Step doc."""
    return x * LIMIT
'''


def test_fingerprint_ignores_docstrings_comments_and_blank_lines_but_not_code():
    base = source_fingerprint(CODE)
    reworded = CODE.replace("Module doc.", "Other words.").replace("# the budget factor", "# why") + "\n\n# end\n"
    assert source_fingerprint(reworded) == base
    assert source_fingerprint(CODE.replace("LIMIT = 50", "LIMIT = 51")) != base
    assert source_fingerprint(CODE.replace("x * LIMIT", "x * LIMIT * 1")) != base
    # a string that is not a docstring is code
    assert source_fingerprint(CODE + 'NAME = "a"\n') != source_fingerprint(CODE + 'NAME = "b"\n')


def test_group_fingerprint_follows_every_file_of_a_package(tmp_path, monkeypatch):
    package = tmp_path / "fakeattacks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "step.py").write_text(CODE)
    monkeypatch.syspath_prepend(str(tmp_path))
    before = group_fingerprint(("fakeattacks",))
    assert [p.name for p in module_files("fakeattacks")] == ["__init__.py", "step.py"]
    (package / "step.py").write_text(CODE.replace("LIMIT = 50", "LIMIT = 49"))
    group_fingerprint.cache_clear()
    assert group_fingerprint(("fakeattacks",)) != before
    (package / "extra.py").write_text("X = 1\n")  # a new module counts too
    group_fingerprint.cache_clear()
    changed = group_fingerprint(("fakeattacks",))
    group_fingerprint.cache_clear()
    assert changed != before
    sys.modules.pop("fakeattacks", None)


def test_real_backend_identity_covers_attack_model_training_data_and_selection_code(tmp_path):
    profile = load_profile(write_profile(tmp_path))
    config = ConfigHasher(profile, Backend()).config(grid_cells(profile)[0])
    assert set(NUMERIC_CODE) <= set(config["code"])
    assert {"attacks", "models", "training", "data", "selection", "metrics"} <= set(NUMERIC_CODE)
    assert config["code"]["attacks"] == code_fingerprints()["attacks"]
    assert "sparse" not in config["code"]  # a paper attack: the sparse extension does not decide it
    assert set(Backend().attack_code("AS_CW_BUDGET")) == {"sparse"} and Backend().attack_code("AS_CW") == {}


def test_every_attack_module_has_an_identity_group():
    """A new module of aslo.attacks must be placed: in the engine, in an extension, or as not numeric."""
    placed = {entry.split(":")[0] for groups in (NUMERIC_CODE, EXTENSION_CODE) for entries in groups.values()
              for entry in entries if ":" not in entry} | set(NOT_NUMERIC)
    for path in module_files("aslo.attacks"):
        name = "aslo.attacks" if path.stem == "__init__" else f"aslo.attacks.{path.stem}"
        assert name in placed, f"{name} is in no identity group (aslo.experiments.identity)"
    assert set(PREVIOUS_SCHEMES[1]) == set(NUMERIC_CODE)


def test_function_entries_follow_that_function_only(tmp_path, monkeypatch):
    (tmp_path / "fakeselect.py").write_text("def pick(n):\n    return n + 1\n\n\ndef other():\n    return 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = group_fingerprint(("fakeselect:pick",))
    (tmp_path / "fakeselect.py").write_text("def pick(n):\n    return n + 1\n\n\ndef other():\n    return 3\n")
    group_fingerprint.cache_clear()
    assert group_fingerprint(("fakeselect:pick",)) == before  # another function changed
    (tmp_path / "fakeselect.py").write_text("def pick(n):\n    return n + 2\n\n\ndef other():\n    return 3\n")
    group_fingerprint.cache_clear()
    assert group_fingerprint(("fakeselect:pick",)) != before
    with pytest.raises(ValueError, match="no top-level function 'gone'"):
        group_fingerprint(("fakeselect:gone",))
    group_fingerprint.cache_clear()
    sys.modules.pop("fakeselect", None)


class NewScheme(FakeBackend):
    """The same code fingerprinted under another grouping: other fingerprints, the same numbers."""

    def code_version(self):
        return {"metrics": "regrouped"}


def test_restamp_carries_over_only_cells_of_the_same_code(tmp_path):
    path = write_profile(tmp_path)
    res = tmp_path / "res"
    run_grid(path, results_dir=res, runs_dir=tmp_path / "runs", progress=False, backend=FakeBackend())
    store = ResultStore(res / "tiny")
    cells = store.cells()
    before = {c: (store.path(c) / "records.csv").read_bytes() for c in cells}
    plan = plan_grid(path, results_dir=res, backend=NewScheme())
    assert {s.state for s in plan.states.values()} == {"stale"}
    # another earlier code than the stored one: nothing is carried over, and the table says why
    other = restamp_plan(plan, {"metrics": "fake-0", "runner": 1}, scheme=1, command="wrong")
    assert not other["restamped"].any() and other["reason"].str.contains("the metrics code changed").all()
    assert store.provenance()[-1]["command"] != "wrong"
    table = restamp_plan(plan, {"metrics": "fake-1", "runner": 1}, scheme=1, command="restamp")
    assert table["restamped"].all() and len(table) == len(cells)
    again = plan_grid(path, results_dir=res, backend=NewScheme())
    assert {s.state for s in again.states.values()} == {"done"} and not again.pending
    for cell in cells:  # the numbers are untouched, byte for byte; the meta says what happened
        assert (store.path(cell) / "records.csv").read_bytes() == before[cell]
        note = store.read(cell).meta["restamped"][-1]
        assert note["scheme"].startswith("1 -> ") and note["from_config_hash"] == plan_grid(
            path, results_dir=tmp_path / "elsewhere", backend=FakeBackend()).hashes[cell]
    assert not list((res / "tiny").glob("*/*/*/seed*.*"))  # no copy left aside
    assert store.provenance()[-1]["cells_restamped"] == len(cells)
    with pytest.raises(ValueError, match="unknown earlier identity scheme"):
        scheme_code(99)


def test_stale_reason_names_the_code_that_changed(tmp_path):
    path = write_profile(tmp_path)
    res = tmp_path / "res"
    run_grid(path, results_dir=res, runs_dir=tmp_path / "runs", progress=False, backend=FakeBackend())

    class EditedAttacks(FakeBackend):
        def code_version(self):
            return {**super().code_version(), "attacks": "edited"}

    plan = plan_grid(path, results_dir=res, backend=EditedAttacks())
    table = plan.table()
    assert set(table["state"]) == {"stale"} and len(plan.pending) == len(table)
    assert table["reason"].str.contains("the attacks code changed since").all()


def test_run_records_provenance_per_invocation(tmp_path):
    path = write_profile(tmp_path)
    res = tmp_path / "res"
    run_grid(path, results_dir=res, runs_dir=tmp_path / "runs", progress=False, backend=FakeBackend(),
             datasets=["Coffee"], command="first")
    run_grid(path, results_dir=res, runs_dir=tmp_path / "runs", progress=False, backend=FakeBackend(),
             command="second", threads=1)
    run_grid(path, results_dir=res, runs_dir=tmp_path / "runs", progress=False, backend=FakeBackend(),
             command="nothing to do")
    runs = ResultStore(res / "tiny").provenance()
    assert [r["command"] for r in runs] == ["first", "second"]  # an invocation with nothing to run adds none
    assert runs[0]["cells_ran"] == 14 and runs[1]["cells_ran"] == 14 and runs[1]["cells_already_stored"] == 14
    assert runs[1]["threads"] == 1 and runs[1]["machine"]["torch_threads"] >= 1
    assert {"commit", "date", "wall_seconds"} <= set(runs[0])
    json.loads((res / "tiny" / "provenance.json").read_text())  # valid JSON on disk


def test_compact_profile_stores_no_examples(tmp_path):
    path = write_profile(tmp_path, SMALL_PROFILE.replace('samples = 6', 'samples = 6\nstore_examples = false'))
    assert load_profile(path).store_examples is False
    run_grid(path, results_dir=tmp_path / "res", runs_dir=tmp_path / "runs", progress=False,
             backend=RealisticFake())
    store = ResultStore(tmp_path / "res" / "tiny")
    cell = grid_cells(load_profile(path))[0]
    assert store.has(cell) and not (store.path(cell) / "examples.safetensors").exists()
    with pytest.raises(KeyError, match="no stored examples"):
        store.read_examples(cell)


class RealisticFake(FakeBackend):
    """A stand-in that returns a perturbation, as the real backend does."""

    def run_attack(self, net, x, y, attack, overrides, **kwargs):
        summary, records = super().run_attack(net, x, y, attack, overrides, **kwargs)
        return summary, records, np.zeros_like(np.asarray(x))


def test_cli_restamp_reports_what_it_carried_over(tmp_path, capsys):
    from aslo.cli import main

    path = write_profile(tmp_path)
    res = tmp_path / "res"
    run_grid(path, results_dir=res, runs_dir=tmp_path / "runs", progress=False, backend=FakeBackend())
    # the stand-in's code is not this repository's under scheme 1: nothing is carried over
    assert main(["run", "--profile", str(path), "--results-dir", str(res), "--restamp-from", "1"]) == 0
    out = capsys.readouterr().out
    assert "0 of 28 stale cells carried over" in out and "28 stay stale" in out
    assert main(["map", "--evidence-dir", str(tmp_path / "map"), "--restamp-from", "1"]) == 0
    assert "0 of 0 stale cells" in capsys.readouterr().out


class EditedAttackCode(FakeBackend):
    """A refactoring of the attack code: another fingerprint, the same numbers."""

    def code_version(self):
        return {**super().code_version(), "attacks": "refactored"}


class EditedAttackNumbers(EditedAttackCode):
    """An edit of the attack code that changes the numbers."""

    def run_attack(self, net, x, y, attack, overrides, **kwargs):
        summary, records = super().run_attack(net, x, y, attack, overrides, **kwargs)
        records["l2"] = records["l2"] * 1.0001
        return summary, records


class EditedOneAttackNumbers(EditedAttackCode):
    """An edit inside the shared attack code that changes one attack's numbers only."""

    changed = "CW"

    def run_attack(self, net, x, y, attack, overrides, **kwargs):
        summary, records = super().run_attack(net, x, y, attack, overrides, **kwargs)
        if attack == self.changed:
            records["l2"] = records["l2"] * 1.0001
        return summary, records


def test_verified_restamp_carries_over_each_attack_whose_recomputed_cells_are_identical(tmp_path):
    from aslo.cli.options import report_verified_restamp
    from aslo.experiments.restamp import restamp_verified

    path = write_profile(tmp_path)
    res, runs = tmp_path / "res", tmp_path / "runs"
    run_grid(path, results_dir=res, runs_dir=runs, progress=False, backend=FakeBackend())
    store = ResultStore(res / "tiny")
    assert EditedOneAttackNumbers.changed in {c.attack for c in store.cells()}
    plan = plan_grid(path, results_dir=res, backend=EditedOneAttackNumbers())
    table = restamp_verified(plan, runs, backend=EditedOneAttackNumbers(), command="one attack edited")
    edited = table["attack"] == EditedOneAttackNumbers.changed
    assert not table.loc[edited, "identical"].any() and not table.loc[edited, "restamped"].any()
    assert table.loc[~edited, "identical"].all() and table.loc[~edited, "restamped"].all()
    states = plan_grid(path, results_dir=res, backend=EditedOneAttackNumbers()).states
    assert {cell.attack for cell, s in states.items() if s.state == "stale"} == {EditedOneAttackNumbers.changed}
    assert store.provenance()[-1]["cells_restamped"] == sum(s.state == "done" for s in states.values())
    assert report_verified_restamp(table, res) == 1  # one attack's cells are left for a run to recompute


def test_verified_restamp_carries_cells_over_only_when_every_recomputed_cell_is_identical(tmp_path):
    from aslo.experiments.restamp import code_only_changes, restamp_verified

    path = write_profile(tmp_path)
    res, runs = tmp_path / "res", tmp_path / "runs"
    run_grid(path, results_dir=res, runs_dir=runs, progress=False, backend=FakeBackend())
    store = ResultStore(res / "tiny")
    before = {c: (store.path(c) / "records.csv").read_bytes() for c in store.cells()}
    # an edit that changes every attack's numbers: the recomputed cells differ, nothing is carried over
    changed = plan_grid(path, results_dir=res, backend=EditedAttackNumbers())
    assert len(code_only_changes(changed)) == len(before)
    table = restamp_verified(changed, runs, backend=EditedAttackNumbers(), command="changed")
    assert len(table) == 2 * len(set(c.attack for c in before)) and not table["identical"].any()
    assert not table["restamped"].any()
    assert {s.state for s in plan_grid(path, results_dir=res, backend=EditedAttackCode()).states.values()} == {"stale"}
    # a refactoring: the recomputed cells are identical, every cell is carried over, numbers untouched
    plan = plan_grid(path, results_dir=res, backend=EditedAttackCode())
    table = restamp_verified(plan, runs, backend=EditedAttackCode(), command="verified")
    assert table["identical"].all() and table["restamped"].all()
    assert table.groupby("attack")["candidates"].first().sum() == len(before)  # each attack's own candidates
    again = plan_grid(path, results_dir=res, backend=EditedAttackCode())
    assert {s.state for s in again.states.values()} == {"done"}
    for cell, data in before.items():
        assert (store.path(cell) / "records.csv").read_bytes() == data
        # the note names the recomputed cells of the cell's own attack
        assert store.read(cell).meta["restamped"][-1]["verified_refactor"] == \
            [f"{r.dataset}/{r.model}/{r.attack}" for r in table.itertuples() if r.attack == cell.attack]
    assert store.provenance()[-1]["cells_restamped"] == len(before)
    assert store.provenance()[-1]["verified_by_recomputing"] == len(table)
    # a cell whose settings changed is never a candidate, whatever its code
    (tmp_path / "other").mkdir()
    other = plan_grid(write_profile(tmp_path / "other", SMALL_PROFILE.replace("samples = 6", "samples = 5")),
                      results_dir=res, backend=EditedAttackCode())
    assert code_only_changes(other) == []


def test_cli_verified_restamp_with_nothing_to_carry_over(tmp_path, capsys):
    from aslo.cli import main

    assert main(["map", "--evidence-dir", str(tmp_path / "map"), "--restamp-verified"]) == 0
    assert "no stored cell differs from today's identity in its code alone" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # one way of carrying cells over at a time
        main(["map", "--evidence-dir", str(tmp_path / "map"), "--restamp-verified", "--restamp-from", "1"])
