"""Execute the notebooks with papermill and build the Jupyter Book (1.x) offline.

Layout (relative to the book root, the repository root by default): source notebooks in
``notebooks/``, executed copies in ``book/executed/``, the files they write (Table 1, Figure 1,
CSVs the chapters include) in ``book/executed/outputs/``, the HTML in ``<build-dir>/_build/html``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

NOTEBOOKS = ("01_method", "02_models", "03_part1_table1", "04_part2_figure1", "05_paper_vs_ours", "06_beyond")
KERNEL = "python3"


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


def execute_notebooks(profile: str, *, root=".", results_dir=None, runs_dir=None, names=NOTEBOOKS,
                      parameters: dict | None = None, progress: bool = True) -> list[Path]:
    """Run each notebook with papermill (kernel python3) into ``book/executed/``; return the paths.

    ``parameters`` adds notebook parameters (e.g. ``{"models": ["lstmfcn"]}``) to the profile's.
    """
    import papermill

    paths = book_paths(root)
    sources = [paths["notebooks"] / f"{name}.ipynb" for name in names]
    missing = [str(s) for s in sources if not s.is_file()]
    if missing:
        raise FileNotFoundError(f"notebook(s) not found: {missing}")
    params = notebook_parameters(
        profile,
        results_dir=results_dir or paths["root"] / "results",
        runs_dir=runs_dir or paths["root"] / "runs",
        output_dir=paths["outputs"],
    )
    params.update(parameters or {})
    paths["outputs"].mkdir(parents=True, exist_ok=True)
    executed = []
    for i, source in enumerate(sources, 1):
        target = paths["executed"] / source.name
        print(f"[{i}/{len(sources)}] executing {source.name} (profile {profile})", file=sys.stderr, flush=True)
        papermill.execute_notebook(str(source), str(target), parameters=params, kernel_name=KERNEL,
                                   cwd=str(paths["notebooks"]), progress_bar=progress)
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
    """Raise BookError if any executed notebook is missing, lacks outputs or holds an error."""
    executed = book_paths(root)["executed"]
    problems = [p for name in names for p in notebook_problems(executed / f"{name}.ipynb")]
    if problems:
        raise BookError("executed notebooks not ready: " + "; ".join(problems)
                        + " (run `aslo book --profile P` without --no-execute)")


def build_html(root=".", build_dir=None) -> Path:
    """Build the book with ``jupyter-book build ROOT -W -n --keep-going``; return the HTML folder."""
    paths = book_paths(root)
    for required in ("_config.yml", "_toc.yml", "references.bib"):
        if not (paths["root"] / required).is_file():
            raise FileNotFoundError(f"{required} not found in the book root {paths['root']}")
    program = shutil.which("jupyter-book") or str(Path(sys.executable).with_name("jupyter-book"))
    if not Path(program).exists():
        raise BookError("jupyter-book is not installed: pip install 'jupyter-book<2'")
    out = Path(build_dir).resolve() if build_dir else paths["root"]
    cmd = [program, "build", str(paths["root"]), "--path-output", str(out), "-W", "-n", "--keep-going"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-40:])
        raise BookError(f"jupyter-book build failed (exit {done.returncode}; warnings are errors):\n{tail}")
    return out / "_build" / "html"


def make_book(profile: str, *, root=".", execute: bool = True, results_dir=None, runs_dir=None,
              build_dir=None, parameters: dict | None = None, progress: bool = True) -> Path:
    """Execute the notebooks (unless ``execute`` is False), check them, build the HTML; return its folder."""
    from aslo.experiments import load_profile

    load_profile(profile)  # fail on an unknown profile before any work
    from aslo.writable import require_writable_dir

    require_writable_dir(book_paths(root)["executed"], "executed-notebook folder")
    require_writable_dir(Path(build_dir).resolve() if build_dir else book_paths(root)["root"], "book build folder")
    if execute:
        execute_notebooks(profile, root=root, results_dir=results_dir, runs_dir=runs_dir,
                          parameters=parameters, progress=progress)
    check_executed(root)
    return build_html(root, build_dir)
