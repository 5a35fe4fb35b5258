"""Several creates of one worktree at once (two Claude Code sessions, a retry): one
creates it, the others reuse it; nobody fails half way or prints a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.gitrepo import MOAI, git, make_repo
from tests.worktree_support import worktree_paths

pytestmark = pytest.mark.stress

N = 6


def _start(cwd: Path, env: dict[str, str], args: list[str], stdin: str) -> subprocess.Popen[str]:
    """`moai ARGS` with `stdin` already waiting for it (a pipe: it reads it at once)."""
    read, write = os.pipe()
    os.write(write, stdin.encode())
    os.close(write)
    try:
        return subprocess.Popen(
            [MOAI, *args],
            cwd=cwd,
            env=env,
            stdin=read,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(read)


def _all_at_once(
    cwd: Path, env: dict[str, str], args: list[str], stdin: str = "", n: int = N
) -> list[tuple[int, str, str]]:
    procs = [_start(cwd, env, args, stdin) for _ in range(n)]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        out.append((p.returncode, stdout, stderr))
    return out


# A foreign post-checkout hook (an LFS pull, a dependency install) that takes a while
# in the worktree named `held`: while it runs, the create that made it holds the
# repository's worktree lock, and the creates started meanwhile wait for it.
SLOW_HOOK = """#!/bin/sh
case "$PWD" in */held) : > "{mark}"; sleep 4;; esac
"""


def _hold_the_lock(repo: Path, env: dict[str, str], tmp_path: Path) -> subprocess.Popen[str]:
    """Start creating the worktree `held` and return once its checkout is running."""
    mark = tmp_path / "held.mark"
    hook = repo / ".git" / "hooks" / "post-checkout"
    hook.write_text(SLOW_HOOK.format(mark=mark))
    hook.chmod(0o755)
    payload = json.dumps({"cwd": str(repo), "name": "held"})
    holder = _start(repo, env, ["hook-impl", "claude-code", "worktree-create"], payload)
    deadline = time.monotonic() + 60
    while not mark.exists():
        assert holder.poll() is None, holder.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return holder


@pytest.mark.parametrize(
    ("configured", "name", "branch"),
    [
        (True, "SPEC-RACE-1", "feature/SPEC-RACE-1"),
        (True, "fix-login", "worktree-fix-login"),
        (False, "fix-login", "worktree-fix-login"),
    ],
)
def test_worktree_create_hook_started_six_times_at_once_gives_one_worktree_to_all(
    tmp_path: Path,
    env: dict[str, str],
    keyed_home: str,
    configured: bool,
    name: str,
    branch: str,
) -> None:
    if configured:
        repo = make_repo(tmp_path / "project", env)
    else:
        repo = make_repo(tmp_path / "project", env, llm_yaml=None, glm_json=None)
    holder = _hold_the_lock(repo, env, tmp_path)
    payload = json.dumps({"cwd": str(repo), "name": name, "hook_event_name": "WorktreeCreate"})
    results = _all_at_once(repo, env, ["hook-impl", "claude-code", "worktree-create"], payload)
    _, held_err = holder.communicate(timeout=120)
    assert holder.returncode == 0, held_err
    for code, _, stderr in results:
        assert code == 0, stderr
        assert "Traceback" not in stderr
    printed = {stdout.splitlines()[-1] for _, stdout, _ in results}
    assert len(printed) == 1, printed
    (path,) = printed
    paths = worktree_paths(repo, env)
    assert paths.count(path) == 1 and len(paths) == 3
    assert git(Path(path), "branch", "--show-current", env=env).strip() == branch
    assert git(Path(path), "status", "--porcelain", env=env) == ""


def test_worktree_create_twice_at_once_one_creates_the_other_says_where(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    results = _all_at_once(repo, env, ["worktree", "create", "SPEC-TWICE"], n=2)
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    made = next(out for code, out, _ in results if code == 0)
    refused = next(err for code, _, err in results if code == 1)
    path = made.splitlines()[0].split(" ")[1]
    assert refused.count("\n") == 1 and "Traceback" not in refused
    assert f"already checked out at {path}" in refused
    assert worktree_paths(repo, env) == [str(repo), path]
