"""The grid runner on fast stand-ins: resume, staleness, determinism, interruption, CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from aslo.experiments import TIMING_COLUMNS, ResultStore, grid_cells, load_profile, load_results, run_grid
from helpers.fakes import SMALL_PROFILE, FakeBackend, write_profile

FAKES = Path(__file__).parent / "helpers" / "fakes.py"


def _table(df: pd.DataFrame) -> pd.DataFrame:
    """The numbers of a summary table without the wall-clock columns."""
    return df.drop(columns=[c for c in TIMING_COLUMNS if c in df.columns]).reset_index(drop=True)


@pytest.fixture
def profile(tmp_path):
    return load_profile(write_profile(tmp_path))


def test_run_grid_table_and_rerun_skips_everything(tmp_path, profile, capsys):
    backend = FakeBackend()
    df = run_grid(profile, results_dir=tmp_path / "res", runs_dir=tmp_path / "runs", backend=backend)
    cells = grid_cells(profile)
    assert len(df) == len(cells) == 2 * 2 * 7
    for col in ("profile", "dataset", "model", "attack", "seed", "asr", "mean_success_distance",
                "duration", "n", "train_accuracy", "test_accuracy", "config_hash", "wall_seconds"):
        assert col in df.columns, col
    assert (df["n"] == 6).all() and df["test_accuracy"].notna().all()
    # The model is obtained once per (dataset, model), not once per cell.
    assert sorted(backend.trained) == sorted({(c.dataset, c.model) for c in cells})
    again = FakeBackend()
    df2 = run_grid(profile, results_dir=tmp_path / "res", runs_dir=tmp_path / "runs", backend=again)
    assert again.attacked == [] and again.trained == []
    assert "28 already finished (skipped), 0 to run" in capsys.readouterr().err
    pd.testing.assert_frame_equal(df, df2)


class ProgressRecorder(FakeBackend):
    """Records the ``progress`` flag that training and attacks receive."""

    def __init__(self):
        super().__init__()
        self.flags = {"train": set(), "attack": set()}

    def trained_model(self, dataset, model, overrides, *, progress, **kwargs):
        self.flags["train"].add(progress)
        return super().trained_model(dataset, model, overrides, progress=progress, **kwargs)

    def run_attack(self, net, x, y, attack, overrides, *, progress, **kwargs):
        self.flags["attack"].add(progress)
        return super().run_attack(net, x, y, attack, overrides, progress=progress, **kwargs)


@pytest.mark.parametrize("progress", [True, False])
def test_training_and_attacks_show_progress_as_the_run_does(tmp_path, profile, progress):
    # A serial grid trains models for minutes: its terminal must show that too, not only cells.
    backend = ProgressRecorder()
    run_grid(profile, results_dir=tmp_path, runs_dir=tmp_path, progress=progress, backend=backend)
    assert backend.flags == {"train": {progress}, "attack": {progress}}


def test_provenance_counts_the_cells_this_invocation_computed(tmp_path, profile):
    # A cell another runner finished after this plan was made is skipped, and not counted as ours.
    from aslo.experiments import plan_grid, run_plan
    from aslo.experiments.executor import CellExecutor

    plan = plan_grid(profile, results_dir=tmp_path / "res", backend=FakeBackend())
    other = plan.pending[3]
    CellExecutor(profile, plan.store, tmp_path / "runs", FakeBackend()).execute(plan.tasks[other])
    backend = FakeBackend()
    assert run_plan(plan, runs_dir=tmp_path / "runs", progress=False, backend=backend) == len(plan.pending) - 1
    assert len(backend.attacked) == len(plan.pending) - 1
    assert [r["cells_ran"] for r in plan.store.provenance()] == [len(plan.pending) - 1]


def test_same_series_for_every_model_and_attack(tmp_path, profile):
    backend = FakeBackend()
    run_grid(profile, results_dir=tmp_path, runs_dir=tmp_path, progress=False, backend=backend)
    by_dataset = {}
    for net, attack, seed, first_values in backend.attacked:
        by_dataset.setdefault(len(first_values) and first_values, []).append((net, attack))
    # 2 datasets -> exactly two distinct subsets, each shared by all 14 (model, attack) cells.
    assert sorted(len(v) for v in by_dataset.values()) == [14, 14]
    rec = ResultStore(tmp_path / "tiny").read(grid_cells(profile)[0])
    assert rec.records["test_index"].tolist() == sorted(rec.records["test_index"]) and len(rec.records) == 6


def test_two_runs_give_identical_tables(tmp_path, profile):
    a = run_grid(profile, results_dir=tmp_path / "a", runs_dir=tmp_path / "r", progress=False, backend=FakeBackend())
    b = run_grid(profile, results_dir=tmp_path / "b", runs_dir=tmp_path / "r", progress=False, backend=FakeBackend())
    pd.testing.assert_frame_equal(_table(a), _table(b))


@pytest.mark.parametrize("change", ["attack", "attack_one", "training", "samples", "normalize", "metrics"])
def test_changed_config_is_recomputed_never_reused(tmp_path, profile, change):
    kw = dict(results_dir=tmp_path, runs_dir=tmp_path, progress=False, datasets=["GunPoint"])
    run_grid(profile, backend=FakeBackend(), **kw)
    backend = FakeBackend()
    changed = {
        "attack": lambda: profile.replace(attack={**profile.attack, "steps": 4}),
        "attack_one": lambda: profile.replace(attack_overrides={"AS_GM_PGD": {"sigma0": 0.5}}),
        "training": lambda: profile.replace(training_overrides={"lstmfcn": {"epochs": 2}}),
        "samples": lambda: profile.replace(samples=5),
        "normalize": lambda: profile.replace(normalize=False),
        "metrics": lambda: profile,
    }[change]()
    if change == "metrics":
        backend.metrics = "fake-2"
    df = run_grid(changed, backend=backend, **kw)
    expected = {"attack": 14, "attack_one": 2, "training": 7, "samples": 14, "normalize": 14, "metrics": 14}[change]
    assert len(backend.attacked) == expected and len(df) == 14
    stale = list((tmp_path / "tiny").glob("*/*/*/seed0.stale-*"))
    assert len(stale) == expected  # old records kept aside, not deleted
    # The original profile's results are now stale in turn: load_results does not serve them.
    assert len(load_results(profile, results_dir=tmp_path, backend=FakeBackend())) == 14 - expected


def test_parts_share_cells_and_load_results_filters(tmp_path, profile):
    b1 = FakeBackend()
    run_grid(profile, part=1, results_dir=tmp_path, runs_dir=tmp_path, progress=False, backend=b1)
    assert len(b1.attacked) == 4 * 4
    b2 = FakeBackend()
    df2 = run_grid(profile, part=2, results_dir=tmp_path, runs_dir=tmp_path, progress=False, backend=b2)
    assert len(b2.attacked) == 4 * 3  # CW, CW_L2 and AS_CW came from Part 1
    assert {a for _, a, _, _ in b2.attacked} == {"GM_PGD", "GM_PGD_L2", "AS_GM_PGD"}
    assert len(df2) == 4 * 6
    assert len(load_results(profile, results_dir=tmp_path, part=1, backend=FakeBackend())) == 16
    assert len(load_results(profile, results_dir=tmp_path, backend=FakeBackend())) == 28


def test_half_written_cell_is_redone(tmp_path, profile):
    run_grid(profile, results_dir=tmp_path, runs_dir=tmp_path, progress=False, backend=FakeBackend())
    cell = grid_cells(profile)[5]
    (ResultStore(tmp_path / "tiny").path(cell) / "COMPLETE").unlink()
    backend = FakeBackend()
    df = run_grid(profile, results_dir=tmp_path, runs_dir=tmp_path, progress=False, backend=backend)
    assert [(a, s) for _, a, s, _ in backend.attacked] == [(cell.attack, cell.seed)] and len(df) == 28


def test_bad_arguments_fail_before_work(tmp_path, profile):
    backend = FakeBackend()
    for kwargs, match in [({"workers": 0}, "workers"), ({"device": "tpu"}, "device"),
                          ({"part": 3}, "part"), ({"datasets": ["Nope"]}, "Nope"), ({"models": ["vgg"]}, "vgg")]:
        with pytest.raises(ValueError, match=match):
            run_grid(profile, results_dir=tmp_path, runs_dir=tmp_path, progress=False, backend=backend, **kwargs)
    assert backend.attacked == [] and not (tmp_path / "tiny").exists()


def _done_cells(root: Path) -> dict[str, float]:
    """Finished cells and the start time stored in each record."""
    import json

    out = {}
    for marker in root.glob("*/*/*/seed*/COMPLETE"):
        out[str(marker.parent.relative_to(root))] = json.loads((marker.parent / "meta.json").read_text())["started"]
    return out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_interrupted_grid_resumes_without_redoing_or_losing_cells(tmp_path, sig):
    path = write_profile(tmp_path)
    res, runs, log = tmp_path / "res", tmp_path / "runs", tmp_path / "attacks.log"
    cmd = [sys.executable, str(FAKES), str(path), str(res), str(runs), str(log)]
    env = {**os.environ, "PYTHONPATH": str(FAKES.parent)}
    # The child restores SIGINT's default handler itself, whatever disposition this test inherited;
    # it blocks at a gate after 4 attacks, so the signal lands mid-grid on every machine.
    with subprocess.Popen([*cmd, "--gate", "4"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        line = proc.stdout.readline()
        assert line.strip() == "GATE", f"the child never reached the gate: {line!r} {proc.stderr.read()[-2000:]}"
        proc.send_signal(sig)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"signal {sig!r} did not end the child within 60 s: it did not arrive or was ignored")
        stderr = proc.stderr.read()
    if sig in (signal.SIGINT, signal.SIGTERM):
        assert "KeyboardInterrupt" in stderr, f"signal {sig!r} did not interrupt the child cleanly"
        assert proc.returncode != 0
        # an interrupted run still records what it computed
        assert [r["cells_ran"] for r in ResultStore(res / "tiny").provenance()] == [4]
    else:
        assert proc.returncode == -signal.SIGKILL
        assert ResultStore(res / "tiny").provenance() == []
    before = _done_cells(res / "tiny")
    assert len(before) == 4, f"the 4 cells before the gate must be stored, found {len(before)}"
    subprocess.run(cmd, env=env, check=True, timeout=1800, capture_output=True, stdin=subprocess.DEVNULL)
    after = _done_cells(res / "tiny")
    assert len(after) == 28
    assert all(after[k] == v for k, v in before.items())  # nothing finished was redone or lost
    computed = log.read_text().split("\n")[:-1]
    assert len(computed) - 28 <= 1  # at most the one cell in flight at the kill ran twice
    profile = load_profile(path)
    fresh = run_grid(profile, results_dir=tmp_path / "fresh", runs_dir=runs, progress=False, backend=FakeBackend())
    pd.testing.assert_frame_equal(_table(load_results(profile, res, backend=FakeBackend())), _table(fresh))


def test_cli_run_prints_table(tmp_path, monkeypatch, capsys):
    import aslo.experiments.runner as runner
    from aslo.cli import main

    monkeypatch.setattr(runner, "Backend", FakeBackend)
    path = write_profile(tmp_path)
    code = main(["run", "--profile", str(path), "--results-dir", str(tmp_path / "r"), "--runs-dir",
                 str(tmp_path / "m"), "--models", "lstmfcn", "--part", "1", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "lstmfcn" in out and "AS_CW" in out and "GM_PGD" not in out
    assert main(["run", "--profile", str(path), "--models", "vgg"]) == 2
    assert "unknown model 'vgg'" in capsys.readouterr().err


def test_plan_says_which_cells_run_and_why(tmp_path):
    from aslo.experiments import plan_grid

    path = write_profile(tmp_path)
    res = tmp_path / "res"
    backend = FakeBackend()
    run_grid(path, results_dir=res, runs_dir=tmp_path / "runs", progress=False, backend=backend)
    plan = plan_grid(path, results_dir=res, backend=backend)
    assert plan.pending == [] and set(plan.table()["state"]) == {"done"}
    changed = plan_grid(load_profile(path).replace(samples=5), results_dir=res, backend=backend)
    table = changed.table()
    assert len(changed.pending) == len(table) and set(table["state"]) == {"stale"}
    assert table["reason"].str.contains("samples: 6 -> 5").all()


class SettingsRecorder(FakeBackend):
    """Records the attack settings and training keywords each cell ran with."""

    def __init__(self):
        super().__init__()
        self.attack_settings, self.training_settings = [], []

    def run_attack(self, net, x, y, attack, overrides, **kwargs):
        self.attack_settings.append(dict(overrides))
        return super().run_attack(net, x, y, attack, overrides, **kwargs)

    def trained_model(self, dataset, model, overrides, **kwargs):
        self.training_settings.append(dict(overrides))
        return super().trained_model(dataset, model, overrides, **kwargs)


def test_the_executor_runs_the_settings_its_plan_hashed(tmp_path, profile):
    # The plan resolves each cell's settings once; an executor handed another profile object (here
    # one whose steps and epochs differ) still runs the plan's, so a stored cell is what its hash says.
    from aslo.experiments import plan_grid
    from aslo.experiments.executor import CellExecutor

    plan = plan_grid(profile, results_dir=tmp_path / "res", backend=FakeBackend())
    cell = plan.pending[0]
    other = profile.replace(attack={"steps": 99, "lr": 0.1}, training={"epochs": 7})
    backend = SettingsRecorder()
    assert CellExecutor(other, plan.store, tmp_path / "runs", backend).execute(plan.tasks[cell]) == "ran"
    assert backend.attack_settings == [plan.tasks[cell].overrides] and backend.attack_settings[0]["steps"] == 3
    assert backend.training_settings == [plan.tasks[cell].training_kwargs] and "epochs" not in backend.training_settings[0]
    assert plan.store.read(cell).config_hash == plan.hashes[cell]


def test_provenance_names_the_commit_a_run_started_from(tmp_path, profile, monkeypatch):
    # A run of hours outlives the commits made meanwhile; it ran the code it imported at its start.
    import aslo.environment
    import aslo.experiments.runner

    head = {"now": "commit-at-start"}
    for module in (aslo.environment, aslo.experiments.runner):
        monkeypatch.setattr(module, "git_commit", lambda root=None: head["now"])

    class CommitsMeanwhile(FakeBackend):
        def run_attack(self, *args, **kwargs):
            head["now"] = "commit-made-during-the-run"
            return super().run_attack(*args, **kwargs)

    run_grid(profile, results_dir=tmp_path / "res", runs_dir=tmp_path / "runs", progress=False,
             backend=CommitsMeanwhile())
    assert head["now"] == "commit-made-during-the-run"
    assert [r["commit"] for r in ResultStore(tmp_path / "res" / profile.name).provenance()] == ["commit-at-start"]
