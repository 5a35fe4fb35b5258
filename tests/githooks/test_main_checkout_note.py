"""The line a checkout prints when the main checkout goes to GLM under linked worktrees.

Claude Code 2.1.332 applies the main checkout's settings.local.json in every
linked worktree: on a SPEC branch it puts them all on GLM. Only those the
routing table puts on Claude are misrouted by it; the line counts and names
those, gives the one action, and links the docs section that explains it.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.hooks_support import install, moai_lines, run_git

ROOT = Path(__file__).resolve().parents[2]
DOCS = "docs/claude-code.md#main-checkout-settings"


def _note(stderr: str) -> list[str]:
    return [line for line in moai_lines(stderr) if "linked worktree" in line]


def test_the_note_counts_only_the_linked_worktrees_meant_for_claude(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env)
    run_git(repo, "checkout", "-q", "-b", "other", env=env)  # main is free for a worktree
    on_main = repo.parent / "wt-main"
    on_spec = repo.parent / "wt-spec"
    run_git(repo, "worktree", "add", "-q", str(on_main), "main", env=env)
    run_git(repo, "worktree", "add", "-q", "-b", "feature/SPEC-B", str(on_spec), env=env)

    proc = run_git(repo, "checkout", "-q", "-b", "feature/SPEC-A", env=env)  # the engine
    expected = (
        f"moai: 1 linked worktree(s) meant for Claude ({on_main}) get this checkout's GLM "
        f"keys in Claude Code 2.1.332; fix: git checkout main ({DOCS})"
    )
    assert _note(proc.stderr) == [expected]
    assert str(on_spec) not in proc.stderr

    run_git(repo, "checkout", "-q", "other", env=env)
    proc = run_git(repo, "checkout", "-q", "feature/SPEC-A", env=env)  # prepared or not
    assert _note(proc.stderr) == [expected]

    # The worktree on main moves to a SPEC branch: none is meant for Claude any more,
    # and a note kept in the hook's stamp must not outlive that.
    run_git(on_main, "checkout", "-q", "-b", "feature/SPEC-C", env=env)
    run_git(repo, "checkout", "-q", "other", env=env)
    proc = run_git(repo, "checkout", "-q", "feature/SPEC-A", env=env)
    assert moai_lines(proc.stderr) and _note(proc.stderr) == []


def test_the_linked_section_exists_in_the_docs() -> None:
    anchor = DOCS.partition("#")[2]
    text = (ROOT / DOCS.partition("#")[0]).read_text(encoding="utf-8")
    assert re.search(rf"^#+ .*\{{#{anchor}\}}$", text, re.M)
