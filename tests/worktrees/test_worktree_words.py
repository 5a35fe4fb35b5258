"""`empty` and `merged` in `moai worktree list`, and what `clean` does with each: real git.

empty: no commits of its own (new, or only fast-forwarded to main); merged: its own
commits landed on main (merge commit, fast-forward, squash)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.gitrepo import git, moai
from tests.worktree_support import branches, commit_file, created, listing, squash_merge

PYGIT2_PROBE = (
    "import atexit, sys; from moai_mashup.entry import main; sys.argv[0] = 'moai'\n"
    "atexit.register(lambda: sys.stderr.write(f'pygit2: {\"pygit2\" in sys.modules}'))\n"
    "main()"
)


def list_loads_pygit2(repo: Path, env: dict[str, str]) -> bool:
    """Whether `moai worktree list` imported pygit2: a graph cache miss."""
    r = subprocess.run(
        [sys.executable, "-c", PYGIT2_PROBE, "worktree", "list"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert r.returncode == 0 and r.stderr.startswith("pygit2: "), r.stderr
    return r.stderr == "pygit2: True"


def word(repo: Path, env: dict[str, str], spec_id: str) -> str:
    """The MERGED column of `moai worktree list` for SPEC-ID's row."""
    out = moai(repo, "worktree", "list", env=env)
    assert out.returncode == 0, out.stderr
    row = next(line for line in out.stdout.splitlines() if line.startswith(spec_id + " "))
    return row.split()[5]


def dry_run(repo: Path, env: dict[str, str], *flags: str) -> list[str]:
    r = moai(repo, "worktree", "clean", "--dry-run", *flags, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_a_fresh_worktree_is_empty_and_only_clean_empty_takes_it(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    wt = created(repo, env, "SPEC-N1")
    assert word(repo, env, "SPEC-N1") == "empty"
    row = listing(repo, env)["feature/SPEC-N1"]
    assert (row["empty"], row["merged"], row["commits"]) == (True, None, 0)
    assert dry_run(repo, env, "--merged") == [
        f"kept {wt}: feature/SPEC-N1 is empty: no commits of its own (--empty removes it)"
    ]
    assert dry_run(repo, env, "--empty") == [
        f"would remove {wt} and branch feature/SPEC-N1: empty: no commits of its own, --empty"
    ]
    r = moai(repo, "worktree", "clean", "--merged", env=env)
    assert r.returncode == 0 and wt.exists() and "feature/SPEC-N1" in branches(repo, env)
    r = moai(repo, "worktree", "clean", "--empty", env=env)
    assert r.returncode == 0, r.stderr
    assert not wt.exists() and "feature/SPEC-N1" not in branches(repo, env)


def test_a_worktree_only_fast_forwarded_to_main_is_empty_not_merged(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    wt = created(repo, env, "SPEC-F2")
    commit_file(repo, env, "m1.txt", "1\n", "main moves")
    commit_file(repo, env, "m2.txt", "2\n", "main moves again")
    git(wt, "merge", "-q", "--ff-only", "main", env=env)
    commit_file(repo, env, "m3.txt", "3\n", "main moves on")
    git(wt, "pull", "-q", "--ff-only", ".", "main", env=env)
    assert git(wt, "rev-parse", "HEAD", env=env) == git(repo, "rev-parse", "main", env=env)
    assert word(repo, env, "SPEC-F2") == "empty"
    assert dry_run(repo, env, "--merged") == [
        f"kept {wt}: feature/SPEC-F2 is empty: no commits of its own (--empty removes it)"
    ]
    r = moai(repo, "worktree", "clean", "--merged", env=env)
    assert r.returncode == 0 and wt.exists() and "feature/SPEC-F2" in branches(repo, env)
    assert dry_run(repo, env, "--merged", "--empty") == [
        f"would remove {wt} and branch feature/SPEC-F2: empty: no commits of its own, --empty"
    ]


def test_own_commits_merged_by_a_merge_commit_or_a_fast_forward_are_merged(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    merge = created(repo, env, "SPEC-M1")
    for n in range(3):
        commit_file(merge, env, f"m{n}.txt", f"{n}\n", f"m work {n}")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge m1", "feature/SPEC-M1", env=env)
    ff = created(repo, env, "SPEC-M2")
    commit_file(ff, env, "f.txt", "f\n", "f work")
    git(repo, "merge", "-q", "--ff-only", "feature/SPEC-M2", env=env)
    git(merge, "merge", "-q", "--ff-only", "main", env=env)  # then caught up: still merged
    assert word(repo, env, "SPEC-M1") == "merged" and word(repo, env, "SPEC-M2") == "merged"
    # The reflog's own commits and the tips share the graph cache, neither evicting
    # the other: a list where nothing moved needs no pygit2.
    assert not list_loads_pygit2(repo, env)
    assert listing(repo, env)["feature/SPEC-M1"]["commits"] == 3
    assert sorted(dry_run(repo, env, "--merged")) == [
        f"would remove {merge} and branch feature/SPEC-M1: "
        "merged: its 3 commits are in main (merge or fast-forward)",
        f"would remove {ff} and branch feature/SPEC-M2: "
        "merged: its 1 commit is in main (merge or fast-forward)",
    ]
    assert dry_run(repo, env, "--empty") == []
    r = moai(repo, "worktree", "clean", "--merged", env=env)
    assert r.returncode == 0, r.stderr
    assert not merge.exists() and not ff.exists()
    assert {"feature/SPEC-M1", "feature/SPEC-M2"}.isdisjoint(branches(repo, env))


def test_squash_merged_commits_are_merged(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    wt = created(repo, env, "SPEC-S3")
    for n in range(3):
        commit_file(wt, env, f"s{n}.txt", f"{n}\n", f"s work {n}")
    squash_merge(repo, env, "feature/SPEC-S3")
    assert word(repo, env, "SPEC-S3") == "squashed"
    assert dry_run(repo, env, "--merged") == [
        f"would remove {wt} and branch feature/SPEC-S3: merged: its 3 commits are in main (squash)"
    ]
    # Caught up with main afterwards (reset to it): its commits still landed.
    git(wt, "reset", "-q", "--hard", "main", env=env)
    assert word(repo, env, "SPEC-S3") == "squashed"
    r = moai(repo, "worktree", "clean", "--merged", env=env)
    assert r.returncode == 0, r.stderr
    assert not wt.exists() and "feature/SPEC-S3" not in branches(repo, env)


def test_own_commits_not_merged_are_neither_and_stay(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    wt = created(repo, env, "SPEC-U2")
    commit_file(wt, env, "u.txt", "u\n", "u work")
    assert word(repo, env, "SPEC-U2") == "no"
    # Reset back to main, the commit went nowhere: not empty, not merged.
    git(wt, "reset", "-q", "--hard", "main", env=env)
    assert word(repo, env, "SPEC-U2") == "no"
    assert dry_run(repo, env, "--merged", "--empty") == []
    r = moai(repo, "worktree", "clean", "--merged", "--empty", env=env)
    assert r.returncode == 0 and wt.exists() and "feature/SPEC-U2" in branches(repo, env)
