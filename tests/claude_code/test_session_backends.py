"""The status line and the session hooks with backends beside GLM: each named by its
display name, and a session whose model (or endpoint) belongs to one backend held
where its worktree is now on another, with advice that works there. The installed
`moai` as Claude Code runs it: a JSON payload on stdin, real repositories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.claude_code.test_claude_code_hooks import GLM_URL, hook, statusline, transcript
from tests.gitrepo import git, write
from tests.names_support import DS_URL, LAB_URL, with_backends


@pytest.fixture
def routed(repo: Path, env: dict[str, str]) -> Path:
    with_backends(repo, env)
    return repo


def data(cwd: Path, model: str) -> dict[str, Any]:
    return {"model": {"id": model, "display_name": model}, "workspace": {"current_dir": str(cwd)}}


def held(cwd: Path, env: dict[str, str], payload: dict[str, Any], **extra: str) -> str:
    r = hook(cwd, env, "user-prompt-submit", {"cwd": str(cwd), **payload}, **extra)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["decision"] == "block", out
    reason: str = out["reason"]
    return reason


def not_held(cwd: Path, env: dict[str, str], payload: dict[str, Any], **extra: str) -> None:
    r = hook(cwd, env, "user-prompt-submit", {"cwd": str(cwd), **payload}, **extra)
    assert r.returncode == 0 and r.stdout == "", r.stdout


def test_the_status_line_names_the_routed_backend_and_marks_another_backends_model(
    routed: Path, env: dict[str, str]
) -> None:
    git(routed, "checkout", "-q", "-b", "feature/SPEC-DS", env=env)
    assert statusline(routed, env, data(routed, "deepseek-v4-pro")) == (
        "DeepSeek · deepseek-v4-pro · SPEC-DS · run/sync"
    )
    # A newer model of the family counts as DeepSeek's too.
    assert statusline(routed, env, data(routed, "deepseek-v5")).startswith("DeepSeek · ")
    assert statusline(routed, env, data(routed, "glm-4.7")) == (
        "⚠ on glm-4.7, DeepSeek here: /exit, then ANTHROPIC_MODEL=opus claude --continue"
        " · SPEC-DS · run/sync"
    )
    # The haiku tier's model picks the haiku tier on the way back.
    git(routed, "checkout", "-q", "-b", "exp/try", env=env)
    line = statusline(routed, env, data(routed, "deepseek-v4-flash"))
    assert line.startswith("⚠ on deepseek-v4-flash, GLM here: /exit, then claude --continue")
    git(routed, "checkout", "-q", "-b", "lab/x", env=env)
    assert statusline(routed, env, data(routed, "lab-small")) == "Lab · lab-small · lab/x"
    git(routed, "checkout", "-q", "main", env=env)
    line = statusline(routed, env, data(routed, "deepseek-v4-flash"))
    assert line.startswith(
        "⚠ on deepseek-v4-flash, Claude here: /exit, then ANTHROPIC_MODEL=haiku claude --continue"
    )
    # A gateway naming its model after the backend: said once.
    named = {"model": {"id": "lab-large", "display_name": "Lab"}, "cwd": str(routed)}
    git(routed, "checkout", "-q", "lab/x", env=env)
    assert statusline(routed, env, named) == "Lab · lab-large · lab/x"


def test_session_start_names_the_backend_the_session_talks_to_and_where_specs_go(
    routed: Path, env: dict[str, str]
) -> None:
    r = hook(routed, env, "session-start", {"cwd": str(routed)})
    assert "run and sync in a SPEC's worktree (feature/SPEC-*, DeepSeek: claude -w" in r.stdout
    git(routed, "checkout", "-q", "-b", "feature/SPEC-DS", env=env)
    on_ds = {"ANTHROPIC_BASE_URL": DS_URL, "ANTHROPIC_DEFAULT_OPUS_MODEL": "deepseek-v4-pro"}
    r = hook(routed, env, "session-start", {"cwd": str(routed)}, **on_ds)
    line = r.stdout.strip()
    assert line.startswith("moai: this session runs on DeepSeek (deepseek-v4-pro) on feature/")
    assert "WARNING" not in line
    on_glm = {"ANTHROPIC_BASE_URL": GLM_URL, "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-4.7"}
    r = hook(routed, env, "session-start", {"cwd": str(routed)}, **on_glm)
    assert "WARNING: the routing table says DeepSeek here (route 'feature/SPEC-*'" in r.stdout
    assert "this session talks to GLM: tell the user to /exit, then ANTHROPIC_MODEL=opus" in (
        r.stdout
    )


def test_a_session_on_one_backend_is_held_where_the_worktree_is_now_on_another(
    routed: Path, env: dict[str, str], tmp_path: Path
) -> None:
    on_ds = {"ANTHROPIC_BASE_URL": DS_URL, "ANTHROPIC_DEFAULT_OPUS_MODEL": "deepseek-v4-pro"}
    on_glm = {"ANTHROPIC_BASE_URL": GLM_URL, "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-4.7"}
    git(routed, "checkout", "-q", "-b", "feature/SPEC-DS", env=env)
    not_held(routed, env, {}, **on_ds)
    reason = held(routed, env, {}, **on_glm)
    assert reason.startswith("moai: held: this session talks to GLM, but feature/SPEC-DS in ")
    assert "is on DeepSeek now (route 'feature/SPEC-*' (llm.yaml) -> ds)" in reason
    assert reason.endswith("/exit, then ANTHROPIC_MODEL=opus claude --continue")
    # Its endpoint followed the switch, GLM's models did not: they never reach DeepSeek.
    stale = {"ANTHROPIC_BASE_URL": DS_URL, "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-4.7"}
    reason = held(routed, env, {}, **stale)
    assert reason.startswith(
        "moai: held: this session talks to DeepSeek's endpoint with GLM's models (glm-4.7)"
    )
    # Resumed: the transcript's last model is GLM's, sent again to DeepSeek.
    resumed = {"transcript_path": transcript(tmp_path, "deepseek-v4-pro", "glm-4.7")}
    reason = held(routed, env, resumed, **on_ds)
    assert reason.startswith("moai: held: this session would send glm-4.7, its transcript's last")
    assert "to DeepSeek (feature/SPEC-DS in" in reason
    assert reason.endswith("/exit, then ANTHROPIC_MODEL=opus claude --continue")
    # The advice followed: ANTHROPIC_MODEL beats the transcript's model.
    not_held(routed, env, resumed, **on_ds, ANTHROPIC_MODEL="opus")

    git(routed, "checkout", "-q", "-b", "exp/try", env=env)  # now on GLM
    reason = held(routed, env, {}, **on_ds)
    assert reason.startswith("moai: held: this session talks to DeepSeek, but exp/try in ")
    assert reason.endswith(
        "is on GLM now (route 'exp/*' (llm.yaml) -> glm) and a running "
        "session cannot follow; /exit, then claude --continue"
    )
    ds_last = {"transcript_path": transcript(tmp_path, "glm-4.7", "deepseek-v4-flash")}
    assert "would send deepseek-v4-flash" in held(routed, env, ds_last, **on_glm)

    git(routed, "checkout", "-q", "-b", "lab/x", env=env)  # a custom endpoint
    on_lab = {"ANTHROPIC_BASE_URL": LAB_URL, "ANTHROPIC_DEFAULT_OPUS_MODEL": "lab-large"}
    not_held(routed, env, {}, **on_lab)
    assert "is on Lab now" in held(routed, env, {}, **on_ds)
    git(routed, "checkout", "-q", "main", env=env)  # Claude
    reason = held(routed, env, {}, **on_lab)
    assert reason.startswith("moai: held: this session talks to Lab, but main in ")


def test_a_claude_pin_is_held_after_a_switch_to_any_backend(
    routed: Path, env: dict[str, str], home: Path
) -> None:
    """Its base URL follows the switch, its start-time model does not: DeepSeek would
    receive a Claude model id as is."""
    write(home / ".claude" / "settings.json", '{"model": "claude-opus-4-5-20251101"}\n')
    sid = {"session_id": "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"}
    r = hook(routed, env, "session-start", {"cwd": str(routed), "source": "startup", **sid})
    assert r.returncode == 0, r.stderr
    git(routed, "checkout", "-q", "-b", "feature/SPEC-PIN", env=env)
    on_ds = {"ANTHROPIC_BASE_URL": DS_URL, "ANTHROPIC_DEFAULT_OPUS_MODEL": "deepseek-v4-pro"}
    reason = held(routed, env, sid, **on_ds)
    assert reason.startswith(
        "moai: held: this session started on Claude with claude-opus-4-5-20251101 pinned, "
        "which it would send to DeepSeek as is"
    )
    assert reason.endswith("/exit, then ANTHROPIC_MODEL=opus claude --continue")
