"""docs/guard.md's pre-commit framework config and CI step work as shown (real pre-commit,
real git)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.gitrepo import LLM_YAML, git, write
from tests.guard.test_guard_staged import ANTHROPIC_SHAPED
from tests.guard.test_policy_commit import policy_yaml

GUARD_DOC = Path(__file__).resolve().parents[2] / "docs" / "guard.md"


def doc_block(marker: str) -> str:
    text = GUARD_DOC.read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(# " + re.escape(marker) + r"\n.*?)```", text, re.S)
    assert match, f"docs/guard.md has no yaml block starting with '# {marker}'"
    return match.group(1)


def run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)


@pytest.mark.pre_commit
def test_documented_pre_commit_config(repo: Path, env: dict[str, str]) -> None:
    bindir = str(Path(sys.executable).parent)
    env = env | {"PATH": bindir + os.pathsep + env.get("PATH", "")}
    env["PRE_COMMIT_HOME"] = str(repo.parent / "pre-commit-cache")
    write(repo / ".pre-commit-config.yaml", doc_block(".pre-commit-config.yaml"))
    write(repo / LLM_YAML, policy_yaml(commit_trailer=True))
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "pre-commit config", env=env)
    r = run(
        repo,
        env,
        "pre-commit",
        "install",
        "-t",
        "pre-commit",
        "-t",
        "prepare-commit-msg",
        "-t",
        "commit-msg",
    )
    assert r.returncode == 0, r.stderr

    write(repo / "ok.txt", "fine\n")
    git(repo, "add", "ok.txt", env=env)
    r = run(repo, env, "git", "commit", "-qm", "fine")
    assert r.returncode == 0, r.stdout + r.stderr
    assert git(repo, "log", "-1", "--format=%B", env=env).rstrip().endswith("LLM-Backend: claude")

    write(repo / "leak.txt", f"{ANTHROPIC_SHAPED}\n")
    git(repo, "add", "leak.txt", env=env)
    r = run(repo, env, "git", "commit", "-qm", "leak")
    assert r.returncode != 0 and "leak.txt:1: Anthropic API key" in r.stdout + r.stderr

    git(repo, "commit", "-qm", "leak anyway", "--no-verify", env=env)
    r = run(repo, env, "pre-commit", "run", "--all-files")
    assert r.returncode != 0 and "leak.txt:1" in r.stdout
    r = run(repo, env, "pre-commit", "run", "--from-ref", "HEAD~1", "--to-ref", "HEAD")
    assert r.returncode != 0 and "leak.txt:1" in r.stdout and "1 commit(s)" in r.stdout


def actions_script() -> str:
    block = doc_block(".github/workflows/moai-check.yml")
    script = block.split("run: |\n", 1)[1]
    return textwrap.dedent(script)


def test_documented_github_actions_step(repo: Path, env: dict[str, str]) -> None:
    bindir = str(Path(sys.executable).parent)
    env = env | {"PATH": bindir + os.pathsep + env.get("PATH", "")}
    script = actions_script()
    assert script.startswith("if [") and "moai check --from-ref" in script
    before = git(repo, "rev-parse", "HEAD", env=env).strip()
    write(repo / "leak.txt", f"{ANTHROPIC_SHAPED}\n")
    git(repo, "add", "leak.txt", env=env)
    git(repo, "commit", "-qm", "leak", env=env)
    after = git(repo, "rev-parse", "HEAD", env=env).strip()
    push = {"EVENT": "push", "AFTER": after, "BRANCH": "main"}
    for old in (before, "0" * 40):
        r = run(repo, env | push | {"BEFORE": old}, "bash", "-ec", script)
        assert r.returncode == 1 and "leak.txt:1" in r.stderr, r.stderr
    pr = {"EVENT": "pull_request", "PR_BASE": before, "PR_HEAD": before, "PR_BRANCH": "x"}
    r = run(repo, env | pr, "bash", "-ec", script)
    assert r.returncode == 0, r.stderr
