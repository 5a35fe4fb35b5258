"""spawn.run, the one runner: real children, real pipes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from moai_mashup import git, spawn


def test_output_both_streams_and_the_exit_code() -> None:
    code, out, err = spawn.run(["/bin/sh", "-c", "printf out; printf err >&2; exit 3"])
    assert (code, out, err) == (3, b"out", b"err")


def test_large_stdin_and_stdout_at_once_never_block() -> None:
    data = bytes(range(256)) * 8192  # 2 MiB each way: far past any pipe's buffer
    code, out, err = spawn.run(["cat"], stdin=data)
    assert (code, out, err) == (0, data, b"")


def test_no_stdin_reads_dev_null() -> None:
    assert spawn.run(["cat"]) == (0, b"", b"")


def test_cwd_and_env() -> None:
    code, out, _ = spawn.run(["/bin/sh", "-c", 'pwd; echo "$X"'], cwd="/", env={"X": "y"})
    assert (code, out) == (0, b"/\ny\n")


def test_a_folder_that_is_not_there_fails_the_child() -> None:
    code, _, err = spawn.run(["true"], cwd="/nonexistent-folder-of-moai")
    assert code == 127 and b"nonexistent" in err


def test_a_program_that_is_not_there_raises() -> None:
    with pytest.raises(OSError):
        spawn.run(["moai-no-such-program-anywhere"])


def test_timeout_kills_and_keeps_what_was_written() -> None:
    began = time.monotonic()
    with pytest.raises(spawn.TimedOut) as caught:
        spawn.run(["/bin/sh", "-c", "echo early; exec sleep 30"], timeout=0.5)
    assert time.monotonic() - began < 5
    assert caught.value.stdout == b"early\n"


def test_timeout_without_pipes_waits_for_the_child() -> None:
    with pytest.raises(spawn.TimedOut):
        spawn.run(["sleep", "30"], stdout=spawn.DEVNULL, stderr=spawn.DEVNULL, timeout=0.3)


def test_sigpipe_is_the_default_in_the_child() -> None:
    # Ignored by the interpreter; a child that inherited that would loop on EPIPE.
    code, out, _ = spawn.run(["/bin/sh", "-c", "yes | head -n 1"], timeout=10)
    assert (code, out) == (0, b"y\n")


def test_git_run_adds_env_and_drops_the_hooks_git_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git.run(["init", "-q", str(tmp_path)], tmp_path)
    monkeypatch.setenv("GIT_DIR", "/nonexistent-git-dir")  # as inside another repository's hook
    shown = git.run(["var", "GIT_EDITOR"], tmp_path, env={"GIT_EDITOR": "moai-editor"})
    assert shown.stdout.strip() == "moai-editor"
    assert git.out(["rev-parse", "--absolute-git-dir"], tmp_path) == str(
        tmp_path.resolve() / ".git"
    )
    assert git.exit_status(["rev-parse", "--git-dir"], tmp_path) == 0
    assert git.exit_status(["rev-parse", "--verify", "HEAD"], tmp_path) != 0
    assert git.run(["rev-parse", "--git-dir"], tmp_path, inherit_env=True, check=False).returncode


def test_the_child_is_this_python(tmp_path: Path) -> None:
    code, out, _ = spawn.run(
        [sys.executable, "-c", "import os; print(os.getcwd())"], cwd=str(tmp_path)
    )
    assert (code, out.decode().strip()) == (0, str(tmp_path))


def test_fd3_reaches_the_child_and_no_other_descriptor_does() -> None:
    import os

    read_end, write_end = os.pipe()
    script = "echo three >&3; (echo four >&4) 2>/dev/null || echo closed >&3"
    pid = spawn.start(["/bin/sh", "-c", script], fd3=write_end)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with spawn.pipe_reader(read_end) as fh:
        assert fh.read() == b"three\nclosed\n"
