"""moai's Claude Code hooks, proven with the real CLI against the two fake backends.

`moai hooks install --claude-code` writes the repository's committed
.claude/settings.json; then:

- `claude -w SPEC-AUTH-001` (WorktreeCreate) lands in moai's SPEC worktree,
  ~/worktrees/<project>/SPEC-AUTH-001 on feature/SPEC-AUTH-001, and the
  session talks to GLM, while a session in the main checkout talks to Claude;
- the SessionStart line reaches the model (the fake server sees it);
- ExitWorktree's remove (WorktreeRemove) of a worktree holding untracked work
  is refused, the work stays, and the next prompt carries moai's reason;
- a session whose environment disagrees with the table has its prompt held:
  nothing reaches either server (one started with GLM's settings on main, and
  one on GLM when a `git checkout main` ran under it);
- the status line of an interactive session (under a pseudo-terminal) shows
  moai's line: backend, model, SPEC, phases; a model of the other backend is
  marked.

Measured on 2.1.197 and 2.1.332: ExitWorktree refuses by itself ("could not
verify worktree state", asks for `discard_changes: true`) for a worktree a
hook made, before calling the hook; with `discard_changes: true` it calls
WorktreeRemove, and when the hook fails it tells the model "could not remove
it ... kept at <path>" without the hook's stderr (-p mode). Anything on the
hook's stdout counts as success there ("Exited and removed"), even with exit
1: moai's remove prints nothing on stdout.

Also measured on both: after `git checkout main` under a running session that
started on GLM, its next request goes to the base URL of ~/.claude/settings.json
(the worktree's file no longer sets one) with `glm-4.7` as the model (the tier
keys stay in its environment): the hold is what stops it.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.e2e import claude_cli
from tests.e2e.conftest import GLM_MODELS, Stage
from tests.e2e.fake_anthropic import Recorded
from tests.gitrepo import FAKE_KEY, MOAI, git

SPEC = "SPEC-AUTH-001"


def on_path(stage: Stage) -> None:
    """The hooks' `moai` is the one under test, found on PATH as a user's would be."""
    stage.extra_env["PATH"] = f"{Path(MOAI).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def install(stage: Stage) -> None:
    on_path(stage)
    stage.run_moai(stage.repo, "hooks", "install", "--claude-code")
    git(stage.repo, "add", ".claude/settings.json", env=stage.env)
    git(stage.repo, "commit", "-q", "-m", "moai's Claude Code hooks", env=stage.env)


def claude(stage: Stage, cwd: Path, *args: str, prompt: str = "say hi") -> claude_cli.Reply:
    stage.claude.clear()
    stage.glm.clear()
    argv = [str(stage.claude_bin), "-p", "--no-session-persistence", "--output-format", "json"]
    proc = subprocess.Popen(
        [*argv, *args, "--", prompt],
        cwd=cwd,
        env=stage.claude_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return claude_cli.finish(proc)


def spec_path(stage: Stage) -> Path:
    return stage.home / "worktrees" / stage.repo.name / SPEC


def tool_results(rec: Recorded) -> list[str]:
    out = []
    for msg in rec.body.get("messages", []):
        content = msg.get("content")
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "tool_result":
                inner: Any = block.get("content")
                out.append(inner if isinstance(inner, str) else json.dumps(inner))
    return out


def test_claude_w_spec_lands_on_glm_in_moais_worktree_while_main_stays_on_claude(
    stage: Stage,
) -> None:
    install(stage)
    reply = claude(stage, stage.repo, "-w", SPEC)
    assert reply.ok, reply
    wt = spec_path(stage)
    assert wt.is_dir(), reply
    assert git(wt, "branch", "--show-current", env=stage.env).strip() == f"feature/{SPEC}"
    assert stage.glm.messages() and not stage.claude.messages(), reply
    first = stage.glm.messages()[0]
    assert first.authorization == f"Bearer {FAKE_KEY}"
    assert first.model in GLM_MODELS.values()  # the default tier differs between versions
    assert first.mentions(str(wt))
    # SessionStart's line reached the model: backend, SPEC, where the other phase belongs.
    assert first.mentions(f"moai: this session runs on GLM (opus {GLM_MODELS['opus']}, ")
    assert first.mentions(SPEC) and first.mentions("plan on main with Claude")

    # Again: the worktree is reused, not made twice; main stays on Claude.
    assert claude(stage, stage.repo, "-w", SPEC).ok
    assert stage.glm.messages() and not stage.claude.messages()
    reply = claude(stage, stage.repo)
    assert reply.ok, reply
    assert stage.claude.messages() and not stage.glm.messages()
    assert stage.claude.messages()[0].mentions("moai: this session runs on Claude")
    assert not (stage.repo / ".claude" / "worktrees").exists()


def test_claude_w_other_name_gets_a_routed_worktree_and_a_bad_name_fails_cleanly(
    stage: Stage,
) -> None:
    install(stage)
    reply = claude(stage, stage.repo, "-w", "fix-login")
    assert reply.ok, reply
    wt = stage.home / "worktrees" / stage.repo.name / "fix-login"
    assert git(wt, "branch", "--show-current", env=stage.env).strip() == "worktree-fix-login"
    assert stage.claude.messages() and not stage.glm.messages()  # other branch: Claude

    before = git(stage.repo, "worktree", "list", env=stage.env)
    reply = claude(stage, stage.repo, "-w", "..")
    assert reply.returncode != 0
    assert "worktree name" in reply.stdout + reply.stderr, reply
    assert git(stage.repo, "worktree", "list", env=stage.env) == before
    assert not stage.claude.messages() and not stage.glm.messages()


def test_exit_worktree_remove_refuses_untracked_work_and_the_next_prompt_says_why(
    stage: Stage,
) -> None:
    install(stage)
    stage.run_moai(stage.repo, "worktree", "create", SPEC)
    wt = spec_path(stage)
    (wt / "notes.txt").write_text("work in progress\n")
    stage.glm.enqueue_tool_use("ExitWorktree", {"action": "remove", "discard_changes": True})
    session = Session(stage, stage.repo, "-w", SPEC, "--allowedTools", "ExitWorktree")
    try:
        first = session.turn("done here, remove it")
        assert not first.get("is_error"), first
        assert (wt / "notes.txt").read_text() == "work in progress\n"
        assert str(wt) in git(stage.repo, "worktree", "list", env=stage.env)
        results = [r for rec in stage.glm.messages() for r in tool_results(rec)]
        assert any("could not remove" in r and str(wt) in r for r in results), results
        second = session.turn("what happened?")
    finally:
        session.close()
    # Back in the main checkout with GLM's environment: held, and the held line says
    # why the worktree stayed (Claude Code itself passes on only that it was kept).
    result = str(second.get("result"))
    assert "moai: held: this session talks to GLM, but main" in result, second
    kept = f"(and: moai did not remove it: {wt} has uncommitted or untracked work: ?? notes.txt"
    assert kept in result, second


def test_a_prompt_is_held_when_the_sessions_backend_disagrees_with_the_table(
    stage: Stage,
) -> None:
    install(stage)
    # A session started with GLM's environment, on main (Claude by the table): what a
    # switch the process could not follow leaves behind.
    glm_env = json.loads((stage.repo / ".moai/llm-configs/glm.json").read_text())["env"]
    glm_env["ANTHROPIC_AUTH_TOKEN"] = "fake-left-behind.TESTONLYnotreal"
    reply = claude(stage, stage.repo, "--settings", json.dumps({"env": glm_env}))
    assert not stage.claude.messages() and not stage.glm.messages(), reply
    text = reply.stdout + reply.stderr
    assert "moai: held: this session talks to GLM, but main in" in text, reply
    assert "/exit, then ANTHROPIC_MODEL=opus claude --continue" in text


def text_of(screen: bytes) -> str:
    """The terminal output as text: escape sequences (cursor moves stand for spaces
    too) as one space, runs of white space as one."""
    plain = re.sub(
        rb"\x1b(\[[0-9;?<>=]*[A-Za-z~]|\][^\x07]*\x07|[78=>()][0-9A-Za-z]?)", b" ", screen
    )
    return re.sub(r"\s+", " ", plain.decode("utf-8", "replace"))


def interactive_screen(stage: Stage, cwd: Path, *args: str, until: str) -> str:
    """An interactive `claude` under a pseudo-terminal until `until` shows (or 30 s)."""
    state = stage.home / ".claude.json"  # no onboarding, folders trusted
    projects = {
        str(p): {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True}
        for p in (stage.repo, spec_path(stage))
    }
    state.write_text(json.dumps({"hasCompletedOnboarding": True, "projects": projects}))
    env = {**stage.claude_env(), "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: become claude
        try:
            os.chdir(cwd)
            os.execve(str(stage.claude_bin), [str(stage.claude_bin), *args], env)
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + 30
    try:
        while until not in text_of(out) and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    break
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    return text_of(out)


def test_the_status_line_shows_moais_line_and_marks_a_model_of_the_other_backend(
    stage: Stage,
) -> None:
    install(stage)
    line = f"{SPEC} · run/sync"
    screen = interactive_screen(stage, stage.repo, "-w", SPEC, until=line)
    assert line in screen, screen[-2000:]
    assert re.search(r"GLM · glm-4\.\d[^ ]* · SPEC-AUTH-001 · run/sync", screen), screen[-2000:]
    assert spec_path(stage).is_dir()
    # A model of GLM's pinned on main, where the table says Claude: marked.
    mark = "⚠ on glm-4.5-air"
    screen = interactive_screen(stage, stage.repo, "--model", "glm-4.5-air", until=mark)
    assert mark in screen and "Claude here" in screen, screen[-2000:]


class Session:
    """A multi-turn `claude -p` over stream-json: one user line per turn, the next
    written after the previous turn's `result` event."""

    def __init__(self, stage: Stage, cwd: Path, *args: str) -> None:
        argv = [str(stage.claude_bin), "-p", "--no-session-persistence", "--verbose"]
        argv += ["--input-format", "stream-json", "--output-format", "stream-json", *args]
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=stage.claude_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def turn(self, text: str, timeout: float = 60) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        msg = {"type": "user", "message": {"role": "user", "content": text}}
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            event = json.loads(line) if line.startswith("{") else {}
            if event.get("type") == "result":
                return dict(event)
        raise AssertionError(f"no result for {text!r}")

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def test_a_checkout_under_a_running_glm_session_holds_its_next_prompt(stage: Stage) -> None:
    install(stage)
    stage.checkout(stage.repo, "-b", "feature/SPEC-X")
    stage.glm.enqueue_tool_use("Bash", {"command": "git checkout -q main", "description": "go"})
    session = Session(stage, stage.repo, "--allowedTools", "Bash(git checkout:*)")
    try:
        first = session.turn("switch to main")
        assert not first.get("is_error"), first
        assert git(stage.repo, "branch", "--show-current", env=stage.env).strip() == "main"
        time.sleep(5)  # Claude Code reloads changed settings files after a few seconds
        stage.claude.clear()
        stage.glm.clear()
        second = session.turn("and now?")
    finally:
        session.close()
    # Measured: without the hold, this turn goes to the user's Claude endpoint (the
    # base URL of ~/.claude/settings.json is back) asking for glm-4.7 (the tier keys
    # the file no longer sets stay in the session's environment).
    result = str(second.get("result"))
    assert "moai: held: this session talks to Claude's endpoint with GLM's models" in result
    assert f"but main in {stage.repo} is on Claude now" in result, second
    assert not stage.claude.messages() and not stage.glm.messages()


def test_a_session_pinned_to_a_claude_model_is_held_when_its_checkout_goes_to_glm(
    stage: Stage,
) -> None:
    """A session fixes its model when it starts; its base URL follows a switch to GLM."""
    install(stage)
    user = stage.home / ".claude" / "settings.json"
    doc = json.loads(user.read_text(encoding="utf-8"))
    user.write_text(json.dumps({**doc, "model": "claude-opus-4-5-20251101"}), encoding="utf-8")
    stage.claude.enqueue_tool_use(
        "Bash", {"command": "git checkout -q -b feature/SPEC-PIN", "description": "go"}
    )
    session = Session(stage, stage.repo, "--allowedTools", "Bash(git checkout:*)")
    try:
        first = session.turn("start the SPEC")
        assert not first.get("is_error"), first
        branch = git(stage.repo, "branch", "--show-current", env=stage.env).strip()
        assert branch == "feature/SPEC-PIN"
        time.sleep(5)  # Claude Code reloads changed settings files after a few seconds
        stage.claude.clear()
        stage.glm.clear()
        second = session.turn("and now?")
    finally:
        session.close()
    result = str(second.get("result"))
    assert "moai: held: this session" in result, second
    assert not stage.glm.messages() and not stage.claude.messages()
    if stage.claude_version != "2.1.197":
        # Measured on 2.1.332 without the hold: this turn reaches GLM with the GLM key,
        # asking for claude-opus-4-5-20251101. (2.1.197 never loads a settings file made
        # after it started: that session stays on Claude, held for talking to Claude.)
        assert "started on Claude with claude-opus-4-5-20251101 pinned" in result, result


def test_enter_worktree_makes_the_spec_worktree_and_the_claude_session_is_held_there(
    stage: Stage,
) -> None:
    install(stage)
    stage.claude.enqueue_tool_use("EnterWorktree", {"name": SPEC})
    session = Session(stage, stage.repo, "--allowedTools", "EnterWorktree")
    try:
        first = session.turn("work on the SPEC")
        assert not first.get("is_error"), first
        wt = spec_path(stage)
        assert git(wt, "branch", "--show-current", env=stage.env).strip() == f"feature/{SPEC}"
        assert (
            json.loads((wt / ".claude/settings.local.json").read_text())["env"][
                "ANTHROPIC_BASE_URL"
            ]
            == stage.glm.url
        )
        stage.claude.clear()
        stage.glm.clear()
        second = session.turn("go on")
    finally:
        session.close()
    # EnterWorktree moves the session, not its environment: it would ask Claude.
    result = str(second.get("result"))
    assert f"moai: held: this session talks to Claude, but feature/{SPEC} in {wt}" in result
    assert not stage.claude.messages() and not stage.glm.messages()
