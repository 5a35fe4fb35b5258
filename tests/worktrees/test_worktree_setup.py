"""Post-worktree setup: copied ignored files, glm.json, trusted on-create commands, run once."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.gitrepo import (
    FAKE_KEY,
    GLM_JSON,
    LLM_LOCAL_YAML,
    LLM_YAML,
    SEED_GLM_JSON,
    SEED_LLM_YAML,
    SETTINGS,
    git,
    make_repo,
    moai,
    settings,
    write,
)
from tests.worktree_support import create, created

ON_CREATE = SEED_LLM_YAML + (
    "  worktree:\n    on_create:\n      - echo ran >> on-create.log\n      - touch second.done\n"
)


def test_worktreeinclude_copies_only_ignored_files(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / ".gitignore", (repo / ".gitignore").read_text() + ".env\nsecrets/\n*.log\n")
    # gitignore syntax: `secrets/*`, since a file in an excluded directory cannot be re-included
    write(repo / ".worktreeinclude", ".env\nsecrets/*\nnotes.txt\n!secrets/skip.key\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "include", env=env)
    write(repo / ".env", "TOKEN=local\n")
    write(repo / "secrets" / "a.key", "a\n")
    write(repo / "secrets" / "deep" / "b.key", "b\n")
    write(repo / "secrets" / "skip.key", "no\n")
    write(repo / "notes.txt", "untracked, not ignored\n")
    write(repo / "build.log", "ignored, not included\n")
    r = create(repo, env, "SPEC-I1")
    assert r.returncode == 0, r.stderr
    wt = Path(moai(repo, "worktree", "path", "SPEC-I1", env=env).stdout.strip())
    assert (wt / ".env").read_text() == "TOKEN=local\n"
    assert (wt / "secrets" / "a.key").read_text() == "a\n"
    assert (wt / "secrets" / "deep" / "b.key").read_text() == "b\n"
    assert not (wt / "secrets" / "skip.key").exists(), "negated in .worktreeinclude"
    assert not (wt / "notes.txt").exists(), "not ignored: it would be untracked work there"
    assert not (wt / "build.log").exists()
    assert "copied from" in r.stdout
    assert git(wt, "status", "--porcelain", env=env) == ""


def test_worktree_copy_from_config_and_llm_local_yaml_takes_effect(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    text = SEED_LLM_YAML + "  worktree:\n    copy:\n      - .moai/config/sections/llm.local.yaml\n"
    write(repo / LLM_YAML, text)
    git(repo, "commit", "-qam", "copy local", env=env)
    write(repo / LLM_LOCAL_YAML, "llm:\n  mode: claude-only\n")
    wt = created(repo, env, "SPEC-L1")
    assert (wt / LLM_LOCAL_YAML).is_file()
    # the copied personal override (claude-only) decides the new worktree's backend
    assert not (wt / SETTINGS).exists()


def test_untracked_glm_json_copied_only_when_configured(
    tmp_path: Path, env: dict[str, str], keyed_home: str
) -> None:
    ignore = "/.claude/settings.local.json\n/.moai/llm-configs/glm.json\n"
    repo = make_repo(tmp_path / "p", env, glm_json=None, files={".gitignore": ignore})
    write(repo / GLM_JSON, SEED_GLM_JSON.replace("glm-4.7", "glm-local"))
    wt = created(repo, env, "SPEC-G1")
    assert (wt / GLM_JSON).read_text() == (repo / GLM_JSON).read_text()
    assert settings(wt)["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "glm-local"

    text = SEED_LLM_YAML.replace("copy_glm_config: true", "copy_glm_config: false")
    write(repo / LLM_YAML, text)
    git(repo, "commit", "-qam", "no copy", env=env)
    wt2 = created(repo, env, "SPEC-G2")
    assert not (wt2 / GLM_JSON).exists()
    assert settings(wt2)["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "glm-4.7", "built-in template"


def test_on_create_runs_only_once_trusted(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    write(repo / LLM_YAML, ON_CREATE)
    git(repo, "commit", "-qam", "on_create", env=env)
    r = create(repo, env, "SPEC-O1")
    assert r.returncode == 0, r.stderr
    wt = Path(moai(repo, "worktree", "path", "SPEC-O1", env=env).stdout.strip())
    assert not (wt / "on-create.log").exists()
    skipped = [line for line in (r.stdout + r.stderr).splitlines() if "worktree.on_create" in line]
    assert len(skipped) == 1 and "moai trust" in skipped[0]

    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    wt2 = created(repo, env, "SPEC-O2")
    assert (wt2 / "on-create.log").read_text() == "ran\n"
    assert (wt2 / "second.done").exists()

    # a changed command is not trusted any more
    write(repo / LLM_YAML, ON_CREATE.replace("touch second.done", "touch changed.done"))
    git(repo, "commit", "-qam", "changed", env=env)
    wt3 = created(repo, env, "SPEC-O3")
    assert not (wt3 / "on-create.log").exists() and not (wt3 / "changed.done").exists()


def test_failing_on_create_command_is_reported(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    text = SEED_LLM_YAML + "  worktree:\n    on_create:\n      - exit 7\n      - touch never\n"
    write(repo / LLM_YAML, text)
    git(repo, "commit", "-qam", "failing", env=env)
    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    r = create(repo, env, "SPEC-O4")
    assert r.returncode == 0, r.stderr
    assert "exit 7" in r.stdout
    wt = Path(moai(repo, "worktree", "path", "SPEC-O4", env=env).stdout.strip())
    assert not (wt / "never").exists()


HOOK = """#!/bin/sh
# stands in for the git hook: a new worktree (old sha = zeros) fires post-worktree
[ "$1" = "0000000000000000000000000000000000000000" ] || exit 0
exec {python} -c '
from moai_mashup.worktrees.setup import post_worktree
from moai_mashup.workspace import open_workspace
for line in post_worktree(open_workspace()):
    print("hook:", line)
'
"""


def test_hook_and_wrapper_both_firing_do_everything_once(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / LLM_YAML, ON_CREATE)
    write(repo / ".gitignore", (repo / ".gitignore").read_text() + ".env\n")
    write(repo / ".worktreeinclude", ".env\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "setup", env=env)
    write(repo / ".env", "A=1\n")
    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    hook = repo / ".git" / "hooks" / "post-checkout"
    write(hook, HOOK.format(python=sys.executable))
    hook.chmod(0o755)
    r = create(repo, env, "SPEC-H1")
    assert r.returncode == 0, r.stderr
    assert "hook: ran worktree.on_create" in r.stdout + r.stderr, "the hook did fire"
    wt = Path(moai(repo, "worktree", "path", "SPEC-H1", env=env).stdout.strip())
    assert (wt / "on-create.log").read_text() == "ran\n", "commands ran once"
    assert (wt / ".env").read_text() == "A=1\n"
    assert settings(wt)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert git(wt, "status", "--porcelain", env=env) == "?? on-create.log\n?? second.done\n"
