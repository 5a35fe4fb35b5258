"""This repository consumed by the real pre-commit framework, by local path.

A snapshot of the working tree (package, pyproject, .pre-commit-hooks.yaml)
is committed into a temporary repository that a consumer's
.pre-commit-config.yaml names with `repo: <path>` and `rev: <sha>`, as it
would name the published repository; pre-commit builds its venv from it
(pip, from PyPI) once per test session.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
from tests.hooks_support import moai_lines, run_git

PROJECT = Path(__file__).resolve().parents[2]


def _pre_commit(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


@pytest.fixture(scope="session")
def moai_hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A committed snapshot of this repository; returns (path, sha)."""
    root = tmp_path_factory.mktemp("moai-mashup-src")
    env = clean_env(tmp_path_factory.mktemp("src-home"))
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(PROJECT / "src", root / "src", ignore=ignore)
    shutil.copytree(PROJECT / "bin", root / "bin")  # the `moai` script
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(PROJECT / name, root / name)
    run_git(root, "init", "-q", "-b", "main", env=env)
    run_git(root, "add", "-A", env=env)
    run_git(root, "commit", "-qm", "snapshot", env=env)
    return root, run_git(root, "rev-parse", "HEAD", env=env).stdout.strip()


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.mark.pre_commit
def test_pre_commit_framework_post_checkout_and_guard(
    tmp_path: Path,
    home: Path,
    moai_hooks_repo: tuple[Path, str],
    pre_commit_home: Path,
) -> None:
    save_fake_key(home)
    env = clean_env(home, PRE_COMMIT_HOME=str(pre_commit_home))
    repo = make_repo(tmp_path / "consumer", env)
    run_git(repo, "branch", "before-pre-commit", env=env)  # a branch without the config
    src, sha = moai_hooks_repo
    write(
        repo / ".pre-commit-config.yaml",
        "default_install_hook_types: [pre-commit, post-checkout]\n"
        "default_stages: [pre-commit]\n"
        "repos:\n"
        f"  - repo: {src}\n"
        f"    rev: {sha}\n"
        "    hooks:\n"
        "      - id: moai-post-checkout\n"
        "      - id: moai-guard\n",
    )
    run_git(repo, "add", "-A", env=env)
    run_git(repo, "commit", "-qm", "pre-commit config", env=env)

    r = _pre_commit(repo, env, "install", "--allow-missing-config")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (repo / ".git/hooks/post-checkout").exists() and (
        repo / ".git/hooks/pre-commit"
    ).exists()
    r = _pre_commit(repo, env, "install-hooks")  # builds the venv from the snapshot
    assert r.returncode == 0, r.stdout + r.stderr
    r = moai(repo, "status", "--json", env=env)
    assert json.loads(r.stdout)["hooks_installed"] is True, r.stderr

    r = run_git(repo, "checkout", "-b", "feature/SPEC-1", env=env)
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY, r.stdout + r.stderr
    assert FAKE_KEY not in r.stdout + r.stderr
    run_git(repo, "checkout", "main", env=env)
    assert settings(repo) == {}

    # File checkouts (PRE_COMMIT_CHECKOUT_TYPE=0) change nothing.
    run_git(repo, "checkout", "feature/SPEC-1", env=env)
    before = (repo / SETTINGS).read_text()
    write(repo / "README.md", "edited\n")
    run_git(repo, "checkout", "--", "README.md", env=env)
    assert (repo / SETTINGS).read_text() == before

    # The commit-time guard refuses the settings file that holds the key.
    run_git(repo, "add", "-f", SETTINGS, env=env)
    r = run_git(repo, "commit", "-m", "oops", env=env, check=False)
    assert r.returncode != 0
    assert "git rm --cached -- .claude/settings.local.json" in r.stdout + r.stderr
    assert FAKE_KEY not in r.stdout + r.stderr
    run_git(repo, "reset", "-q", env=env)

    # A branch without .pre-commit-config.yaml: git switch still succeeds.
    r = run_git(repo, "switch", "before-pre-commit", env=env)
    assert r.returncode == 0
    assert moai_lines(r.stderr) == []
