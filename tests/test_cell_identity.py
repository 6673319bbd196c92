"""A cell's identity covers the code that decides its numbers; provenance and compact records."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from aslo.experiments import ResultStore, grid_cells, load_profile, plan_grid, run_grid
from aslo.experiments.backend import Backend
from aslo.experiments.identity import NUMERIC_CODE, code_fingerprints, group_fingerprint, module_files, source_fingerprint
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
    covered = {p.name for p in module_files("aslo.attacks")}
    assert {"algorithm.py", "sparse.py", "l0_search.py", "config.py"} <= covered


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
