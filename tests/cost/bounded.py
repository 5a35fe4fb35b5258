"""The installed `moai` run the way a hostile input test needs: with a time limit, an
address-space cap (a reader that holds a huge input whole fails fast instead of taking
the machine's memory), and its peak memory measured by /usr/bin/time."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Any

from tests.gitrepo import MOAI

TIME = "/usr/bin/time"
ADDRESS_SPACE = 1 << 30  # far above moai's ~35 MB, far below what a whole /dev/zero takes


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


class Run:
    def __init__(self, returncode: int, stdout: str, stderr: str, peak_kib: int) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.peak_mib = peak_kib / 1024


def run_moai(
    cwd: Path | str,
    *args: str,
    env: dict[str, str],
    stdin: IO[Any] | None = None,
    input: str | None = None,
    timeout: float = 60,
) -> Run:
    """`moai *args` under /usr/bin/time; its peak resident memory in `peak_mib`."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        child = subprocess.Popen(
            [TIME, "-f", "%M", "-o", out.name, MOAI, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE if input is not None else stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            preexec_fn=_cap,
            start_new_session=True,  # on a timeout, moai goes too, not only `time`
        )
        try:
            stdout, stderr = child.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            raise
        lines = out.read().split()
    peak = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return Run(child.returncode, stdout, stderr, peak)
