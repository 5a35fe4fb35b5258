"""A session resumed after a switch, and the advice moai prints, followed with the real CLI.

Measured on 2.1.197 and 2.1.332 (`claude -p --continue` after a persisted `claude
-p` in the same checkout; interactive `claude --continue` does the same, and
does not find sessions made with -p):

- The hooks get `session_id`, `transcript_path` and `cwd`; SessionStart gets
  `model` only for an interactive start, never on `--continue` (`source:
  resume`), and UserPromptSubmit never. Neither sees `--model`.
- 2.1.332 restores the model the transcript ends with: a GLM session continued
  after `git checkout main` sends `glm-4.7` to the user's Claude endpoint with
  the Claude token (`[claude-code:unrecognized_model]`). 2.1.197 restores only
  a model it knows and falls back to its default for `glm-4.7`.
- `ANTHROPIC_MODEL` (the shell's, or a settings env's: moai's tier alias on
  GLM) and `--model opus|sonnet` beat the restored model on both. `/model
  sonnet` inside the session works too, but saves the model as the default for
  new sessions, and a running session still holds GLM's tier mapping.

So the prompt hook reads the transcript's last model and holds a prompt that
would send it to a backend that does not serve it, with advice it can check:
`ANTHROPIC_MODEL=<tier> claude --continue` (the hooks see that variable).
"""

from __future__ import annotations

import json
import re
import subprocess

from tests.e2e import claude_cli
from tests.e2e.conftest import CLAUDE_TOKEN, GLM_MODELS, Stage
from tests.e2e.test_claude_code_hooks import install


def persisted(stage: Stage, *args: str, env: dict[str, str] | None = None) -> claude_cli.Reply:
    """`claude -p` in the main checkout, keeping the session for --continue."""
    stage.claude.clear()
    stage.glm.clear()
    argv = [str(stage.claude_bin), "-p", "--output-format", "json", *args, "--", "go on"]
    proc = subprocess.Popen(
        argv,
        cwd=stage.repo,
        env={**stage.claude_env(), **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return claude_cli.finish(proc)


def follow(advice: str) -> tuple[dict[str, str], list[str]]:
    """`/exit, then VAR=value claude --continue ...` as the environment and arguments."""
    command = advice.removeprefix("/exit, then ").split()
    env = {}
    while "=" in command[0]:
        name, _, value = command.pop(0).partition("=")
        env[name] = value
    assert command[0] == "claude", advice
    return env, command[1:]


def test_a_glm_session_continued_on_main_is_held_and_the_advice_brings_it_back_on_claude(
    stage: Stage,
) -> None:
    install(stage)
    stage.checkout(stage.repo, "-b", "feature/SPEC-R")
    first = persisted(stage)
    assert first.ok and stage.glm.messages() and not stage.claude.messages(), first
    stage.checkout(stage.repo, "main")

    held = persisted(stage, "--continue")
    # Without the hold, 2.1.332 sends glm-4.7 to the Claude endpoint with the Claude token.
    assert not stage.claude.messages() and not stage.glm.messages(), held
    text = held.stdout + held.stderr
    assert "moai: held: this session would send glm-4.7" in text, held
    found = re.search(r"/exit, then [^\"]*?claude --continue", text)
    assert found, text
    assert found.group(0) == "/exit, then ANTHROPIC_MODEL=opus claude --continue"

    env, args = follow(found.group(0))
    back = persisted(stage, *args, env=env)
    assert back.ok, back
    assert stage.claude.messages() and not stage.glm.messages(), back
    for rec in stage.claude.messages():
        assert rec.authorization == f"Bearer {CLAUDE_TOKEN}"
        assert rec.model and rec.model.startswith("claude-"), rec.model

    # The transcript now ends with Claude's model: a plain --continue goes through.
    again = persisted(stage, "--continue")
    assert again.ok, again
    assert [r.model for r in stage.claude.messages()] == [
        r.model for r in stage.claude.messages() if r.model and r.model.startswith("claude-")
    ]
    assert stage.claude.messages() and not stage.glm.messages(), again


def test_a_claude_session_continued_on_a_spec_branch_goes_to_glm_unheld(stage: Stage) -> None:
    """The way to GLM needs no more than `claude --continue`: moai's ANTHROPIC_MODEL tier
    alias beats the transcript's Claude model on both versions."""
    install(stage)
    first = persisted(stage)
    assert first.ok and stage.claude.messages() and not stage.glm.messages(), first
    stage.checkout(stage.repo, "-b", "feature/SPEC-R")
    on_glm = persisted(stage, "--continue")
    assert on_glm.ok, on_glm
    assert not stage.claude.messages()
    assert [r.model for r in stage.glm.messages()] == [GLM_MODELS["opus"]], on_glm
    assert stage.glm.messages()[0].mentions("moai: this session runs on GLM")


def session_start_line(stage: Stage) -> str:
    """moai's SessionStart line for a `--continue` here, from the payload Claude Code
    gives it (measured above: no `model` on resume)."""
    transcript = next((stage.home / ".claude" / "projects").rglob("*.jsonl"))
    payload = {"cwd": str(stage.repo), "transcript_path": str(transcript), "source": "resume"}
    out = subprocess.run(
        ["moai", "hook-impl", "claude-code", "session-start"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env=stage.claude_env(),
        check=True,
    )
    return out.stdout


def test_session_start_names_the_resumed_model_and_warns(stage: Stage) -> None:
    """SessionStart's line on --continue: the transcript's model, not Claude Code's default."""
    install(stage)
    stage.checkout(stage.repo, "-b", "feature/SPEC-R")
    assert persisted(stage).ok
    stage.checkout(stage.repo, "main")
    line = session_start_line(stage)
    assert "Claude Code's default model" not in line, line
    assert "(glm-4.7, its transcript's last model" in line, line
    assert "WARNING" in line and "ANTHROPIC_MODEL=opus claude --continue" in line, line

    env, args = follow("/exit, then ANTHROPIC_MODEL=opus claude --continue")
    assert persisted(stage, *args, env=env).ok  # back on Claude; its transcript ends there
    line = session_start_line(stage)
    assert "WARNING" not in line and "glm-4.7" not in line, line
