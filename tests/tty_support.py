"""A real terminal for tests: a private tmux server, keys sent, the screen read back."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest


def need(tool: str) -> str:
    """The tool's path; skips without it, except under CI=true where CI installs it."""
    exe = shutil.which(tool)
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is not installed (scripts/test.sh installs it under CI)")
        pytest.skip(f"{tool} is not installed here")
    return exe


class Tmux:
    """One pane running `argv` in `cwd` with exactly `env`, on its own tmux server."""

    def __init__(self, tmp: Path, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.tmux = need("tmux")
        self.socket = tmp / "tmux.sock"
        script = tmp / "pane.sh"
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(env.items()))
        script.write_text(
            "#!/bin/sh\n"
            + exports
            + f"cd {shlex.quote(str(cwd))} || exit 1\n"
            + " ".join(shlex.quote(a) for a in argv)
            + '\necho "[exit $?]"\nexec sleep 300\n'
        )
        script.chmod(0o755)
        self._run(
            "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "50", "sh", str(script)
        )

    def _run(self, *args: str) -> str:
        proc = subprocess.run(
            [self.tmux, "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color"},
        )
        return proc.stdout

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-J", "-S", "-200")

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen:\n{screen}")
            time.sleep(0.1)

    def send(self, *keys: str, literal: bool = False) -> None:
        self._run("send-keys", *(["-l"] if literal else []), *keys)

    def close(self) -> None:
        subprocess.run(
            [self.tmux, "-S", str(self.socket), "kill-server"], capture_output=True, check=False
        )
