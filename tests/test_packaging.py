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
    for extra in project["optional-dependencies"].values():
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


def test_no_extra_pulls_torchvision_and_peers_install_is_one_command():
    """The peers would pull torchvision (another torch) and downgrade requests: no extra names them;
    the one safe command lives in aslo.peers.PEERS_INSTALL and make setup runs exactly that."""
    from aslo.peers import PEERS_INSTALL

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    named = {_split(r)[0] for extra in project["optional-dependencies"].values() for r in extra}
    assert not named & {"adv-lib", "torchattacks", "torchvision"}, named
    assert PEERS_INSTALL.startswith("pip install --no-deps ")
    packages = PEERS_INSTALL.removeprefix("pip install --no-deps ").split()
    makefile = (ROOT / "Makefile").read_text()
    setup_line = next(line for line in makefile.splitlines() if "--no-deps" in line)
    assert [p.strip('"') for p in setup_line.split("--no-deps", 1)[1].split()] == packages


def test_torch_floor_supports_numpy_2():
    """aeon needs numpy >= 2; torch 2.3 is the first release built against numpy 2's ABI."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (torch_req,) = [r for r in project["dependencies"] if _split(r)[0] == "torch"]
    assert _lower_bound(_split(torch_req)[1]) == "2.3"


def test_prose_counts_of_notebooks_match_the_book():
    """Counts the prose states ("five notebooks") drift; they must equal the book's notebooks."""
    from aslo.report.book import NOTEBOOKS

    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
             "nine": 9, "ten": 10}
    texts = [ROOT / "README.md", *sorted((ROOT / "book").glob("*.md"))]
    for path in texts:
        for match in re.finditer(r"\b(\w+) (?:\w+ )?notebooks?\b", path.read_text()):
            count = words.get(match.group(1).lower(), int(match.group(1)) if match.group(1).isdigit() else None)
            assert count in (None, len(NOTEBOOKS)), f"{path.name}: '{match.group(0)}' but the book has {len(NOTEBOOKS)}"


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
