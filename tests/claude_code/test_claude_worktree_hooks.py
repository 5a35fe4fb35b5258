"""Claude Code's WorktreeCreate / WorktreeRemove hooks (claude_code/worktree.py) beyond
the common path: where the payload's `cwd` is missing or odd, a reused worktree put back
on the table's backend, and git's own refusals passed on by their last line. The
installed `moai` as Claude Code runs it, real repositories and real git."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.claude_code.test_claude_code_hooks import GLM_URL, hook
from tests.gitrepo import git, make_repo, save_fake_key

SETTINGS = Path(".claude/settings.local.json")


@pytest.fixture
def plain(tmp_path: Path, env: dict[str, str]) -> Path:
    """A repository without moai's config: Claude Code's own convention."""
    return make_repo(tmp_path / "plain", env, llm_yaml=None, glm_json=None)


def test_a_bad_name_is_quoted_cut_to_60_characters(repo: Path, env: dict[str, str]) -> None:
    name = "bad name " + "x" * 100
    r = hook(repo, env, "worktree-create", {"cwd": str(repo), "name": name})
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == (
        f"moai: worktree-create: worktree name {name[:60]!r}: use letters, digits, '.', '_'"
        " or '-' (e.g. SPEC-AUTH-001 or fix-login)\n"
    )


def test_the_payloads_cwd_decides_and_the_process_cwd_stands_in_for_a_bad_one(
    repo: Path, env: dict[str, str], home: Path, tmp_path: Path
) -> None:
    save_fake_key(home)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    wt = home / "worktrees" / repo.name / "SPEC-CWD-1"
    # Claude Code started elsewhere: the payload's cwd names the repository.
    r = hook(elsewhere, env, "worktree-create", {"cwd": str(repo), "name": "SPEC-CWD-1"})
    assert (r.returncode, r.stdout) == (0, f"{wt}\n"), r.stderr
    # A cwd that is not text, or empty: the process's own.
    for cwd in (5, ""):
        r = hook(repo, env, "worktree-create", {"cwd": cwd, "name": "SPEC-CWD-1"})
        assert (r.returncode, r.stdout) == (0, f"{wt}\n"), (cwd, r.stderr)
    # WorktreeRemove: the payload's cwd when it is a folder, else the process's.
    for start, cwd in ((repo, "/nonexistent/dir"), (repo, 5), (elsewhere, str(repo))):
        r = hook(start, env, "worktree-remove", {"cwd": cwd, "worktree_path": "/nowhere"})
        assert r.returncode == 1 and r.stderr == (
            f"moai: worktree-remove: /nowhere: not a worktree of {repo}\n"
        ), (start, cwd)


@pytest.mark.parametrize("target", [None, 5, ""])
def test_worktree_remove_without_a_path_is_one_line(
    repo: Path, env: dict[str, str], target: object
) -> None:
    payload = {"cwd": str(repo)} if target is None else {"cwd": str(repo), "worktree_path": target}
    r = hook(repo, env, "worktree-remove", payload)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "moai: worktree-remove: stdin: WorktreeRemove without a worktree_path\n"


def test_create_says_what_it_made_and_a_reuse_puts_the_worktree_back_on_its_backend(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    save_fake_key(home)
    payload = {"cwd": str(repo), "name": "SPEC-BACK-1"}
    r = hook(repo, env, "worktree-create", payload)
    wt = home / "worktrees" / repo.name / "SPEC-BACK-1"
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith(f"moai: created {wt} on feature/SPEC-BACK-1; backend: glm\n")
    # The settings taken off GLM by hand: the reuse puts them back, and says so.
    (wt / SETTINGS).unlink()
    r = hook(repo, env, "worktree-create", payload)
    assert (r.returncode, r.stdout) == (0, f"{wt}\n"), r.stderr
    assert r.stderr.startswith(f"moai: {wt}: glm ("), r.stderr
    assert r.stderr.count("\n") == 1
    assert json.loads((wt / SETTINGS).read_text())["env"]["ANTHROPIC_BASE_URL"] == GLM_URL
    # Already there: nothing to say.
    r = hook(repo, env, "worktree-create", payload)
    assert (r.returncode, r.stdout, r.stderr) == (0, f"{wt}\n", "")


def test_without_moais_config_an_existing_branch_gets_the_worktree(
    plain: Path, env: dict[str, str]
) -> None:
    git(plain, "branch", "worktree-fix-login", env=env)
    r = hook(plain, env, "worktree-create", {"cwd": str(plain), "name": "fix-login"})
    assert r.returncode == 0, r.stderr
    wt = plain / ".claude" / "worktrees" / "fix-login"
    assert r.stdout == f"{wt}\n"
    assert git(wt, "branch", "--show-current", env=env).strip() == "worktree-fix-login"


def test_without_moais_config_gits_refusals_are_passed_on_by_their_last_line(
    plain: Path, env: dict[str, str]
) -> None:
    """git's message is several lines (a lock reason, a hook's output): the hook's one
    line is the last of them."""
    # git worktree add fails: a post-checkout hook of the repository's that says so.
    hook_file = plain / ".git" / "hooks" / "post-checkout"
    hook_file.write_text("#!/bin/sh\necho one >&2\necho two >&2\necho three >&2\nexit 1\n")
    hook_file.chmod(0o755)
    dest = plain / ".claude" / "worktrees" / "fix-hook"
    r = hook(plain, env, "worktree-create", {"cwd": str(plain), "name": "fix-hook"})
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (
        f"moai: worktree-create: git worktree add {dest}: three; the worktree was made all"
        " the same\n"
    )
    hook_file.unlink()
    # git made it all the same: the next `claude -w fix-hook` gets it.
    r = hook(plain, env, "worktree-create", {"cwd": str(plain), "name": "fix-hook"})
    assert (r.returncode, r.stdout) == (0, f"{dest}\n"), r.stderr
    # Nothing made: said so.
    dest.parent.joinpath("fix-file").write_text("in the way\n")
    r = hook(plain, env, "worktree-create", {"cwd": str(plain), "name": "fix-file"})
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.startswith(
        f"moai: worktree-create: git worktree add {dest.parent / 'fix-file'}: "
    )
    assert r.stderr.endswith("; nothing was created\n") and r.stderr.count("\n") == 1

    # git worktree remove fails: the worktree is locked, with a reason of two lines.
    r = hook(plain, env, "worktree-create", {"cwd": str(plain), "name": "fix-lock"})
    assert r.returncode == 0, r.stderr
    wt = Path(r.stdout.strip())
    git(plain, "worktree", "lock", "--reason", "held by\nanother tool", str(wt), env=env)
    says = subprocess.run(
        ["git", "-C", str(plain), "worktree", "remove", str(wt)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stderr.strip()
    assert says.count("\n") >= 2 and wt.is_dir()  # git's lines: refusal, reason, advice
    r = hook(plain, env, "worktree-remove", {"cwd": str(plain), "worktree_path": str(wt)})
    assert (r.returncode, r.stdout) == (1, "")
    last = says.splitlines()[-1]
    assert r.stderr == f"moai: worktree-remove: git worktree remove {wt}: {last}\n"
    assert wt.is_dir()


def test_a_reused_worktree_whose_branch_has_no_moai_config_is_left_alone(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    """The hooks act only where llm.yaml is: a SPEC branch that dropped it (or predates
    it), checked out in a worktree, is reused as it is."""
    save_fake_key(home)
    git(repo, "checkout", "-q", "-b", "feature/SPEC-OLD-1", env=env)
    git(repo, "rm", "-q", "-r", ".moai", env=env)
    git(repo, "commit", "-qm", "no moai config here", env=env)
    git(repo, "checkout", "-q", "main", env=env)
    wt = home / "worktrees" / repo.name / "SPEC-OLD-1"
    git(repo, "worktree", "add", "-q", str(wt), "feature/SPEC-OLD-1", env=env)
    r = hook(repo, env, "worktree-create", {"cwd": str(repo), "name": "SPEC-OLD-1"})
    assert (r.returncode, r.stdout, r.stderr) == (0, f"{wt}\n", "")
    assert not (wt / SETTINGS).exists()
