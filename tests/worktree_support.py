"""Shared steps of the `moai worktree` tests (real git, the installed `moai`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.gitrepo import git, moai, write


def create(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return moai(repo, "worktree", "create", *args, env=env)


def created(repo: Path, env: dict[str, str], spec_id: str, *args: str) -> Path:
    """Create SPEC-ID's worktree (must succeed) and return its path."""
    r = create(repo, env, spec_id, *args)
    assert r.returncode == 0, r.stderr
    p = moai(repo, "worktree", "path", spec_id, env=env)
    assert p.returncode == 0, p.stderr
    return Path(p.stdout.strip())


def listing(repo: Path, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """`moai worktree list --json`, keyed by branch."""
    r = moai(repo, "worktree", "list", "--json", env=env)
    assert r.returncode == 0, r.stderr
    rows: list[dict[str, Any]] = json.loads(r.stdout)["worktrees"]
    return {row["branch"] or row["path"]: row for row in rows}


def branches(repo: Path, env: dict[str, str]) -> list[str]:
    return git(repo, "branch", "--format=%(refname:short)", env=env).split()


def worktree_paths(repo: Path, env: dict[str, str]) -> list[str]:
    out = git(repo, "worktree", "list", "--porcelain", env=env)
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("worktree ")]


def commit_file(wt: Path, env: dict[str, str], rel: str, text: str, msg: str) -> str:
    write(wt / rel, text)
    git(wt, "add", rel, env=env)
    git(wt, "commit", "-qm", msg, env=env)
    return git(wt, "rev-parse", "HEAD", env=env).strip()


def squash_merge(repo: Path, env: dict[str, str], branch: str) -> None:
    """Merge `branch` into main as one new commit (GitHub's "Squash and merge")."""
    git(repo, "merge", "--squash", "-q", branch, env=env)
    git(repo, "commit", "-qm", f"squash {branch}", env=env)
