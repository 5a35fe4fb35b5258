"""What moai keeps that holds the settings file's values lives in ~/.moai, never in git's dirs.

The rule (docs/security.md, "What is kept where"): no copy of a key, nor of
any value of the user's settings file, anywhere but the settings file itself
and `~/.moai` (the user's private folder), whatever checkouts, worktree
creations and switches happen. moai's record of what it wrote (the values it
replaced, the file as it was) and the prepared switch's files are kept in
`~/.moai/worktrees/<id>/`; the git dir keeps only the pointer `private-id`.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.core_fixtures import private_folder
from tests.gitrepo import FAKE_KEY, SETTINGS, git, write
from tests.hooks_support import install, run_git
from tests.worktree_support import created

USER_TOKEN = "user0000own0000token0000TESTONLYnotreal3"
OTHER_TOKEN = "user1111other1111token1111TESTONLYnotreal4"
USER_SETTINGS = (
    '{\n  "model": "opus",\n  "env": {"ANTHROPIC_AUTH_TOKEN": "'
    + USER_TOKEN
    + '", "MY_OTHER_TOKEN": "'
    + OTHER_TOKEN
    + '"},\n  "permissions": {"allow": ["Bash(ls:*)"]}\n}\n'
)
SECRETS = (FAKE_KEY, USER_TOKEN, OTHER_TOKEN)


def holding_a_secret(top: Path) -> list[str]:
    """Every file under `top` (links not followed) holding one of SECRETS."""
    found = []
    for dirpath, _dirs, names in os.walk(top):
        for name in names:
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            found += [f"{path}: {s[:8]}" for s in SECRETS if s.encode() in data]
    return found


def test_no_value_of_the_settings_file_is_kept_in_the_git_dirs(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    write(repo / SETTINGS, USER_SETTINGS)
    install(repo, env)
    for branch in ("feature/SPEC-X", "other"):
        run_git(repo, "branch", branch, env=env)
    for branch in ("feature/SPEC-X", "main", "feature/SPEC-X", "other", "feature/SPEC-X"):
        run_git(repo, "checkout", "-q", branch, env=env)
    assert FAKE_KEY in (repo / SETTINGS).read_text()
    wt = created(repo, env, "SPEC-Y")
    write(wt / SETTINGS, USER_SETTINGS.replace('"opus"', '"sonnet"'))
    run_git(wt, "checkout", "-q", "-b", "plain", env=env)  # Claude: the user's file as is
    for branch in ("feature/SPEC-Y", "plain", "feature/SPEC-Y"):
        run_git(wt, "checkout", "-q", branch, env=env)
    assert FAKE_KEY in (wt / SETTINGS).read_text()
    run_git(repo, "checkout", "-q", "main", env=env)
    run_git(repo, "checkout", "-q", "feature/SPEC-X", env=env)

    assert holding_a_secret(repo / ".git") == []
    # ...and what moai keeps is in ~/.moai, one private folder a worktree.
    assert private_folder(repo, env).parent == home / ".moai" / "worktrees"
    assert private_folder(wt, env) != private_folder(repo, env)
    assert holding_a_secret(home / ".moai" / "worktrees") != []

    # Back on Claude, the user's file comes back byte for byte.
    run_git(repo, "checkout", "-q", "main", env=env)
    run_git(wt, "checkout", "-q", "plain", env=env)
    assert (repo / SETTINGS).read_text() == USER_SETTINGS
    assert (wt / SETTINGS).read_text() == USER_SETTINGS.replace('"opus"', '"sonnet"')
    assert git(repo, "status", "--porcelain", env=env) == ""
    assert holding_a_secret(repo / ".git") == []
