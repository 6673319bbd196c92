"""Build the book in phases: train the models and run the grid (progress on the terminal), then
execute the notebooks with papermill (they only read stored results), then build the Jupyter Book
(1.x) offline.

Layout (relative to the book root, the repository root by default): source notebooks in
``notebooks/``, executed copies in ``book/executed/``, the files they write (Table 1, Figure 1,
CSVs the chapters include) in ``book/executed/outputs/``, the HTML in ``<build-dir>/_build/html``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

NOTEBOOKS = ("01_method", "02_models", "03_part1_table1", "04_part2_figure1", "05_paper_vs_ours",
             "07_where_claims_hold", "08_archive", "06_beyond", "09_benchmark")
# The kernel papermill starts: this Python, whatever "python3" kernel the user has registered.
KERNEL = "aslo-current-python"
# Cell tags that decide what a reader sees (Jupyter Book): the code stays one click away.
VISIBILITY_TAGS = ("hide-input", "hide-cell", "hide-output", "remove-input", "remove-cell", "remove-output")


class BookError(RuntimeError):
    """The book could not be executed or built (the message says which step and file)."""


def book_paths(root=".") -> dict[str, Path]:
    """The folders the book uses under ``root`` (absolute paths)."""
    root = Path(root).resolve()
    return {
        "root": root,
        "notebooks": root / "notebooks",
        "executed": root / "book" / "executed",
        "outputs": root / "book" / "executed" / "outputs",
    }


def notebook_parameters(profile: str, *, results_dir, runs_dir, output_dir) -> dict:
    """Papermill parameters shared by every notebook (absolute paths: the kernel's cwd differs)."""
    return {
        "profile": str(profile),
        "results_dir": str(Path(results_dir).resolve()),
        "runs_dir": str(Path(runs_dir).resolve()),
        "output_dir": str(Path(output_dir).resolve()),
    }


@contextlib.contextmanager
def current_python_kernel():
    """Register, for the duration, a kernel named :data:`KERNEL` that runs this interpreter.

    A user's own ``python3`` kernel (another environment, another Python) would otherwise run the
    notebooks; ``JUPYTER_PATH`` is searched before the user's kernel folders.
    """
    with tempfile.TemporaryDirectory(prefix="aslo-kernel-") as folder:
        spec = Path(folder) / "kernels" / KERNEL
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"Python ({sys.executable})", "language": "python"}))
        previous = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (folder, previous) if p)
        try:
            yield KERNEL
        finally:
            if previous is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = previous


def prepare_for_reader(path: Path) -> None:
    """Tag an executed notebook's cells for the page: parameters collapsed, papermill's injected
    parameters removed, other code hidden behind a click; stderr (progress, warnings) dropped."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags:
            tags.append("remove-cell")
        elif "parameters" in tags and not set(tags) & set(VISIBILITY_TAGS):
            tags.append("hide-cell")
        elif not set(tags) & set(VISIBILITY_TAGS):
            tags.append("hide-input")
        cell["outputs"] = [o for o in cell.get("outputs", [])
                           if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def execute_notebooks(profile: str, *, root=".", results_dir=None, runs_dir=None, names=NOTEBOOKS,
                      parameters: dict | None = None, progress: bool = True) -> list[Path]:
    """Run each notebook with papermill (in this Python) into ``book/executed/``; return the paths.

    ``parameters`` adds notebook parameters (e.g. ``{"models": ["lstmfcn"]}``) to the profile's.
    """
    import papermill

    from aslo.experiments import default_results_dir, default_runs_dir

    paths = book_paths(root)
    sources = [paths["notebooks"] / f"{name}.ipynb" for name in names]
    missing = [str(s) for s in sources if not s.is_file()]
    if missing:
        raise FileNotFoundError(f"notebook(s) not found: {missing}")
    params = notebook_parameters(
        profile,
        results_dir=results_dir or default_results_dir(),
        runs_dir=runs_dir or default_runs_dir(),
        output_dir=paths["outputs"],
    )
    params.update(parameters or {})
    paths["outputs"].mkdir(parents=True, exist_ok=True)
    executed = []
    with current_python_kernel() as kernel:
        for i, source in enumerate(sources, 1):
            target = paths["executed"] / source.name
            if progress:
                print(f"  notebook {i}/{len(sources)}: {source.name}", file=sys.stderr, flush=True)
            papermill.execute_notebook(str(source), str(target), parameters=params, kernel_name=kernel,
                                       cwd=str(paths["notebooks"]), progress_bar=progress)
            prepare_for_reader(target)
            executed.append(target)
    return executed


def notebook_problems(path: Path) -> list[str]:
    """Why an executed notebook is not fit for the book (empty list if it is)."""
    if not path.is_file():
        return [f"{path.name}: not executed (missing)"]
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    problems = []
    if not any(c.get("outputs") for c in code):
        problems.append(f"{path.name}: no cell has outputs (never executed?)")
    if any(o.get("output_type") == "error" for c in code for o in c.get("outputs", [])):
        problems.append(f"{path.name}: a cell raised an error")
    if nb.get("metadata", {}).get("papermill", {}).get("exception"):
        problems.append(f"{path.name}: papermill recorded an exception")
    return problems


def check_executed(root=".", names=NOTEBOOKS) -> None:
    """Raise BookError if any executed notebook is missing, lacks outputs or holds an error, or
    the first page's answer (written after them) is missing."""
    executed = book_paths(root)["executed"]
    problems = [p for name in names for p in notebook_problems(executed / f"{name}.ipynb")]
    from aslo.report.answer import ANSWER_FILE

    if not (executed / ANSWER_FILE).is_file():
        problems.append(f"{ANSWER_FILE}: the first page's answer was not written")
    if problems:
        raise BookError("executed notebooks not ready: " + "; ".join(problems)
                        + " (run `aslo book --profile P` without --no-execute)")


def build_html(root=".", build_dir=None) -> Path:
    """Build the book with ``jupyter-book build ROOT --all -W -n --keep-going``; return the HTML folder."""
    paths = book_paths(root)
    for required in ("_config.yml", "_toc.yml", "references.bib"):
        if not (paths["root"] / required).is_file():
            raise FileNotFoundError(f"{required} not found in the book root {paths['root']}")
    program = shutil.which("jupyter-book") or str(Path(sys.executable).with_name("jupyter-book"))
    if not Path(program).exists():
        raise BookError("jupyter-book is not installed: pip install 'jupyter-book<2'")
    out = Path(build_dir).resolve() if build_dir else paths["root"]
    # --all: an incremental build skips writing when no page changed, and with it the copy of
    # _static (an edited stylesheet would never reach the pages)
    cmd = [program, "build", str(paths["root"]), "--path-output", str(out), "--all", "-W", "-n", "--keep-going"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-40:])
        raise BookError(f"jupyter-book build failed (exit {done.returncode}; warnings are errors):\n{tail}")
    return out / "_build" / "html"


#: Stored cells of the committed fidelity map that every full build recomputes (seeded choice).
RECHECK_CELLS = 3


def recheck_map_cells(out_dir: Path, *, progress: bool = True, n: int = RECHECK_CELLS, seed: int = 0) -> Path:
    """Recompute a seeded choice of committed map cells from the committed weights
    (``evidence/models``) and write the series-by-series agreement to ``<out_dir>/map_recheck.csv``.

    Nothing is trained: the check asks whether the attack code still computes the stored cells
    from the same weights, on whatever machine runs it (within the stated tolerance,
    :data:`aslo.experiments.recheck.RECHECK_TOLERANCE`), each with the torch thread count it records."""
    from aslo.experiments import fidelity_map

    path = Path(out_dir) / "map_recheck.csv"
    path.unlink(missing_ok=True)
    from aslo.environment import REPOSITORY_ROOT as repo

    table = fidelity_map.recheck_stored_cells(n, seed, evidence_dir=repo / fidelity_map.DEFAULT_EVIDENCE_DIR,
                                              models_dir=repo / fidelity_map.DEFAULT_MODELS_DIR, progress=progress)
    table.to_csv(path, index=False)
    coverage = fidelity_map.evidence_coverage(repo / fidelity_map.DEFAULT_EVIDENCE_DIR,
                                              repo / fidelity_map.DEFAULT_MODELS_DIR)
    coverage.to_csv(Path(out_dir) / "map_coverage.csv", index=False)
    if progress:
        print(f"  {fidelity_map.recheck_sentence(table)}", file=sys.stderr, flush=True)
        print(f"  {fidelity_map.coverage_sentence(coverage)}", file=sys.stderr, flush=True)
    return path


#: The committed archive store (``aslo run --profile archive --results-dir evidence``).
ARCHIVE_EVIDENCE = Path("evidence")


def recheck_archive_cells(out_dir: Path, *, progress: bool = True, n: int = RECHECK_CELLS, seed: int = 0) -> Path:
    """Recompute a seeded choice of committed archive cells from the committed weights
    (``evidence/models``: the archive reused them where they fit) and write the agreement to
    ``<out_dir>/archive_recheck.csv``; an empty file when no committed archive cell came from
    shipped weights yet. Nothing is trained or written elsewhere."""
    from aslo.environment import REPOSITORY_ROOT as repo
    from aslo.experiments import fidelity_map
    from aslo.experiments.recheck import recheck_grid_cells

    path = Path(out_dir) / "archive_recheck.csv"
    path.unlink(missing_ok=True)
    try:
        table = recheck_grid_cells("archive", repo / ARCHIVE_EVIDENCE, repo / fidelity_map.DEFAULT_MODELS_DIR,
                                   n=n, seed=seed, progress=progress)
    except ValueError as exc:  # too few cells from shipped weights (yet)
        if progress:
            print(f"  archive recheck skipped: {exc}", file=sys.stderr, flush=True)
        table = pd.DataFrame()
    table.to_csv(path, index=False)
    if progress and not table.empty:
        print(f"  archive: {int(table['agree'].sum())} of {len(table)} recomputed cells agree with the stored ones "
              f"({int(table['identical'].sum())} identical)", file=sys.stderr, flush=True)
    return path


def _phase(number: int, total: int, text: str, progress: bool) -> None:
    if progress:
        print(f"[{number}/{total}] {text}", file=sys.stderr, flush=True)


def make_book(profile: str, *, root=".", execute: bool = True, results_dir=None, runs_dir=None,
              build_dir=None, parameters: dict | None = None, progress: bool = True) -> Path:
    """Train, run the grid, execute the notebooks (all skipped when ``execute`` is False), check
    them, build the HTML; return its folder. Each phase prints one line and shows its progress."""
    from aslo.environment import write_environment_facts
    from aslo.experiments import default_results_dir, default_runs_dir, run_grid
    from aslo.report.answer import write_answer
    from aslo.report.beyond import beyond_profile
    from aslo.report.conclusions import recheck_conclusions, write_verdict_survival
    from aslo.report.facts import write_portability_facts, write_profile_facts
    from aslo.report.models import resolve_profile, train_profile_models
    from aslo.writable import require_writable_dir

    params = dict(parameters or {})
    prof = resolve_profile(profile, params.get("datasets"), params.get("models"), params.get("seeds"))
    paths = book_paths(root)
    require_writable_dir(paths["executed"], "executed-notebook folder")
    require_writable_dir(Path(build_dir).resolve() if build_dir else paths["root"], "book build folder")
    results_dir = Path(results_dir or default_results_dir()).resolve()
    runs_dir = Path(runs_dir or default_runs_dir()).resolve()
    if execute:
        total = 5
        _phase(1, total, f"training {len(prof.datasets) * len(prof.models)} models of profile {prof.name} "
                         f"(checkpoints in {runs_dir}; matching ones are reused)", progress)
        train_profile_models(prof, runs_dir=runs_dir, progress=progress)
        _phase(2, total, f"running the attack grid and the comparison with the peers (chapter 'beyond') into "
                         f"{results_dir} (finished cells are skipped)", progress)
        run_grid(prof, results_dir=results_dir, runs_dir=runs_dir, progress=progress)
        run_grid(beyond_profile(prof), results_dir=results_dir, runs_dir=runs_dir, progress=progress)
        paths["outputs"].mkdir(parents=True, exist_ok=True)
        _phase(3, total, f"rechecking the committed evidence: {RECHECK_CELLS} seeded map cells and {RECHECK_CELLS} "
                         "archive cells recomputed from the committed weights; this run's conclusions against the "
                         "stored ones", progress)
        recheck_map_cells(paths["outputs"], progress=progress)
        recheck_archive_cells(paths["outputs"], progress=progress)
        recheck_conclusions(prof, results_dir, paths["outputs"], progress=progress)
        _phase(4, total, f"executing {len(NOTEBOOKS)} notebooks into {paths['executed']}", progress)
        write_profile_facts(paths["outputs"])
        write_portability_facts(paths["outputs"])
        write_verdict_survival("default", paths["outputs"])  # the committed runs, whatever the profile
        # What the grid ran on (this process: its torch threads, device, the lock's versions).
        write_environment_facts(paths["outputs"])
        execute_notebooks(profile, root=root, results_dir=results_dir, runs_dir=runs_dir,
                          parameters=params, progress=progress)
        write_answer(paths["outputs"], paths["executed"], prof)  # the first page, from the chapters' verdicts
        _phase(5, total, "building the book (warnings are errors)", progress)
    check_executed(root)
    return build_html(root, build_dir)
