"""`moai hooks install` (no pre-commit framework): the guard and the trailer by default."""

from __future__ import annotations

from pathlib import Path

from tests.gitrepo import FAKE_KEY, LLM_YAML, git, moai, write
from tests.guard.test_guard_staged import head
from tests.guard.test_policy_commit import commit, last_message, policy_yaml


def test_default_install_guards_commits_and_adds_the_trailer(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / LLM_YAML, policy_yaml(commit_trailer=True, enforce_locations=True))
    git(repo, "commit", "-qam", "policy", env=env)
    r = moai(repo, "hooks", "install", env=env)
    assert r.returncode == 0, r.stderr
    for hook in ("post-checkout", "pre-commit", "prepare-commit-msg", "commit-msg"):
        assert f"{hook}: installed" in r.stdout

    before = head(repo, env)
    write(repo / ".moai/specs/SPEC-A/spec.md", f"token: {FAKE_KEY}\n")
    git(repo, "add", "-A", env=env)
    r = commit(repo, env, "-m", "plan with a key")
    assert r.returncode != 0 and head(repo, env) == before
    assert ".moai/specs/SPEC-A/spec.md:1: GLM key from ~/.moai/.env.glm" in r.stderr
    assert FAKE_KEY not in r.stdout + r.stderr

    write(repo / ".moai/specs/SPEC-A/spec.md", "token: ${GLM_API_KEY}\n")
    git(repo, "add", "-A", env=env)
    write(repo / "src/app.py", "x\n")
    git(repo, "add", "-A", env=env)
    r = commit(repo, env, "-m", "plan and code")
    assert r.returncode != 0 and "policy enforce_locations" in r.stderr
    git(repo, "rm", "-q", "--cached", "src/app.py", env=env)
    r = commit(repo, env, "-m", "plan")
    assert r.returncode == 0, r.stderr
    assert last_message(repo, env).rstrip().endswith("LLM-Backend: claude")

    git(repo, "switch", "-qc", "feature/SPEC-A", env=env)  # post-checkout: GLM here
    git(repo, "add", "src/app.py", env=env)
    r = commit(repo, env, "-m", "impl")
    assert r.returncode == 0, r.stderr
    assert last_message(repo, env).rstrip().endswith("LLM-Backend: glm (glm-4.7)")
