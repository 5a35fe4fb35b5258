"""`moai hook-impl claude-code <event>` and `moai statusline`: what Claude Code runs.

Claude Code passes a JSON object on stdin and runs these with the session's
environment (its settings' `env` applied). The prompt hook and the status line
run all the time, so this module and session.py stay light; creating and
removing worktrees imports the engine (claude_code/worktree.py).

Exit codes follow Claude Code's hook contract: 0 with stdout for context (and
the path, for WorktreeCreate); another code with one line on stderr for a
failure Claude Code shows. A held prompt is `{"decision": "block", ...}` on
stdout, which both tested versions show as the reason, without the command.
A payload moai cannot read (too large, not JSON, nested absurdly) costs one
line on stderr: the session hooks then give no opinion (exit 0, nothing on
stdout), the worktree hooks fail (nothing to create or remove without it).
"""

from __future__ import annotations

import os
import sys

from moai_mashup import jsontext
from moai_mashup.errors import BadInput, MoaiError

EVENTS = ("worktree-create", "worktree-remove", "session-start", "user-prompt-submit")
USAGE = "usage: moai hook-impl claude-code {" + "|".join(EVENTS) + "} (JSON payload on stdin)"


def _payload() -> dict[str, object]:
    from moai_mashup.claude_code.statusline import read_json_stdin
    from moai_mashup.limits import MAX_HOOK_PAYLOAD_BYTES

    data = read_json_stdin(MAX_HOOK_PAYLOAD_BYTES)
    if not isinstance(data, dict):
        raise BadInput("stdin: expected Claude Code's hook JSON object")
    return data


def _cwd(payload: dict[str, object]) -> str:
    cwd = payload.get("cwd")
    return cwd if isinstance(cwd, str) and cwd else os.getcwd()


def session_start(payload: dict[str, object]) -> int:
    from moai_mashup.claude_code import session as s

    h = s.here(_cwd(payload))
    if h is None:
        return 0
    env = os.environ
    s.remember_pin(h.place, payload.get("session_id"), s.start_pin(h.place, env))
    running, shown = s.session_state(env, h)
    model = s.session_model(env, payload.get("model"))
    resumed = None if payload.get("model") else s.resumed_model(env, payload.get("transcript_path"))
    if resumed is not None:  # --continue/--resume: the transcript's model comes back
        model = f"{resumed}, its transcript's last model, which --continue restores"
    line = f"moai: this session runs on {shown} ({model}) on {s.where(h)}"
    if h.spec_id:
        line += f", {h.spec_id}"
    here_phases, elsewhere = s.phases(h)
    if here_phases:
        many = len(here_phases) > 1
        line += f"; phase{'s' if many else ''} {' and '.join(here_phases)} belong"
        line += "" if many else "s"
        line += " here"
    if elsewhere:
        line += "; " + "; ".join(elsewhere)
    if h.expected is not None and h.expected != running:
        line += (
            f". WARNING: the routing table says {h.display(h.expected)} here ({why(h)}) but "
            f"this session talks to {shown}: tell the user to {s.resume_advice(h, resumed)}"
        )
    elif resumed and s.mismatch(resumed, h):
        line += (
            f". WARNING: the routing table says {h.display(h.expected or '')} here ({why(h)}), "
            f"which does not serve {resumed}: tell the user to {s.resume_advice(h, resumed)}"
        )
    sys.stdout.write(line + "\n")
    return 0


def why(h: object) -> str:
    from moai_mashup.claude_code.session import Here
    from moai_mashup.workspace import why_branch

    assert isinstance(h, Here)
    return why_branch(h.cfg, h.place.branch)


def user_prompt_submit(payload: dict[str, object]) -> int:
    from moai_mashup.claude_code import session as s

    place = s.find_place(_cwd(payload))
    if place is None:
        return 0
    # Only a stat when there is none: a line another hook left for this session
    # (WorktreeRemove's refusal, which Claude Code itself does not pass on).
    note = s.take_note(place, payload.get("session_id"))
    h = s.here(_cwd(payload))
    running, shown = s.session_state(os.environ, h) if h is not None else (None, "")
    on_other = running is not None and running != "claude"
    pin = s.remembered_pin(place, payload.get("session_id")) if on_other else None
    if pin is not None and h is not None and h.expected == running:
        # Its base URL followed the switch; the Claude model it started with did not.
        assert running is not None
        if running not in s.serving(pin, h.served):
            there = h.display(running)
            reason = (
                f"moai: held: this session started on Claude with {pin} pinned, which it "
                f"would send to {there} as is ({s.where(h)} is on {there} now); "
                f"{s.resume_advice(h, pin)}"
            )
            sys.stdout.write(jsontext.dumps({"decision": "block", "reason": reason}) + "\n")
            return 0
    if h is None or h.expected is None:
        if note:
            sys.stdout.write(note + "\n")  # context for the model, with this prompt
        return 0
    resumed = s.resumed_model(os.environ, payload.get("transcript_path"))
    if running == h.expected:
        if not resumed or not s.mismatch(resumed, h):
            if note:
                sys.stdout.write(note + "\n")  # context for the model, with this prompt
            return 0
        # A resumed session: Claude Code 2.1.332 sends its transcript's last model again.
        reason = (
            f"moai: held: this session would send {resumed}, its transcript's last model, to "
            f"{h.display(h.expected)} ({s.where(h)}: {why(h)}), which does not serve it; "
            f"{s.resume_advice(h, resumed)}"
        )
    else:
        stale = s.left_behind(os.environ, h, s.running_backend(os.environ, h))
        reason = (
            f"moai: held: this session talks to {shown}, but {s.where(h)} is on "
            f"{h.display(h.expected)} now ({why(h)}) and a running session cannot follow; "
            f"{s.resume_advice(h, stale[0][0] if stale else resumed)}"
        )
    if note:
        reason += f" (and: {note})"
    sys.stdout.write(jsontext.dumps({"decision": "block", "reason": reason}) + "\n")
    return 0


def hook(argv: list[str]) -> int:
    """`moai hook-impl claude-code <event>`."""
    if len(argv) != 1 or argv[0] not in EVENTS:
        sys.stderr.write(USAGE + "\n")
        return 2
    event = argv[0]
    try:
        payload = _payload()
    except MoaiError as exc:
        sys.stderr.write(f"moai: {event}: {exc}\n")
        return 0 if event in ("session-start", "user-prompt-submit") else 1  # no opinion
    try:
        if event == "session-start":
            return session_start(payload)
        if event == "user-prompt-submit":
            return user_prompt_submit(payload)
        from moai_mashup.claude_code import worktree

        if event == "worktree-create":
            return worktree.create(payload)
        return worktree.remove(payload)
    except MoaiError as exc:
        sys.stderr.write(f"moai: {event}: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 1
    except Exception as exc:  # git failing oddly, a full disk: one line, never a traceback
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        sys.stderr.write(f"moai: {event}: {first}\n")
        return 1


def main(argv: list[str]) -> int:
    """From the entry point: argv after `moai`."""
    if argv[:2] == ["hook-impl", "claude-code"]:
        return hook(argv[2:])
    from moai_mashup.claude_code.statusline import main as statusline

    return statusline(argv[1:])
