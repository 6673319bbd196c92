"""Figures of the method notebook: the L0 surrogate, an attack trace, a perturbed series."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def surrogate(delta, sigma):
    """Per-coordinate ASL0 surrogate delta^2 / (delta^2 + sigma^2) (the paper's l0_hat summand)."""
    delta = np.asarray(delta, dtype=float)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be a positive finite number, got {sigma!r}")
    return delta**2 / (delta**2 + sigma**2)


def plot_surrogate(sigmas=(0.01, 0.1, 1.0), limit: float = 2.0) -> Figure:
    """Plot the surrogate against delta for several sigma, beside |delta| > 0 (the true L0)."""
    if not sigmas:
        raise ValueError("give at least one sigma")
    delta = np.linspace(-limit, limit, 801)
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.subplots()
    for sigma in sigmas:
        ax.plot(delta, surrogate(delta, sigma), label=f"sigma = {sigma:g}")
    ax.step(delta, (delta != 0).astype(float), where="mid", color="black", linestyle=":", label="true L0 (|delta| > 0)")
    ax.set_xlabel("perturbation of one coordinate, delta")
    ax.set_ylabel("l0_hat contribution")
    ax.legend(fontsize="small")
    return fig


def _per_step(trace: pd.DataFrame) -> pd.DataFrame:
    step = next((c for c in ("step", "iteration", "t") if c in trace.columns), None)
    if step is None:
        return trace.reset_index(drop=True).rename_axis("step")
    return trace.groupby(step).mean(numeric_only=True)  # mean over samples/batches of a step


def plot_trace(trace: pd.DataFrame, columns=None) -> Figure:
    """Plot the sigma schedule and the objective of one traced attack run, one panel each.

    ``trace`` is ``AttackResult.trace``; by default every column whose name contains "sigma",
    "loss" or "objective" is drawn (per-sample rows are averaged per step).
    """
    if trace is None or len(trace) == 0:
        raise ValueError("empty trace: run the attack with trace=True")
    per_step = _per_step(trace)
    if columns is None:
        columns = [c for c in per_step.columns if any(k in c.lower() for k in ("sigma", "loss", "objective"))]
    missing = [c for c in columns if c not in per_step.columns]
    if not columns or missing:
        raise ValueError(f"trace has no column to plot (asked {columns}); columns: {list(trace.columns)}")
    fig = Figure(figsize=(6.4, 2.2 * len(columns)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(columns), 1, sharex=True))
    for ax, column in zip(axes, columns):
        ax.plot(per_step.index, per_step[column])
        ax.set_ylabel(column)
        if "sigma" in column.lower() and (per_step[column] > 0).all():
            ax.set_yscale("log")
    axes[-1].set_xlabel("attack step")
    return fig


def plot_perturbed_series(x, x_adv, *, title: str = "") -> Figure:
    """Draw one perturbed series over the original, with the perturbation below (arrays or tensors)."""
    x, x_adv = (np.asarray(v.detach().cpu() if hasattr(v, "detach") else v, dtype=float).reshape(-1) for v in (x, x_adv))
    if x.shape != x_adv.shape:
        raise ValueError(f"series lengths differ: {x.shape} vs {x_adv.shape}")
    fig = Figure(figsize=(7.0, 4.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    top.plot(x, label="original", color="black", linewidth=1.2)
    top.plot(x_adv, label="adversarial", color="C3", linewidth=0.9, alpha=0.85)
    top.set_ylabel("value (z-normalised)")
    top.legend(fontsize="small")
    top.set_title(title)
    bottom.stem(np.arange(x.size), x_adv - x, markerfmt=" ", basefmt="k-")
    bottom.set_ylabel("delta")
    bottom.set_xlabel("time step")
    return fig


def attack_defaults(attacks) -> pd.DataFrame:
    """The default configuration of each attack as a table (attack, parameter, default)."""
    from aslo.attacks import get_attack_config

    rows = []
    for attack in attacks:
        config = get_attack_config(attack)
        for field in dataclasses.fields(config):
            rows.append(dict(attack=attack, parameter=field.name, default=repr(getattr(config, field.name))))
    return pd.DataFrame(rows)
