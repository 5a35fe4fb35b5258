"""`moai hooks install` and the real pre-commit framework's `pre-commit install`,
in either order, uninstalled in either order: every checkout and commit works,
both run, and the user's own hook runs and comes back untouched.

Both tools keep a hook they replace; pre-commit always as `<hook>.legacy`
(moving whatever is at `<hook>` over it), so moai keeps the user's hook as
`<hook>.pre-moai` and, under pre-commit's script, puts its shim in pre-commit's
`<hook>.legacy` slot. The framework runs offline here: a `repo: local` hook.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import FAKE_KEY, clean_env, make_repo, moai, save_fake_key, settings, write
from tests.hooks_support import run_git

pytestmark = pytest.mark.pre_commit

TYPES = ("post-checkout", "pre-commit", "commit-msg")
USER_HOOK = """#!/bin/sh
# the user's own hook
echo "user $(basename "$0") $*" >> "$(git rev-parse --git-common-dir)/ran"
"""
PRE_COMMIT_CONFIG = "repos:\n  - repo: local\n    hooks:\n" + "".join(
    f"""\
      - id: team-{stage}
        name: team {stage}
        entry: sh -c 'echo "pc {stage}" >> "$(git rev-parse --git-common-dir)/ran"'
        language: system
        always_run: true
        pass_filenames: false
        stages: [{stage}]
"""
    for stage in ("post-checkout", "pre-commit", "commit-msg")
)


def _pre_commit(repo: Path, env: dict[str, str], *args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _pc_install(repo: Path, env: dict[str, str]) -> None:
    types = [a for t in TYPES for a in ("-t", t)]
    _pre_commit(repo, env, "install", "--allow-missing-config", *types)


def _pc_uninstall(repo: Path, env: dict[str, str]) -> None:
    _pre_commit(repo, env, "uninstall", *[a for t in TYPES for a in ("-t", t)])


def _moai(repo: Path, env: dict[str, str], *args: str) -> str:
    types = [a for t in TYPES for a in ("--hook-type", t)]
    r = moai(repo, "hooks", *args, *types, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _ran(repo: Path) -> list[str]:
    path = repo / ".git" / "ran"
    lines = path.read_text().splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return lines


def _exercise(repo: Path, env: dict[str, str], moai_on: bool, pc_on: bool, n: int) -> None:
    """A checkout to a SPEC branch and back, and a commit: who ran, and the backend."""
    branch = f"feature/SPEC-{n}"
    proc = run_git(repo, "checkout", "-q", "-b", branch, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "migration mode" not in proc.stderr
    ran = _ran(repo)
    assert any(line.startswith("user post-checkout") for line in ran), ran
    assert ("pc post-checkout" in ran) == pc_on, ran
    if moai_on:
        assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    run_git(repo, "checkout", "-q", "main", env=env)
    assert settings(repo).get("env", {}).get("ANTHROPIC_AUTH_TOKEN") is None
    _ran(repo)
    write(repo / f"work-{n}.txt", "work\n")
    run_git(repo, "add", f"work-{n}.txt", env=env)
    proc = run_git(repo, "commit", "-qm", f"work {n}", env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ran = _ran(repo)
    assert any(line.startswith("user pre-commit") for line in ran), ran
    assert ("pc pre-commit" in ran) == pc_on and ("pc commit-msg" in ran) == pc_on, ran
    if moai_on:  # moai's guard runs in the commit: a key in the message is refused
        write(repo / f"more-{n}.txt", "more\n")
        run_git(repo, "add", f"more-{n}.txt", env=env)
        proc = run_git(repo, "commit", "-qm", f"token {FAKE_KEY}", env=env, check=False)
        assert proc.returncode != 0 and "commit message" in proc.stderr, proc.stderr
        run_git(repo, "commit", "-qm", "clean", env=env)
        _ran(repo)


@pytest.mark.parametrize("first", ["pre-commit", "moai"])
@pytest.mark.parametrize("uninstall_first", ["pre-commit", "moai"])
def test_both_orders_with_the_users_hook_kept(
    tmp_path: Path, home: Path, first: str, uninstall_first: str
) -> None:
    save_fake_key(home)
    env = clean_env(home, PRE_COMMIT_HOME=str(tmp_path / "pc-home"))
    repo = make_repo(
        tmp_path / "project", env, files={".pre-commit-config.yaml": PRE_COMMIT_CONFIG}
    )
    hooks = repo / ".git" / "hooks"
    for t in ("post-checkout", "pre-commit"):
        write(hooks / t, USER_HOOK).chmod(0o755)

    if first == "pre-commit":
        _pc_install(repo, env)
        _moai(repo, env, "install")
    else:
        _moai(repo, env, "install")
        _pc_install(repo, env)
    _exercise(repo, env, moai_on=True, pc_on=True, n=1)
    assert "post-checkout: installed" in _moai(repo, env, "status")
    _moai(repo, env, "install")  # a refresh changes nothing that matters
    _exercise(repo, env, moai_on=True, pc_on=True, n=2)

    if uninstall_first == "moai":
        _moai(repo, env, "uninstall")
        _exercise(repo, env, moai_on=False, pc_on=True, n=3)
        _pc_uninstall(repo, env)
    else:
        _pc_uninstall(repo, env)
        _exercise(repo, env, moai_on=True, pc_on=False, n=3)
        _moai(repo, env, "uninstall")
    for t in ("post-checkout", "pre-commit"):
        assert (hooks / t).read_text() == USER_HOOK, f"the user's {t} hook was lost"
    assert sorted(p.name for p in hooks.iterdir() if not p.name.endswith(".sample")) == [
        "post-checkout",
        "pre-commit",
    ]


def test_an_older_moai_over_pre_commit_is_repaired_by_install(tmp_path: Path, home: Path) -> None:
    """The layout an older moai left: its shim at <hook>, pre-commit's script at
    <hook>.legacy (every checkout failed in pre-commit's "migration mode")."""
    save_fake_key(home)
    env = clean_env(home, PRE_COMMIT_HOME=str(tmp_path / "pc-home"))
    repo = make_repo(
        tmp_path / "project", env, files={".pre-commit-config.yaml": PRE_COMMIT_CONFIG}
    )
    hooks = repo / ".git" / "hooks"
    write(hooks / "post-checkout.pre-moai", USER_HOOK).chmod(0o755)
    _pc_install(repo, env)
    _moai(repo, env, "install")
    # Recreate the old layout by hand: ours on top, pre-commit's as .legacy.
    for t in TYPES:
        ours = (hooks / f"{t}.legacy").read_bytes()
        (hooks / t).rename(hooks / f"{t}.legacy.tmp")
        write(hooks / t, ours.decode()).chmod(0o755)
        (hooks / f"{t}.legacy.tmp").rename(hooks / f"{t}.legacy")
    _moai(repo, env, "install")
    write(hooks / "pre-commit.pre-moai", USER_HOOK).chmod(0o755)
    _exercise(repo, env, moai_on=True, pc_on=True, n=1)


def test_moai_over_pre_commit_without_a_users_hook(tmp_path: Path, home: Path) -> None:
    """The plain case: no hook of the user's; a checkout used to fail in
    pre-commit's "migration mode" (both tools kept the other as <hook>.legacy)."""
    save_fake_key(home)
    env = clean_env(home, PRE_COMMIT_HOME=str(tmp_path / "pc-home"))
    repo = make_repo(
        tmp_path / "project", env, files={".pre-commit-config.yaml": PRE_COMMIT_CONFIG}
    )
    _pc_install(repo, env)
    _moai(repo, env, "install")
    proc = run_git(repo, "checkout", "-q", "-b", "feature/SPEC-1", env=env, check=False)
    assert proc.returncode == 0 and "migration mode" not in proc.stderr, proc.stderr
    assert _ran(repo) == ["pc post-checkout"]
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    write(repo / "a.txt", "a\n")
    run_git(repo, "add", "a.txt", env=env)
    proc = run_git(repo, "commit", "-qm", "a", env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
