"""Shared test set-up."""

import shutil
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
# Files a user or a tool leaves in a checkout; the book must build as if they were not there.
STRAY_FILES = (".pytest_cache/README.md", "notes.md", "notebooks/results/stray.md", "book/notes.md")


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """One intra-op thread: the tests use tiny tensors on a small, often shared CPU, where
    OpenMP's wake-up and oversubscription costs dominate (seen here: 5-20x slower with two)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory):
    """The book built once from the shared smoke grid (lstmfcn), in a copy of the sources that
    also holds stray Markdown files; returns (root, html folder)."""
    from aslo.report.book import make_book
    from helpers.grids import smoke_grid

    grid = smoke_grid()
    root = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "book", root / "book", ignore=shutil.ignore_patterns("executed"))
    shutil.copytree(REPO / "_static", root / "_static")
    shutil.copytree(REPO / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for stray in STRAY_FILES:
        (root / stray).parent.mkdir(parents=True, exist_ok=True)
        (root / stray).write_text("# A stray page\n\nNot in the table of contents.\n")
    html = make_book("smoke", root=root, results_dir=grid.results, runs_dir=grid.runs,
                     parameters={"models": ["lstmfcn"]}, progress=False)
    return root, html
