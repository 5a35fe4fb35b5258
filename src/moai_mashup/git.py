"""Every git call goes through here.

Inside a hook, git exports GIT_DIR (and, for some commands, GIT_INDEX_FILE,
GIT_WORK_TREE, GIT_PREFIX); a git subprocess aimed at any other repository or
worktree inherits them and silently acts on the hook's repository instead.
`no_git_env()` drops exactly what `git rev-parse --local-env-vars` lists.
"""

from __future__ import annotations

import os

from moai_mashup import files, spawn
from moai_mashup.errors import BadInput
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.limits import MAX_CONFIG_BYTES, MAX_LINE_FILE_BYTES
from moai_mashup.spawn import IgnoredQuery, spawn_git

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from moai_mashup.files import StrPath

# `git rev-parse --local-env-vars` (git 2.39), plus GIT_PREFIX which hooks also get.
LOCAL_ENV_VARS = frozenset(
    {
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_CONFIG",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_OBJECT_DIRECTORY",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_GRAFT_FILE",
        "GIT_INDEX_FILE",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_REPLACE_REF_BASE",
        "GIT_PREFIX",
        "GIT_INTERNAL_SUPER_PREFIX",
        "GIT_SHALLOW_FILE",
        "GIT_COMMON_DIR",
    }
)
ZERO_SHA = "0" * 40
# Every worktree of the repository, NUL-separated (worktrees/entries.parse_porcelain).
WORKTREE_LIST_ARGS = ["worktree", "list", "--porcelain", "-z"]


def no_git_env(env: dict[str, str] | None = None) -> dict[str, str]:
    base = os.environ if env is None else env
    out = {k: v for k, v in base.items() if k not in LOCAL_ENV_VARS}
    # GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n pair with GIT_CONFIG_COUNT, dropped above.
    return {
        k: v for k, v in out.items() if not k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
    }


class GitError(Exception):
    def __init__(self, args: list[str], returncode: int, stderr: str) -> None:
        super().__init__(f"git {' '.join(args)} failed ({returncode}): {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


def run(
    args: list[str],
    cwd: StrPath,
    *,
    check: bool = True,
    stdin: str | None = None,
    inherit_env: bool = False,
    env: dict[str, str] | None = None,
) -> Finished:
    """Run git in `cwd`. GIT_* of a calling hook are dropped unless `inherit_env`;
    `env`: variables to add (the hook of a `git worktree add` sees them)."""
    code, stdout, stderr = _run(args, cwd, stdin, inherit_env, env)
    proc = Finished(code, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))
    if check and code != 0:
        raise GitError(args, code, proc.stderr)
    return proc


def run_bytes(args: list[str], cwd: StrPath, *, inherit_env: bool = False) -> bytes:
    """Run git and return raw stdout: file content is bytes, not always UTF-8.

    `inherit_env=True` inside a pre-commit hook: `git commit -a` and
    `git commit <path>` stage into a temporary index named by GIT_INDEX_FILE,
    and that index, not .git/index, is what will be committed.
    """
    code, stdout, stderr = _run(args, cwd, None, inherit_env, None)
    if code != 0:
        raise GitError(args, code, stderr.decode("utf-8", "replace"))
    return stdout


def _run(
    args: list[str],
    cwd: StrPath,
    stdin: str | None,
    inherit_env: bool,
    env: dict[str, str] | None,
) -> tuple[int, bytes, bytes]:
    base = dict(os.environ) if inherit_env else no_git_env()
    return spawn.run(
        ["git", "-C", str(cwd), *args],
        env={**base, **env} if env else base,
        stdin=None if stdin is None else stdin.encode("utf-8", "surrogateescape"),
    )


def cat_blobs(cwd: StrPath, shas: list[str]) -> Iterator[tuple[str, bytes]]:
    """(sha, content) of many blobs from one `git cat-file --batch` process.

    A process per file costs ~2 ms; a commit of 1,000 files must take well
    under a second. Ids are fed from a thread while we read, so neither side
    blocks on a full pipe, and one blob at a time is held in memory.
    """
    import threading  # only here: 3.5 ms, and the checkout hook never needs it

    if not shas:
        return
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    try:
        pid = spawn_git(
            ["cat-file", "--batch", "--buffer"], str(cwd), no_git_env(), in_read, out_write
        )
    except BaseException:
        os.close(in_write)
        os.close(out_read)
        raise
    finally:
        os.close(in_read)
        os.close(out_write)
    query = "".join(f"{s}\n" for s in shas).encode("ascii")

    def feed() -> None:
        try:
            view = memoryview(query)
            while view:
                view = view[os.write(in_write, view) :]
        except BrokenPipeError:
            pass
        finally:
            os.close(in_write)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    stdout = spawn.pipe_reader(out_read)
    try:
        for _ in shas:
            header = stdout.readline().split()
            if len(header) == 2 and header[1] == b"missing":
                continue
            if len(header) != 3:
                break
            size = int(header[2])
            data = stdout.read(size)
            stdout.read(1)  # the newline after each object
            yield header[0].decode("ascii"), data
    finally:
        stdout.close()
        os.waitpid(pid, 0)
        writer.join()


def out(args: list[str], cwd: StrPath) -> str:
    return run(args, cwd).stdout.rstrip("\n")


class Worktree(NamedTuple):
    """Where we are: one worktree of one repository."""

    root: str  # the worktree's top level
    git_dir: str  # per-worktree git dir (.git or .git/worktrees/<name>)
    common_dir: str  # shared git dir
    branch: str | None  # short branch name; None when HEAD is detached

    @property
    def is_linked(self) -> bool:
        return self.git_dir != self.common_dir

    @property
    def state_dir(self) -> str:
        """Our per-worktree state (`git rev-parse --git-path moai`), never in the work tree."""
        return self.git_dir + "/moai"

    @property
    def main_root(self) -> str:
        """The main worktree's top level (the common dir's parent for non-bare repos)."""
        return os.path.dirname(self.common_dir)


def read_head_branch(git_dir: StrPath) -> str | None:
    """The branch HEAD points at (also an unborn one), or None when detached."""
    try:
        head = (files.read_text(os.path.join(git_dir, "HEAD"), MAX_LINE_FILE_BYTES) or "").strip()
    except BadInput:
        return None
    if head.startswith("ref: refs/heads/"):
        return head[len("ref: refs/heads/") :]
    return None


def discover(cwd: StrPath) -> Worktree:
    """The worktree containing `cwd`. One git call; HEAD is read directly."""
    proc = run(
        ["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-dir", "--git-common-dir"],
        cwd,
        check=False,
    )
    if proc.returncode != 0:
        raise BadInput(f"{cwd}: not inside a git worktree; run this in a git repository")
    lines = proc.stdout.splitlines()
    if len(lines) != 3:
        raise BadInput(f"{cwd}: a bare repository has no worktree to configure")
    root, git_dir, common = (os.path.realpath(x) for x in lines)
    return Worktree(root, git_dir, common, read_head_branch(git_dir))


def exit_status(args: list[str], cwd: StrPath) -> int:
    """git's exit status alone (output discarded)."""
    return spawn.run(
        ["git", "-C", str(cwd), *args], env=no_git_env(), stdout=spawn.DEVNULL, stderr=spawn.DEVNULL
    )[0]


def is_tracked(root: StrPath, rel: str) -> bool:
    return exit_status(["ls-files", "--error-unmatch", "--", rel], root) == 0


def tracks(root: StrPath, rel: str) -> bool:
    """git tracks `rel`, by its path or by where links lead it: a repository can commit
    a link to a folder of its own (`.claude -> cfg`), and git matches no path beyond a
    link, so `is_tracked(".claude/settings.local.json")` alone would say no for the
    committed `cfg/settings.local.json` it reaches."""
    rels = {rel}
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, rel))
    if real.startswith(real_root + os.sep):
        rels.add(os.path.relpath(real, real_root))
    return any(is_tracked(root, r) for r in sorted(rels))


def ignored_query(root: StrPath, rels: list[str]) -> IgnoredQuery:
    """spawn.IgnoredQuery in `root`, GIT_* of a calling hook dropped."""
    return IgnoredQuery(str(root), rels, no_git_env())


def is_ignored(root: StrPath, rel: str) -> bool:
    return exit_status(["check-ignore", "-q", "--", rel], root) == 0


def add_exclude(wt: Worktree, pattern: str) -> str:
    """Append `pattern` to info/exclude (shared by every worktree of the repository)."""
    path = os.path.join(wt.common_dir, "info", "exclude")
    label = str(path)
    existing = files.read_text(path, MAX_CONFIG_BYTES, label, within=wt.common_dir) or ""
    if pattern not in existing.splitlines():
        sep = "" if not existing or existing.endswith("\n") else "\n"
        note = "# added by moai-mashup: holds backend keys, never commit it"
        files.make_dirs(os.path.dirname(path), within=wt.common_dir)
        block = f"{sep}{note}\n{pattern}\n".encode()
        files.append_bytes(path, block, 0o644, within=wt.common_dir, label=label)
    return path


def git_dir_at(folder: str) -> str | None:
    """The git dir of a worktree root as git finds it: `.git` itself when it is a
    directory, else the path a `gitdir: <path>` file names (relative to `folder`;
    git writes absolute paths for linked worktrees). None: no `.git`, or a file
    git would reject too (unreadable, empty, no `gitdir: ` line).
    """
    dotgit = os.path.join(folder, ".git")
    if os.path.isdir(dotgit):
        return dotgit
    try:
        line = (files.read_text(dotgit, MAX_LINE_FILE_BYTES) or "").splitlines()[0]
    except (BadInput, IndexError):
        return None
    if not line.startswith("gitdir: "):
        return None
    named = line[len("gitdir: ") :].strip()
    return named if os.path.isabs(named) else os.path.realpath(os.path.join(folder, named))


def discover_in_hook(cwd: str) -> Worktree | None:
    """The worktree a hook runs for, from files alone (no `git` child: hot path).

    git runs hooks at the worktree's top level and exports GIT_DIR for some
    commands only (`git checkout` in a linked worktree, `git clone`), never for
    `git worktree add`; GIT_WORK_TREE when the user set it. Returns None when
    the layout is not the plain one; the caller then falls back to `discover`.
    """
    env_git_dir = os.environ.get("GIT_DIR")
    root = os.path.join(cwd, os.environ.get("GIT_WORK_TREE") or cwd)  # absolute replaces cwd
    if env_git_dir:
        git_dir = os.path.join(cwd, env_git_dir)  # an absolute GIT_DIR replaces cwd
    else:
        found = git_dir_at(root)
        if found is None:
            return None
        git_dir = found
    if not os.path.isfile(os.path.join(git_dir, "HEAD")):
        return None
    try:
        common_rel = files.read_text(os.path.join(git_dir, "commondir"), MAX_LINE_FILE_BYTES)
    except BadInput:
        return None
    common_dir = git_dir if common_rel is None else os.path.join(git_dir, common_rel.strip())
    git_dir, common_dir = os.path.realpath(git_dir), os.path.realpath(common_dir)
    return Worktree(os.path.realpath(root), git_dir, common_dir, read_head_branch(git_dir))


# --- many git commands at once (`moai worktree list`: a `git status` per worktree) ---


class Finished(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def _output_file() -> int:
    """An unnamed file for a child's output: unlike a pipe, it never fills up and blocks."""
    if hasattr(os, "memfd_create"):  # Linux: no file system involved
        return os.memfd_create("git-output", os.MFD_CLOEXEC)
    return files.temp_file()


def _read_output(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


class Parallel:
    """Many git commands as child processes, at most `limit` running at once.

    No threads and no pipes: each child writes into unnamed files, so the
    caller does its own work meanwhile, calls `poll()` now and then to start
    the queued commands, and collects everything with `results()`. A thread
    pool costs a list of 100 worktrees ~60 ms of CPU in lock hand-offs on a
    2-core machine, where the git children need every cycle. `jobs` is read
    lazily, one job per free slot: (args, cwd, variables to add to the
    environment or None).
    """

    def __init__(
        self, jobs: Iterable[tuple[list[str], StrPath, dict[str, str] | None]], limit: int
    ) -> None:
        self._env = no_git_env()
        self._jobs = iter(jobs)
        self._started = 0
        self._running: dict[int, tuple[int, int, int]] = {}  # pid -> (job, stdout, stderr)
        self._done: dict[int, Finished] = {}
        self._limit = max(1, limit)
        self._start()

    def _start(self) -> None:
        while len(self._running) < self._limit:
            job = next(self._jobs, None)
            if job is None:
                return
            args, cwd, extra = job
            out = _output_file()
            err = _output_file()
            try:
                env = {**self._env, **extra} if extra else self._env
                pid = spawn_git(args, str(cwd), env, stdout=out, stderr=err)
            except BaseException:
                os.close(out)
                os.close(err)
                raise
            self._running[pid] = (self._started, out, err)
            self._started += 1

    def _reap(self, pid: int, status: int) -> None:
        i, out, err = self._running.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        self._done[i] = Finished(code, _read_output(out), _read_output(err))

    def poll(self) -> None:
        """Collect the children that are done and start queued commands in their place."""
        for pid in list(self._running):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                self._reap(pid, status)
        self._start()

    def results(self) -> list[Finished]:
        """Wait for every command; results in the order of `jobs`."""
        while self._running:
            pid = next(iter(self._running))  # the oldest: commands alike end about in order
            _, status = os.waitpid(pid, 0)
            self._reap(pid, status)
            self.poll()
        return [self._done[i] for i in range(len(self._done))]
