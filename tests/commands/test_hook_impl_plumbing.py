"""`moai hook-impl` is plumbing: out of `moai --help` and tab completion, still working."""

from __future__ import annotations

from pathlib import Path

from tests.gitrepo import FAKE_KEY, git, moai, settings


def test_help_does_not_list_hook_impl(env: dict[str, str], tmp_path: Path) -> None:
    r = moai(tmp_path, "--help", env=env)
    assert r.returncode == 0, r.stderr
    assert "  hooks " in r.stdout  # the command list is there
    assert "hook-impl" not in r.stdout


def test_completion_does_not_offer_hook_impl(env: dict[str, str], tmp_path: Path) -> None:
    for typed, cword in (("moai hook", "1"), ("moai ", "1")):
        r = moai(
            tmp_path,
            env=dict(env, _MOAI_COMPLETE="bash_complete", COMP_WORDS=typed, COMP_CWORD=cword),
        )
        assert r.returncode == 0, r.stderr
        offered = [line.partition(",")[2] for line in r.stdout.splitlines()]
        assert "hooks" in offered
        assert "hook-impl" not in offered


def test_hook_impl_still_runs_the_hook(env: dict[str, str], repo: Path, keyed_home: str) -> None:
    """A hook manager's call: no hooks installed, the checkout itself switches nothing,
    `moai hook-impl post-checkout` puts the worktree on the table's backend."""
    r = moai(repo, "hook-impl", "post-checkout", "0", "0", "0", env=env)
    assert r.returncode == 0, r.stderr
    old = git(repo, "rev-parse", "HEAD", env=env).strip()
    git(repo, "checkout", "-q", "-b", "feature/SPEC-PLUMB-001", env=env)
    assert settings(repo) == {}
    r = moai(repo, "hook-impl", "post-checkout", old, old, "1", env=env)
    assert r.returncode == 0, r.stderr
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
