"""The conda environment, pyproject and the set-up commands stay consistent."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

yaml = pytest.importorskip("yaml")
rattler = pytest.importorskip("rattler")

ROOT = Path(__file__).resolve().parents[1]
# pip name -> conda-forge names that provide it
CONDA_NAMES = {"torch": ["pytorch"], "dask": ["dask", "distributed"]}


def _pyproject_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for name, extra in project["optional-dependencies"].items():
        if name != "peers":  # pip-only, installed with --no-deps (see pyproject.toml)
            requirements.extend(extra)
    return requirements


def _split(requirement: str) -> tuple[str, str]:
    requirement = requirement.split(";")[0].strip()
    match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    assert match, requirement
    return match.group(1).lower(), match.group(3).replace(" ", "")


def _conda_specs() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = {}
    for entry in env["dependencies"]:
        if isinstance(entry, dict):  # the pip section: PyPI-only packages, same specs as pyproject
            for pip_entry in entry.get("pip", []):
                if not pip_entry.startswith("-"):
                    name, version = _split(pip_entry.split("#")[0])
                    specs[name] = version
            continue
        spec = rattler.MatchSpec(entry)  # raises on a malformed spec
        specs[spec.name.normalized] = str(entry)[len(spec.name.normalized):].strip()
    return specs


def _lower_bound(spec: str) -> str | None:
    match = re.search(r">=\s*([0-9][0-9.]*)", spec)
    return match.group(1) if match else None


def test_environment_yml_specs_are_valid_matchspecs():
    specs = _conda_specs()
    assert "python" in specs and _lower_bound(specs["python"]) == "3.10"


def test_every_pyproject_dependency_is_in_environment_yml_with_same_lower_bound():
    specs = _conda_specs()
    problems = []
    for requirement in _pyproject_requirements():
        name, version = _split(requirement)
        for conda_name in CONDA_NAMES.get(name, [name]):
            if conda_name not in specs:
                problems.append(f"{requirement}: no '{conda_name}' in environment.yml")
            elif _lower_bound(specs[conda_name]) != _lower_bound(version):
                problems.append(f"{requirement}: environment.yml has '{conda_name}{specs[conda_name]}'")
    assert not problems, "\n".join(problems)


def test_environment_yml_lists_nothing_pyproject_lacks():
    pip_names = {_split(r)[0] for r in _pyproject_requirements()}
    provided = {conda for pip in pip_names for conda in CONDA_NAMES.get(pip, [pip])}
    extra = set(_conda_specs()) - provided - {"python", "pip"}
    assert not extra, f"environment.yml lists packages pyproject.toml lacks: {sorted(extra)}"


def test_python_requirement_matches():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.10"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make reproduce" in readme


def test_setup_never_pulls_an_unpinned_torch():
    makefile = (ROOT / "Makefile").read_text()
    assert 'TORCH_SPEC ?= torch==' in makefile
    # torch is installed (or found) before the package, so pip never resolves a newer CUDA build
    assert makefile.index("TORCH_SPEC)") < makefile.index('pip install --quiet -e')


def test_version_is_written_once():
    import aslo

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert aslo.__version__ == project["version"]  # read from the installed metadata
    sources = [p for p in (ROOT / "aslo").rglob("*.py")] + [ROOT / "CITATION.cff"]
    assert not [p for p in sources if f'"{project["version"]}"' in p.read_text()], "version repeated"


def test_license_and_citation_files():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT"
    paper = cff["references"][0]
    assert "Adaptive Sparse L0" in paper["title"] and paper["identifiers"][0]["value"].startswith("10.48550/arXiv.")
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert all(url.startswith("https://") and "github.com/executablebooks" not in url for url in urls.values())
