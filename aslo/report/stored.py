"""The one reader of a profile's stored results for the report layer (``aslo report`` and the book).

:func:`read_results` reads, never computes: the summaries of the finished cells of a profile's
grid (or one Part) through :func:`aslo.experiments.runner.load_results`, optionally the
per-series records behind them, and which cells of the grid are missing.

**Partial grid.** One rule everywhere: the reader returns what is finished and names what is
not. :attr:`StoredResults.missing` lists the grid cells that are not stored with the profile's
current configuration (never run, interrupted, or stale), and :meth:`StoredResults.coverage_note`
says it in a sentence that every page and ``aslo report`` print above the numbers. Only an
empty store for the profile is refused (:class:`MissingResultsError`, naming the command).
Every comparison pairs the same series of the datasets both of its attacks hold, so a missing
cell leaves its datasets out of the comparisons it belongs to, which the note makes visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

#: The per-series columns every record frame holds (one seed, one reading).
RECORD_COLUMNS = ("dataset", "model", "attack", "test_index", "success", "l2", "close_to_zero")
MISSING_COLUMNS = ("dataset", "model", "attack", "seed")
#: Cells named one by one in :meth:`StoredResults.coverage_note` before it counts the rest.
NAMED_MISSING = 12


class MissingResultsError(FileNotFoundError):
    """The result store holds no cell of the profile; the message gives the command that computes them."""


@dataclass(frozen=True)
class StoredResults:
    """What the result store holds for a profile's grid (or one Part): finished cells and missing ones.

    ``summaries``: one row per finished cell (``load_results``); ``records``: the per-series
    records (:data:`RECORD_COLUMNS`) of the finished cells of one seed (empty unless read);
    ``missing``: the grid cells not stored with the current configuration (:data:`MISSING_COLUMNS`);
    ``expected``: the number of cells of the grid read.
    """

    profile: object  # aslo.experiments.Profile
    results_dir: Path
    part: int | None
    summaries: pd.DataFrame
    missing: pd.DataFrame
    expected: int
    records: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(RECORD_COLUMNS)))

    @property
    def complete(self) -> bool:
        """Whether every cell of the grid is stored."""
        return self.missing.empty

    def command(self) -> str:
        """The command that computes the missing cells."""
        return f"aslo run --profile {self.profile.name} --results-dir {self.results_dir}"

    def coverage_note(self) -> str:
        """One sentence for the page: every cell stored, or which cells are missing and the command."""
        scope = f"profile {self.profile.name!r}" + ("" if self.part is None else f" (Part {self.part})")
        if self.complete:
            return f"All {self.expected} cells of {scope} are stored."
        rows = self.missing.head(NAMED_MISSING).itertuples()
        named = "; ".join(f"{r.dataset} x {r.model} x {r.attack} (seed {r.seed})" for r in rows)
        more = len(self.missing) - NAMED_MISSING
        return (f"Partial grid: {len(self.missing)} of {self.expected} cells of {scope} are not stored with its "
                f"current configuration, so the numbers below leave them out: {named}"
                + (f" and {more} more" if more > 0 else "") + f". `{self.command()}` computes them.")


def read_results(profile, results_dir="results", *, part: int | None = None, records: bool = False,
                 backend=None) -> StoredResults:
    """Read (never compute) a profile's stored grid, or one Part of it; see the module docstring.

    ``records`` also reads the per-series records of the finished cells of the profile's first
    seed (for the bootstrap of :mod:`aslo.report.uncertainty`). ``backend`` substitutes the
    layers whose configs enter the cells' hashes (tests). Raises :class:`MissingResultsError`
    when no cell of the grid is stored.
    """
    from aslo.experiments.backend import Backend
    from aslo.experiments.grid import grid_cells
    from aslo.experiments.profiles import as_profile
    from aslo.experiments.runner import ConfigHasher, load_results, store_for

    prof = as_profile(profile)
    backend = backend or Backend()
    root = Path(results_dir)
    cells = grid_cells(prof, part=part)
    summaries = load_results(prof, results_dir=root, part=part, backend=backend)
    scope = "" if part is None else f" (Part {part})"
    if len(summaries) == 0:
        raise MissingResultsError(
            f"no stored results for profile {prof.name!r}{scope} under {root}: run "
            f"`aslo run --profile {prof.name} --results-dir {root}` (or `aslo book`) first")
    done = set(zip(summaries["dataset"], summaries["model"], summaries["attack"], summaries["seed"].astype(int)))
    missing = pd.DataFrame([dict(dataset=c.dataset, model=c.model, attack=c.attack, seed=c.seed) for c in cells
                            if (c.dataset, c.model, c.attack, c.seed) not in done], columns=list(MISSING_COLUMNS))
    result = StoredResults(prof, root, part, summaries, missing, len(cells))
    if not records:
        return result
    store = store_for(prof, root)
    hasher = ConfigHasher(prof, backend)
    seed = prof.seeds[0]
    parts = [store.read(c, hasher.hash(c)).records.assign(dataset=c.dataset, model=c.model, attack=c.attack)
             for c in cells if c.seed == seed and (c.dataset, c.model, c.attack, c.seed) in done]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(RECORD_COLUMNS))
    return StoredResults(prof, root, part, summaries, missing, len(cells), frame)
