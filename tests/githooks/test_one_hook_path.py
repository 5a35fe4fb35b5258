"""One decision, every path: the shim's sh, the prepared switch and the engine send
a branch where core/routing says; and no key is copied anywhere on the way."""

from __future__ import annotations

import os
from pathlib import Path

from moai_mashup.core.routing import backend_for_branch
from tests.githooks.test_hooks_prepared import _checkout, _settle
from tests.gitrepo import FAKE_KEY, git, moai, settings
from tests.hooks_support import install, run_git

BARE_PREFIX = "feature/SPEC-"  # the default pattern's prefix alone: not a SPEC branch


def _backend(repo: Path) -> str:
    token = settings(repo).get("env", {}).get("ANTHROPIC_AUTH_TOKEN")
    return "glm" if token == FAKE_KEY else "claude"


def test_the_bare_prefix_goes_where_routing_says_from_glm_by_the_shim_or_python(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    """On GLM with a stamp that holds: the shim must not read `feature/SPEC-` as a
    SPEC branch (a no-op that would leave the key in place)."""
    assert backend_for_branch("mashup", BARE_PREFIX) == "claude"
    _settle(repo, env, home)
    run_git(repo, "branch", BARE_PREFIX, env=env)
    assert _checkout(repo, "feature/SPEC-1", env)[0]  # the prepared switch: GLM
    assert _backend(repo) == "glm"
    _checkout(repo, BARE_PREFIX, env)
    assert _backend(repo) == "claude"


def test_the_bare_prefix_goes_where_routing_says_from_claude_by_every_path(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    _settle(repo, env, home)
    run_git(repo, "branch", BARE_PREFIX, env=env)
    _checkout(repo, BARE_PREFIX, env)  # the shim's stamp and the prepared switch
    assert _backend(repo) == "claude"
    run_git(repo, "checkout", "-q", "feature/SPEC-1", env=env)
    assert _backend(repo) == "glm"
    (repo / ".git" / "moai" / "hook-stamp").unlink()  # the engine alone
    run_git(repo, "checkout", "-q", BARE_PREFIX, env=env)
    assert _backend(repo) == "claude"


def _key_holders(top: Path, home: Path) -> list[str]:
    """Every file under `top` holding the key, but the settings files and ~/.moai."""
    found = []
    for root, _dirs, names in os.walk(top):
        for name in names:
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                continue
            if name == "settings.local.json" or (home / ".moai") in path.parents:
                continue
            if FAKE_KEY.encode() in path.read_bytes():
                found.append(str(path.relative_to(top)))
    return found


def test_no_copy_of_the_key_outside_the_settings_files_and_moai_home(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, tmp_path: Path
) -> None:
    """Checkouts (the engine's and prepared switches, both ways), worktrees made by
    git and by moai, switches inside them: then every file of the repository, its
    git dir, the worktrees and HOME is read."""
    _settle(repo, env, home)
    for branch in ("feature/SPEC-1", "main", "feature/SPEC-2", "other", "feature/SPEC-1"):
        run_git(repo, "checkout", "-q", branch, env=env)
    linked = tmp_path / "linked"
    run_git(repo, "worktree", "add", "-q", "-b", "feature/SPEC-9", str(linked), "main", env=env)
    run_git(linked, "checkout", "-q", "-b", "feature/SPEC-10", env=env)
    run_git(linked, "checkout", "-q", "-b", "side", env=env)
    run_git(linked, "checkout", "-q", "feature/SPEC-9", env=env)
    r = moai(repo, "worktree", "create", "SPEC-WT-1", env=env)
    assert r.returncode == 0, r.stderr
    r = moai(repo, "apply", env=env)
    assert r.returncode == 0, r.stderr
    install(repo, env)  # a reinstall forgets every prepared switch, then more checkouts
    run_git(repo, "checkout", "-q", "main", env=env)
    run_git(repo, "checkout", "-q", "feature/SPEC-2", env=env)
    assert _backend(repo) == "glm" and _backend(linked) == "glm"
    assert git(repo, "worktree", "list", env=env).count("\n") == 3
    assert _key_holders(tmp_path, home) == []
