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

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from aslo.environment import LOCK_NAME, canonical_name, read_lock

yaml = pytest.importorskip("yaml")
rattler = pytest.importorskip("rattler")

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / LOCK_NAME
# Environments the universal lock serves (PEP 508 marker variables), beside this one.
PLATFORMS = {
    "linux-x86_64-py3.10": {"python_version": "3.10", "python_full_version": "3.10.14", "sys_platform": "linux",
                            "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"},
    "linux-x86_64-py3.11": {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux",
                            "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"},
    "macos-arm64-py3.12": {"python_version": "3.12", "python_full_version": "3.12.4", "sys_platform": "darwin",
                           "platform_system": "Darwin", "platform_machine": "arm64", "os_name": "posix"},
    "linux-aarch64-py3.13": {"python_version": "3.13", "python_full_version": "3.13.1", "sys_platform": "linux",
                             "platform_system": "Linux", "platform_machine": "aarch64", "os_name": "posix"},
    "windows-amd64-py3.13": {"python_version": "3.13", "python_full_version": "3.13.1", "sys_platform": "win32",
                             "platform_system": "Windows", "platform_machine": "AMD64", "os_name": "nt"},
}
for _environment in PLATFORMS.values():
    _environment.update(implementation_name="cpython", platform_python_implementation="CPython",
                        implementation_version=_environment["python_full_version"], extra="")
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


def _makefile_variable(name: str) -> str:
    match = re.search(rf"^{name}\s*[:?]?=\s*(.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert match, f"the Makefile defines no {name}"
    return match.group(1).strip()


def _setup_rule() -> tuple[str, list[str]]:
    """The Makefile rule that makes the venv's install stamp: (its target line, its commands)."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("$(VENV)/.installed:"))
    recipe = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return lines[start], recipe


def _lock():
    return read_lock(LOCK)


def _applying(environment: dict | None) -> dict[str, list]:
    """Name -> the lock's lines whose marker holds in ``environment`` (None: this Python)."""
    out: dict[str, list] = {}
    for package in _lock():
        if package.applies(environment):
            out.setdefault(package.name, []).append(package)
    return out


def _locked_requirements() -> list[str]:
    """What make lock locks from pyproject: the dependencies and the Makefile's LOCK_EXTRAS."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = _makefile_variable("LOCK_EXTRAS").split()
    return list(project["dependencies"]) + [r for extra in extras for r in project["optional-dependencies"][extra]]


def test_setup_never_pulls_an_unpinned_torch():
    assert _makefile_variable("TORCH_SPEC").startswith("torch==")
    rule, recipe = _setup_rule()
    torch_step = next(i for i, c in enumerate(recipe) if "$(TORCH_SPEC)" in c and "pip install" in c)
    lock_step = next(i for i, c in enumerate(recipe) if "-r $(LOCK)" in c)
    package_step = next(i for i, c in enumerate(recipe) if c.endswith("-e ."))
    # torch is installed (or found) first, and nothing after it resolves dependencies: no step can
    # replace the installed build with another (the lock holds no torch)
    assert torch_step < lock_step < package_step
    assert "--require-hashes --no-deps" in recipe[lock_step]
    assert "--no-deps" in recipe[package_step]
    # the set-up ends by checking the result against the lock and the torch pin
    assert any("aslo.environment --check $(LOCK)" in c and '--torch "$(TORCH_SPEC)"' in c
               for c in recipe[package_step:])
    assert recipe[-1] == "@touch $@"
    assert {"pyproject.toml", "$(LOCK)"} <= set(rule.split(":", 1)[1].split())  # a new lock reinstalls
    assert _makefile_variable("LOCK") == LOCK_NAME


def test_no_extra_pulls_torchvision_and_peers_install_is_one_command():
    """The peers would pull torchvision (another torch) and downgrade requests: no extra names them;
    the one safe command lives in aslo.peers.PEERS_INSTALL, and make lock locks exactly those
    packages without their dependencies (make setup installs them from the lock)."""
    from aslo.peers import PEERS_INSTALL

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    named = {_split(r)[0] for extra in project["optional-dependencies"].values() for r in extra}
    assert not named & {"adv-lib", "torchattacks", "torchvision"}, named
    assert PEERS_INSTALL.startswith("pip install --no-deps ")
    packages = PEERS_INSTALL.removeprefix("pip install --no-deps ").split()
    assert _makefile_variable("PEERS").split() == packages
    locked = {(p.name, p.version) for p in _lock()}
    for package in packages:
        name, version = package.split("==")
        assert (canonical_name(name), version) in locked, f"{package} is not in the lock"


def test_the_lock_pins_every_package_exactly_with_hashes():
    packages = _lock()  # raises on any line that is not name==version
    assert len(packages) > 50
    assert all(p.hashes for p in packages), [p.name for p in packages if not p.hashes]
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.!+]*", p.version) for p in packages)
    text = LOCK.read_text()
    assert "make lock" in text[:1000]  # the header says how it is made
    assert not re.search(r"^\s*-(e|-editable|-index-url|-extra-index-url|-find-links)\b", text, re.M)


@pytest.mark.parametrize("platform", [None, *PLATFORMS])
def test_the_lock_gives_one_version_of_each_package_per_platform(platform):
    """Universal: wherever make setup may run, each package has exactly one applicable line."""
    doubled = {name: [p.version for p in lines] for name, lines in _applying(PLATFORMS.get(platform)).items()
               if len(lines) > 1}
    assert not doubled, doubled


@pytest.mark.parametrize("platform", [None, *PLATFORMS])
def test_the_lock_satisfies_pyproject(platform):
    """Every dependency of pyproject.toml and of the extras make setup installs is locked, at a
    version inside pyproject's range (torch, the build of the machine, is pinned by TORCH_SPEC)."""
    environment = PLATFORMS.get(platform)
    applying = _applying(environment)
    problems = []
    for text in _locked_requirements():
        requirement = Requirement(text)
        name = canonical_name(requirement.name)
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        if name == "torch":
            pinned = _makefile_variable("TORCH_SPEC").removeprefix("torch==")
            if not requirement.specifier.contains(pinned):
                problems.append(f"TORCH_SPEC {pinned} is outside pyproject's {text}")
            continue
        if name not in applying:
            problems.append(f"{text}: not in the lock")
            continue
        (package,) = applying[name]
        if not requirement.specifier.contains(package.version, prereleases=True):
            problems.append(f"{text}: the lock has {package.version}")
        if name == "dask" and "distributed" in requirement.extras and "distributed" not in applying:
            problems.append(f"{text}: the extra's distributed package is not in the lock")
    assert not problems, "\n".join(problems)


def test_every_extra_is_locked():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(_makefile_variable("LOCK_EXTRAS").split()) == set(project["optional-dependencies"])


def test_the_lock_holds_no_torch_build_and_no_nvidia_package():
    """torch's build (CPU or CUDA) belongs to the machine: neither it nor what a CUDA build brings
    (nvidia-*, cuda-*, triton) is locked, nor torchvision, which the peers declare."""
    names = {p.name for p in _lock()}
    forbidden = {n for n in names if re.match(r"^(torch|torchvision|torchaudio|triton|visdom|nvidia-.*|cuda-.*)$", n)}
    assert not forbidden, forbidden
    assert "--hash" not in "".join(line for line in LOCK.read_text().splitlines() if "torch==" in line)


def test_the_lock_serves_torch_and_the_peers_imports():
    """torch is installed without its dependencies: the lock holds them, at versions the installed
    torch accepts; and it holds what the peers import (numpy, scipy, tqdm)."""
    import importlib.metadata

    applying = _applying(None)
    assert {"numpy", "scipy", "tqdm"} <= set(applying)
    problems = []
    for text in importlib.metadata.requires("torch") or []:
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonical_name(requirement.name)
        if re.match(r"^(triton|nvidia-.*|cuda-.*)$", name):
            continue  # a CUDA build's own runtime, installed with that build
        if name not in applying:
            problems.append(f"torch needs {text}: not in the lock")
        elif not requirement.specifier.contains(applying[name][0].version, prereleases=True):
            problems.append(f"torch needs {text}: the lock has {applying[name][0].version}")
    assert not problems, problems


def test_environment_yml_ranges_admit_the_locked_versions():
    """environment.yml (conda: ranges) and the lock (pip: exact) describe the same environment:
    every locked version lies inside environment.yml's range for that package."""
    versions: dict[str, set[str]] = {}
    for package in _lock():  # every platform's line
        versions.setdefault(package.name, set()).add(package.version)
    problems = []
    for name, spec in _conda_specs().items():
        if name in ("python", "pip", "pytorch") or not spec:
            continue
        if name not in versions:
            problems.append(f"{name}: in environment.yml, not in the lock")
        for version in sorted(versions.get(name, ())):
            if not SpecifierSet(spec.split("#")[0].strip()).contains(version, prereleases=True):
                problems.append(f"{name}{spec}: the lock has {version}")
    assert not problems, problems


def test_readme_documents_the_lock():
    readme = (ROOT / "README.md").read_text()
    assert "make lock" in readme and LOCK_NAME in readme and "--require-hashes" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lock:", makefile, re.M) and "--generate-hashes" in makefile and "--universal" in makefile


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
