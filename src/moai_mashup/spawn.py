"""Every child process moai starts: `os.posix_spawn` and pipes, never `subprocess`.

One runner for every path. `subprocess` costs 9-17 ms to import (`python -I
-S -X importtime -c 'import subprocess'`: it brings signal's enum, threading,
selectors, contextlib), and the git hook, the status line and the prompt hook
start children on paths users feel; this module imports `os` and `select`
(0.2 ms) and nothing of ours, so githooks/fast.py can use it as well as git.py.

- `start`: the child alone (its pid); the caller holds the pipes and waits
  (`kill`: one it no longer wants, reaped).
- `run`: start, feed stdin, collect stdout and stderr, wait, bounded in time:
  `(returncode, stdout bytes, stderr bytes)`, as pre-commit's `cmd_output_b`.
- `spawn_git`, `IgnoredQuery`: git through `start` for the hooks.
- `fork`: a copy of this process running one function (no exec, no Python
  start): `moai cost`'s workers on Linux (cost/scan.py).

posix_spawn has no working directory of its own (no chdir before the exec):
git takes `-C <dir>` (`spawn_git`, git.run); any other child started `cwd=`
elsewhere runs through `/bin/sh -c 'cd -- "$1" && exec "$@"'`, which costs
a shell (~1 ms): `claude -p`, `worktree.on_create` commands and `moai demo`
only. Signals the interpreter ignores (SIGPIPE, SIGXFSZ) are reset to the
default in the child, as `subprocess` does.
"""

from __future__ import annotations

import io
import os
import select
import sys
import time

TYPE_CHECKING = False  # as lean.py's: mypy reads the import, nothing runs it
if TYPE_CHECKING:
    from collections.abc import Callable

DEVNULL = -1  # a child's stdio from/to /dev/null
PIPE = -2  # run(): captured (stdout, stderr)

# Linux's and macOS's numbers; `signal` itself costs 3.7 ms (its enum).
SIGKILL = 9
SIGPIPE = 13
SIGXFSZ = 25

_CHDIR = 'cd -- "$1" || exit 127; shift; exec "$@"'
_CHUNK = 1 << 16


class TimedOut(Exception):
    """The child ran past `timeout`: it was killed; what it wrote so far is kept."""

    def __init__(self, argv: list[str], timeout: float, stdout: bytes, stderr: bytes) -> None:
        super().__init__(f"`{' '.join(argv)}` did not finish in {timeout:g} s")
        self.timeout = timeout
        self.stdout = stdout
        self.stderr = stderr


def start(
    argv: list[str],
    *,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    stdin: int = DEVNULL,
    stdout: int = DEVNULL,
    stderr: int = DEVNULL,
    fd3: int | None = None,
) -> int:
    """Start `argv` (looked up on PATH) with these fds (-1: /dev/null). Returns the pid.

    `env` None: ours. `cwd` None: ours; else through `sh` (above). `fd3`: a
    descriptor of ours the child gets as its fd 3 (a file both share: `moai
    cost`'s claims); no other descriptor of ours reaches a child.
    """
    if cwd is not None:
        argv = ["/bin/sh", "-c", _CHDIR, "sh", cwd, *argv]
    devnull = os.open(os.devnull, os.O_RDWR)
    actions = [
        (os.POSIX_SPAWN_DUP2, devnull if fd < 0 else fd, target)
        for target, fd in enumerate((stdin, stdout, stderr))
    ]
    if fd3 is not None:
        actions.append((os.POSIX_SPAWN_DUP2, fd3, 3))
    try:
        return os.posix_spawnp(
            argv[0],
            argv,
            os.environ if env is None else env,
            file_actions=actions,
            setsigdef=(SIGPIPE, SIGXFSZ),
        )
    finally:
        os.close(devnull)


def run(
    argv: list[str],
    *,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    stdout: int = PIPE,
    stderr: int = PIPE,
    timeout: float | None = None,
) -> tuple[int, bytes, bytes]:
    """Run `argv` to its end: (returncode, stdout, stderr); negative: killed by a signal.

    `stdin` bytes are fed through a pipe (None: /dev/null). `stdout`/`stderr`:
    PIPE (captured), DEVNULL, or a descriptor of ours (b"" in the result).
    Past `timeout` seconds the child is killed and TimedOut raised.
    OSError when it cannot start (no such program).
    """
    ends: list[int] = []  # every pipe end we made, closed on the way out
    try:
        in_r = in_w = out_r = out_w = err_r = err_w = -1
        if stdin is not None:
            in_r, in_w = os.pipe()
            ends += [in_r, in_w]
        if stdout == PIPE:
            out_r, out_w = os.pipe()
            ends += [out_r, out_w]
        if stderr == PIPE:
            err_r, err_w = os.pipe()
            ends += [err_r, err_w]
        pid = start(
            argv,
            cwd=cwd,
            env=env,
            stdin=in_r,
            stdout=out_w if stdout == PIPE else stdout,
            stderr=err_w if stderr == PIPE else stderr,
        )
        for fd in (in_r, out_w, err_w):  # the child's ends: EOF reaches us when it exits
            if fd >= 0:
                os.close(fd)
                ends.remove(fd)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            out, err, done = _exchange(in_w, stdin or b"", out_r, err_r, ends, deadline)
            code = _wait(pid, deadline) if done else None
        except BaseException:
            _kill(pid)
            raise
        if code is None:
            _kill(pid)
            raise TimedOut(argv, timeout or 0.0, out, err)
        return code, out, err
    finally:
        for fd in ends:
            os.close(fd)


def _exchange(
    feed: int, data: bytes, out: int, err: int, ends: list[int], deadline: float | None
) -> tuple[bytes, bytes, bool]:
    """Write `data` to `feed` and read `out`/`err` to EOF at once: no side waits on a
    full pipe. Closes each end it finishes with (and takes it off `ends`).
    Returns (stdout, stderr, finished before the deadline)."""
    chunks: dict[int, list[bytes]] = {out: [], err: []}
    poller = select.poll()
    pending = memoryview(data)
    live = set()

    def close(fd: int) -> None:
        poller.unregister(fd)
        live.discard(fd)
        os.close(fd)
        ends.remove(fd)

    if feed >= 0:
        os.set_blocking(feed, False)
        poller.register(feed, select.POLLOUT)
        live.add(feed)
        if not pending:
            close(feed)
    for fd in (out, err):
        if fd >= 0:
            poller.register(fd, select.POLLIN)
            live.add(fd)
    while live:
        wait = None
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                return b"".join(chunks[out]), b"".join(chunks[err]), False
        for fd, _event in poller.poll(None if wait is None else wait * 1000):
            if fd == feed:
                try:
                    pending = pending[os.write(fd, pending[:_CHUNK]) :]
                except BlockingIOError:
                    continue
                except BrokenPipeError:  # the child stopped reading: what it has, it has
                    pending = pending[:0]
                if not pending:
                    close(fd)
            else:
                chunk = os.read(fd, _CHUNK)
                if chunk:
                    chunks[fd].append(chunk)
                else:
                    close(fd)
    return b"".join(chunks[out]), b"".join(chunks[err]), True


def _wait(pid: int, deadline: float | None) -> int | None:
    """The exit code of `pid`; None past the deadline (still running)."""
    if deadline is None:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    pause = 0.0005
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.05)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def kill(pid: int) -> None:
    """Kill a child of `start` that is no longer wanted, and reap it."""
    _kill(pid)


def fork(child: Callable[[], int]) -> int:
    """Run `child` in a copy of this process; its pid here (reap it with os.waitpid or
    `kill`). The copy leaves with `os._exit(child())` (1 if it raises, ^C included):
    nothing else of ours runs there, no atexit, no output buffered here written twice.
    For work that needs what this process imported and holds, where a fresh Python
    would spend its start and imports first (`moai cost`'s workers). Call it with
    nothing buffered for stdout or stderr. OSError: no process could be made, or a
    second thread runs here (a copy would hold only this one, and any lock another
    held: the caller does the work itself).
    """
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        raise OSError("threads are running: no fork")
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        code = child()
    except BaseException:  # the copy says nothing; its parent sees the exit code
        code = 1
    finally:
        os._exit(code)


def pipe_reader(fd: int) -> io.BufferedReader:
    """A buffered reader of a child's output pipe (closes `fd` when closed)."""
    return os.fdopen(fd, "rb")


def spawn_git(
    args: list[str],
    cwd: str,
    env: dict[str, str],
    stdin: int = DEVNULL,
    stdout: int = DEVNULL,
    stderr: int = DEVNULL,
) -> int:
    """Start `git -C cwd args` with `env` and these fds (-1: /dev/null). Returns the pid."""
    return start(["git", "-C", cwd, *args], env=env, stdin=stdin, stdout=stdout, stderr=stderr)


class IgnoredQuery:
    """Which of `rels` git ignores: one `git check-ignore`, started now, read by `result()`.

    Started early, git runs while the caller works. A tracked file is never in
    the answer (git does not apply exclude rules to it), so a path in the
    answer is also known to be untracked. Empty when git fails; callers then
    check the slow way (or not at all).
    """

    def __init__(self, root: str, rels: list[str], env: dict[str, str]) -> None:
        query = "".join(f"{rel}\0" for rel in rels).encode("utf-8", "surrogateescape")
        in_read, in_write = os.pipe()
        self._out, out_write = os.pipe()
        try:
            # A few short paths fit in the pipe's buffer: written before git starts.
            os.write(in_write, query)
            os.close(in_write)
            in_write = -1
            self._pid = spawn_git(["check-ignore", "--stdin", "-z"], root, env, in_read, out_write)
        except BaseException:
            os.close(self._out)
            raise
        finally:
            for fd in (in_read, in_write, out_write):
                if fd >= 0:
                    os.close(fd)
        self._answer: set[str] | None = None

    def result(self) -> set[str]:
        if self._answer is None:
            with pipe_reader(self._out) as fh:
                answer = fh.read()
            _, status = os.waitpid(self._pid, 0)
            self._answer = set()
            if os.waitstatus_to_exitcode(status) in (0, 1):
                self._answer = {
                    p for p in answer.decode("utf-8", "surrogateescape").split("\0") if p
                }
        return self._answer
