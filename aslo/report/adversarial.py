"""Pictures of adversarial series: the original, the adversarial one and every changed time step.

``plot_adversarial`` draws one example; ``plot_adversarial_grid`` one series under several
attacks, side by side. A time step counts as changed when ``|delta| > ZERO_THRESHOLD``, the
close-to-0 threshold of :mod:`aslo.metrics`, so the marks are the L0 that the tables report.
``method_examples`` and ``beyond_examples`` produce the book's two example figures in one call.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from aslo.metrics import ZERO_THRESHOLD
from aslo.report.figures import OKABE_ITO, save_figure

ORIGINAL_COLOUR = OKABE_ITO["black"]
ADVERSARIAL_COLOUR = OKABE_ITO["vermillion"]
CHANGED_COLOUR = OKABE_ITO["blue"]


def _series(value, name: str) -> np.ndarray:
    """One univariate series as a float64 vector: accepts (L,), (1, L) or (1, 1, L)."""
    arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value, dtype=np.float64)
    arr = arr.squeeze()
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be one univariate series of shape (L,), (1, L) or (1, 1, L); "
                         f"got shape {np.shape(value)}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def changed_steps(x, x_adv, *, delta=None, threshold: float = ZERO_THRESHOLD) -> np.ndarray:
    """Indices of the time steps with ``|delta| > threshold`` (``delta`` defaults to x_adv - x)."""
    x, x_adv = _series(x, "x"), _series(x_adv, "x_adv")
    if x.shape != x_adv.shape:
        raise ValueError(f"x and x_adv differ in length: {x.size} and {x_adv.size}")
    d = x_adv - x if delta is None else _series(delta, "delta")
    if d.shape != x.shape:
        raise ValueError(f"delta has length {d.size}, the series {x.size}")
    if not (threshold >= 0 and math.isfinite(threshold)):
        raise ValueError(f"threshold must be a finite number >= 0, got {threshold!r}")
    return np.flatnonzero(np.abs(d) > threshold)


def _class_text(value) -> str:
    return "?" if value is None else str(value)


def example_title(attack: str | None, clean_class, adv_class, l0: int, length: int, l2: float) -> str:
    """``"AS_CW: class 0 -> 1, L0 = 3 of 24, L2 = 0.41"`` (the class part only when known)."""
    parts = [f"{attack}: " if attack else ""]
    if clean_class is not None or adv_class is not None:
        fooled = "" if clean_class is None or adv_class is None or clean_class != adv_class else " (not fooled)"
        parts.append(f"class {_class_text(clean_class)} \u2192 {_class_text(adv_class)}{fooled}, ")
    parts.append(f"L0 = {l0} of {length}, L2 = {l2:.3g}")
    return "".join(parts)


def plot_adversarial(x, x_adv, *, threshold: float = ZERO_THRESHOLD, clean_class=None, adv_class=None,
                     attack: str | None = None, delta=None, ax=None, legend: bool = True,
                     ylabel: str = "value (z-normalised)") -> Figure:
    """Overlay an adversarial series on its original and mark every changed time step.

    ``x`` and ``x_adv`` are one univariate series each (arrays or tensors, (L,) or (1, L));
    ``delta`` (optional) is the exact stored perturbation, used for the marks, L0 and L2 instead
    of ``x_adv - x``. Changed steps (``|delta| > threshold``) get a marker on the adversarial
    curve; the title gives the attack, the clean and adversarial class, L0 and L2. Draws into
    ``ax`` when given (returns its figure), else into a new Figure. The marker artist is
    ``ax.aslo_marks`` and the changed indices ``ax.aslo_changed``.
    """
    xs, xa = _series(x, "x"), _series(x_adv, "x_adv")
    changed = changed_steps(xs, xa, delta=delta, threshold=threshold)
    d = xa - xs if delta is None else _series(delta, "delta")
    if ax is None:
        fig = Figure(figsize=(7.0, 3.2), layout="constrained")
        ax = fig.subplots()
    steps = np.arange(xs.size)
    ax.plot(steps, xs, color=ORIGINAL_COLOUR, linewidth=1.3, label="original")
    ax.plot(steps, xa, color=ADVERSARIAL_COLOUR, linewidth=1.0, linestyle="--", label="adversarial")
    ax.aslo_marks = ax.scatter(changed, xa[changed], s=16, marker="o", facecolors="none",
                               edgecolors=CHANGED_COLOUR, linewidths=1.0, zorder=3,
                               label=f"changed step ({changed.size})")
    ax.aslo_changed = changed
    ax.set_title(example_title(attack, clean_class, adv_class, int(changed.size), xs.size,
                               float(np.sqrt(np.sum(d * d)))), fontsize="medium")
    ax.set_xlabel("time step")
    ax.set_ylabel(ylabel)
    ax.grid(linewidth=0.4, alpha=0.5)
    if legend:
        ax.legend(fontsize="small", loc="best")
    return ax.figure


def plot_adversarial_grid(x, examples: Mapping[str, object], *, clean_class=None,
                          adv_classes: Mapping[str, object] | None = None,
                          deltas: Mapping[str, object] | None = None, threshold: float = ZERO_THRESHOLD,
                          ncols: int | None = None, title: str | None = None, fig=None) -> Figure:
    """One series under several attacks: one :func:`plot_adversarial` panel per attack.

    ``examples`` maps an attack name to its ``x_adv`` of ``x``; ``adv_classes`` and ``deltas`` map
    the same names to the adversarial class and the exact perturbation (both optional). Panels
    share the y axis; the legend is drawn once. ``fig`` may be a Figure or SubFigure to draw into.
    """
    if not examples:
        raise ValueError("give at least one attack's x_adv")
    names = list(examples)
    ncols = ncols or len(names)
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    nrows = math.ceil(len(names) / ncols)
    if fig is None:  # the book's text column is 7 inches wide
        fig = Figure(figsize=(7.0, 2.5 * nrows + 0.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, squeeze=False)).ravel()
    for i, (ax, name) in enumerate(zip(axes, names)):
        plot_adversarial(x, examples[name], threshold=threshold, clean_class=clean_class,
                         adv_class=(adv_classes or {}).get(name), attack=name,
                         delta=(deltas or {}).get(name), ax=ax, legend=False)
        if i % ncols:
            ax.set_ylabel("")
        if ncols > 1:  # narrow panels: the title on two lines, the labels smaller
            ax.set_title(ax.get_title().replace(", L0", "\nL0"), fontsize=7.5)
            ax.tick_params(labelsize=7)
            ax.xaxis.label.set_fontsize(7.5)
            ax.yaxis.label.set_fontsize(7.5)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles[:2] + [handles[2]], labels[:2] + ["changed step"], loc="outside lower center",
               ncols=3, fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def _pick_series(success: np.ndarray, ours: int = 0) -> int:
    """The first series fooled by attack ``ours`` and by as many others as possible (else 0)."""
    success = np.asarray(success, dtype=bool)  # (attacks, series)
    score = success.sum(axis=0) + success.shape[0] * success[ours]
    return int(np.argmax(score)) if score.max() > 0 else 0


def _rows(model: str, names, test_index: int, clean: int, adv: dict, success: dict, deltas: dict,
          length: int, threshold: float) -> list[dict]:
    rows = []
    for name in names:
        d = np.asarray(deltas[name], dtype=np.float64).ravel()
        rows.append(dict(model=model, attack=name, test_index=test_index, clean_class=clean,
                         adv_class=adv[name], success=bool(success[name]),
                         l0=int((np.abs(d) > threshold).sum()), length=length,
                         l2=float(np.sqrt(np.sum(d * d)))))
    return rows


def method_examples(profile, *, dataset: str | None = None, model: str | None = None, seed: int | None = None,
                    attacks=("AS_CW", "CW"), results_dir=None, runs_dir=None, out_dir=None,
                    stem: str = "method_examples"):
    """AS_CW beside CW on one series, from the experiment grid's own stored cells.

    The cells (first dataset, model and seed of the profile unless given) are read from the
    result store and computed first when missing (the grid reuses them). The series shown is the
    first one fooled by both attacks (else by the first attack). Returns ``(figure, table)``; with
    ``out_dir`` the figure is saved as ``<stem>.png`` and ``.svg``.
    """
    from aslo.experiments import load_cell_examples
    from aslo.experiments.profiles import as_profile

    prof = as_profile(profile)
    dataset = dataset or prof.datasets[0]
    model = model or prof.models[0]
    seed = prof.seeds[0] if seed is None else seed
    stored = {a: load_cell_examples(prof, dataset, model, a, seed, results_dir=results_dir,
                                    runs_dir=runs_dir, compute=True) for a in attacks}
    first = stored[attacks[0]]
    success = np.stack([ex.records["success"].to_numpy(bool) for ex in stored.values()])
    j = _pick_series(success)
    x = first.x[j]
    clean = int(first.records["clean_pred"].iloc[j])
    adv = {a: int(ex.records["adv_pred"].iloc[j]) for a, ex in stored.items()}
    deltas = {a: ex.delta[j] for a, ex in stored.items()}
    test_index = int(first.indices[j])
    fig = plot_adversarial_grid(x, {a: ex.x_adv[j] for a, ex in stored.items()}, clean_class=clean,
                                adv_classes=adv, deltas=deltas,
                                title=f"{dataset}, {model}, test series {test_index} (seed {seed})")
    table = pd.DataFrame(_rows(model, attacks, test_index, clean, adv,
                               {a: success[i, j] for i, a in enumerate(attacks)}, deltas,
                               int(x.numel()), ZERO_THRESHOLD)).assign(dataset=dataset)
    if out_dir is not None:
        save_figure(fig, out_dir, stem)
    return fig, table


def beyond_examples(profile, *, models=None, ours: str = "AS_CW_BUDGET_BOX", peers=("SIGMA_ZERO", "FMN_L0"),
                    results_dir=None, runs_dir=None, out_dir=None, stem: str = "beyond_examples"):
    """Our sparse attack beside sigma-zero and FMN-L0 on one series per model (one row each), from
    the stored cells of the profile's comparison grid (:func:`aslo.report.beyond.beyond_profile`;
    computed first where missing, as the grid would). The series shown is the first one fooled by
    ours and by as many peers as possible. Peers that are not installed are left out (their rows
    say so). Returns ``(figure, table)``; with ``out_dir`` the figure is saved as ``<stem>.png``
    and ``.svg``.
    """
    from aslo.experiments import load_cell_examples
    from aslo.report.beyond import beyond_profile

    prof = beyond_profile(profile)
    if models is not None:
        prof = prof.replace(models=tuple(models))
    dataset, seed = prof.datasets[0], prof.seeds[0]
    attacks = [ours] + [p for p in peers if p in prof.attacks]
    fig = Figure(figsize=(7.0, 2.6 * len(prof.models) + 0.6), layout="constrained")  # the text column's width
    panels = np.atleast_1d(fig.subfigures(len(prof.models), 1))
    rows = []
    for panel, model in zip(panels, prof.models):
        stored = {a: load_cell_examples(prof, dataset, model, a, seed, results_dir=results_dir, runs_dir=runs_dir,
                                        compute=True) for a in attacks}
        success = np.stack([ex.records["success"].to_numpy(bool) for ex in stored.values()])
        j = _pick_series(success)
        first = stored[ours]
        clean = int(first.records["clean_pred"].iloc[j])
        adv = {a: int(ex.records["adv_pred"].iloc[j]) for a, ex in stored.items()}
        deltas = {a: ex.delta[j] for a, ex in stored.items()}
        test_index = int(first.indices[j])
        plot_adversarial_grid(first.x[j], {a: ex.x_adv[j] for a, ex in stored.items()}, clean_class=clean,
                              adv_classes=adv, deltas=deltas, fig=panel, title=f"{dataset}, {model}, test series {test_index}")
        rows += _rows(model, attacks, test_index, clean, adv, {a: success[i, j] for i, a in enumerate(attacks)},
                      deltas, int(first.x[j].numel()), ZERO_THRESHOLD)
        rows += [dict(model=model, attack=p, note="not installed (make setup installs the peers)")
                 for p in peers if p not in prof.attacks]
    table = pd.DataFrame(rows).assign(dataset=dataset, steps=prof.attack["steps"])
    if out_dir is not None:
        save_figure(fig, out_dir, stem)
    return fig, table

