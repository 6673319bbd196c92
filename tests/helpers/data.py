"""Helpers for the data-layer tests: small archives written in the UCR 2018 layout."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Real UCR 2018 archive files that travel with the repository (origin: their README.md).
UCR_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "ucr"


def fixture_checksum_problems() -> list[str]:
    """Files under :data:`UCR_FIXTURES` whose SHA-256 differs from ``SHA256SUMS`` (or are missing)."""
    problems = []
    for line in (UCR_FIXTURES / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        path = UCR_FIXTURES / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{name}: checksum differs")
    return problems


def write_split(root: Path, name: str, split: str, rows) -> Path:
    """Write ``rows`` (label first, then values; each a list or a ready line) as an archive file."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}_{split}.tsv"
    lines = [row if isinstance(row, str) else "\t".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    return path


def write_dataset(root: Path, name: str, train_rows, test_rows) -> Path:
    """Write both splits of a dataset; return its folder."""
    write_split(root, name, "TRAIN", train_rows)
    write_split(root, name, "TEST", test_rows)
    return root / name


@pytest.fixture
def no_network(monkeypatch):
    """Make any attempt to open a network connection fail loudly."""
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Run in an empty folder with no archive configured; return that folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASLO_DATA_DIR", raising=False)
    (tmp_path / "data").mkdir()
    return tmp_path


@pytest.fixture
def network_down(monkeypatch):
    """Behave like a machine without a network: name lookups and connections fail with OSError."""
    def no_lookup(*args, **kwargs):
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    def unreachable(*args, **kwargs):
        raise OSError(101, "Network is unreachable")
    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    monkeypatch.setattr(socket, "create_connection", unreachable)
    monkeypatch.setattr(socket.socket, "connect", unreachable)
