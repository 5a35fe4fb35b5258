"""git children without `subprocess` (~8 ms to import): for the hooks' paths.

Only `os` here, so githooks/fast.py (the prepared switch) can use it as well as
git.py.
"""

from __future__ import annotations

import os


def spawn_git(
    args: list[str],
    cwd: str,
    env: dict[str, str],
    stdin: int = -1,
    stdout: int = -1,
    stderr: int = -1,
) -> int:
    """Start `git -C cwd args` with `env` and these fds (-1: /dev/null). Returns the pid."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        return os.posix_spawnp(
            "git",
            ["git", "-C", cwd, *args],
            env,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, devnull if fd < 0 else fd, target)
                for target, fd in enumerate((stdin, stdout, stderr))
            ],
        )
    finally:
        os.close(devnull)


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
            with os.fdopen(self._out, "rb") as fh:
                answer = fh.read()
            _, status = os.waitpid(self._pid, 0)
            self._answer = set()
            if os.waitstatus_to_exitcode(status) in (0, 1):
                self._answer = {
                    p for p in answer.decode("utf-8", "surrogateescape").split("\0") if p
                }
        return self._answer
