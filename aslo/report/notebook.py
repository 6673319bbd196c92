"""What every book notebook does first, in one call: resolve the profile, quiet the page, find
the output folder. The stored results are read (never computed) with
:func:`aslo.report.stored.read_results`.

The heavy work (training, the attack grid) runs before the notebooks, with progress bars on the
terminal (``aslo book``); a notebook page shows results, not logs.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NotebookContext:
    """A notebook's resolved profile, its output folder and the stores it reads."""

    profile: object  # aslo.experiments.Profile
    out: Path
    results_dir: Path
    runs_dir: Path

    def budget(self) -> str:
        """One sentence naming the budget behind every number of the page (generated from the profile)."""
        from aslo.report.uncertainty import budget_sentence

        return budget_sentence(self.profile)


def quiet_page() -> None:
    """No progress bars or known-harmless warnings in the rendered page."""
    os.environ["TQDM_DISABLE"] = "1"  # honoured by tqdm >= 4.66, also in code that builds its own bars
    warnings.filterwarnings("ignore", message="IProgress not found")


def setup_notebook(profile, *, datasets=None, models=None, seeds=None, results_dir="results",
                   runs_dir="runs", output_dir=None) -> NotebookContext:
    """Resolve the notebook's profile (with its list overrides), make the output folder, quiet the page."""
    from aslo.report.models import resolve_profile

    quiet_page()
    prof = resolve_profile(profile, datasets, models, seeds)
    results = Path(results_dir).resolve()
    out = Path(output_dir).resolve() if output_dir else results / prof.name / "report"
    out.mkdir(parents=True, exist_ok=True)
    return NotebookContext(prof, out, results, Path(runs_dir).resolve())
