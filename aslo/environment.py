"""What a run ran on, and whether it is the locked environment.

``environment_facts()`` is the table the book's *Reproduce* chapter prints: Python, OS, the CPU and
the instruction sets that decide which float kernels run (AVX2/FMA, AVX-512, AMX), torch's build,
CPU capability, thread counts and backends (oneDNN, MKL, OpenMP), the device, the versions of the
numerical packages, and ``requirements.lock``'s hash with whether every locked package is
installed at its locked version.

``python -m aslo.environment --check requirements.lock --torch "torch==2.13.0"`` is the check
``make setup`` ends with: every package the lock pins for this platform is installed at exactly that
version, torch is the pinned release (any build of it: ``+cpu``, ``+cu124``), and ``pip check`` finds
no broken dependency beyond the ones the peer packages declare and are installed without
(:data:`PEER_UNINSTALLED`). Without ``--check`` it prints the facts.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: The lock's file name, at the repository root (``make lock`` writes it, ``make setup`` installs it).
LOCK_NAME = "requirements.lock"
#: The repository this package runs from (an editable install or a clone): where the lock, the
#: committed evidence and the benchmark results live.
REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
#: (package, requirement) pairs ``pip check`` reports that are expected: the peer attack packages
#: are installed with ``--no-deps`` because torchvision would pull another torch, visdom is only
#: for adv-lib's plots and torchattacks pins an old requests (aslo.peers.PEERS_INSTALL).
PEER_UNINSTALLED = frozenset({("adv-lib", "torchvision"), ("adv-lib", "visdom"),
                              ("torchattacks", "torchvision"), ("torchattacks", "requests")})
#: CPU instruction-set flags (Linux ``/proc/cpuinfo`` names) that decide which float kernels
#: MKL, oneDNN and torch dispatch to, and so the last bits of float results.
FLOAT_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")
#: Packages whose versions the facts list (torch is listed with its build).
KEY_PACKAGES = ("numpy", "pandas", "scipy", "aeon", "scikit-learn", "matplotlib", "safetensors")


def canonical_name(name: str) -> str:
    """PEP 503 normalised distribution name (``Foo_Bar`` -> ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class LockedPackage:
    """One pinned line of the lock: ``name==version ; marker`` and its sha256 hashes."""

    name: str
    version: str
    marker: str | None
    hashes: tuple[str, ...]

    def applies(self, environment: dict | None = None) -> bool:
        """Whether the line's environment marker holds here (or in ``environment``)."""
        if not self.marker:
            return True
        from packaging.markers import Marker

        return Marker(self.marker).evaluate(environment)


def read_lock(path) -> list[LockedPackage]:
    """Parse a pip requirements lock (``name==version ; marker`` lines continued by ``\\`` and
    ``--hash=sha256:...`` options; comments ignored). Raises ValueError on a line that is not an
    exact pin."""
    text = Path(path).read_text(encoding="utf-8")
    logical, current = [], ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line and not current:
            continue
        continued = line.endswith("\\")
        current += " " + line.rstrip("\\").strip()
        if not continued:
            logical.append(current.strip())
            current = ""
    if current.strip():
        logical.append(current.strip())
    packages = []
    for entry in logical:
        hashes = tuple(re.findall(r"--hash=sha256:([0-9a-f]{64})", entry))
        requirement = re.sub(r"--hash=\S+", "", entry).strip()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;]+)\s*(?:;\s*(.+))?", requirement)
        if not match:
            raise ValueError(f"{path}: not an exact pin: {requirement!r}")
        packages.append(LockedPackage(canonical_name(match.group(1)), match.group(2),
                                      match.group(3).strip() if match.group(3) else None, hashes))
    return packages


def lock_digest(path) -> str:
    """The lock file's sha256 (hex): which lock a run was set up from."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def default_lock_path() -> Path | None:
    """The lock of the source tree this package runs from (an editable install, as ``make setup``
    makes), or None (an installed wheel has no lock: it was installed from pyproject's ranges)."""
    path = REPOSITORY_ROOT / LOCK_NAME
    return path if path.is_file() else None


def git_commit(root=None) -> str:
    """The commit checked out in ``root`` (None: the current folder), or "unknown" without git."""
    command = ["git", "rev-parse", "HEAD"] if root is None else ["git", "-C", str(root), "rev-parse", "HEAD"]
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_record(device: str | None = None) -> dict:
    """The machine a computation runs on: host, platform, CPU model and count, torch threads, the
    CPU capability torch's kernels use, the torch version (and ``device`` when given)."""
    import socket

    import torch

    record = {"host": socket.gethostname(), "platform": platform.platform(), "processor": cpu_model(),
              "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
              "cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__}
    return record if device is None else {**record, "device": str(device)}


def invocation_record(command: str | None, started: float, wall_seconds: float, *, commit: str | None = None,
                      **facts) -> dict:
    """Provenance of one invocation: command (default: this process's argv), commit (pass the one
    read when the invocation started: a long run outlives later commits; default: now), UTC start
    date, machine (:func:`machine_record`), wall time, then ``facts``."""
    import datetime

    return {"command": command or " ".join(sys.argv), "commit": commit or git_commit(REPOSITORY_ROOT),
            "date": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_record(facts.pop("device", None)), "wall_seconds": round(float(wall_seconds), 1),
            **facts}


def installed_versions() -> dict[str, str]:
    """Canonical name -> version of every distribution this Python sees."""
    return {canonical_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()
            if d.metadata["Name"]}


def unlocked_packages(lock, installed: dict[str, str] | None = None) -> list[str]:
    """Installed distributions the lock does not name (besides pip, this package and the torch
    build: torch and what a CUDA build brings), sorted; left from earlier installs, not an error."""
    installed = installed_versions() if installed is None else {canonical_name(k): v for k, v in installed.items()}
    locked = {p.name for p in read_lock(lock)}
    return sorted(name for name in installed if name not in locked and name not in ("pip", "aslo")
                  and not re.match(r"^(torch|triton|nvidia-.*|cuda-.*)$", name))


def lock_differences(lock, installed: dict[str, str] | None = None, environment: dict | None = None) -> list[str]:
    """One line per package the lock pins for this platform that is missing or at another
    version (empty: the environment holds exactly the locked versions)."""
    from packaging.version import Version

    installed = installed_versions() if installed is None else {canonical_name(k): v for k, v in installed.items()}
    problems = []
    for package in read_lock(lock):
        if not package.applies(environment):
            continue
        have = installed.get(package.name)
        if have is None:
            problems.append(f"{package.name}: locked {package.version}, not installed")
        elif Version(have) != Version(package.version):
            problems.append(f"{package.name}: locked {package.version}, installed {have}")
    return problems


def torch_problem(spec: str, version: str | None = None) -> str | None:
    """Why the installed torch does not match ``spec`` (e.g. ``"torch==2.13.0"``; a local build
    label such as ``+cpu`` matches), or None."""
    from packaging.requirements import Requirement

    requirement = Requirement(spec)
    if version is None:
        try:
            version = importlib.metadata.version("torch")
        except importlib.metadata.PackageNotFoundError:
            return f"torch is not installed ({spec} expected)"
    if not requirement.specifier.contains(version, prereleases=True):
        return (f"torch {version} is installed but {spec} is pinned: install that release's build "
                f"(see README) or set TORCH_SPEC")
    return None


def unexpected_pip_check_lines(lines) -> list[str]:
    """``pip check`` output without the lines about :data:`PEER_UNINSTALLED` requirements."""
    unexpected = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("No broken requirements"):
            continue
        match = re.match(r"^(\S+) \S+ (?:requires|has requirement) ([A-Za-z0-9._-]+)", line)
        if match and (canonical_name(match.group(1)), canonical_name(match.group(2))) in PEER_UNINSTALLED:
            continue
        unexpected.append(line)
    return unexpected


def dependency_problems() -> list[str]:
    """Broken dependencies ``pip check`` finds in this Python's environment, less the expected ones."""
    done = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    return unexpected_pip_check_lines((done.stdout + done.stderr).splitlines())


def cpu_model(cpuinfo: str | None = None) -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``sysctl`` on macOS, else platform's)."""
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    if match:
        return match.group(1).strip()
    if sys.platform == "darwin":
        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                  text=True, timeout=5).stdout.strip() or platform.machine()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_flags(cpuinfo: str | None = None) -> set[str] | None:
    """The CPU's instruction-set flags (``/proc/cpuinfo``), or None where they cannot be read."""
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    match = re.search(r"^(?:flags|Features)\s*:\s*(.*)$", text, re.M)
    return set(match.group(1).split()) if match else None


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _float_flags_text(flags: set[str] | None, machine: str | None = None) -> str:
    machine = platform.machine() if machine is None else machine
    if machine.lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return f"none of these: not an x86 CPU ({machine})"
    if flags is None:
        return "unknown (no /proc/cpuinfo)"
    return ", ".join(f"{flag} {'yes' if flag in flags else 'no'}" for flag in FLOAT_FLAGS)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _lock_facts(lock) -> list[tuple[str, str]]:
    if lock is None or not Path(lock).is_file():
        return [("lock", "none: installed from pyproject.toml's ranges, not from requirements.lock")]
    here = [p for p in read_lock(lock) if p.applies()]
    differences = lock_differences(lock)
    if differences:
        shown = "; ".join(differences[:5]) + (f"; and {len(differences) - 5} more" if len(differences) > 5 else "")
        state = f"no: {len(differences)} of {len(here)} locked packages differ ({shown})"
    else:
        state = f"yes: all {len(here)} packages the lock pins for this platform"
    extra = unlocked_packages(lock)
    if extra:
        state += f"; also installed, not in the lock: {', '.join(extra)}"
    return [("lock", f"{Path(lock).name}, sha256 {lock_digest(lock)[:16]}"),
            ("installed versions equal the lock", state)]


def environment_facts(lock="auto") -> "pandas.DataFrame":  # noqa: F821 - pandas imported inside
    """What this process runs on, as a two-column table (``item``, ``value``).

    ``lock``: the lock to compare the installed versions with; ``"auto"`` (default) is the source
    tree's ``requirements.lock`` (:func:`default_lock_path`), None compares with none. Thread
    counts are torch's current ones in this process, so call it where the work ran.
    """
    import pandas as pd
    import torch

    flags = cpu_flags()
    cuda = torch.cuda.is_available()
    device = f"cuda ({torch.cuda.get_device_name(0)}, CUDA {torch.version.cuda})" if cuda else "cpu"
    rows = [
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("OS", platform.platform()),
        ("CPU", f"{cpu_model()}, {os.cpu_count()} logical CPUs"),
        ("CPU instruction sets for float kernels", _float_flags_text(flags)),
        ("torch", torch.__version__ + (f" (CUDA {torch.version.cuda})" if torch.version.cuda else " (CPU build)")),
        ("torch CPU capability", torch.backends.cpu.get_cpu_capability()),
        ("torch threads", f"{torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op"
                          f" (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})"),
        ("oneDNN (mkldnn)", "available" if torch.backends.mkldnn.is_available() else "not available"),
        ("MKL", "available" if torch.backends.mkl.is_available() else "not available"),
        ("OpenMP", "available" if torch.backends.openmp.is_available() else "not available"),
        ("device", device),
    ]
    rows += [(name, _version(name)) for name in KEY_PACKAGES]
    rows.append(("aslo", _version("aslo")))
    rows += _lock_facts(default_lock_path() if lock == "auto" else lock)
    return pd.DataFrame(rows, columns=["item", "value"])


def write_environment_facts(out_dir, lock="auto") -> Path:
    """Write :func:`environment_facts` to ``<out_dir>/environment.csv`` (the reproduce chapter
    includes it)."""
    path = Path(out_dir) / "environment.csv"
    environment_facts(lock).to_csv(path, index=False)
    return path


def check(lock, torch_spec: str | None = None) -> list[str]:
    """Everything ``make setup`` requires of the environment it made (empty list: all holds)."""
    problems = [f"not the locked version: {line}" for line in lock_differences(lock)]
    if torch_spec:
        problem = torch_problem(torch_spec)
        problems += [problem] if problem else []
    problems += [f"pip check: {line}" for line in dependency_problems()]
    return problems


def main(argv=None) -> int:
    """``python -m aslo.environment [--check LOCK] [--torch SPEC]``."""
    parser = argparse.ArgumentParser(prog="python -m aslo.environment", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", metavar="LOCK", help="fail unless the environment is exactly LOCK's")
    parser.add_argument("--torch", metavar="SPEC", help="the torch release that must be installed (torch==X.Y.Z)")
    args = parser.parse_args(argv)
    if not args.check:
        for item, value in environment_facts().itertuples(index=False):
            print(f"{item}: {value}")
        return 0
    problems = check(args.check, args.torch)
    if problems:
        print(f"{args.check}: the environment is not the locked one:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    here = sum(p.applies() for p in read_lock(args.check))
    extra = unlocked_packages(args.check)
    if extra:
        print(f"{args.check}: also installed, not in the lock (left from earlier installs): {', '.join(extra)}",
              file=sys.stderr)
    print(f"{args.check}: all {here} locked packages installed at their locked versions"
          + (f", {args.torch} ({_version('torch')})" if args.torch else "") + ", pip check clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
