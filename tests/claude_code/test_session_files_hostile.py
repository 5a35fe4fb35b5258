"""The prompt hook and the status line read a checkout's files and moai's own state in
the git dir: a committed link to /dev/zero, a FIFO where a note should be, or a link
where a session's pin goes cannot hang them, fill memory or send a write outside."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.cost.bounded import run_moai
from tests.gitrepo import GLM_JSON, git

SID = "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"


def commit_link(repo: Path, env: dict[str, str], rel: str, target: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(target)
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", f"link {rel}", env=env)


def test_committed_links_to_dev_zero_are_not_read_forever(repo: Path, env: dict[str, str]) -> None:
    commit_link(repo, env, ".claude/settings.json", "/dev/zero")
    payload = json.dumps({"cwd": str(repo), "session_id": SID, "model": {"id": "claude-x"}})
    r = run_moai(repo, "hook-impl", "claude-code", "session-start", env=env, input=payload)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("moai: this session runs on Claude"), r.stdout
    assert r.peak_mib < 100


def test_a_committed_glm_json_linked_out_of_the_checkout_is_not_read(
    tmp_path: Path, repo: Path, env: dict[str, str]
) -> None:
    # Read through the link, the status line would take this URL for GLM's.
    outside = tmp_path / "outside.json"
    outside.write_text('{"env": {"ANTHROPIC_BASE_URL": "https://evil.invalid"}}')
    (repo / GLM_JSON).unlink()
    commit_link(repo, env, GLM_JSON, str(outside))
    payload = json.dumps({"cwd": str(repo)})
    r = run_moai(
        repo,
        "hook-impl",
        "claude-code",
        "session-start",
        env={**env, "ANTHROPIC_BASE_URL": "https://evil.invalid"},
        input=payload,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("moai: this session runs on Claude"), r.stdout
    assert "WARNING" not in r.stdout


def test_a_fifo_where_a_note_should_be_does_not_hang_the_prompt(
    repo: Path, env: dict[str, str]
) -> None:
    notes = repo / ".git" / "moai" / "claude-code-notes"
    notes.mkdir(parents=True)
    os.mkfifo(notes / SID)
    payload = json.dumps({"cwd": str(repo), "session_id": SID, "prompt": "hi"})
    r = run_moai(repo, "hook-impl", "claude-code", "user-prompt-submit", env=env, input=payload)
    assert r.returncode == 0 and r.stdout == "", (r.stdout, r.stderr)


def test_a_pin_is_never_written_through_a_link_leaving_the_git_dir(
    tmp_path: Path, repo: Path, env: dict[str, str], home: Path
) -> None:
    (home / ".claude").mkdir(exist_ok=True)
    (home / ".claude" / "settings.json").write_text('{"model": "claude-opus-4-5-20251101"}\n')
    outside = tmp_path / "outside"
    outside.mkdir()
    state = repo / ".git" / "moai"
    state.mkdir(parents=True, exist_ok=True)
    (state / "claude-code-pins").symlink_to(outside)
    payload = json.dumps({"cwd": str(repo), "source": "startup", "session_id": SID})
    r = run_moai(repo, "hook-impl", "claude-code", "session-start", env=env, input=payload)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("moai: this session runs on Claude"), r.stdout
    assert list(outside.iterdir()) == []
