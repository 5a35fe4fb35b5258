"""`moai worktree create` on real repositories: where, which branch, which backend, refusals."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.core_fixtures import record_path
from tests.gitrepo import (
    FAKE_KEY,
    LLM_YAML,
    MOAI,
    SEED_LLM_YAML,
    SETTINGS,
    git,
    make_repo,
    moai,
    settings,
    write,
)
from tests.worktree_support import branches, commit_file, create, created, worktree_paths


def test_create_puts_spec_worktree_under_home_on_glm(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    r = create(repo, env, "SPEC-AUTH-001")
    assert r.returncode == 0, r.stderr
    wt = home / "worktrees" / "project" / "SPEC-AUTH-001"
    assert wt.is_dir()
    assert git(wt, "branch", "--show-current", env=env).strip() == "feature/SPEC-AUTH-001"
    assert git(wt, "rev-parse", "HEAD", env=env) == git(repo, "rev-parse", "main", env=env)
    assert settings(wt)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert not (repo / SETTINGS).exists(), "main stays on Claude"
    assert FAKE_KEY not in r.stdout + r.stderr
    assert "feature/SPEC-AUTH-001" in r.stdout and "glm" in r.stdout
    # our record lives in the worktree's private folder in ~/.moai, not in the work
    # tree nor in its git dir (which holds only the pointer)
    gitdir = Path(git(wt, "rev-parse", "--path-format=absolute", "--git-dir", env=env).strip())
    assert record_path(wt, env).is_file()
    assert (gitdir / "moai" / "private-id").is_file()
    assert not (gitdir / "moai" / "ownership.json").exists()
    assert git(wt, "status", "--porcelain", env=env) == ""
    p = moai(repo, "worktree", "path", "SPEC-AUTH-001", env=env)
    assert p.stdout.strip() == str(wt)


def test_flags_beat_the_routing_table(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    wt = created(repo, env, "SPEC-C1", "--claude")
    assert not (wt / SETTINGS).exists()
    write(repo / LLM_YAML, SEED_LLM_YAML.replace("mode: mashup", "mode: claude-only"))
    git(repo, "commit", "-qam", "claude-only", env=env)
    wt2 = created(repo, env, "SPEC-G1", "--glm")
    assert settings(wt2)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    wt3 = created(repo, env, "SPEC-T1")
    assert not (wt3 / SETTINGS).exists(), "claude-only: the table says Claude"


def test_both_flags_is_bad_input(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    r = create(repo, env, "SPEC-X1", "--glm", "--claude")
    assert r.returncode == 2 and "--glm" in r.stderr
    assert branches(repo, env) == ["main"]


def test_existing_branch_is_reused(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    git(repo, "switch", "-qc", "feature/SPEC-OLD", env=env)
    sha = commit_file(repo, env, "work.txt", "done\n", "earlier work")
    git(repo, "switch", "-q", "main", env=env)
    r = create(repo, env, "SPEC-OLD", "--base", "does-not-matter")
    assert r.returncode == 0, r.stderr
    assert "existing branch" in r.stdout
    wt = Path(moai(repo, "worktree", "path", "SPEC-OLD", env=env).stdout.strip())
    assert git(wt, "rev-parse", "HEAD", env=env).strip() == sha


def test_branch_checked_out_elsewhere_names_where(
    repo: Path, env: dict[str, str], tmp_path: Path, keyed_home: str
) -> None:
    other = tmp_path / "by-hand"
    git(repo, "worktree", "add", "-qb", "feature/SPEC-DUP", str(other), env=env)
    r = create(repo, env, "SPEC-DUP")
    assert r.returncode == 1
    assert str(other) in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert len(worktree_paths(repo, env)) == 2


@pytest.mark.parametrize("bad", ["../../x", "SPEC-a b", "SPEC-X/../Y", "feature", "SPEC-", ""])
def test_invalid_spec_id_is_refused_and_nothing_made(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, bad: str
) -> None:
    r = create(repo, env, bad)
    assert r.returncode == 2
    assert "SPEC-AUTH-001" in r.stderr, "the message shows the accepted shape"
    assert len(r.stderr.strip().splitlines()) == 1
    assert branches(repo, env) == ["main"]
    assert not (home / "worktrees").exists()


def test_repository_without_commits(tmp_path: Path, env: dict[str, str], home: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main", env=env)
    r = create(empty, env, "SPEC-E1", "--claude")
    assert r.returncode == 2
    assert "no commits" in r.stderr
    assert not (home / "worktrees").exists()
    assert git(empty, "branch", "--list", env=env) == ""


def test_non_empty_path_refused_empty_path_accepted(
    repo: Path, env: dict[str, str], tmp_path: Path, keyed_home: str
) -> None:
    full = tmp_path / "full"
    write(full / "keep.txt", "mine\n")
    r = create(repo, env, "SPEC-P1", "--path", str(full))
    assert r.returncode == 2 and str(full) in r.stderr and "not an empty directory" in r.stderr
    assert (full / "keep.txt").read_text() == "mine\n"
    assert branches(repo, env) == ["main"]
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    r = create(repo, env, "SPEC-P1", "--path", str(empty))
    assert r.returncode == 0, r.stderr
    assert (empty / "README.md").is_file()


def test_base_ref_and_bad_base(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    first = git(repo, "rev-parse", "HEAD", env=env).strip()
    commit_file(repo, env, "later.txt", "x\n", "later")
    wt = created(repo, env, "SPEC-B1", "--base", first)
    assert git(wt, "rev-parse", "HEAD", env=env).strip() == first
    r = create(repo, env, "SPEC-B2", "--base", "no-such-ref")
    assert r.returncode == 2 and "no-such-ref" in r.stderr
    assert "feature/SPEC-B2" not in branches(repo, env)


def test_missing_key_fails_before_anything_exists(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    r = create(repo, env, "SPEC-K1")
    assert r.returncode == 2
    assert "key" in r.stderr.lower()
    assert branches(repo, env) == ["main"]
    assert not (home / "worktrees").exists()


def test_failed_checkout_leaves_no_branch_directory_or_claim(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    # A foreign post-checkout hook that fails makes `git worktree add` fail after the
    # worktree and the branch exist: create must take both back.
    hook = repo / ".git" / "hooks" / "post-checkout"
    write(hook, "#!/bin/sh\necho 'hook says no' >&2\nexit 3\n")
    hook.chmod(0o755)
    r = create(repo, env, "SPEC-F1")
    assert r.returncode != 0
    assert "hook says no" in r.stderr
    assert branches(repo, env) == ["main"]
    assert worktree_paths(repo, env) == [str(repo)]
    assert not (home / "worktrees").exists()
    assert not (repo / ".git" / "worktrees" / "SPEC-F1").exists()


def test_same_project_name_and_spec_id_never_collide(
    tmp_path: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    one = make_repo(tmp_path / "a" / "app", env)
    two = make_repo(tmp_path / "b" / "app", env)
    p1 = created(one, env, "SPEC-1")
    p2 = created(two, env, "SPEC-1")
    assert p1 == home / "worktrees" / "app" / "SPEC-1"
    assert p2 != p1 and p2.parent.name.startswith("app-") and p2.name == "SPEC-1"
    assert git(p1, "rev-parse", "--git-common-dir", env=env).strip() == str(one / ".git")
    assert git(p2, "rev-parse", "--git-common-dir", env=env).strip() == str(two / ".git")
    # stable: the second repository keeps its own root for its next SPEC
    assert created(two, env, "SPEC-2").parent == p2.parent
    assert created(one, env, "SPEC-2").parent == p1.parent


def test_worktree_root_from_config(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    text = SEED_LLM_YAML + '  worktree:\n    root: "../{project}-trees"\n'
    write(repo / LLM_YAML, text)
    git(repo, "commit", "-qam", "root", env=env)
    wt = created(repo, env, "SPEC-R1")
    assert wt == repo.parent / "project-trees" / "SPEC-R1"


def test_four_parallel_creates_all_succeed(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    ids = ["SPEC-P1", "SPEC-P2", "SPEC-P3", "SPEC-P4"]
    procs = [
        subprocess.Popen(
            [MOAI, "worktree", "create", spec],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for spec in ids
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert len(worktree_paths(repo, env)) == 5
    for spec in ids:
        wt = Path(moai(repo, "worktree", "path", spec, env=env).stdout.strip())
        assert git(wt, "branch", "--show-current", env=env).strip() == f"feature/{spec}"
        doc = json.loads((wt / SETTINGS).read_text())
        assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
        assert git(wt, "status", "--porcelain", env=env) == ""
    assert git(repo, "fsck", "--no-progress", env=env, check=True) is not None


def test_create_twice_is_a_clear_error(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    wt = created(repo, env, "SPEC-T2")
    r = create(repo, env, "SPEC-T2")
    assert r.returncode == 1 and str(wt) in r.stderr


def test_branch_of_a_deleted_worktree_points_to_clean(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    import shutil

    wt = created(repo, env, "SPEC-GONE")
    shutil.rmtree(wt)
    r = create(repo, env, "SPEC-GONE")
    assert r.returncode == 1 and "moai worktree clean" in r.stderr
    assert moai(repo, "worktree", "clean", env=env).returncode == 0
    assert created(repo, env, "SPEC-GONE") == wt, "the existing branch is reused"


BACKENDS_YAML = SEED_LLM_YAML + "  backends:\n    ds: {preset: deepseek}\n"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--backend", "lab"), "--backend lab: no backend 'lab' in .moai/config/sections/llm.yaml"),
        (("--backend", "Bad_Name"), "--backend Bad_Name: 'Bad_Name' is not a backend name"),
        (("--backend", "ds", "--glm"), "--glm and --backend: choose one"),
        (("--backend", "ds"), "no ds key found in ~/.moai/.env.ds"),
    ],
)
def test_backend_flag_refuses_an_unknown_name_or_a_missing_key_and_makes_nothing(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, args: tuple[str, ...], said: str
) -> None:
    write(repo / LLM_YAML, BACKENDS_YAML)
    git(repo, "commit", "-qam", "backends", env=env)
    r = create(repo, env, "SPEC-B1", *args)
    assert r.returncode == 2 and r.stdout == "", r.stdout
    assert r.stderr.count("\n") == 1 and said in r.stderr, r.stderr
    if "no backend" in said:
        assert "choose one of claude, glm, ds, or add llm.backends.lab there" in r.stderr
    assert branches(repo, env) == ["main"] and worktree_paths(repo, env) == [str(repo)]
    assert not (home / "worktrees").exists()
