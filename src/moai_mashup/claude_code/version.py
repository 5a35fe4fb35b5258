"""Which Claude Code is installed, and whether moai-mashup is tested with it.

The tested range is the two releases the end-to-end suite pins
(tests/e2e/claude-code/package.json) and runs every real-CLI test on.
"""

from __future__ import annotations

import re
import shutil

from moai_mashup import spawn
from moai_mashup.lean import NamedTuple

TESTED_OLDEST = "2.1.197"
TESTED_NEWEST = "2.1.332"
TIMEOUT_S = 5.0  # `claude --version` of a native build answers in well under a second
_VERSION = re.compile(r"\b(\d+)\.(\d+)\.(\d+)\b")


class Installed(NamedTuple):
    path: str | None  # `claude` on PATH, None when there is none
    version: str | None  # None: not found, or it did not say in time
    problem: str | None = None


def key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def in_range(version: str) -> bool:
    return key(TESTED_OLDEST) <= key(version) <= key(TESTED_NEWEST)


def installed(claude: str | None = None) -> Installed:
    """`claude --version` of the `claude` on PATH (or `claude`), bounded in time."""
    path = claude or shutil.which("claude")
    if path is None:
        return Installed(None, None)
    try:
        code, stdout, _ = spawn.run([path, "--version"], timeout=TIMEOUT_S)
    except spawn.TimedOut:
        return Installed(path, None, f"`{path} --version` did not answer in {TIMEOUT_S:.0f} s")
    except OSError as exc:
        return Installed(path, None, f"`{path} --version` failed ({exc.__class__.__name__})")
    found = _VERSION.search(stdout.decode("utf-8", "replace"))
    if code != 0 or found is None:
        return Installed(path, None, f"`{path} --version` said no version")
    return Installed(path, found.group(0))


def report(found: Installed) -> tuple[str, str, str | None]:
    """(status, message, fix) for `moai doctor`; never a failure: moai works without it."""
    tested = f"tested with {TESTED_OLDEST} to {TESTED_NEWEST}"
    if found.path is None:
        return "info", f"no claude on PATH; moai-mashup is {tested}", None
    if found.version is None:
        return "warn", f"{found.problem}; moai-mashup is {tested}", None
    if in_range(found.version):
        return "ok", f"Claude Code {found.version} ({found.path}): in the tested range", None
    older = key(found.version) < key(TESTED_OLDEST)
    return (
        "warn",
        f"Claude Code {found.version} ({found.path}) is outside the range moai-mashup is {tested}",
        "claude update" if older else None,
    )
