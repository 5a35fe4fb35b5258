"""A process holding the settings lock and stopped (SIGSTOP) never hangs git or moai.

The holder is a real process that takes the lock moai takes, then stops
itself; git checks out with the real installed hooks, through the engine and
through the prepared switch (githooks/fast.py), and `moai glm` runs beside it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from moai_mashup.settings.lock import LOCK_WAIT_S
from tests.core_fixtures import ready_dir, record_path
from tests.gitrepo import SETTINGS, moai, write
from tests.hooks_support import age, age_inputs, install, moai_lines, moai_written, run_git

pytestmark = pytest.mark.stress

STATE = Path(".git") / "moai"
HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, f"{os.getpid()}\\n".encode())
print("locked", flush=True)
os.kill(os.getpid(), 19)  # SIGSTOP: held until killed
"""


@pytest.fixture
def stopped_holder(repo: Path) -> Iterator[subprocess.Popen[str]]:
    """A process holding `<git-dir>/moai/settings.lock`, stopped."""
    (repo / STATE).mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(repo / STATE / "settings.lock")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    try:
        yield proc
    finally:
        proc.kill()  # SIGKILL ends a stopped process too
        proc.wait()


def _settle(repo: Path, env: dict[str, str], home: Path) -> None:
    install(repo, env)
    run_git(repo, "branch", "feature/SPEC-1", env=env)
    for _ in range(2):  # the first engine run may add moai's lines to info/exclude
        age_inputs(repo, home)
        (repo / STATE / "hook-stamp").unlink(missing_ok=True)
        run_git(repo, "checkout", "-q", "main", env=env)
    age(*moai_written(repo, home), seconds=59)


@pytest.mark.parametrize("path", ["engine", "prepared switch"])
def test_checkout_waits_a_bounded_time_then_leaves_the_worktree(
    repo: Path,
    env: dict[str, str],
    home: Path,
    keyed_home: str,
    path: str,
) -> None:
    write(repo / SETTINGS, '{"model": "opus"}\n')
    _settle(repo, env, home)
    if path == "engine":
        (repo / STATE / "hook-stamp").unlink()
    else:
        assert (ready_dir(repo, env) / "glm.settings").exists()
    before = (repo / SETTINGS).read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(repo / STATE / "settings.lock")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        proc = subprocess.run(
            ["git", "checkout", "-q", "feature/SPEC-1"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=LOCK_WAIT_S * 6,  # without the bound: the hook waits forever
            check=False,
        )
        took = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 0, proc.stderr
    lines = moai_lines(proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("moai: post-checkout: "), lines
    assert f"held by moai process {holder.pid}" in lines[0] and "settings.lock" in lines[0]
    assert took >= LOCK_WAIT_S  # it did wait for a holder that might finish
    assert run_git(repo, "branch", "--show-current", env=env).stdout.strip() == "feature/SPEC-1"
    assert (repo / SETTINGS).read_bytes() == before, "left as it was"
    assert not record_path(repo, env).exists()
    # The holder gone, the next moai entry point sees the drift and fixes it.
    r = moai(repo, "apply", env=env)
    assert r.returncode == 0, r.stderr
    assert (repo / SETTINGS).read_bytes() != before


def test_moai_commands_wait_a_bounded_time_too(
    repo: Path, env: dict[str, str], keyed_home: str, stopped_holder: subprocess.Popen[str]
) -> None:
    r = moai(repo, "glm", env=env)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert f"held by moai process {stopped_holder.pid}" in r.stderr
    assert not (repo / SETTINGS).exists()
    os.kill(stopped_holder.pid, signal.SIGKILL)
    stopped_holder.wait()
    assert moai(repo, "glm", env=env).returncode == 0  # the kernel dropped its lock
