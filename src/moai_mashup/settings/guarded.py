"""Replacing a file another program may be saving in place, without losing its save.

Editors and Claude Code take no lock of ours. One that saves by truncating
and rewriting the file in place (open with O_TRUNC, then write) has a window
between the two steps: a file that is empty or half-written. If moai plans
from that and renames its result over the file, the editor's write lands in
the old inode, which no name points to any more: the save is lost.

Narrowed here, with nothing but os (the hook's fast path uses it):

- `settle`: a settings file that is empty or not valid JSON and was modified
  in the last SETTLE_S seconds is being written: wait (bounded) until it is
  valid or has stayed as it is for SETTLE_S, then plan from that.
- `replace_guarded`: the content check right before the rename, a hard link
  that keeps the old inode reachable across the rename, and a second look at
  that inode after it: a write that reached the old file between the check
  and that look is not lost, the old file is put back and the caller plans
  again. Creating a file that did not exist is `link`, which fails if another
  writer created it first: no window at all.

What is left: a writer that opened the file before the rename and writes to
it only after the second look (milliseconds later, without truncating first)
still writes into a file no name points to. POSIX has no way to rename over a
file only if nobody holds it open for writing.
"""

from __future__ import annotations

import os
import time

from moai_mashup.lean import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

# Editors write right after truncating (microseconds to milliseconds); a file
# empty or broken for longer than this is what it is.
SETTLE_S = 2.0


def _read_fd(fd: int) -> bytes:
    chunks: list[bytes] = []
    offset = 0
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)


def _unlink(path: str) -> None:  # contextlib stays off the hook's path
    try:
        os.unlink(path)
    except FileNotFoundError:
        return


def settle(path: str, usable: Callable[[bytes], bool], wait: float = SETTLE_S) -> None:
    """Return once `path` is absent, `usable`, or unchanged for `wait` seconds."""
    deadline = time.monotonic() + wait + 0.5
    delay = 0.005
    while True:
        try:
            st = os.stat(path)
        except OSError:
            return
        if time.time() - st.st_mtime >= wait or time.monotonic() >= deadline:
            return
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            return
        if usable(data):
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def replace_guarded(tmp: str, path: str, holds: Callable[[bytes | None], bool]) -> bool:
    """Rename `tmp` over `path` if `path` still `holds` (its bytes, None: absent).

    False, with `path` as the other writer left it and `tmp` removed, when it
    changed before the rename or a write reached the old file around it.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        if not holds(None):
            os.unlink(tmp)
            return False
        try:
            os.link(tmp, path)  # fails if another writer created it meanwhile
        except FileExistsError:
            os.unlink(tmp)
            return False
        except OSError:  # no hard links here: as close as a rename gets
            os.replace(tmp, path)
            return True
        os.unlink(tmp)
        return True
    backup = os.path.join(os.path.dirname(tmp), f".{os.path.basename(path)}.{os.getpid()}.old.tmp")
    try:
        before = os.fstat(fd)
        data = _read_fd(fd)
        if not holds(data):
            os.unlink(tmp)
            return False
        _unlink(backup)
        try:
            os.link(path, backup)
        except OSError:  # no hard links here (some FUSE, vfat): the content check alone
            os.replace(tmp, path)
            return True
        if os.stat(backup).st_ino != before.st_ino:  # replaced by a rename meanwhile
            os.unlink(backup)
            os.unlink(tmp)
            return False
        os.replace(tmp, path)
        after = os.fstat(fd)
        # Size and mtime, not ctime: the link and the rename change the old file's ctime.
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or (
            _read_fd(fd) != data
        ):
            os.replace(backup, path)  # the other writer's file (and its save) is back
            return False
        os.unlink(backup)
        return True
    except BaseException:
        _unlink(tmp)
        _unlink(backup)
        raise
    finally:
        os.close(fd)
