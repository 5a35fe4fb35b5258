"""`moai init`, guided: answered in a real terminal (tmux), or by flags with no terminal;
either way the repository it leaves routes `feature/SPEC-X` to GLM on the next checkout."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core_fixtures import assert_unchanged, snapshot
from tests.gitrepo import (
    FAKE_KEY,
    GLM_JSON,
    LLM_YAML,
    MOAI,
    git,
    make_repo,
    moai,
    save_fake_key,
    settings,
    write,
)
from tests.tty_support import Tmux

COMMANDS = [f".claude/commands/moai/{n}.md" for n in ("1-plan", "2-run", "3-sync")]


@pytest.fixture
def bare(tmp_path: Path, env: dict[str, str]) -> Path:
    """A repository with one commit and no moai files."""
    return make_repo(tmp_path / "fresh", env, llm_yaml=None, glm_json=None)


@pytest.fixture
def term(tmp_path: Path) -> Iterator[list[Tmux]]:
    started: list[Tmux] = []
    yield started
    for t in started:
        t.close()


def hooks_dir(repo: Path) -> Path:
    return repo / ".git" / "hooks"


def commit_and_branch_to_spec(repo: Path, env: dict[str, str]) -> None:
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "moai-mashup", env=env)
    git(repo, "checkout", "-q", "-b", "feature/SPEC-X", env=env)


def assert_claude_code_hooks(repo: Path) -> None:
    doc = json.loads((repo / ".claude" / "settings.json").read_text())
    assert doc["statusLine"]["command"] == "moai statusline"
    assert set(doc["hooks"]) == {
        "WorktreeCreate",
        "WorktreeRemove",
        "SessionStart",
        "UserPromptSubmit",
    }


def assert_on_glm(repo: Path) -> None:
    doc = settings(repo)
    assert doc["env"]["ANTHROPIC_BASE_URL"] == "https://api.z.ai/api/anthropic", doc
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY


@pytest.mark.terminal
def test_defaults_in_a_terminal_route_a_spec_branch_to_glm(
    bare: Path, env: dict[str, str], home: Path, tmp_path: Path, term: list[Tmux]
) -> None:
    t = Tmux(tmp_path, [MOAI, "init"], bare, env)
    term.append(t)
    t.wait_for("Mode (claude-only, mashup, glm-only) [mashup]:")
    t.send("Enter")
    t.wait_for("GLM API key:")
    t.send(FAKE_KEY, literal=True)
    t.send("Enter")
    t.wait_for("Install the git hooks (the backend follows the branch)? [Y/n]:")
    t.send("Enter")
    t.wait_for("Install the Claude Code hooks and status line (.claude/settings.json)? [Y/n]:")
    t.send("Enter")
    t.wait_for("/moai:3-sync? [Y/n]:")
    t.send("Enter")
    screen = t.wait_for("[exit 0]")

    assert FAKE_KEY not in screen, "the key was echoed"
    assert f"saved GLM key {FAKE_KEY[:4]}…{FAKE_KEY[-4:]}" in screen
    key_file = home / ".moai" / ".env.glm"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert FAKE_KEY in key_file.read_text()
    # then `moai status`, then what to do next
    assert "mode:        mashup (from .moai/config/sections/llm.yaml)" in screen
    assert "hooks:       installed" in screen
    assert "next:" in screen and "moai worktree create SPEC-X" in screen
    assert (hooks_dir(bare) / "post-checkout").exists()
    assert all((bare / c).is_file() for c in COMMANDS)
    assert_claude_code_hooks(bare)

    commit_and_branch_to_spec(bare, env)
    assert_on_glm(bare)


@pytest.mark.terminal
def test_a_terminal_answered_no_installs_nothing_and_skips_the_key(
    bare: Path, env: dict[str, str], home: Path, tmp_path: Path, term: list[Tmux]
) -> None:
    t = Tmux(tmp_path, [MOAI, "init"], bare, env)
    term.append(t)
    t.wait_for("[mashup]:")
    t.send("glm-only", literal=True)
    t.send("Enter")
    t.wait_for("GLM API key:")
    t.send("not a key", literal=True)
    t.send("Enter")
    t.wait_for("contains whitespace or control characters")  # and asked again
    t.send("Enter")  # skip
    t.wait_for("(the backend follows the branch)? [Y/n]:")
    t.send("n", "Enter")
    t.wait_for("(.claude/settings.json)? [Y/n]:")
    t.send("n", "Enter")
    t.wait_for("/moai:3-sync? [Y/n]:")
    t.send("n", "Enter")
    screen = t.wait_for("[exit 0]")
    assert "key: skipped" in screen and "not a key" not in screen
    assert "mode:        glm-only" in screen and "moai glm --set-key" in screen
    assert not (home / ".moai" / ".env.glm").exists()
    assert not (hooks_dir(bare) / "post-checkout").exists()
    assert not (bare / ".claude").exists()
    assert "mode: glm-only" in (bare / LLM_YAML).read_text()


def test_flags_without_a_terminal_never_ask_and_route_to_glm(
    bare: Path, env: dict[str, str], home: Path
) -> None:
    r = subprocess.run(
        [
            MOAI,
            "init",
            "--mode",
            "mashup",
            "--hooks",
            "--claude-code",
            "--claude-commands",
            "--no-key",
        ],
        cwd=bare,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "?" not in r.stderr and "[Y/n]" not in r.stdout + r.stderr
    assert "moai glm --set-key" in r.stdout  # the next step names what is missing
    assert (hooks_dir(bare) / "post-checkout").exists()
    assert all((bare / c).is_file() for c in COMMANDS)
    assert_claude_code_hooks(bare)
    save_fake_key(home)
    commit_and_branch_to_spec(bare, env)
    assert_on_glm(bare)


def test_yes_takes_every_default_and_a_second_run_changes_nothing(
    bare: Path, env: dict[str, str], keyed_home: str
) -> None:
    r = moai(bare, "init", "--yes", env=env)
    assert r.returncode == 0, r.stderr
    assert (hooks_dir(bare) / "post-checkout").exists()
    assert all((bare / c).is_file() for c in COMMANDS)
    before = snapshot(bare)
    again = moai(bare, "init", "--yes", env=env)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout and "already installed" in again.stdout
    assert_unchanged(before, snapshot(bare))


def test_no_terminal_and_no_flags_only_writes_the_config(bare: Path, env: dict[str, str]) -> None:
    r = moai(bare, "init", env=env, input="")
    assert r.returncode == 0, r.stderr
    assert (bare / LLM_YAML).is_file() and (bare / GLM_JSON).is_file()
    assert not (hooks_dir(bare) / "post-checkout").exists()
    assert not (bare / ".claude").exists()
    assert "moai hooks install" in r.stdout


def test_never_overwrites_what_the_team_or_the_user_wrote(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    mine = write(repo / COMMANDS[0], "my own plan command\n")
    hook = write(hooks_dir(repo) / "post-checkout", "#!/bin/sh\necho mine\n")
    hook.chmod(0o755)
    team = (repo / LLM_YAML).read_bytes()
    cc_settings = '{"statusLine": {"type": "command", "command": "my-line"}}\n'
    write(repo / ".claude" / "settings.json", cc_settings)
    r = moai(repo, "init", "--yes", env=env)
    assert r.returncode == 0, r.stderr
    assert mine.read_text() == "my own plan command\n"
    assert "kept " + COMMANDS[0] in r.stdout
    assert (hooks_dir(repo) / "post-checkout.pre-moai").read_text() == "#!/bin/sh\necho mine\n"
    assert (repo / LLM_YAML).read_bytes() == team
    doc = json.loads((repo / ".claude" / "settings.json").read_text())
    assert doc["statusLine"] == {"type": "command", "command": "my-line"}
    assert "SessionStart" in doc["hooks"]  # merged in, next to the user's status line


def test_a_mode_other_than_the_teams_is_refused_with_nothing_changed(
    repo: Path, env: dict[str, str]
) -> None:
    before = snapshot(repo)
    r = moai(repo, "init", "--mode", "glm-only", "--yes", env=env)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and LLM_YAML in r.stderr and "llm.local.yaml" in r.stderr
    assert_unchanged(before, snapshot(repo))


@pytest.mark.parametrize("flags", [("--claude-code",), ("--yes",)])
def test_a_step_that_cannot_be_done_fails_before_anything_is_written(
    bare: Path, env: dict[str, str], flags: tuple[str, ...]
) -> None:
    write(bare / ".claude" / "settings.json", "{not json\n")
    before = snapshot(bare)
    r = moai(bare, "init", *flags, env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1 and "settings.json" in r.stderr
    assert_unchanged(before, snapshot(bare))
    # ...and without that step, the rest is done
    r = moai(bare, "init", "--yes", "--no-claude-code", env=env)
    assert r.returncode == 0, r.stderr
    assert (hooks_dir(bare) / "post-checkout").exists()
    assert (bare / ".claude" / "settings.json").read_text() == "{not json\n"
