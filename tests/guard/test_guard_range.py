"""CI range checks: `moai check --from-ref A --to-ref B` finds what entered history."""

from __future__ import annotations

from pathlib import Path

from tests.gitrepo import FAKE_KEY, LLM_YAML, git, moai, write
from tests.guard.test_guard_staged import ANTHROPIC_SHAPED, head
from tests.guard.test_policy_commit import policy_yaml


def test_key_in_an_old_commit_found_with_its_commit(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    base = head(repo, env)
    write(repo / "src/settings.py", f"KEY = '{FAKE_KEY}'\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "leak", env=env)
    leak = head(repo, env)
    write(repo / "src/settings.py", "KEY = os.environ['GLM_API_KEY']\n")
    git(repo, "commit", "-qam", "remove it again", env=env)
    assert FAKE_KEY not in (repo / "src/settings.py").read_text()

    r = moai(repo, "check", "--from-ref", base, "--to-ref", "HEAD", env=env)
    assert r.returncode == 1
    assert f"{leak[:12]} src/settings.py:1: GLM key from ~/.moai/.env.glm" in r.stderr
    assert "in 2 commit(s)" in r.stderr and "rotate it" in r.stderr
    assert FAKE_KEY not in r.stdout + r.stderr

    # Commits after the leak are clean; a range that excludes it passes.
    r = moai(repo, "check", "--from-ref", leak, "--to-ref", "HEAD", env=env)
    assert r.returncode == 0, r.stderr
    assert "1 commit(s), no keys" in r.stdout


def test_zero_from_ref_scans_all_history_including_root(repo: Path, env: dict[str, str]) -> None:
    root_repo = repo.parent / "rooted"
    root_repo.mkdir()
    git(root_repo, "init", "-q", "-b", "main", env=env)
    write(root_repo / "k.txt", f"x\n{ANTHROPIC_SHAPED}\n")
    git(root_repo, "add", "-A", env=env)
    git(root_repo, "commit", "-qm", "root", env=env)
    root = head(root_repo, env)
    r = moai(root_repo, "check", "--from-ref", "0" * 40, "--to-ref", "main", env=env)
    assert r.returncode == 1
    assert f"{root[:12]} k.txt:2: Anthropic API key" in r.stderr


def test_key_file_committed_in_range_reported(repo: Path, env: dict[str, str]) -> None:
    base = head(repo, env)
    write(repo / "conf/.env.glm", 'GLM_API_KEY="x"\n')
    git(repo, "add", "-f", "conf/.env.glm", env=env)
    git(repo, "commit", "-qm", "key file", env=env)
    r = moai(repo, "check", "--from-ref", base, "--to-ref", "HEAD", env=env)
    assert r.returncode == 1 and "conf/.env.glm: a GLM key file" in r.stderr


def test_unknown_ref_is_bad_input(repo: Path, env: dict[str, str]) -> None:
    r = moai(repo, "check", "--from-ref", "nope", "--to-ref", "HEAD", env=env)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "--from-ref nope" in r.stderr
    r = moai(repo, "check", "--from-ref", "HEAD", env=env)
    assert r.returncode == 2 and "go together" in r.stderr


def test_range_enforces_locations_on_the_default_branchs_own_commits(
    repo: Path, env: dict[str, str]
) -> None:
    write(repo / LLM_YAML, policy_yaml(enforce_locations=True))
    git(repo, "commit", "-qam", "policy", env=env)
    base = head(repo, env)
    git(repo, "switch", "-qc", "feature/SPEC-A", env=env)
    write(repo / "src/feature.py", "x\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "feature work", env=env)
    git(repo, "switch", "-q", "main", env=env)
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "feature/SPEC-A", env=env)
    write(repo / ".moai/specs/SPEC-B/spec.md", "plan\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "plan B", env=env)
    r = moai(repo, "check", "--from-ref", base, "--to-ref", "main", env=env)
    assert r.returncode == 0, r.stderr

    write(repo / "src/direct.py", "x\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "direct on main", env=env)
    direct = head(repo, env)
    r = moai(repo, "check", "--from-ref", base, "--to-ref", "main", env=env)
    assert r.returncode == 1
    assert f"{direct[:12]} policy enforce_locations" in r.stderr
    assert "src/direct.py" in r.stderr and "src/feature.py" not in r.stderr
    # A range checked as some other branch's push has no location rule.
    sha = head(repo, env)
    r = moai(repo, "check", "--from-ref", base, "--to-ref", sha, "--branch", "topic", env=env)
    assert r.returncode == 0, r.stderr
