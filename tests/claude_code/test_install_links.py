"""`moai hooks install|uninstall --claude-code` on a linked `.claude/settings.json`,
and the readers of a hostile one: the installed `moai`, real repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitrepo import git, moai, write

SHARED = '{\n  "permissions": {"allow": ["Bash(npm test)"]}\n}\n'


def _link_settings(repo: Path, dest: str, env: dict[str, str]) -> Path:
    link = repo / ".claude" / "settings.json"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(dest)
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-m", "team settings", env=env)
    return link


def test_a_link_inside_the_repository_keeps_its_link_and_its_target_is_written(
    repo: Path, env: dict[str, str]
) -> None:
    target = write(repo / "shared" / "s.json", SHARED)
    link = _link_settings(repo, "../shared/s.json", env)
    r = moai(repo, "hooks", "install", "--claude-code", env=env)
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and str(link.readlink()) == "../shared/s.json"
    doc = json.loads(target.read_text())
    assert doc["permissions"] == {"allow": ["Bash(npm test)"]}
    assert "SessionStart" in doc["hooks"]
    # git sees the team's file changed, not a link turned into a file (`T`)
    assert git(repo, "status", "--porcelain", env=env).split() == ["M", "shared/s.json"]
    st = moai(repo, "hooks", "status", env=env)
    assert "claude-code: installed in" in st.stdout, st.stdout + st.stderr

    r = moai(repo, "hooks", "uninstall", "--claude-code", env=env)
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and str(link.readlink()) == "../shared/s.json"
    assert target.read_text() == SHARED
    assert git(repo, "status", "--porcelain", env=env) == ""


def test_a_dangling_link_inside_gets_its_target_and_uninstall_removes_only_that(
    repo: Path, env: dict[str, str]
) -> None:
    (repo / "shared").mkdir()
    link = _link_settings(repo, "../shared/s.json", env)
    r = moai(repo, "hooks", "install", "--claude-code", env=env)
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and "SessionStart" in json.loads(link.read_text())["hooks"]
    r = moai(repo, "hooks", "uninstall", "--claude-code", env=env)
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and not (repo / "shared" / "s.json").exists()


@pytest.mark.parametrize("how", ["file", "folder"])
def test_a_link_leading_outside_the_repository_is_refused(
    repo: Path, env: dict[str, str], tmp_path: Path, how: str
) -> None:
    outside = write(tmp_path / "outside" / "settings.json", SHARED)
    if how == "file":
        _link_settings(repo, str(outside), env)
    else:
        (repo / ".claude").symlink_to(outside.parent)
        git(repo, "add", "-A", env=env)
        git(repo, "commit", "-q", "-m", "linked folder", env=env)
    for verb in ("install", "uninstall"):
        r = moai(repo, "hooks", verb, "--claude-code", env=env)
        assert r.returncode != 0, r.stdout
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        assert "link leading outside" in lines[0] and "settings.json" in lines[0]
    assert outside.read_text() == SHARED
    assert sorted(p.name for p in outside.parent.iterdir()) == ["settings.json"]
    assert not (repo / ".git" / "moai" / "claude-code-install.json").exists()
    assert git(repo, "status", "--porcelain", env=env) == ""


def test_user_settings_linked_outside_claude_folder_are_refused(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    dotfiles = write(home / "dotfiles" / "settings.json", SHARED)
    (home / ".claude").mkdir()
    (home / ".claude" / "settings.json").symlink_to(dotfiles)
    r = moai(repo, "hooks", "install", "--claude-code", "--user", env=env)
    assert r.returncode != 0, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "link leading outside" in lines[0], r.stderr
    assert dotfiles.read_text() == SHARED
    assert (home / ".claude" / "settings.json").is_symlink()
    assert not (home / ".moai" / "claude-code-install.json").exists()


def _deep(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth


def test_a_deeply_nested_committed_settings_is_one_line_for_every_reader(
    repo: Path, env: dict[str, str]
) -> None:
    path = write(repo / ".claude" / "settings.json", '{"hooks": ' + _deep() + "}\n")
    before = path.read_bytes()
    st = moai(repo, "hooks", "status", env=env)
    assert "Traceback" not in st.stderr and "RecursionError" not in st.stderr + st.stdout
    assert st.returncode == 0, st.stderr
    warned = [line for line in st.stdout.splitlines() if "nested more than" in line]
    assert warned and ".claude/settings.json" in warned[0], st.stdout
    for verb in ("install", "uninstall"):
        r = moai(repo, "hooks", verb, "--claude-code", env=env)
        assert r.returncode != 0 and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "nested more than" in r.stderr
    doc = moai(repo, "doctor", env=env)
    assert "Traceback" not in doc.stderr and "RecursionError" not in doc.stdout + doc.stderr
    assert doc.returncode == 1, doc.stderr
    assert any(
        ".claude/settings.json" in line and "nested more than" in line
        for line in doc.stdout.splitlines()
    ), doc.stdout
    assert path.read_bytes() == before


def test_a_committed_settings_that_is_a_fifo_or_huge_is_one_line(
    repo: Path, env: dict[str, str]
) -> None:
    import os

    path = repo / ".claude" / "settings.json"
    path.parent.mkdir()
    os.mkfifo(path)  # reading it would block: never opened for reading without O_NONBLOCK
    for args in (("hooks", "status"), ("doctor",), ("hooks", "install", "--claude-code")):
        r = moai(repo, *args, env=env)
        assert "Traceback" not in r.stderr, r.stderr
        assert "a FIFO" in r.stdout + r.stderr, (args, r.stdout, r.stderr)
    path.unlink()
    path.write_bytes(b'{"a": "' + b"x" * (5 << 20) + b'"}')
    r = moai(repo, "hooks", "install", "--claude-code", env=env)
    assert r.returncode != 0 and "larger than" in r.stderr, r.stderr
