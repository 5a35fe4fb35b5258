"""Where git runs no post-checkout: a rebase ending on another branch, a renamed branch.

Measured with git 2.39: `git rebase <upstream> <branch>` (merge backend) runs
post-checkout on a detached HEAD, then post-rewrite once <branch> is checked
out again; `--apply` runs post-rewrite while still detached; `git branch -m`
runs no hook at all. post-rewrite catches the first; the next moai entry point
(status, worktree list, apply) reports and fixes the rest.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.githooks.test_hooks_pre_commit import (  # noqa: F401 - fixtures used by name
    _pre_commit,
    moai_hooks_repo,
    pre_commit_home,
)
from tests.gitrepo import (
    FAKE_KEY,
    SETTINGS,
    clean_env,
    make_repo,
    moai,
    save_fake_key,
    settings,
    write,
)
from tests.hooks_support import (
    break_engine,
    hook_path,
    install,
    moai_lines,
    run_git,
    took_slow_path,
)
from tests.worktree_support import commit_file, listing


def _branches(repo: Path, env: dict[str, str]) -> None:
    run_git(repo, "checkout", "-q", "-b", "feature/SPEC-R1", env=env)
    commit_file(repo, env, "r.txt", "r\n", "spec work")
    run_git(repo, "checkout", "-q", "-b", "other", "main", env=env)
    commit_file(repo, env, "o.txt", "o\n", "other work")
    run_git(repo, "checkout", "-q", "main", env=env)
    commit_file(repo, env, "m.txt", "m\n", "main moves on")


def test_rebase_onto_upstream_ending_on_another_branch_applies_its_backend(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env)
    _branches(repo, env)
    assert not (repo / SETTINGS).exists()
    proc = run_git(repo, "rebase", "main", "feature/SPEC-R1", env=env)
    assert run_git(repo, "branch", "--show-current", env=env).stdout.strip() == "feature/SPEC-R1"
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert moai_lines(proc.stderr) == [
        "moai: this worktree now uses GLM (mode mashup + 'feature/SPEC-*' branch -> glm)"
    ]
    proc = run_git(repo, "rebase", "main", "other", env=env)
    assert run_git(repo, "branch", "--show-current", env=env).stdout.strip() == "other"
    assert "env" not in settings(repo)
    assert moai_lines(proc.stderr) == [
        "moai: this worktree now uses Claude (mode mashup + other branch -> claude)"
    ]
    info = json.loads(moai(repo, "status", "--json", env=env).stdout)
    assert info["active_backend"] == "claude" and not info["drift"]


def test_post_rewrite_chains_the_users_hook_with_its_stdin_and_amend_is_a_fast_no_op(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    log = repo.parent / "legacy.log"
    hook = hook_path(repo, "post-rewrite")
    write(hook, f'#!/bin/sh\n{{ echo "args: $*"; cat; }} >> {log}\nexit 0\n')
    hook.chmod(0o755)
    install(repo, env)
    assert hook.with_name("post-rewrite.pre-moai").exists()
    _branches(repo, env)
    run_git(repo, "rebase", "main", "feature/SPEC-R1", env=env)
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    text = log.read_text()
    assert "args: rebase" in text and len(text.splitlines()) == 2, "the rewritten commit listed"
    break_engine(hook)  # from here, any slow path would say "hook skipped"
    proc = run_git(repo, "commit", "-q", "--amend", "-m", "spec work, amended", env=env)
    assert not took_slow_path(proc) and moai_lines(proc.stderr) == []
    assert "args: amend" in log.read_text()


def test_a_branch_renamed_where_git_runs_no_hook_is_reported_and_fixed_at_the_next_entry(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env)
    run_git(repo, "checkout", "-q", "-b", "feature/SPEC-R2", env=env)
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    proc = run_git(repo, "branch", "-m", "experiment", env=env)
    assert moai_lines(proc.stderr) == [], "git runs no hook for a rename"
    info = json.loads(moai(repo, "status", "--json", env=env).stdout)
    assert info["branch"] == "experiment"
    assert (info["expected_backend"], info["active_backend"], info["drift"]) == (
        "claude",
        "glm",
        True,
    )
    assert info["fix"] == "moai apply"
    assert listing(repo, env)["experiment"]["drift"] is True
    assert moai(repo, "apply", env=env).returncode == 0
    assert "env" not in settings(repo)


@pytest.mark.pre_commit
def test_pre_commit_framework_post_rewrite(
    tmp_path: Path, home: Path, request: pytest.FixtureRequest
) -> None:
    """With test_hooks_pre_commit's snapshot of this repository and pre-commit home."""
    save_fake_key(home)
    env = clean_env(home, PRE_COMMIT_HOME=str(request.getfixturevalue("pre_commit_home")))
    repo = make_repo(tmp_path / "consumer", env)
    src, sha = request.getfixturevalue("moai_hooks_repo")
    write(
        repo / ".pre-commit-config.yaml",
        "default_install_hook_types: [post-checkout, post-rewrite]\n"
        "repos:\n"
        f"  - repo: {src}\n"
        f"    rev: {sha}\n"
        "    hooks:\n"
        "      - id: moai-post-checkout\n"
        "      - id: moai-post-rewrite\n",
    )
    run_git(repo, "add", "-A", env=env)
    run_git(repo, "commit", "-qm", "pre-commit config", env=env)
    for args in (("install", "--allow-missing-config"), ("install-hooks",)):
        r = _pre_commit(repo, env, *args)
        assert r.returncode == 0, r.stdout + r.stderr
    _branches(repo, env)
    run_git(repo, "rebase", "main", "feature/SPEC-R1", env=env)
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    run_git(repo, "commit", "-q", "--amend", "-m", "amended", env=env)
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
