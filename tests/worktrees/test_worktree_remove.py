"""`moai worktree remove` and `clean` on real repositories: what goes, what is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.core_fixtures import private_folder
from tests.gitrepo import SETTINGS, git, moai, write
from tests.worktree_support import (
    branches,
    commit_file,
    created,
    squash_merge,
    worktree_paths,
)


def _gitdir(wt: Path, env: dict[str, str]) -> Path:
    return Path(git(wt, "rev-parse", "--path-format=absolute", "--git-dir", env=env).strip())


def test_remove_clean_worktree_takes_our_state_with_it(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    wt = created(repo, env, "SPEC-R1")
    state = _gitdir(wt, env) / "moai"
    folder = private_folder(wt, env)
    assert (folder / "ownership.json").is_file() and (wt / SETTINGS).is_file()
    r = moai(repo, "worktree", "remove", "SPEC-R1", env=env)
    assert r.returncode == 0, r.stderr
    assert not wt.exists()
    assert not state.exists(), "per-worktree state lives in the worktree's git dir"
    assert not folder.exists(), "and its private folder in ~/.moai goes with it"
    assert worktree_paths(repo, env) == [str(repo)]
    assert "feature/SPEC-R1" in branches(repo, env), "the branch stays without --delete-branch"


def test_remove_refuses_dirty_and_untracked_work_naming_it(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    wt = created(repo, env, "SPEC-D1")
    write(wt / "README.md", "edited\n")
    write(wt / "new.txt", "untracked\n")
    for args in (("remove", "SPEC-D1"), ("remove", "SPEC-D1", "--delete-branch")):
        r = moai(repo, "worktree", *args, env=env)
        assert r.returncode == 1
        assert "README.md" in r.stderr and "new.txt" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
        assert (wt / "new.txt").exists() and (wt / "README.md").read_text() == "edited\n"
    # only the untracked file left: still refused
    git(wt, "checkout", "--", "README.md", env=env)
    r = moai(repo, "worktree", "remove", "SPEC-D1", env=env)
    assert r.returncode == 1 and "new.txt" in r.stderr and "README.md" not in r.stderr
    assert wt.exists()
    r = moai(repo, "worktree", "remove", "SPEC-D1", "--force", env=env)
    assert r.returncode == 0, r.stderr
    assert not wt.exists()


def test_delete_branch_only_when_merged_unless_forced(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    wt = created(repo, env, "SPEC-B1")
    commit_file(wt, env, "b.txt", "b\n", "unmerged work")
    r = moai(repo, "worktree", "remove", "SPEC-B1", "--delete-branch", env=env)
    assert r.returncode == 1 and "not merged" in r.stderr
    assert wt.exists(), "refused before anything was removed"
    assert "feature/SPEC-B1" in branches(repo, env)

    squash_merge(repo, env, "feature/SPEC-B1")
    r = moai(repo, "worktree", "remove", "SPEC-B1", "--delete-branch", env=env)
    assert r.returncode == 0, r.stderr
    assert not wt.exists() and "feature/SPEC-B1" not in branches(repo, env)

    wt2 = created(repo, env, "SPEC-B2")
    commit_file(wt2, env, "b2.txt", "b\n", "unmerged work")
    r = moai(repo, "worktree", "remove", "SPEC-B2", "--delete-branch", "--force", env=env)
    assert r.returncode == 0, r.stderr
    assert "feature/SPEC-B2" not in branches(repo, env)


def test_remove_locked_and_unknown(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    wt = created(repo, env, "SPEC-L1")
    git(repo, "worktree", "lock", "--reason", "on a usb disk", str(wt), env=env)
    r = moai(repo, "worktree", "remove", "SPEC-L1", "--force", env=env)
    assert r.returncode == 1 and "on a usb disk" in r.stderr and "unlock" in r.stderr
    assert wt.exists()
    r = moai(repo, "worktree", "remove", "SPEC-NONE", env=env)
    assert r.returncode == 2 and "SPEC-NONE" in r.stderr


def test_clean_merged_removes_squash_merged_keeps_dirty_unmerged_and_empty(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    squashed = created(repo, env, "SPEC-S1")
    commit_file(squashed, env, "s.txt", "s\n", "s work")
    commit_file(squashed, env, "s2.txt", "s\n", "more s work")
    squash_merge(repo, env, "feature/SPEC-S1")
    dirty = created(repo, env, "SPEC-D1")
    commit_file(dirty, env, "d.txt", "d\n", "d work")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge d", "feature/SPEC-D1", env=env)
    write(dirty / "wip.txt", "not committed\n")
    unmerged = created(repo, env, "SPEC-U1")
    commit_file(unmerged, env, "u.txt", "u\n", "u work")
    empty = created(repo, env, "SPEC-E1")
    gone = created(repo, env, "SPEC-G1")
    shutil.rmtree(gone)
    before = worktree_paths(repo, env)

    r = moai(repo, "worktree", "clean", "--merged", "--dry-run", env=env)
    assert r.returncode == 0, r.stderr
    assert f"would remove {squashed}" in r.stdout
    assert "would prune" in r.stdout
    assert worktree_paths(repo, env) == before and squashed.exists()

    r = moai(repo, "worktree", "clean", "--merged", env=env)
    assert r.returncode == 0, r.stderr
    assert not squashed.exists() and "feature/SPEC-S1" not in branches(repo, env)
    assert f"kept {dirty}" in r.stdout and "wip.txt" in r.stdout
    assert (dirty / "wip.txt").read_text() == "not committed\n"
    assert unmerged.exists() and empty.exists()
    assert f"kept {empty}" in r.stdout and "no commits" in r.stdout
    left = worktree_paths(repo, env)
    assert str(gone) not in left, "stale record pruned"
    assert sorted(left) == sorted([str(repo), str(dirty), str(unmerged), str(empty)])
    assert {"feature/SPEC-D1", "feature/SPEC-U1", "feature/SPEC-E1"} <= set(branches(repo, env))


def test_clean_without_merged_only_prunes(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    wt = created(repo, env, "SPEC-C1")
    commit_file(wt, env, "c.txt", "c\n", "c")
    git(repo, "merge", "-q", "feature/SPEC-C1", env=env)
    r = moai(repo, "worktree", "clean", env=env)
    assert r.returncode == 0 and "nothing to clean" in r.stdout
    assert wt.exists()
