"""What Claude Code (or anything else) pipes into `moai statusline` and the Claude Code
hooks cannot cost a traceback, a hang or the machine's memory: the status line still
prints one short line, and the session hooks give no opinion (exit 0, nothing that
blocks) with one line on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cost.bounded import run_moai

DEEP = "[" * 100_000
SESSION_HOOKS = ("session-start", "user-prompt-submit")
MIB = 1 << 20


def huge_payload(tmp_path: Path, repo: Path, size: int = 100 * MIB) -> Path:
    """A valid status line payload with one 100 MB string in it, on a single line."""
    path = tmp_path / "payload.json"
    with path.open("wb") as fh:
        fh.write(b'{"cwd": "%s", "model": {"id": "glm-4.7"}, "pad": "' % str(repo).encode())
        block = b"x" * MIB
        for _ in range(size // MIB):
            fh.write(block)
        fh.write(b'"}')
    return path


def one_short_line(text: str) -> str:
    assert text.count("\n") == 1 and text.endswith("\n"), text[-2000:]
    assert len(text) < 200, text
    return text.rstrip("\n")


def test_the_status_line_says_one_short_line_for_absurd_nesting(
    repo: Path, env: dict[str, str]
) -> None:
    r = run_moai(repo, "statusline", env=env, input=DEEP, timeout=30)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    line = one_short_line(r.stdout)
    assert line.startswith("moai: ") and "nested" in line


def test_the_status_line_never_reads_a_100_mb_payload_whole(
    tmp_path: Path, repo: Path, env: dict[str, str]
) -> None:
    with huge_payload(tmp_path, repo).open("rb") as fh:
        r = run_moai(repo, "statusline", env=env, stdin=fh, timeout=30)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    line = one_short_line(r.stdout)
    assert line.startswith("moai: ") and "larger than 1 MiB" in line
    assert r.peak_mib < 50, f"moai statusline peaked at {r.peak_mib:.0f} MiB"


@pytest.mark.parametrize(
    ("payload", "shown"),
    [
        ('{"cwd": "/tmp/a\\u0000b", "model": {"id": "glm-4.7"}}', "glm-4.7"),
        ('{"model": {"id": "glm-4.7"}}\x00\x00', "moai: stdin: invalid JSON"),
        ("\x00{}", "moai: stdin: invalid JSON"),
    ],
)
def test_the_status_line_takes_nul_bytes_calmly(
    repo: Path, env: dict[str, str], payload: str, shown: str
) -> None:
    r = run_moai(repo, "statusline", env=env, input=payload, timeout=30)
    assert r.returncode == 0 and r.stderr == "", r.stderr[-2000:]
    assert one_short_line(r.stdout) == shown


@pytest.mark.parametrize("event", SESSION_HOOKS)
def test_a_session_hook_gives_no_opinion_on_absurd_nesting(
    repo: Path, env: dict[str, str], event: str
) -> None:
    r = run_moai(repo, "hook-impl", "claude-code", event, env=env, input=DEEP, timeout=30)
    assert r.returncode == 0 and r.stdout == "", r.stdout[-2000:]
    line = one_short_line(r.stderr)
    assert line.startswith(f"moai: {event}: stdin: nested more than 100 levels"), line


@pytest.mark.parametrize("event", SESSION_HOOKS)
def test_a_session_hook_never_reads_a_100_mb_payload_whole(
    tmp_path: Path, repo: Path, env: dict[str, str], event: str
) -> None:
    with huge_payload(tmp_path, repo).open("rb") as fh:
        r = run_moai(repo, "hook-impl", "claude-code", event, env=env, stdin=fh, timeout=30)
    assert r.returncode == 0 and r.stdout == "", r.stdout[-2000:]
    line = one_short_line(r.stderr)
    assert line.startswith(f"moai: {event}: stdin: larger than 16 MiB"), line
    assert r.peak_mib < 100, f"moai hook-impl peaked at {r.peak_mib:.0f} MiB"


@pytest.mark.parametrize("event", ("worktree-create", "worktree-remove"))
def test_a_worktree_hook_fails_with_one_line_on_absurd_nesting(
    repo: Path, env: dict[str, str], event: str
) -> None:
    # No worktree to create or remove without a payload: Claude Code's failure answer.
    r = run_moai(repo, "hook-impl", "claude-code", event, env=env, input=DEEP, timeout=30)
    assert r.returncode == 1 and r.stdout == "", r.stdout[-2000:]
    line = one_short_line(r.stderr)
    assert line.startswith(f"moai: {event}: stdin: nested more than 100 levels"), line


def test_an_error_without_a_message_is_still_one_short_line() -> None:
    """A MemoryError carries no message: the status line names the error instead of
    failing in its own handler."""
    from moai_mashup.claude_code.statusline import first_line

    assert first_line(MemoryError()) == "MemoryError"
    assert first_line(ValueError("bad\nsecond line")) == "bad"
    assert len(first_line(ValueError("x" * 500))) == 120
