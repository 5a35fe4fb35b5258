"""Real git repositories in temporary directories, and the installed `moai` as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# `moai` as installed next to the interpreter running the tests (the README's install).
MOAI = shutil.which("moai", path=str(Path(sys.executable).parent)) or "moai"

FAKE_KEY = "fake0000glm0000key0000for0tests.TESTONLYnotreal1"
OTHER_FAKE_KEY = "fake1111other1111key1111tests.TESTONLYnotreal2"

LLM_YAML = ".moai/config/sections/llm.yaml"
LLM_LOCAL_YAML = ".moai/config/sections/llm.local.yaml"
GLM_JSON = ".moai/llm-configs/glm.json"
SETTINGS = ".claude/settings.local.json"

SEED_LLM_YAML = """\
llm:
  mode: mashup            # claude-only | mashup | glm-only
  glm_env_var: GLM_API_TOKEN
  auto_worktree:
    enabled: true
    copy_glm_config: true
"""

SEED_GLM_JSON = """\
{
  "env": {
    "ANTHROPIC_AUTH_TOKEN": "${GLM_API_KEY}",
    "ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": "glm-4.7",
    "ANTHROPIC_DEFAULT_SONNET_MODEL": "glm-4.7",
    "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-4.7"
  }
}
"""


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment with a fake HOME, no git/moai/Anthropic variables of the caller."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_", "ANTHROPIC_", "MOAI_", "GLM_", "PRE_COMMIT"))
    }
    gitconfig = home / ".gitconfig"
    if not gitconfig.exists():
        home.mkdir(parents=True, exist_ok=True)
        gitconfig.write_text(
            "[user]\n\tname = Test\n\temail = test@example.invalid\n"
            "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
        )
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(gitconfig),
        XDG_CONFIG_HOME=str(home / ".config"),
    )
    env.update(extra)
    return env


def git(cwd: Path, *args: str, env: dict[str, str], check: bool = True) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def moai(
    cwd: Path, *args: str, env: dict[str, str], input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MOAI, *args],
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def aged(path: Path, seconds: float = 60.0) -> Path:
    """Date `path` `seconds` in the past: a file written long ago, not an editor's
    save in progress (which moai waits out for up to files.SETTLE_S)."""
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


def make_repo(
    root: Path,
    env: dict[str, str],
    *,
    llm_yaml: str | None = SEED_LLM_YAML,
    glm_json: str | None = SEED_GLM_JSON,
    files: dict[str, str] | None = None,
) -> Path:
    """A repository on `main` with one commit holding the team config."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main", env=env)
    write(root / "README.md", "# test project\n")
    write(root / ".gitignore", "/.claude/settings.local.json\n/" + LLM_LOCAL_YAML + "\n")
    if llm_yaml is not None:
        write(root / LLM_YAML, llm_yaml)
    if glm_json is not None:
        write(root / GLM_JSON, glm_json)
    for rel, text in (files or {}).items():
        write(root / rel, text)
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "initial", env=env)
    return root


def save_fake_key(home: Path, key: str = FAKE_KEY) -> Path:
    path = home / ".moai" / ".env.glm"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'GLM_API_KEY="{key}"\n')
    path.chmod(0o600)
    return path


def settings(root: Path) -> dict[str, Any]:
    path = root / SETTINGS
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
