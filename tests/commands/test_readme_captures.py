"""README.md's terminal captures are what the real commands print today."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.gitrepo import MOAI
from tests.tty_support import need

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.terminal
def test_readme_captures_are_current() -> None:
    need("tmux")
    r = subprocess.run(
        ["bash", str(ROOT / "scripts" / "readme-captures.sh"), "--check"],
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "MOAI": MOAI},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
