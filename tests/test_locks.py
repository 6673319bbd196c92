"""Cell and training locks: a heartbeat keeps a live owner's lock fresh; a dead owner's lock is
taken over at once on this host and within minutes from another host."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from aslo.experiments.locks import DEFAULT_HEARTBEAT, DEFAULT_STALE_AFTER, HOST, FileLock

HOLDER = """
import sys
from aslo.experiments.locks import FileLock
lock = FileLock(sys.argv[1])
assert lock.try_acquire()
print("HELD", flush=True)
sys.stdin.read()  # hold until killed
"""


def _age(path, seconds: float) -> None:
    """Make the lock file look untouched for ``seconds``."""
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_defaults_take_over_within_minutes():
    assert DEFAULT_STALE_AFTER <= 600 and DEFAULT_HEARTBEAT * 5 <= DEFAULT_STALE_AFTER
    with pytest.raises(ValueError, match="heartbeat"):
        FileLock("x.lock", stale_after=10, heartbeat=10)


def test_lock_of_a_killed_owner_is_taken_over_at_once(tmp_path):
    path = tmp_path / "cell.lock"
    with subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout.readline().strip() == "HELD"
        assert not FileLock(path).try_acquire()  # alive: respected
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
    assert json.loads(path.read_text())["pid"] == holder.pid  # the dead owner's file is still there
    taker = FileLock(path)
    assert taker.try_acquire()  # no waiting: its pid is gone
    assert json.loads(path.read_text())["token"] == taker.token
    taker.release()


def test_lock_of_an_owner_on_another_host_is_taken_once_its_heartbeat_stops(tmp_path):
    path = tmp_path / "cell.lock"
    path.write_text(json.dumps({"pid": 1, "host": "another-host", "time": time.time(), "token": "t"}))
    assert not FileLock(path).try_acquire()  # recently touched: its owner is alive
    _age(path, DEFAULT_STALE_AFTER - 30)
    assert not FileLock(path).try_acquire()
    _age(path, DEFAULT_STALE_AFTER + 1)
    assert FileLock(path).try_acquire()


def test_a_reused_pid_does_not_keep_a_dead_lock_forever(tmp_path):
    path = tmp_path / "cell.lock"
    # Our own (live) pid stands for an unrelated process that got the dead owner's pid.
    path.write_text(json.dumps({"pid": os.getpid(), "host": HOST, "time": 0, "token": "t"}))
    assert not FileLock(path).try_acquire()
    _age(path, DEFAULT_STALE_AFTER + 1)
    assert FileLock(path).try_acquire()


def test_heartbeat_keeps_a_live_lock_fresh(tmp_path):
    path = tmp_path / "cell.lock"
    owner = FileLock(path, stale_after=60, heartbeat=0.05)
    assert owner.try_acquire()
    _age(path, 3600)
    deadline = time.monotonic() + 60  # an event (the file is touched), not a timing assumption
    while time.time() - path.stat().st_mtime > 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert time.time() - path.stat().st_mtime < 60, "the heartbeat never touched the lock"
    assert not FileLock(path, stale_after=60).try_acquire()
    owner.release()
    assert not path.exists()


def test_refresh_stops_once_the_lock_was_taken_over(tmp_path):
    path = tmp_path / "cell.lock"
    owner = FileLock(path, stale_after=60, heartbeat=30)
    assert owner.try_acquire() and owner.refresh()
    _age(path, 120)
    taker = FileLock(path, stale_after=60)
    assert taker.try_acquire()
    assert not owner.refresh()  # it no longer owns the file: it must not keep it alive
    owner.release()
    assert path.exists() and json.loads(path.read_text())["token"] == taker.token
    taker.release()
