"""The real Claude Code CLI, pinned in tests/e2e/claude-code/, run offline against fakes.

Two releases are pinned there, the oldest we support and the newest we tested
(the README and docs/claude-code.md name the range): each is the registry's native build,
`@anthropic-ai/claude-code-linux-x64@<version>`, installed under an npm alias
`claude-code-<version>` so both live side by side
(`node_modules/claude-code-<version>/claude`). `bash scripts/test.sh` installs
them with `npm ci` from the committed lock file; `scripts/bump-claude-code.sh`
moves the newer pin to the registry's latest. `find_claude(version)` says where
one is (or why it is not there). How it is run, and why, is measured and
written down in test_claude_code_routing.py's docstring.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

from tests.gitrepo import clean_env

CLAUDE_CODE_DIR = Path(__file__).resolve().parent / "claude-code"
PACKAGE = "@anthropic-ai/claude-code-linux-x64"
ALIAS_PREFIX = "claude-code-"

# Everything Claude Code would otherwise do besides the one request we ask for:
# no update check, no telemetry, no retries (a failed request fails at once).
QUIET_ENV = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "CLAUDE_CODE_MAX_RETRIES": "0",
}
TIMEOUT = 90.0


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def pinned_versions() -> list[str]:
    """The pinned releases, oldest first: package.json's `claude-code-<v>` aliases."""
    data = json.loads((CLAUDE_CODE_DIR / "package.json").read_text(encoding="utf-8"))
    versions = []
    for alias, spec in data["dependencies"].items():
        version = alias.removeprefix(ALIAS_PREFIX)
        if spec != f"npm:{PACKAGE}@{version}":
            where = CLAUDE_CODE_DIR / "package.json"
            raise ValueError(f"{where}: {alias}: {spec!r} is not {PACKAGE}@{version}")
        versions.append(version)
    return sorted(versions, key=version_key)


def claude_path(version: str) -> Path:
    return CLAUDE_CODE_DIR / "node_modules" / f"{ALIAS_PREFIX}{version}" / "claude"


def installed_version(version: str) -> str | None:
    """The version npm installed under the alias for `version` (None: not installed)."""
    path = CLAUDE_CODE_DIR / "node_modules" / f"{ALIAS_PREFIX}{version}" / "package.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found: str = data["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if data.get("name") == PACKAGE else None


class Missing(NamedTuple):
    reason: str
    may_skip: bool  # only when npm itself is missing, and never under CI=true


def find_claude(version: str) -> Path | Missing:
    in_ci = os.environ.get("CI", "").lower() == "true"
    path = claude_path(version)
    if path.exists() and installed_version(version) == version:
        return path
    if shutil.which("npm") is None:
        return Missing(
            "npm not found, so the real Claude Code CLI is not installed; install Node.js 20+ "
            "with npm, then run: bash scripts/test.sh"
            + (" (CI=true: not skipped)" if in_ci else ""),
            may_skip=not in_ci,
        )
    return Missing(
        f"{PACKAGE}@{version} is not installed in {CLAUDE_CODE_DIR} "
        f"(found {installed_version(version)}); run: bash scripts/test.sh",
        may_skip=False,
    )


def claude_env(home: Path, **extra: str) -> dict[str, str]:
    """A fresh HOME, no Anthropic/Claude variables of the caller, quiet Claude Code."""
    env = {k: v for k, v in clean_env(home).items() if not k.startswith("CLAUDE")}
    env.update(QUIET_ENV)
    env.update(extra)
    return env


class Reply(NamedTuple):
    returncode: int
    result: dict[str, Any] | None  # the --output-format json object
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.result is not None and not self.result.get("is_error")

    def __str__(self) -> str:
        return (
            f"claude exited {self.returncode}\nstdout: {self.stdout[:800]}\nstderr: {self.stderr}"
        )


def claude_argv(claude: Path, model: str | None, prompt: str, persist: bool = False) -> list[str]:
    """`persist=True` keeps the session: Claude Code then writes its JSONL transcript
    under $HOME/.claude/projects/<cwd with / and . as ->/<session id>.jsonl."""
    argv = [str(claude), "-p", "--output-format", "json"]
    if not persist:
        argv.insert(2, "--no-session-persistence")
    if model is not None:
        argv += ["--model", model]
    return [*argv, prompt]


def start_claude(
    claude: Path,
    cwd: Path,
    env: dict[str, str],
    model: str | None = None,
    prompt: str = "say hi",
    *,
    persist: bool = False,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        claude_argv(claude, model, prompt, persist),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = TIMEOUT) -> Reply:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += f"\n[killed after {timeout}s]"
    try:
        result = json.loads(out) if out.strip() else None
    except ValueError:
        result = None
    return Reply(proc.returncode, result if isinstance(result, dict) else None, out, err)


def run_claude(
    claude: Path,
    cwd: Path,
    env: dict[str, str],
    model: str | None = None,
    prompt: str = "say hi",
    *,
    persist: bool = False,
) -> Reply:
    return finish(start_claude(claude, cwd, env, model, prompt, persist=persist))
