"""The settings lock, taken with a bounded wait (lean: the hook's fast path takes it)."""

from __future__ import annotations

import fcntl
import os
import time

from moai_mashup.errors import Refused
from moai_mashup.files import open_lock
from moai_mashup.lean import TYPE_CHECKING

if TYPE_CHECKING:
    from moai_mashup.files import StrPath

# How long a moai process waits for another one's settings lock. A holder
# reads the settings file, plans and writes it once (fsynced): milliseconds,
# and rarely over a second even on a busy disk. One stopped (SIGSTOP, a hung
# editor integration) would hold it forever, and a git hook waiting on it would
# hang `git checkout`; 5 s is several times any real hold and still short
# enough that a checkout visibly goes on.
LOCK_WAIT_S = 5.0


class LockBusy(Refused):
    """Another process held the lock for longer than LOCK_WAIT_S."""


def flock_bounded(fd: int, wait: float | None = LOCK_WAIT_S) -> bool:
    """flock(LOCK_EX), giving up after `wait` seconds (False); None: wait as long as it takes."""
    if wait is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    deadline = time.monotonic() + wait
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        now = time.monotonic()
        if now >= deadline:
            return False
        time.sleep(min(delay, deadline - now))
        delay = min(delay * 2, 0.05)


def take_lock(fd: int, lock_path: str, wait: float | None = LOCK_WAIT_S) -> None:
    """Lock `fd` (bounded), then leave our pid in the file for whoever waits next."""
    if not flock_bounded(fd, wait):
        try:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        except OSError:
            holder = ""
        who = f"moai process {holder}" if holder.isdigit() else "another moai process"
        raise LockBusy(
            f"{lock_path}: held by {who} for over {LOCK_WAIT_S:g} s (stopped?); left this "
            "worktree as it is; run `moai apply` once that process is gone"
        )
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass  # only a hint for a waiter's message


class file_lock:  # lower case: used as a function, `with file_lock(path):`
    """An exclusive flock held for the block; released by the kernel if we die.

    Waits at most `wait` seconds (None: as long as it takes), then raises
    LockBusy (one line, nothing written).
    """

    def __init__(self, lock_path: StrPath, wait: float | None = LOCK_WAIT_S) -> None:
        self.lock_path = lock_path
        self.wait = wait
        self.fd = -1

    def __enter__(self) -> None:
        self.fd = open_lock(self.lock_path)
        try:
            take_lock(self.fd, os.fspath(self.lock_path), self.wait)
        except BaseException:
            os.close(self.fd)
            raise

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
