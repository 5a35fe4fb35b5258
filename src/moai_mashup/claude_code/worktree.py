"""Claude Code's WorktreeCreate / WorktreeRemove hooks: `claude -w NAME` and the
EnterWorktree / ExitWorktree tools go through moai's worktrees.

- A SPEC id (`SPEC-AUTH-001`) is moai's SPEC worktree, exactly as
  `moai worktree create` makes it: `feature/SPEC-AUTH-001` under
  `worktree.root`, set up and on the table's backend; an existing one is
  reused (and put on the table's backend).
- Any other name gets Claude Code's branch name, `worktree-NAME`, in moai's
  place, `<worktree.root>/NAME`: branches read as they always did for `-w`
  users, while `moai worktree list`, `moai cost` and the routing table see the
  worktree like any other (and none lands inside the main checkout).
- Where moai is not configured, Claude Code's own convention:
  `<repo>/.claude/worktrees/NAME` on `worktree-NAME`, nothing routed.

The name comes from a command line or from a model's tool call: it is
checked before it reaches a path or a ref. Removing refuses uncommitted and
untracked work (moai's `worktree remove` without --force); the branch stays.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from moai_mashup import files, git
from moai_mashup.errors import BadInput, Refused

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
BRANCH_PREFIX = "worktree-"  # Claude Code's own branch names for -w


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or ".." in name:
        raise BadInput(
            f"worktree name {str(name)[:60]!r}: use letters, digits, '.', '_' or '-' "
            "(e.g. SPEC-AUTH-001 or fix-login)"
        )
    if name.endswith((".lock", ".")):
        raise BadInput(f"worktree name {name!r}: may not end in '.lock' or '.'")
    return name


def _say(lines: list[str]) -> None:
    for line in lines:
        sys.stderr.write(f"moai: {line}\n")


def create(payload: dict[str, object]) -> int:
    from moai_mashup.config import LLM_YAML
    from moai_mashup.core.routing import is_valid_spec_id, spec_branch_name

    name = check_name(payload.get("name"))
    cwd = payload.get("cwd")
    wt = git.discover(Path(cwd) if isinstance(cwd, str) and cwd else Path.cwd())
    from moai_mashup.workspace import open_workspace

    ws = open_workspace(Path(wt.main_root)) if (Path(wt.main_root) / LLM_YAML).is_file() else None
    if ws is None or not ws.cfg.configured:
        path = _plain_create(wt, name)
    else:
        spec = is_valid_spec_id(name)
        branch = (
            spec_branch_name(name, ws.cfg.spec_branch_pattern) if spec else BRANCH_PREFIX + name
        )
        from moai_mashup.worktrees.create import create_on_branch

        made = create_on_branch(ws, name, branch, reuse=True)
        if made.reused:
            _bring_onto_backend(made.path)
        else:
            _say([f"created {made.path} on {made.branch}; backend: {made.backend}", *made.lines])
        path = made.path.resolve()
    sys.stdout.write(f"{path}\n")
    return 0


def _bring_onto_backend(path: Path) -> None:
    """A reused worktree, put on the table's backend."""
    from moai_mashup.workspace import open_workspace

    there = open_workspace(path)
    if there.cfg.configured and there.expected is not None:
        from moai_mashup.settings.apply import apply_backend

        result = apply_backend(there.wt, there.cfg, there.expected)
        if result.changed:
            _say([f"{there.wt.root}: {result.backend} ({there.why()})"])


def _plain_create(wt: git.Worktree, name: str) -> Path:
    """Claude Code's own `-w` (no moai config here): `.claude/worktrees/NAME`.

    Under the repository's worktree lock, as moai's own creates: several at
    once for one name all get the one worktree.
    """
    from moai_mashup.worktrees.create import worktrees_lock

    with worktrees_lock(Path(wt.common_dir)):
        return _plain_create_locked(wt, name)


def _plain_create_locked(wt: git.Worktree, name: str) -> Path:
    from moai_mashup.worktrees.entries import list_entries

    branch = BRANCH_PREFIX + name
    for entry in list_entries(Path(wt.root)):
        if entry.branch == branch and entry.path.is_dir():
            return entry.path.resolve()
    dest = Path(wt.main_root) / ".claude" / "worktrees" / name
    if not files.is_inside(dest.parent, wt.main_root):
        # A committed `.claude` or `.claude/worktrees` link: git would follow it.
        raise Refused(
            f"{dest.parent}: a symbolic link leading outside {wt.main_root}; moai creates "
            "no worktree through it (make it a plain folder)"
        )
    exists = git.exit_status(["rev-parse", "-q", "--verify", f"refs/heads/{branch}"], wt.root) == 0
    args = [str(dest), branch] if exists else ["-b", branch, str(dest), "HEAD"]
    proc = git.run(["worktree", "add", "--quiet", *args], wt.root, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        made = (e.path.resolve() for e in list_entries(Path(wt.root)) if e.branch == branch)
        if dest.resolve() in made:
            # git made it, then failed after (the repository's post-checkout hook): the
            # next `claude -w NAME` reuses it.
            raise Refused(f"git worktree add {dest}: {last}; the worktree was made all the same")
        raise Refused(f"git worktree add {dest}: {last}; nothing was created")
    return dest.resolve()


def remove(payload: dict[str, object]) -> int:
    from moai_mashup.config import LLM_YAML
    from moai_mashup.workspace import open_workspace
    from moai_mashup.worktrees.entries import list_entries
    from moai_mashup.worktrees.remove import remove_entry

    target = payload.get("worktree_path")
    if not isinstance(target, str) or not target:
        raise BadInput("stdin: WorktreeRemove without a worktree_path")
    cwd = payload.get("cwd")
    start = Path(cwd) if isinstance(cwd, str) and Path(cwd).is_dir() else Path.cwd()
    wt = git.discover(start)
    wanted = Path(target).resolve()
    entry = next((e for e in list_entries(Path(wt.main_root)) if e.path.resolve() == wanted), None)
    if entry is None:
        raise BadInput(f"{target}: not a worktree of {wt.main_root}")
    if (Path(wt.main_root) / LLM_YAML).is_file():
        ws = open_workspace(wt.main_root)
        try:
            done = remove_entry(ws, entry, force=False, delete_branch=False)
        except Refused as exc:
            _leave_note(
                Path(wt.common_dir), payload.get("session_id"), f"moai did not remove it: {exc}"
            )
            raise
        _say([f"removed {done.path}; branch {done.branch} kept"])
        return 0
    if entry.path.resolve() == Path(wt.main_root).resolve():
        raise Refused(f"{entry.path} is the main worktree; it cannot be removed")
    proc = git.run(["worktree", "remove", str(entry.path)], wt.main_root, check=False)
    if proc.returncode != 0:
        raise Refused(f"git worktree remove {entry.path}: {proc.stderr.strip().splitlines()[-1]}")
    return 0


def _leave_note(common_dir: Path, session_id: object, line: str) -> None:
    """For the session's next prompt: Claude Code tells the model only that the
    worktree was kept, not why (measured in -p mode, both tested versions)."""
    from moai_mashup.claude_code.session import note_path

    name = note_path(common_dir, session_id)
    if name is None:
        return
    import contextlib

    with contextlib.suppress(OSError, BadInput):  # a courtesy: the refusal reached Claude Code
        files.write_text(name, line + "\n", within=common_dir)
