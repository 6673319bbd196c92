"""The chain of places a dataset can come from, tried in order by :func:`aslo.data.load_ucr`.

1. :class:`ArchiveSource`: a local copy of the UCR 2018 archive in its own layout,
   ``<root>/<Name>/<Name>_TRAIN.tsv`` and ``_TEST.tsv``. Serves any valid name, so users can
   add their own data in the archive layout.
2. :class:`AeonBundledSource`: the UCR sets that ship inside aeon's wheel (GunPoint, ArrowHead,
   ItalyPowerDemand, OSULeaf, ACSF1, PickupGestureWiimoteZ); read straight from aeon's package
   folder, never through aeon's downloader, so no network call can happen.
3. :class:`AeonDownloadSource`: aeon's per-dataset download from Zenodo into
   ``<repo>/data/aeon_cache`` (complete cached copies are reused offline).

A source that cannot serve a name raises :class:`SourceUnavailable` with the reason; a source that
finds the files but cannot read them raises :class:`MalformedDatasetError`, which stops the chain
(a broken local copy should be fixed, not silently replaced by another source).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from .errors import MalformedDatasetError
from .raw import RawSplit
from .summary import ucr_names
from .tsfile import read_ts_split
from .tsv import read_tsv_split

ENV_DATA_DIR = "ASLO_DATA_DIR"
ARCHIVE_FOLDER = "UCRArchive_2018"
AEON_CACHE_FOLDER = "aeon_cache"


class SourceUnavailable(Exception):
    """A source does not hold the dataset; the message says why."""


def repo_data_dir() -> Path:
    """Return the repository's ``data/`` folder: ``./data`` if it exists, else the one next to the package."""
    cwd_data = Path.cwd() / "data"
    if cwd_data.is_dir():
        return cwd_data
    package_data = Path(__file__).resolve().parents[2] / "data"
    return package_data if package_data.is_dir() else cwd_data


def archive_root(root: str | os.PathLike | None = None) -> tuple[Path, str]:
    """Return the archive folder and where that choice came from (argument, env var or default)."""
    if root is not None:
        return Path(root).expanduser(), "root argument"
    env = os.environ.get(ENV_DATA_DIR, "").strip()
    if env:
        return Path(env).expanduser(), f"${ENV_DATA_DIR}"
    return repo_data_dir() / ARCHIVE_FOLDER, "default"


def split_problem(folder: Path, name: str, suffix: str = ".tsv") -> str | None:
    """Return why ``folder`` does not hold a usable TRAIN/TEST pair of ``name``, or None if it does.

    The reason names the file: a missing split (``<path>: split file is missing``), an empty one
    (``<path>: file is empty``), or no split file at all.
    """
    if not folder.is_dir():
        return f"no folder {folder}"
    train, test = folder / f"{name}_TRAIN{suffix}", folder / f"{name}_TEST{suffix}"
    present = [p for p in (train, test) if p.is_file()]
    if not present:
        return f"folder {folder} holds no {train.name} / {test.name}"
    if len(present) == 1:
        missing = test if present[0] == train else train
        return f"{missing}: split file is missing ({present[0].name} is there)"
    for path in (train, test):
        if path.stat().st_size == 0:
            return f"{path}: file is empty"
    return None


def _complete_pair(folder: Path, name: str, suffix: str) -> tuple[Path, Path] | None:
    """Return the TRAIN/TEST pair in ``folder`` if both exist and are non-empty files."""
    if split_problem(folder, name, suffix) is None:
        return folder / f"{name}_TRAIN{suffix}", folder / f"{name}_TEST{suffix}"
    return None


class ArchiveSource:
    """A local copy of the UCR 2018 archive (``<root>/<Name>/<Name>_TRAIN.tsv``)."""

    serves_any_name = True
    kind = "local archive"

    def __init__(self, root: str | os.PathLike | None = None):
        self.root, self.origin = archive_root(root)
        self.label = f"local archive {self.root} ({self.origin})"

    def broken(self, name: str) -> str | None:
        """Return why the folder of ``name`` is unusable when it holds a split file but not a
        usable pair (the other split missing, or an empty file), naming that file; else None."""
        folder = self.root / name
        problem = split_problem(folder, name)
        if problem is None or not folder.is_dir():
            return None
        if not any((folder / f"{name}_{s}.tsv").is_file() for s in ("TRAIN", "TEST")):
            return None  # an empty or unrelated folder: the dataset is simply not here
        return problem

    def locate(self, name: str) -> Path | None:
        """Return the dataset folder if both split files are there, else None.

        Raises :class:`MalformedDatasetError` naming the file when the folder holds only one
        split or an empty split file (such a copy must be fixed, not passed over).
        """
        problem = self.broken(name)
        if problem is not None:
            raise MalformedDatasetError(problem)
        folder = self.root / name
        return folder if _complete_pair(folder, name, ".tsv") else None

    def load(self, name: str) -> tuple[RawSplit, RawSplit]:
        """Read the TRAIN and TEST files; a folder with only one split is malformed."""
        if not self.root.is_dir():
            raise SourceUnavailable(f"folder {self.root} does not exist")
        folder = self.root / name
        if not folder.is_dir():
            raise SourceUnavailable(f"no folder {folder}")
        problem = self.broken(name)
        if problem is not None:
            raise MalformedDatasetError(problem)
        if _complete_pair(folder, name, ".tsv") is None:
            raise SourceUnavailable(split_problem(folder, name))
        return read_tsv_split(folder / f"{name}_TRAIN.tsv"), read_tsv_split(folder / f"{name}_TEST.tsv")


def aeon_bundled_dir() -> Path | None:
    """Return aeon's bundled data folder (found without importing aeon), or None if aeon is absent."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


class AeonBundledSource:
    """The UCR datasets that ship inside aeon's wheel, read offline from its package folder."""

    serves_any_name = False
    kind = "aeon bundled"
    label = "aeon's bundled datasets"

    def __init__(self):
        self.folder = aeon_bundled_dir()

    def locate(self, name: str) -> Path | None:
        """Return the bundled folder of ``name`` if it is a UCR dataset aeon ships, else None."""
        if self.folder is None or name not in ucr_names():
            return None
        folder = self.folder / name
        return folder if _complete_pair(folder, name, ".ts") else None

    def available(self) -> list[str]:
        """Return the UCR datasets aeon ships on this machine."""
        return [n for n in ucr_names() if self.locate(n) is not None]

    def load(self, name: str) -> tuple[RawSplit, RawSplit]:
        """Read the bundled ``.ts`` files (the raw versions, not aeon's ``_eq``/``_nmv`` variants)."""
        if self.folder is None:
            raise SourceUnavailable("aeon is not installed")
        folder = self.locate(name)
        if folder is None:
            raise SourceUnavailable(f"aeon does not ship {name} (it ships {', '.join(self.available()) or 'none'})")
        return read_ts_split(folder / f"{name}_TRAIN.ts"), read_ts_split(folder / f"{name}_TEST.ts")


class AeonDownloadSource:
    """aeon's per-dataset download (Zenodo), cached in ``<repo>/data/aeon_cache``."""

    serves_any_name = False
    kind = "aeon cache"

    def __init__(self, cache_dir: str | os.PathLike | None = None, download: bool = True):
        self.cache_dir = Path(cache_dir) if cache_dir else repo_data_dir() / AEON_CACHE_FOLDER
        self.download = download
        self.label = f"aeon download cache {self.cache_dir}"

    def locate(self, name: str) -> Path | None:
        """Return the cached folder of ``name`` when both split files are complete, else None."""
        if name not in ucr_names():
            return None
        folder = self.cache_dir / name
        return folder if _complete_pair(folder, name, ".ts") else None

    def available(self) -> list[str]:
        """Return the UCR datasets already complete in the cache."""
        if not self.cache_dir.is_dir():
            return []
        return [n for n in ucr_names() if self.locate(n) is not None]

    def _fetch(self, name: str) -> None:
        """Download into a scratch folder and move it into place only when both splits arrived.

        aeon writes straight into its target and leaves an empty ``<Name>/`` behind on failure;
        the scratch folder keeps half-written files and empty folders out of the cache.
        """
        from aeon.datasets import load_classification

        created = not self.cache_dir.exists()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".download-", dir=self.cache_dir))
        try:
            load_classification(name, extract_path=str(scratch))
            if _complete_pair(scratch / name, name, ".ts") is None:
                raise SourceUnavailable(f"aeon's download of {name} did not produce both splits")
            target = self.cache_dir / name
            if target.is_dir():
                shutil.rmtree(target)  # an incomplete leftover (locate() said so)
            os.replace(scratch / name, target)
        except SourceUnavailable:
            raise
        except Exception as exc:  # network errors arrive as ValueError/URLError/OSError
            raise SourceUnavailable(f"download failed: {type(exc).__name__}: {exc}") from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            if created and not any(self.cache_dir.iterdir()):
                self.cache_dir.rmdir()  # leave no empty cache behind after a failed first download

    def load(self, name: str) -> tuple[RawSplit, RawSplit]:
        """Read the cached copy, downloading it first when allowed."""
        if name not in ucr_names():
            raise SourceUnavailable(f"{name} is not one of the 128 UCR 2018 datasets")
        folder = self.locate(name)
        if folder is None:
            if not self.download:
                raise SourceUnavailable("not cached, and download=False")
            self._fetch(name)
            folder = self.cache_dir / name
        return read_ts_split(folder / f"{name}_TRAIN.ts"), read_ts_split(folder / f"{name}_TEST.ts")


def default_sources(root: str | os.PathLike | None = None, download: bool = True) -> list:
    """Return the chain of sources in the order they are tried."""
    return [ArchiveSource(root), AeonBundledSource(), AeonDownloadSource(download=download)]
