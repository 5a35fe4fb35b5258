"""What counts as work for `moai worktree remove` and `clean`: empty commits, hidden edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepo import git, moai, write
from tests.worktree_support import branches, commit_file, created, worktree_paths


def test_a_branch_whose_only_commits_are_empty_is_work(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    wt = created(repo, env, "SPEC-E2")
    git(wt, "commit", "-q", "--allow-empty", "-m", "decision: keep the old API", env=env)
    git(wt, "commit", "-q", "--allow-empty", "-m", "ci: trigger", env=env)
    commit_file(repo, env, "later.txt", "main moved on\n", "main work")  # not an ancestor now
    r = moai(repo, "worktree", "clean", "--merged", env=env)
    assert r.returncode == 0, r.stderr
    assert wt.exists() and "feature/SPEC-E2" in branches(repo, env)
    r = moai(repo, "worktree", "remove", "SPEC-E2", "--delete-branch", env=env)
    assert r.returncode == 1 and "not merged" in r.stderr
    assert wt.exists() and "feature/SPEC-E2" in branches(repo, env)
    # ...while the same branch merged by ancestry goes
    git(repo, "merge", "-q", "--no-ff", "-m", "merge e2", "feature/SPEC-E2", env=env)
    r = moai(repo, "worktree", "clean", "--merged", env=env)
    assert r.returncode == 0, r.stderr
    assert not wt.exists() and "feature/SPEC-E2" not in branches(repo, env)


def test_an_empty_commit_beside_squash_merged_work_keeps_the_branch(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    wt = created(repo, env, "SPEC-E3")
    commit_file(wt, env, "e.txt", "e\n", "e work")
    git(wt, "commit", "-q", "--allow-empty", "-m", "note for reviewers", env=env)
    git(repo, "merge", "-q", "--squash", "feature/SPEC-E3", env=env)
    git(repo, "commit", "-q", "-m", "squash e3", env=env)
    r = moai(repo, "worktree", "clean", "--merged", env=env)
    assert r.returncode == 0, r.stderr
    assert wt.exists() and "feature/SPEC-E3" in branches(repo, env)


@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
def test_edits_hidden_from_git_status_are_work(
    repo: Path, env: dict[str, str], keyed_home: str, flag: str
) -> None:
    wt = created(repo, env, "SPEC-H1")
    git(wt, "update-index", flag, "README.md", env=env)
    write(wt / "README.md", "my local edit\n")
    assert git(wt, "status", "--porcelain", env=env) == "", "git status does not show it"
    r = moai(repo, "worktree", "remove", "SPEC-H1", env=env)
    assert r.returncode == 1, r.stdout
    assert "README.md" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert (wt / "README.md").read_text() == "my local edit\n"
    # empty (only fast-forwarded to main) but holding the hidden edit: kept by clean
    commit_file(repo, env, "later.txt", "x\n", "main moves")
    git(wt, "merge", "-q", "main", env=env)
    r = moai(repo, "worktree", "clean", "--merged", "--empty", env=env)
    assert r.returncode == 0, r.stderr
    assert wt.exists() and (wt / "README.md").read_text() == "my local edit\n"
    assert "README.md" in r.stdout
    # flagged but unchanged is no work: removed
    write(wt / "README.md", git(repo, "show", "HEAD:README.md", env=env))
    r = moai(repo, "worktree", "remove", "SPEC-H1", env=env)
    assert r.returncode == 0, r.stderr
    assert str(wt) not in worktree_paths(repo, env)


def test_a_sparse_checkouts_absent_files_are_not_work(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    wt = created(repo, env, "SPEC-P1")
    git(wt, "sparse-checkout", "set", "--no-cone", "/.moai/", env=env)
    assert not (wt / "README.md").exists()
    r = moai(repo, "worktree", "remove", "SPEC-P1", env=env)
    assert r.returncode == 0, r.stderr
