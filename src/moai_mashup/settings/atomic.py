"""Atomic file writes (temp file + rename) and an advisory lock.

A reader (Claude Code, another moai) sees either the old file or the new one,
never half of it; concurrent writers serialise on a lock file.
"""

from __future__ import annotations

import os
from pathlib import Path

from moai_mashup.settings.lock import LOCK_WAIT_S, take_lock

# contextlib stays out: this module is on the post-checkout hook's path (~1 ms).


def _discard(tmp: Path) -> None:
    tmp.unlink(missing_ok=True)


def _write_temp(
    path: Path, data: bytes, mode: int, durable: bool = True, mtime: int | None = None
) -> Path:
    """A fully written (fsynced when `durable`) sibling of `path`, created private
    (never readable by others), dated `mtime` when given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # 0o600 at creation (the umask can only narrow it): a key is never briefly world-readable.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if mtime is not None:
            os.utime(tmp, (mtime, mtime))
    except BaseException:
        _discard(tmp)
        raise
    return tmp


def atomic_write_bytes(
    path: Path, data: bytes, mode: int = 0o600, *, durable: bool = True, mtime: int | None = None
) -> None:
    """Replace `path` by rename. `durable=False` skips the fsync, for files whose
    loss in a crash costs only time (the hook's stamp and prepared switch)."""
    tmp = _write_temp(path, data, mode, durable, mtime)
    try:
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


def atomic_write_text(path: Path, text: str, mode: int = 0o600) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def _holds(path: Path, expected: str | None) -> bool:
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        return expected is None
    return expected is not None and current == expected.encode("utf-8")


def replace_if_unchanged(
    path: Path, text: str | None, expected: str | None, mode: int = 0o600
) -> bool:
    """Write `text` (None: remove the file) only if `path` still holds `expected`.

    For writers that do not take our lock: the check runs after the slow part
    (write + fsync), right before the rename, and a write that reaches the old
    file around the rename is caught too (guarded.py). Returns False, having
    written nothing, when the file changed.
    """
    if text is None:
        if not _holds(path, expected):
            return False
        path.unlink(missing_ok=True)
        return True
    from moai_mashup.settings.guarded import replace_guarded

    want = None if expected is None else expected.encode("utf-8")
    tmp = _write_temp(path, text.encode("utf-8"), mode)
    try:
        return replace_guarded(str(tmp), str(path), lambda data: data == want)
    except BaseException:
        _discard(tmp)
        raise


class file_lock:  # lower case: used as a function, `with file_lock(path):`
    """An exclusive flock held for the block; released by the kernel if we die.

    Waits at most `wait` seconds (None: as long as it takes), then raises
    LockBusy (one line, nothing written).
    """

    def __init__(self, lock_path: Path, wait: float | None = LOCK_WAIT_S) -> None:
        self.lock_path = lock_path
        self.wait = wait
        self.fd = -1

    def __enter__(self) -> None:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            take_lock(self.fd, str(self.lock_path), self.wait)
        except BaseException:
            os.close(self.fd)
            raise

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
