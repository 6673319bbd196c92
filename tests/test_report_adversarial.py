"""Pictures of adversarial examples: marks, titles, the grid, saved files, the book's two producers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # tests only; the package never selects a backend

import numpy as np
import pytest
import torch

from aslo.metrics import ZERO_THRESHOLD
from aslo.report import plot_adversarial, plot_adversarial_grid, save_figure
from aslo.report.adversarial import changed_steps


def _example(length=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(length).astype(np.float32)
    delta = np.zeros(length, np.float32)
    delta[[3, 10, 11, 30]] = [0.5, -0.25, 2 * ZERO_THRESHOLD, 0.1]
    delta[[5, 6]] = [ZERO_THRESHOLD / 2, -ZERO_THRESHOLD]  # close to 0: not changed (Eq. 3-4)
    return x, delta


def _marks(ax) -> int:
    return len(ax.aslo_marks.get_offsets())


def test_marks_are_the_steps_above_the_metrics_threshold_and_title_has_l0():
    x, delta = _example()
    fig = plot_adversarial(x, x + delta, delta=delta, clean_class=0, adv_class=1, attack="AS_CW")
    ax = fig.axes[0]
    expected = int((np.abs(delta) > ZERO_THRESHOLD).sum())
    assert expected == 4 and _marks(ax) == expected
    assert ax.aslo_changed.tolist() == [3, 10, 11, 30]
    title = ax.get_title()
    assert "L0 = 4 of 40" in title and "AS_CW" in title and "class 0 \u2192 1" in title
    assert f"L2 = {np.sqrt(np.sum(delta.astype(float) ** 2)):.3g}" in title
    assert ax.get_xlabel() == "time step" and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["original", "adversarial"]


def test_without_delta_the_difference_is_used_and_inputs_are_checked():
    x = np.zeros(12)
    x_adv = x.copy()
    x_adv[[1, 7]] = [0.3, -1e-3]
    fig = plot_adversarial(torch.as_tensor(x).reshape(1, 1, -1), x_adv.reshape(1, -1))
    assert _marks(fig.axes[0]) == 2 and "L0 = 2 of 12" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="differ in length"):
        plot_adversarial(x, x_adv[:5])
    with pytest.raises(ValueError, match="univariate"):
        plot_adversarial(np.zeros((2, 12)), np.zeros((2, 12)))
    with pytest.raises(ValueError, match="threshold"):
        changed_steps(x, x_adv, threshold=-1)


def test_grid_has_one_panel_per_attack_with_its_own_marks():
    x, delta = _example()
    dense = np.full_like(delta, 0.01)
    fig = plot_adversarial_grid(x, {"AS_CW_SPARSE": x + delta, "SIGMA_ZERO": x + dense},
                                deltas={"AS_CW_SPARSE": delta, "SIGMA_ZERO": dense},
                                clean_class=1, adv_classes={"AS_CW_SPARSE": 0, "SIGMA_ZERO": 2}, title="t")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    assert [_marks(ax) for ax in axes] == [4, 40]
    # narrow panels of a grid carry the title on two lines
    assert "SIGMA_ZERO: class 1 \u2192 2\nL0 = 40 of 40" in axes[1].get_title()
    assert fig.legends and fig.get_suptitle() == "t"
    with pytest.raises(ValueError, match="at least one"):
        plot_adversarial_grid(x, {})


def test_save_figure_writes_png_and_svg(tmp_path):
    x, delta = _example()
    fig = plot_adversarial(x, x + delta)
    paths = save_figure(fig, tmp_path / "out", "example")
    assert paths == {"png": tmp_path / "out" / "example.png", "svg": tmp_path / "out" / "example.svg"}
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths["png"].stat().st_size > 5000
    assert b"<svg" in paths["svg"].read_bytes()[:500]
    with pytest.raises(ValueError, match="dpi"):
        save_figure(fig, tmp_path, "x", dpi=72)


# ------------------------------------------------------------------ the producers, on the smoke grid
@pytest.fixture(scope="module")
def grid():
    from helpers.grids import SMOKE_MODELS, smoke_grid

    return smoke_grid(), SMOKE_MODELS[0]


def test_method_examples_reads_the_stored_cells(grid, tmp_path):
    from aslo.report import method_examples

    g, model = grid
    fig, table = method_examples(g.profile, model=model, results_dir=g.results, runs_dir=g.runs, out_dir=tmp_path)
    assert table["attack"].tolist() == ["AS_CW", "CW"] and table["test_index"].nunique() == 1
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [_marks(ax) for ax in axes] == table["l0"].tolist()
    assert all(f"L0 = {l0} of" in ax.get_title() for ax, l0 in zip(axes, table["l0"]))
    assert (tmp_path / "method_examples.png").is_file() and (tmp_path / "method_examples.svg").is_file()


def test_beyond_examples_shows_ours_and_the_installed_peers(grid, tmp_path):
    from aslo.peers import available_peers
    from aslo.report import beyond_examples

    g, model = grid
    results = tmp_path / "res"
    fig, table = beyond_examples(g.profile, models=[model], results_dir=results, runs_dir=g.runs, out_dir=tmp_path)
    shown = table.dropna(subset=["l0"])
    expected = ["AS_CW_BUDGET_BOX"] + [p for p in ("SIGMA_ZERO", "FMN_L0") if p in available_peers()]
    assert shown["attack"].tolist() == expected and shown["test_index"].nunique() == 1
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [_marks(ax) for ax in axes] == shown["l0"].astype(int).tolist()
    assert (tmp_path / "beyond_examples.svg").is_file()
    # the examples are the stored cells of the comparison grid, computed through the pipeline
    from aslo.experiments import load_profile

    profile = load_profile(g.profile)
    cell = results / f"{profile.name}_beyond" / profile.datasets[0] / model / "AS_CW_BUDGET_BOX" / "seed0"
    assert (cell / "examples.safetensors").is_file() and (cell / "COMPLETE").is_file()
