"""The linked worktrees moai reads from git's admin dirs, whichever way git wrote
their `gitdir` (absolute; relative to the admin dir since git 2.48's
worktree.useRelativePaths)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from moai_mashup import git as moai_git
from moai_mashup.settings.main_checkout import linked_worktrees
from tests.gitrepo import git, make_repo


def test_a_relative_gitdir_is_read_from_the_admin_dir(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo", env)
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked), "-b", "feature/SPEC-1", env=env)
    wt = moai_git.discover(repo)
    [admin] = [
        os.path.join(wt.common_dir, "worktrees", n)
        for n in os.listdir(os.path.join(wt.common_dir, "worktrees"))
    ]
    assert [w.root for w in linked_worktrees(wt)] == [str(linked.resolve())]
    # As git 2.48 writes it with worktree.useRelativePaths: relative to the admin dir.
    relative = os.path.relpath(linked.resolve() / ".git", admin)
    Path(admin, "gitdir").write_text(relative + "\n")
    monkeypatch.chdir(tmp_path)  # a relative path must not be read against the current directory
    assert [w.root for w in linked_worktrees(wt)] == [str(linked.resolve())]
