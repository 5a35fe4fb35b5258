"""Every file moai reads or writes goes through here: one set of rules, in one place.

Anything a cloned repository commits (`llm.yaml`, `glm.json`, `.claude/`,
`.gitignore`) is hostile input, and so is whatever another tool leaves where
moai looks (`~/.claude/projects`). A path may name a link to `/dev/zero`, a
FIFO, `/dev/tty`, a directory, a link loop, or a file outside the repository.
The rules (docs/security.md, "The file rules"):

- **Reads** take regular files only. A link is followed to a regular file;
  with `within`, only to one inside `within` (a committed `llm.yaml ->
  ~/.ssh/id_rsa` is refused, so no error message can quote it). The file is
  opened with O_NONBLOCK and checked with fstat on the opened descriptor
  (nothing can swap it between the check and the read), and read with a
  bound: a file past it is refused, never read whole. Absent (or a dangling
  link) is None; anything else is BadInput, one line naming the file and why.
- **Writes** are a private temp file in the target's folder, renamed over the
  target. They never go through a link that leaves `within` (the folder of the
  file by default; the worktree, a git dir, `~/.moai` or `~/.claude` as the
  caller says): a link inside it keeps its link and its target is written, a
  link leaving it is refused with a line and nothing is written. Appends,
  removals, folders and locks follow the same rule.
- **Walks** never follow a link to a folder (a link loop cannot trap them) and
  yield regular files only.

Only `os`, `stat`, `errno` and `time`: the hook's fast path and the status line
use this module, and must not pay for pathlib or typing.
"""

from __future__ import annotations

import errno
import os
import stat
import time

from moai_mashup.errors import BadInput
from moai_mashup.lean import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    StrPath = str | os.PathLike[str]

_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
_CHUNK = 1 << 20


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def is_inside(path: StrPath, root: StrPath) -> bool:
    """Whether `path`, links resolved, lies inside `root` (links resolved)."""
    return _inside(os.path.realpath(path), os.path.realpath(root))


def _refused(label: str, why: str) -> BadInput:
    return BadInput(f"{label}: {why}; moai left it untouched")


def _open_error(label: str, exc: OSError) -> BadInput:
    if exc.errno == errno.ELOOP:
        return _refused(label, "a link loop (a link that leads back to itself)")
    return _refused(label, f"cannot read it ({exc.strerror or exc.__class__.__name__})")


def _plainly_below(path: str, root: str) -> bool:
    """Whether `path` is `root`/a/b/... with no `.`/`..` and no link from `root` down
    (each step lstat'ed): then it lies inside `root` wherever `root` itself leads.

    False (absent, a link, a path not spelled below `root`) sends the caller to
    realpath, which resolves every component of both paths: a committed file read
    with `within` costs 9 us here against 34 us that way, and `worktree list`
    reads three per worktree (its own work per worktree: 184 -> 135 us).
    """
    base = root.rstrip(os.sep)
    if not path.startswith(base + os.sep):
        return False
    current = base
    for part in path[len(base) + 1 :].split(os.sep):
        if part in ("", ".", ".."):
            return False
        current += os.sep + part
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return False
        except OSError:
            return False
    return True


def _resolve_read(path: str, within: StrPath | None, label: str) -> str:
    if within is None:
        return path
    if _plainly_below(path, os.fspath(within)):
        return path
    if not os.path.exists(path):
        return path  # absent, a dangling link (absent too) or a loop: read_bytes says which
    real = os.path.realpath(path)
    if not _inside(real, os.path.realpath(within)):
        raise _refused(label, f"a symbolic link leading outside {os.fspath(within)} (to {real})")
    return real


def read_bytes(
    path: StrPath, limit: int, label: str | None = None, *, within: StrPath | None = None
) -> bytes | None:
    """The bytes of the regular file `path` names (None: absent, or a dangling link).

    BadInput, naming `label` (the path by default): not a regular file (a FIFO,
    a device, a folder), a link loop, a symbolic link leading outside `within`, larger
    than `limit` bytes, or unreadable.
    """
    name = os.fspath(path)
    label = label or name
    target = _resolve_read(name, within, label)
    try:
        before = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _open_error(label, exc) from None
    if not stat.S_ISREG(before.st_mode):
        raise _refused(label, f"{_kind(before.st_mode)}, not a regular file")
    if before.st_size > limit:
        raise too_large(label, limit)
    try:
        fd = os.open(target, _READ_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _open_error(label, exc) from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # swapped between the stat and the open
            raise _refused(label, f"{_kind(opened.st_mode)}, not a regular file")
        data = read_fd(fd, limit + 1)
    except OSError as exc:
        raise _open_error(label, exc) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise too_large(label, limit)
    return data


def too_large(label: str, limit: int) -> BadInput:
    if limit % (1 << 20) == 0:
        size = f"{limit >> 20} MiB"
    elif limit % 1024 == 0:
        size = f"{limit >> 10} KiB"
    else:
        size = f"{limit} bytes"
    return BadInput(
        f"{label}: larger than {size}, far beyond any real one; moai left it untouched "
        "(check what wrote it)"
    )


def read_text(
    path: StrPath, limit: int, label: str | None = None, *, within: StrPath | None = None
) -> str | None:
    """read_bytes, decoded as UTF-8 (BadInput naming the byte when it is not)."""
    data = read_bytes(path, limit, label, within=within)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refused(label or os.fspath(path), f"not UTF-8 text (byte {exc.start})") from None


def read_fd(fd: int, limit: int) -> bytes:
    """Up to `limit` bytes of an open descriptor, from where it stands."""
    chunks: list[bytes] = []
    got = 0
    while got < limit:
        chunk = os.read(fd, min(_CHUNK, limit - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_stdin(limit: int, label: str = "stdin") -> bytes:
    """What another program piped in, up to `limit` bytes; BadInput past it.

    Reads one byte past the bound and stops there: a writer sending more is
    cut off (it gets a broken pipe), never buffered whole.
    """
    try:
        data = read_fd(0, limit + 1)
    except OSError as exc:
        raise _open_error(label, exc) from None
    if len(data) > limit:
        raise too_large(label, limit)
    return data


def claim(fd: int, slot: int) -> bool:
    """Take `slot` (one byte) of the anonymous file `fd` shared with other processes:
    True for the first process to ask, False for every other, ever. A record lock
    on that byte makes the read and the write one step."""
    import fcntl

    fcntl.lockf(fd, fcntl.LOCK_EX, 1, slot)
    try:
        if os.pread(fd, 1, slot) not in (b"", b"\0"):
            return False
        os.pwrite(fd, b"\1", slot)
        return True
    finally:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, slot)


def size_of(path: StrPath) -> int:
    """The size `lstat` gives `path` (0: absent or unreadable): for planning work over
    files, never a bound (a file may grow before it is read)."""
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def open_regular(path: StrPath, label: str | None = None) -> int | None:
    """A read-only descriptor of the regular file `path` (None: absent), for a
    reader that streams a file too large to hold (transcripts). The caller closes it."""
    name = os.fspath(path)
    label = label or name
    try:
        fd = os.open(name, _READ_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _open_error(label, exc) from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise _open_error(label, exc) from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _refused(label, f"{_kind(mode)}, not a regular file")
    return fd


def read_tail(path: StrPath, limit: int, label: str | None = None) -> bytes | None:
    """The last `limit` bytes of the regular file `path` (None: absent): the end of a
    file that may be far larger (a session's transcript), without reading the rest."""
    fd = open_regular(path, label)
    if fd is None:
        return None
    try:
        size = os.fstat(fd).st_size
        os.lseek(fd, max(0, size - limit), os.SEEK_SET)
        return read_fd(fd, limit)
    except OSError as exc:
        raise _open_error(label or os.fspath(path), exc) from None
    finally:
        os.close(fd)


# --- walking ---------------------------------------------------------------


def list_dir(path: StrPath) -> list[str]:
    """The names in folder `path`, sorted ([]: absent, not a folder, unreadable)."""
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def subdirs(path: StrPath) -> list[str]:
    """The names of the real folders in `path` (links to folders are not followed), sorted."""
    out: list[str] = []
    try:
        with os.scandir(path) as it:
            for entry in it:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        out.append(entry.name)
                except OSError:
                    continue
    except OSError:
        return []
    return sorted(out)


def walk_files(root: StrPath, suffix: str = "") -> Iterator[str]:
    """The regular files under `root` whose names end with `suffix`, in sorted order.

    Links are never followed below `root` (a link to a folder, a link loop and a
    link to a FIFO are skipped), so a walk ends however the tree is linked.
    """
    stack = [os.fspath(root)]
    while stack:
        folder = stack.pop()
        files: list[str] = []
        dirs: list[str] = []
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            dirs.append(entry.path)
                        elif entry.name.endswith(suffix) and entry.is_file(follow_symlinks=False):
                            files.append(entry.path)
                    except OSError:
                        continue
        except OSError:
            continue
        yield from sorted(files)
        stack.extend(sorted(dirs, reverse=True))


# --- writing ---------------------------------------------------------------


def write_target(path: StrPath, within: StrPath | None = None, label: str | None = None) -> str:
    """Where a write of `path` lands: `path` itself, or the target of a link at
    `path` that stays inside `within` (default: the folder `path` names).

    BadInput, nothing written: the folder is a symbolic link leading outside `within`, the
    link at `path` does, or `path` is a folder, a FIFO or a device.
    """
    name = os.path.abspath(os.fspath(path))
    label = label or os.fspath(path)
    folder, base = os.path.split(name)
    root = os.path.realpath(within if within is not None else folder)
    where = os.fspath(within) if within is not None else folder
    real_folder = os.path.realpath(folder)
    if not _inside(real_folder, root):
        raise BadInput(
            f"{label}: its folder is a symbolic link leading outside {where} (to {real_folder}); "
            "moai writes only inside it and wrote nothing"
        )
    target = os.path.join(real_folder, base)
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(target)
        if not _inside(real, root):
            raise BadInput(
                f"{label}: a symbolic link leading outside {where} (to {real}); moai writes only "
                "inside it and wrote nothing (replace the link with a file to let moai write it)"
            )
        try:
            st = os.stat(real)
        except FileNotFoundError:
            return real
        except OSError as exc:
            raise _open_error(label, exc) from None
        target = real
    if not stat.S_ISREG(st.st_mode):
        raise BadInput(f"{label}: {_kind(st.st_mode)}, not a regular file; moai wrote nothing")
    return target


def make_dirs(path: StrPath, mode: int = 0o777, within: StrPath | None = None) -> None:
    """`os.makedirs(path, exist_ok=True)`, refusing (BadInput) a path that a link
    leads outside `within`."""
    name = os.fspath(path)
    if within is not None and not is_inside(name, within):
        raise BadInput(
            f"{name}: a symbolic link leading outside {os.fspath(within)}; moai writes only "
            "inside it and wrote nothing"
        )
    os.makedirs(name, mode=mode, exist_ok=True)


def discard(path: StrPath) -> None:
    """Remove `path` if it is there (a temp file of ours)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return


def temp_beside(
    target: str,
    data: bytes,
    mode: int = 0o600,
    durable: bool = True,
    times_ns: tuple[int, int] | None = None,
) -> str:
    """A fully written (fsynced when `durable`) temp file beside `target`, created
    private (never readable by others, even briefly), then given `mode`, dated
    `times_ns` (atime, mtime) when given."""
    folder, base = os.path.split(target)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        if times_ns is not None:
            os.utime(tmp, ns=times_ns)
    except BaseException:
        discard(tmp)
        raise
    return tmp


def write_bytes(
    path: StrPath,
    data: bytes,
    mode: int = 0o600,
    *,
    within: StrPath | None = None,
    label: str | None = None,
    durable: bool = True,
    times_ns: tuple[int, int] | None = None,
) -> str:
    """Replace the file `path` names by `data` (temp + rename): a reader sees the
    old file or the new one, never half. Returns the path written (a link's target).

    `durable=False` skips the fsync, for files whose loss in a crash costs only time.
    """
    target = write_target(path, within, label)
    tmp = temp_beside(target, data, mode, durable, times_ns)
    try:
        os.replace(tmp, target)
    except BaseException:
        discard(tmp)
        raise
    return target


def write_text(
    path: StrPath,
    text: str,
    mode: int = 0o600,
    *,
    within: StrPath | None = None,
    label: str | None = None,
) -> str:
    return write_bytes(path, text.encode("utf-8"), mode, within=within, label=label)


def append_bytes(
    path: StrPath,
    data: bytes,
    mode: int = 0o644,
    *,
    within: StrPath | None = None,
    label: str | None = None,
) -> None:
    """Append to the regular file `path` (created with `mode` when absent), under
    write_target's rule (a link leaving `within` is refused)."""
    target = write_target(path, within, label)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    fd = os.open(
        target,
        os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
        mode,
    )
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BadInput(f"{label or target}: {_kind(st.st_mode)}; moai wrote nothing")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def create_exclusive(path: StrPath, data: bytes, mode: int = 0o600, durable: bool = True) -> bool:
    """Create `path` holding `data` only if nothing (not even a link) is there; False if
    something was. The file appears whole: written aside, then linked into place
    (`durable=False`: without the fsync, for a file whose loss in a crash costs nothing)."""
    name = os.fspath(path)
    tmp = temp_beside(name, data, mode, durable)
    try:
        os.link(tmp, name)
    except FileExistsError:
        return False
    finally:
        discard(tmp)
    return True


def remove(path: StrPath, within: StrPath | None = None) -> bool:
    """Remove the name `path` (a link itself, never its target); False: nothing there.

    With `within`, a folder of `path` that is a symbolic link leading outside it is refused.
    """
    name = os.fspath(path)
    if within is not None and not is_inside(os.path.dirname(os.path.abspath(name)), within):
        raise BadInput(
            f"{name}: its folder is a symbolic link leading outside {os.fspath(within)}; "
            "moai removed nothing"
        )
    try:
        os.unlink(name)
    except FileNotFoundError:
        return False
    return True


def remove_empty_dir(path: StrPath) -> bool:
    """Remove the folder `path` only if it is empty (a link is never followed); False if not."""
    try:
        os.rmdir(path)
    except OSError:
        return False
    return True


def remove_tree(path: StrPath) -> None:
    """Remove a folder and everything in it, never following a link out of it."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def rename(src: StrPath, dst: StrPath) -> None:
    """Move the name `src` to `dst` as it is (a link stays a link, mode and times kept)."""
    os.replace(src, dst)


def copy_file(src: StrPath, dst: StrPath, *, within: StrPath, label: str | None = None) -> None:
    """Copy `src` to `dst` (a new name inside `within`): a link is copied as the same
    link, a regular file with its mode and times (streamed, any size); anything else
    (a FIFO, a device) is BadInput. Nothing is written if `dst` exists."""
    source = os.fspath(src)
    label = label or source
    target = write_target(dst, within)
    st = os.lstat(source)
    if stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(source), target)
        return
    fd = open_regular(source, label)
    if fd is None:
        raise FileNotFoundError(errno.ENOENT, "no such file", source)
    try:
        out = os.open(
            target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        try:
            while chunk := os.read(fd, _CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view) :]
            os.fchmod(out, stat.S_IMODE(st.st_mode))
        finally:
            os.close(out)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    finally:
        os.close(fd)


def make_temp_dir(prefix: str) -> str:
    """A new private (0700) folder under the system's temp folder."""
    import tempfile

    return tempfile.mkdtemp(prefix=prefix)


def temp_file() -> int:
    """A descriptor of a new anonymous file (already unlinked), for a child's output."""
    import tempfile

    with tempfile.TemporaryFile() as fh:  # unlinked already; the duplicate keeps it open
        return os.dup(fh.fileno())


def memory_file(name: str, data: bytes = b"") -> int:
    """A descriptor of a new anonymous file holding `data`, at its start: in memory
    (Linux's memfd_create; no import, where tempfile costs 16 ms), elsewhere
    `temp_file`. For a child's stdin or output, never a file of anyone's."""
    fd = -1
    if hasattr(os, "memfd_create"):
        try:
            fd = os.memfd_create(name, os.MFD_CLOEXEC)
        except OSError:
            fd = -1
    if fd < 0:
        fd = temp_file()
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_lock(path: StrPath, within: StrPath | None = None) -> int:
    """A read-write descriptor of the lock file `path` (created 0600), never a link's target."""
    target = write_target(path, within)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise BadInput(f"{target}: {_kind(mode)}; moai wrote nothing")
    return fd


# --- replacing a file another program may be saving in place ----------------
#
# Editors and Claude Code take no lock of ours. One that saves by truncating
# and rewriting the file in place (open with O_TRUNC, then write) has a window
# between the two steps: a file that is empty or half-written. If moai plans
# from that and renames its result over the file, the editor's write lands in
# the old inode, which no name points to any more: the save is lost.
#
# - `settle`: a settings file that is empty or not valid JSON and was modified
#   in the last SETTLE_S seconds is being written: wait (bounded) until it is
#   valid or has stayed as it is for SETTLE_S, then plan from that.
# - `replace_guarded`: the content check right before the rename, a hard link
#   that keeps the old inode reachable across the rename, and a second look at
#   that inode after it: a write that reached the old file between the check
#   and that look is not lost, the old file is put back and the caller plans
#   again. Creating a file that did not exist is `link`, which fails if another
#   writer created it first: no window at all.
#
# What is left: a writer that opened the file before the rename and writes to
# it only after the second look (milliseconds later, without truncating first)
# still writes into a file no name points to. POSIX has no way to rename over a
# file only if nobody holds it open for writing.

# Editors write right after truncating (microseconds to milliseconds); a file
# empty or broken for longer than this is what it is.
SETTLE_S = 2.0


def _read_all(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    offset = 0
    while offset <= limit:
        chunk = os.pread(fd, _CHUNK, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def settle(
    path: StrPath, usable: Callable[[bytes], bool], limit: int, wait: float = SETTLE_S
) -> None:
    """Return once `path` is absent, `usable`, unreadable, or unchanged for `wait` seconds."""
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
            data = read_bytes(path, limit)
        except BadInput:
            return
        if data is None or usable(data):
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def replace_guarded(
    tmp: str, path: str, holds: Callable[[bytes | None], bool], limit: int = 64 << 20
) -> bool:
    """Rename `tmp` over `path` if `path` still `holds` (its bytes, None: absent).

    False, with `path` as the other writer left it and `tmp` removed, when it
    changed before the rename or a write reached the old file around it.
    """
    try:
        fd = os.open(path, _READ_FLAGS | os.O_NOFOLLOW)
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
        if not stat.S_ISREG(before.st_mode):
            os.unlink(tmp)
            return False
        data = _read_all(fd, limit)
        if not holds(data):
            os.unlink(tmp)
            return False
        discard(backup)
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
            _read_all(fd, limit) != data
        ):
            os.replace(backup, path)  # the other writer's file (and its save) is back
            return False
        os.unlink(backup)
        return True
    except BaseException:
        discard(tmp)
        discard(backup)
        raise
    finally:
        os.close(fd)


def replace_if_unchanged(
    path: StrPath,
    data: bytes | None,
    expected: bytes | None,
    mode: int = 0o600,
    *,
    within: StrPath | None = None,
    limit: int = 64 << 20,
) -> bool:
    """Write `data` (None: remove the file) only if `path` still holds `expected`
    (None: absent). For files other programs write without our lock: the check
    runs after the slow part (write + fsync), right before the rename, and a write
    that reaches the old file around the rename is caught too. False, having
    written nothing, when the file changed."""
    target = write_target(path, within)
    if data is None:
        try:
            now = read_bytes(target, limit)
        except BadInput:
            return False
        if now != expected:
            return False
        discard(target)
        return True
    tmp = temp_beside(target, data, mode)
    try:
        return replace_guarded(tmp, target, lambda now: now == expected, limit)
    except BaseException:
        discard(tmp)
        raise
