"""A running Claude Code session across a switch (multi-turn `claude -p` over stream-json).

Measured on 2.1.197 and 2.1.332 (one user message per turn, the next written
after the `result` event and ~4 s for the settings watcher):

- 2.1.332 reloads a changed settings file (written in place or renamed over,
  or created after the session started) a few seconds later; 2.1.197 reloads a
  changed one but never picks up a settings.local.json that did not exist when
  the session started.
- A reload applies the files' env to the process, but a key removed from the
  files stays in the process environment.
- The `ANTHROPIC_DEFAULT_*_MODEL` tier mapping is applied at each turn, but
  the session's model itself (`model`, `ANTHROPIC_MODEL`, a full id pinned in
  any settings file) is fixed when the session starts.

So a switch Claude -> GLM is followed by the next turn (GLM key and models,
none of the user's credentials: moai writes every key the GLM side needs,
blanks included) where the file existed or on 2.1.332, unless the session
started with a model pinned by full id, which it keeps sending. The way back
leaves the GLM tier mapping (and, for OAuth or apiKeyHelper users, the GLM
token) in the process. Those cases need a restart (`/exit`, `claude
--continue`); the Claude Code `UserPromptSubmit` hook holds such a prompt back.
"""

from __future__ import annotations

import json
import subprocess
import time

from tests.e2e import claude_cli
from tests.e2e.conftest import CLAUDE_TOKEN, GLM_MODELS, Stage
from tests.gitrepo import FAKE_KEY

WATCH_S = 4.0  # Claude Code's settings watcher picks a change up within this


def turn(proc: subprocess.Popen[str], text: str) -> dict[str, object]:
    assert proc.stdin is not None and proc.stdout is not None
    message = {"type": "user", "message": {"role": "user", "content": text}}
    proc.stdin.write(json.dumps(message) + "\n")
    proc.stdin.flush()
    for line in proc.stdout:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("type") == "result":
            return event
    raise AssertionError(f"no result event; stderr: {proc.stderr.read() if proc.stderr else ''}")


def test_a_running_session_follows_a_switch_to_glm_with_the_glm_key_and_models(
    stage: Stage,
) -> None:
    argv = [str(stage.claude_bin), "-p", "--no-session-persistence", "--verbose"]
    argv += ["--input-format", "stream-json", "--output-format", "stream-json"]
    proc = subprocess.Popen(
        argv,
        cwd=stage.repo,
        env=stage.claude_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert turn(proc, "first").get("is_error") is False
        assert [r.authorization for r in stage.claude.messages()] == [f"Bearer {CLAUDE_TOKEN}"]
        stage.claude.clear()
        stage.checkout(stage.repo, "-b", "feature/SPEC-X")
        time.sleep(WATCH_S)
        assert turn(proc, "second").get("is_error") is False
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=claude_cli.TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if claude_cli.version_key(stage.claude_version) < (2, 1, 332):
        # no settings.local.json when the session started: it stays where it was,
        # whole (no GLM key, no GLM model on the Claude side)
        assert stage.glm.messages() == []
        for rec in stage.claude.messages():
            assert rec.authorization == f"Bearer {CLAUDE_TOKEN}"
            assert rec.model not in GLM_MODELS.values()
        return
    assert stage.claude.messages() == []
    glm = stage.glm.messages()
    assert glm, "the second turn reached no server"
    for rec in glm:
        assert rec.authorization == f"Bearer {FAKE_KEY}"
        assert rec.x_api_key is None
        assert rec.model == GLM_MODELS["opus"]
        assert CLAUDE_TOKEN not in json.dumps(rec.headers)
