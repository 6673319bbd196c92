"""The experiment grid: which attacks each part runs, cells, and the seeded test subset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from aslo.attacks.registry import GRID_ATTACKS, PAPER_PARTS as PARTS
from aslo.experiments.profiles import Profile, as_profile, check_dataset_name, check_model_name

# Part 1: the CW loss with each regulariser (values: Table 1's column labels); Part 2: the
# baselines and their AS variants. Shared cells (CW, CW_L2, AS_CW) run once.
PART1_ATTACKS, PART2_ATTACKS = PARTS[1], PARTS[2]


@dataclass(frozen=True, order=True)
class Cell:
    """One unit of work: one attack on one trained model of one dataset, with one seed."""

    profile: str
    dataset: str
    model: str
    attack: str
    seed: int

    @property
    def parts(self) -> tuple[int, ...]:
        """The parts (1, 2) whose tables use this cell."""
        return tuple(p for p, attacks in PARTS.items() if self.attack in attacks)

    def label(self) -> str:
        """Short human-readable name for logs (the cell's folder in its store, relative to the root)."""
        return f"{self.dataset}/{self.model}/{self.attack}/seed{self.seed}"


def attacks_for_part(part: int | None) -> tuple[str, ...]:
    """Attacks of one part (1 or 2), or of both (None), de-duplicated, in grid order."""
    if part is None:
        return GRID_ATTACKS
    if part not in PARTS:
        raise ValueError(f"part must be 1, 2 or None, got {part!r}")
    return tuple(a for a in GRID_ATTACKS if a in PARTS[part])


def _restrict(kind: str, requested: Iterable[str] | None, allowed: Sequence[str], check) -> tuple[str, ...]:
    if requested is None:
        return tuple(allowed)
    if isinstance(requested, str):
        requested = [requested]
    names = []
    for name in requested:
        names.append(check(name))
    if not names:
        raise ValueError(f"{kind}: empty selection")
    return tuple(dict.fromkeys(names))


def grid_cells(
    profile: "Profile | str",
    part: int | None = None,
    datasets: Iterable[str] | None = None,
    models: Iterable[str] | None = None,
) -> list[Cell]:
    """All cells of a profile (optionally one part, some datasets/models), each listed once.

    Order: dataset, model, attack, seed, so that a serial runner trains each model once and
    then runs all its attacks.
    """
    prof = as_profile(profile)
    in_part = attacks_for_part(part)
    attacks = tuple(a for a in prof.attacks if part is None or a in in_part)
    ds = _restrict("datasets", datasets, prof.datasets, check_dataset_name)
    ms = _restrict("models", models, prof.models, check_model_name)
    return [
        Cell(prof.name, d, m, a, s) for d in ds for m in ms for a in attacks for s in prof.seeds
    ]


def select_samples(n_test: int, samples: int | None, seed: int) -> np.ndarray:
    """Sorted indices of a seeded random subset of ``samples`` test series (all if 0/None).

    Depends only on (n_test, samples, seed), so every model and attack of a dataset sees the
    same series.
    """
    if not isinstance(n_test, (int, np.integer)) or n_test <= 0:
        raise ValueError(f"n_test must be a positive integer, got {n_test!r}")
    if samples is None or samples == 0 or samples >= n_test:
        return np.arange(n_test, dtype=np.int64)
    if samples < 0:
        raise ValueError(f"samples must be >= 0, got {samples}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_test, size=int(samples), replace=False)).astype(np.int64)


def correct_subset(predictions: np.ndarray, labels: np.ndarray, samples: int | None, seed: int) -> np.ndarray:
    """Sorted test positions of a seeded subset of ``samples`` correctly classified series (all of
    them if 0/None): the L0 literature attacks only series the model gets right.

    ValueError when the model classifies no series correctly.
    """
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape != labels.shape:
        raise ValueError(f"predictions {predictions.shape} and labels {labels.shape} differ in shape")
    correct = np.flatnonzero(predictions == labels)
    if len(correct) == 0:
        raise ValueError("the model classifies no test series correctly: nothing to attack")
    return correct[select_samples(len(correct), samples, seed)]
