"""What an earlier moai left behind keeps working after an upgrade to the package layout.

Two module paths live outside the package: the hook shim in `.git/hooks/`
imports the fast path, and helper mode's `apiKeyHelper` in each worktree's
settings file imports the key helper. Both were written with the old flat
paths (`moai_mashup.hook_fast`, `moai_mashup.key_helper`) until they are
rewritten (`moai hooks install`, the next apply).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.gitrepo import FAKE_KEY, LLM_YAML, git, moai, settings, write
from tests.hooks_support import hook_path, install, run_git

GLM_URL = "https://api.z.ai/api/anthropic"


def test_a_shim_written_before_the_layout_still_switches_on_checkout(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env)
    shim = hook_path(repo)
    text = shim.read_text()
    assert "from moai_mashup.githooks.fast import run" in text
    shim.write_text(text.replace("moai_mashup.githooks.fast", "moai_mashup.hook_fast"))
    git(repo, "branch", "feature/SPEC-OLD-1", env=env)

    proc = run_git(repo, "checkout", "-q", "feature/SPEC-OLD-1", env=env)

    assert "hook skipped" not in proc.stderr, proc.stderr
    assert settings(repo)["env"]["ANTHROPIC_BASE_URL"] == GLM_URL
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY


def test_reinstalling_the_hooks_rewrites_an_old_shim(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env)
    shim = hook_path(repo)
    shim.write_text(shim.read_text().replace("moai_mashup.githooks.fast", "moai_mashup.hook_fast"))

    install(repo, env)

    assert "moai_mashup.hook_fast" not in shim.read_text()


def test_an_api_key_helper_written_before_the_layout_still_prints_the_key(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / LLM_YAML, (repo / LLM_YAML).read_text() + "  credential_mode: helper\n")
    git(repo, "checkout", "-qb", "feature/SPEC-OLD-2", env=env)
    assert moai(repo, "apply", env=env).returncode == 0
    new = settings(repo)["apiKeyHelper"]
    assert "moai_mashup.settings.key_helper" in new
    old = new.replace("moai_mashup.settings.key_helper", "moai_mashup.key_helper")

    proc = subprocess.run(
        ["/bin/sh", "-c", old], cwd=repo, env=env, capture_output=True, text=True, timeout=60
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == FAKE_KEY + "\n"
