"""`moai init` in a repository that commits links: a `.gitignore`, `.claude` or
`.moai` that leads outside the repository is refused with one line, before
anything is written, and nothing outside the repository changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.core_fixtures import snapshot
from tests.gitrepo import GLM_JSON, LLM_YAML, clean_env, git, moai, write

NO_STEPS = ("--no-hooks", "--no-claude-code", "--no-claude-commands", "--no-key")


def _tree(path: Path) -> dict[str, bytes]:
    """Every file under `path` (links not followed), with its bytes."""
    out: dict[str, bytes] = {}
    for folder, _dirs, names in os.walk(path):
        for name in names:
            full = Path(folder, name)
            if not full.is_symlink():
                out[str(full.relative_to(path))] = full.read_bytes()
    return out


def _repo_in_home(tmp_path: Path, links: dict[str, str]) -> tuple[Path, Path, dict[str, str]]:
    """$HOME/repo (no moai config), committing `links` (name -> where it points)."""
    home = tmp_path / "home"
    env = clean_env(home)
    repo = home / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main", env=env)
    write(repo / "README.md", "# project\n")
    for name, dest in links.items():
        (repo / name).symlink_to(dest)
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-m", "initial", env=env)
    return home, repo, env


def _refused(r: object, name: str) -> None:
    import subprocess

    assert isinstance(r, subprocess.CompletedProcess)
    assert r.returncode != 0, r.stdout
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert name in lines[0] and "link leading outside" in lines[0], lines[0]


def test_a_gitignore_linked_to_the_users_gitconfig_is_never_appended_to(
    tmp_path: Path,
) -> None:
    home, repo, env = _repo_in_home(tmp_path, {".gitignore": "../.gitconfig"})
    before = (home / ".gitconfig").read_bytes()
    r = moai(repo, "init", *NO_STEPS, env=env)
    _refused(r, ".gitignore")
    assert "replace the link with a file" in r.stderr
    assert (home / ".gitconfig").read_bytes() == before
    # Found before anything was written: the repository is as it was, too.
    assert not (repo / ".moai").exists()
    assert git(repo, "status", "--porcelain", env=env) == ""


@pytest.mark.parametrize("steps", [("--yes", "--no-key"), ("--claude-commands", *NO_STEPS[:2])])
def test_a_claude_folder_linked_outside_gets_nothing(
    tmp_path: Path, steps: tuple[str, ...]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    write(outside / "keep.txt", "theirs\n")
    home, repo, env = _repo_in_home(tmp_path, {".claude": str(outside)})
    before_home = _tree(home)
    r = moai(repo, "init", *steps, env=env)
    _refused(r, ".claude")
    assert _tree(outside) == {"keep.txt": b"theirs\n"}
    assert _tree(home) == before_home  # llm.yaml and the rest not written either
    assert git(repo, "status", "--porcelain", env=env) == ""


def test_a_moai_folder_linked_outside_gets_no_config(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    _home, repo, env = _repo_in_home(tmp_path, {".moai": str(outside)})
    snap = snapshot(repo)
    r = moai(repo, "init", *NO_STEPS, env=env)
    _refused(r, ".moai")
    assert _tree(outside) == {}
    assert snapshot(repo) == snap
    assert not (repo / ".gitignore").exists()


def test_links_inside_the_repository_are_written_through(tmp_path: Path) -> None:
    """A team keeping its config in another folder of the repository links it: fine."""
    _home, repo, env = _repo_in_home(tmp_path, {".gitignore": "shared/gitignore"})
    write(repo / "shared" / "gitignore", "/build\n")
    r = moai(repo, "init", *NO_STEPS, env=env)
    assert r.returncode == 0, r.stderr
    assert (repo / ".gitignore").is_symlink()
    text = (repo / "shared" / "gitignore").read_text()
    assert text.startswith("/build\n") and "/.claude/settings.local.json" in text
    assert (repo / LLM_YAML).is_file() and (repo / GLM_JSON).is_file()
