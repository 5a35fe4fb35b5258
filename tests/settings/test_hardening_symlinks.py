"""The key is never written through a symlink that leaves the worktree or lands
where git does not ignore it; a user's own symlinked settings file stays a link.

A repository can commit `.claude` as a symlink; `git check-ignore` refuses paths
"beyond a symbolic link", so only where the link leads tells whether the key
would leave the worktree or be committed. Covers the engine (CLI and hook) and
the prepared switch the hook takes without it (githooks/fast.py).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.core_fixtures import ready_dir, record_path
from tests.gitrepo import FAKE_KEY, SETTINGS, git, moai, settings, write
from tests.hooks_support import age, age_inputs, install, moai_lines, moai_written, run_git

USER_SETTINGS = '{\n  "model": "opus"\n}\n'


def _commit_claude_link(repo: Path, env: dict[str, str], target: str, branch: str) -> None:
    git(repo, "checkout", "-qb", branch, env=env)
    os.symlink(target, repo / ".claude")
    git(repo, "add", ".claude", env=env)
    git(repo, "commit", "-qm", "hostile .claude link", env=env)


def _holds_key(path: Path) -> bool:
    return path.exists() and FAKE_KEY in path.read_text()


def test_a_committed_claude_link_out_of_the_worktree_gets_no_key(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    _commit_claude_link(repo, env, str(outside), "feature/SPEC-1")
    r = moai(repo, "glm", env=env)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "symbolic link" in lines[0] and "outside" in lines[0], r.stderr
    assert not _holds_key(outside / "settings.local.json")

    # Through the hook: git succeeds, one line, the worktree stays on Claude.
    git(repo, "checkout", "-q", "main", env=env)
    install(repo, env)
    proc = run_git(repo, "checkout", "-q", "feature/SPEC-1", env=env)
    lines = moai_lines(proc.stderr)
    assert len(lines) == 1 and "left this worktree on Claude" in lines[0], proc.stderr
    assert "symbolic link" in lines[0]
    assert not list(outside.iterdir()), "nothing may be written outside the worktree"
    assert moai(repo, "status", "--json", env=env).returncode == 0


def test_a_committed_link_inside_the_worktree_but_not_ignored_gets_no_key(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / "conf" / "claude" / "README", "team settings\n")
    git(repo, "add", "conf", env=env)
    git(repo, "commit", "-qm", "conf", env=env)
    _commit_claude_link(repo, env, "conf/claude", "feature/SPEC-1")
    r = moai(repo, "glm", env=env)
    assert r.returncode == 1 and "does not ignore" in r.stderr, r.stderr
    assert not (repo / "conf" / "claude" / "settings.local.json").exists()
    assert git(repo, "status", "--porcelain", env=env) == ""


def test_the_prepared_switch_never_writes_through_a_link_checked_out_since(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, tmp_path: Path
) -> None:
    """On main (Claude) the engine prepared the GLM file; the SPEC branch brings a
    committed `.claude` link: the hook must not drop the prepared file through it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    _commit_claude_link(repo, env, str(outside), "feature/SPEC-evil")
    git(repo, "checkout", "-q", "main", env=env)
    run_git(repo, "branch", "feature/SPEC-1", env=env)
    install(repo, env)
    for branch in ("feature/SPEC-1", "main"):  # GLM once (ensures excludes), back
        run_git(repo, "checkout", "-q", branch, env=env)
    age_inputs(repo, home)
    (repo / ".git" / "moai" / "hook-stamp").unlink()
    run_git(repo, "checkout", "-q", "main", env=env)  # the engine stamps and prepares GLM
    age(*moai_written(repo, home), seconds=59)
    assert (ready_dir(repo, env) / "glm.settings").exists()
    proc = run_git(repo, "checkout", "-q", "feature/SPEC-evil", env=env)
    assert not list(outside.iterdir()), moai_lines(proc.stderr)
    assert any("symbolic link" in line for line in moai_lines(proc.stderr)), proc.stderr


def _user_link(repo: Path, env: dict[str, str], target: Path) -> Path:
    """The user's own `.claude/settings.local.json` symlink (dotfiles), mode 0644."""
    write(target, USER_SETTINGS)
    target.chmod(0o644)
    (repo / ".claude").mkdir(exist_ok=True)
    os.symlink(os.path.relpath(target, repo / ".claude"), repo / SETTINGS)
    return target


def test_a_users_link_inside_the_worktree_stays_a_link_and_keeps_its_mode(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    write(repo / ".git" / "info" / "exclude", "/.dotfiles/\n")
    target = _user_link(repo, env, repo / ".dotfiles" / "claude-local.json")
    install(repo, env)
    run_git(repo, "branch", "feature/SPEC-1", env=env)
    for _ in range(3):  # the engine first, then (once stamped) the prepared switch too
        proc = run_git(repo, "checkout", "-q", "feature/SPEC-1", env=env)
        assert (repo / SETTINGS).is_symlink(), proc.stderr
        assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
        assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it holds the key now
        proc = run_git(repo, "checkout", "-q", "main", env=env)
        assert (repo / SETTINGS).is_symlink(), proc.stderr
        assert target.read_text() == USER_SETTINGS
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        age_inputs(repo, home)
        age(*moai_written(repo, home), seconds=59)
    assert moai(repo, "glm", env=env).returncode == 0
    assert moai(repo, "claude", env=env).returncode == 0
    assert (repo / SETTINGS).is_symlink() and target.read_text() == USER_SETTINGS
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert git(repo, "status", "--porcelain", env=env) == ""


def test_a_users_link_out_of_the_worktree_gets_no_key(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    target = _user_link(repo, env, home / "dotfiles" / "claude-local.json")
    r = moai(repo, "glm", env=env)
    assert r.returncode == 1 and "outside this worktree" in r.stderr, r.stderr
    assert target.read_text() == USER_SETTINGS and (repo / SETTINGS).is_symlink()


def test_a_plain_file_keeps_its_mode_when_switched_back(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / SETTINGS, USER_SETTINGS)
    (repo / SETTINGS).chmod(0o640)
    assert moai(repo, "glm", env=env).returncode == 0
    assert stat.S_IMODE((repo / SETTINGS).stat().st_mode) == 0o600
    assert moai(repo, "claude", env=env).returncode == 0
    assert (repo / SETTINGS).read_text() == USER_SETTINGS
    assert stat.S_IMODE((repo / SETTINGS).stat().st_mode) == 0o640
    record = record_path(repo, env)
    assert not record.exists() or "original_mode" in json.loads(record.read_text())


def test_worktree_setup_copies_nothing_through_a_committed_link(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    """`.worktreeinclude` copies your ignored files into a new worktree; a SPEC branch
    that commits the target directory as a symlink must not receive them elsewhere."""
    from tests.worktree_support import create

    write(repo / ".gitignore", (repo / ".gitignore").read_text() + "secrets/\n")
    write(repo / ".worktreeinclude", "secrets/*\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "include", env=env)
    outside = tmp_path / "collected"
    outside.mkdir()
    git(repo, "checkout", "-qb", "feature/SPEC-EVIL", env=env)
    os.symlink(str(outside), repo / "secrets")
    git(repo, "add", "-f", "secrets", env=env)
    git(repo, "commit", "-qm", "link", env=env)
    git(repo, "checkout", "-q", "main", env=env)
    (repo / "secrets").unlink(missing_ok=True)
    write(repo / "secrets" / "prod.env", "TOKEN=mine\n")
    r = create(repo, env, "SPEC-EVIL", "--path", str(tmp_path / "wt-evil"))
    assert r.returncode == 0, r.stderr
    assert "not copied: secrets/prod.env" in r.stderr, r.stderr
    assert not list(outside.iterdir()), "an ignored file of the user's left through the link"
