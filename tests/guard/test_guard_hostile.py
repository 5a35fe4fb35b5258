"""The guard against what a commit or a checkout can hold: a key in a file name is
never printed whole (the policy line included), and the files it reads (the commit
message) are read bounded, regular files only. Real hooks, the installed `moai`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.gitrepo import FAKE_KEY, git, moai, write
from tests.guard.test_policy_commit import set_policy

# Key-shaped, obviously fake: an Anthropic shape and a Z.ai shape (32 hex, a dot, 16).
ANTHROPIC_FAKE = "sk-ant-FAKEfakeFAKEfakeTESTonly00"
ZAI_FAKE = "0123456789abcdef0123456789abcdef.FAKEfakeTESTonly"


def _commit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", *args], cwd=repo, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("key", [ANTHROPIC_FAKE, ZAI_FAKE, FAKE_KEY])
def test_a_key_in_a_file_name_outside_the_plan_paths_is_masked_in_the_policy_line(
    repo: Path, env: dict[str, str], keyed_home: str, key: str
) -> None:
    set_policy(repo, env, enforce_locations=True)
    r = moai(repo, "hooks", "install", "-t", "pre-commit", env=env)
    assert r.returncode == 0, r.stderr
    start = git(repo, "rev-parse", "HEAD", env=env).strip()
    write(repo / "src" / f"{key}.txt", "nothing secret in here\n")
    git(repo, "add", "-A", env=env)
    for r in (_commit(repo, env, "-m", "impl on main"), moai(repo, "check", "--staged", env=env)):
        out = r.stdout + r.stderr
        assert r.returncode != 0, out
        assert "policy enforce_locations" in out and "src/" in out, out
        assert key not in out, out
    # The same commit seen by CI (a range on the default branch).
    r = _commit(repo, env, "-q", "--no-verify", "-m", "impl on main")
    assert r.returncode == 0, r.stderr
    r = moai(repo, "check", "--from-ref", start, "--to-ref", "HEAD", "--branch", "main", env=env)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "policy enforce_locations" in out, out
    assert key not in out, out


def test_a_commit_message_file_that_is_a_fifo_is_one_line_not_a_hang(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    fifo = tmp_path / "msg"
    os.mkfifo(fifo)
    r = moai(repo, "check", "--commit-msg", str(fifo), env=env)
    assert "Traceback" not in r.stderr
    assert r.returncode == 1 and "a FIFO" in r.stderr, r.stderr


def test_a_huge_commit_message_is_refused_not_read_whole(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    msg = tmp_path / "msg"
    with open(msg, "wb") as fh:
        fh.truncate(200 << 20)  # sparse: no disk, 200 MiB to whoever reads it whole
    r = moai(repo, "check", "--commit-msg", str(msg), env=env)
    assert "Traceback" not in r.stderr and "MemoryError" not in r.stderr
    assert r.returncode == 1 and "larger than" in r.stderr, r.stderr
