"""Atomic lock files (O_CREAT | O_EXCL) with a heartbeat and stale-lock detection.

Used so that a cell (or the training of a model) is never run twice, even by two runners or
Dask workers sharing one store. While held, a lock's file is touched every ``heartbeat``
seconds by a daemon thread; a lock whose owner died is taken over at once on the same host
(its pid is gone) and, from another host, once its file has not been touched for
``stale_after`` seconds: minutes, not the length of the longest cell.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

HOST = socket.gethostname()
# A live owner touches its lock file this often ...
DEFAULT_HEARTBEAT = 30.0
# ... so a file untouched for this long has lost its owner (ten missed beats: room for a busy
# machine and for clock skew between hosts on a shared file system).
DEFAULT_STALE_AFTER = 300.0


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FileLock:
    """A lock file at ``path``; ``acquire()`` never blocks unless asked to."""

    def __init__(self, path: str | os.PathLike, stale_after: float = DEFAULT_STALE_AFTER,
                 heartbeat: float = DEFAULT_HEARTBEAT):
        if not 0 < heartbeat < stale_after:
            raise ValueError(f"heartbeat ({heartbeat}) must be positive and shorter than stale_after ({stale_after})")
        self.path = Path(path)
        self.stale_after = stale_after
        self.heartbeat = heartbeat
        self.token = uuid.uuid4().hex
        self.held = False
        self._stop_beating: threading.Event | None = None

    def _owner(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # half-written by a dying process: judged by age below

    def is_stale(self, owner: dict | None) -> bool:
        """True when the lock's owner is gone: its pid is dead (this host), or its heartbeat
        stopped more than ``stale_after`` seconds ago (any host; also a reused pid here)."""
        if owner is None:
            return False
        if owner.get("host") == HOST and isinstance(owner.get("pid"), int) and not pid_alive(owner["pid"]):
            return True
        try:
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return False
        return age > (self.stale_after if owner else min(60.0, self.stale_after))

    def refresh(self) -> bool:
        """Touch the lock file if we still own it (the heartbeat); False if we lost it."""
        if not self.held:
            return False
        owner = self._owner()
        if not owner or owner.get("token") != self.token:
            return False
        try:
            os.utime(self.path)
        except FileNotFoundError:
            return False
        return True

    def _beat(self, stop: threading.Event) -> None:
        while not stop.wait(self.heartbeat):
            if not self.refresh():
                return

    def try_acquire(self) -> bool:
        """Take the lock if free (breaking a stale one); False if a live owner holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if not self.is_stale(owner):
                    return False
                self._break(owner)
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump({"pid": os.getpid(), "host": HOST, "time": time.time(),
                           "token": self.token, "heartbeat": self.heartbeat}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            self.held = True
            self._stop_beating = threading.Event()
            threading.Thread(target=self._beat, args=(self._stop_beating,), daemon=True,
                             name=f"heartbeat {self.path.name}").start()
            return True
        return False

    def acquire(self, timeout: float | None = None, poll: float = 0.5) -> bool:
        """Wait for the lock (forever if ``timeout`` is None); True once held."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.try_acquire():
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(poll)
        return True

    def _break(self, owner: dict | None) -> None:
        # Rename first (atomic): of two breakers only one moves the stale file.
        aside = self.path.with_name(f"{self.path.name}.stale-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        try:
            moved = json.loads(aside.read_text())
        except (OSError, ValueError):
            moved = {}
        if owner and moved.get("token") != owner.get("token"):
            # We moved a fresh lock taken meanwhile: put it back if the slot is still free.
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
        aside.unlink(missing_ok=True)

    def release(self) -> None:
        """Remove the lock if we still hold it."""
        if not self.held:
            return
        self.held = False
        if self._stop_beating is not None:
            self._stop_beating.set()
        owner = self._owner()
        if owner and owner.get("token") == self.token:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> "FileLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
