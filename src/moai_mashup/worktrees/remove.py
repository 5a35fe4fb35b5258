"""`moai worktree remove` and `clean`: never lose work (dirty, unpushed, hidden edits)."""

from __future__ import annotations

import os
from pathlib import Path

from moai_mashup import git
from moai_mashup.errors import Refused
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.paths import STATE_DIR
from moai_mashup.settings import private
from moai_mashup.settings.main_checkout import linked_worktrees
from moai_mashup.workspace import Workspace
from moai_mashup.worktrees.entries import (
    PRUNE,
    WorktreeEntry,
    find,
    list_entries,
)
from moai_mashup.worktrees.listing import (
    WorktreeInfo,
    describe,
    hidden_edits,
)

# lean.NamedTuple: typing's compiles every field's annotation string (~12 ms for this
# module, before the first `git status` of `list` can start).
if TYPE_CHECKING:
    pass


class Removed(NamedTuple):
    path: Path
    branch: str | None
    branch_deleted: bool


def _describe_one(ws: Workspace, entry: WorktreeEntry) -> WorktreeInfo:
    entries = list_entries(Path(ws.wt.root))
    # describe() tells the main worktree by position; keep it first.
    return next(i for i in describe(ws, [entries[0], entry]) if i.path == str(entry.path))


def remove(ws: Workspace, spec_id: str, *, force: bool, delete_branch: bool) -> Removed:
    """Remove SPEC-ID's worktree; refuse dirty work and unmerged branches unless --force."""
    return remove_entry(ws, find(ws, spec_id), force=force, delete_branch=delete_branch)


def remove_entry(
    ws: Workspace, entry: WorktreeEntry, *, force: bool, delete_branch: bool
) -> Removed:
    """`remove` for any worktree of the repository (as `git worktree list` gives it)."""
    if entry.path == Path(ws.wt.main_root):
        raise Refused(f"{entry.path} is the main worktree; it cannot be removed")
    info = _describe_one(ws, entry)
    if info.dirty is not None and not info.missing:
        info = info._replace(dirty=info.dirty + hidden_edits(entry.path))
    if entry.locked is not None:
        why = f" ({entry.locked})" if entry.locked else ""
        raise Refused(f"{entry.path} is locked{why}; run: git worktree unlock {entry.path}")
    if info.dirty and not force:
        shown = ", ".join(info.dirty[:5]) + (
            f" (+{len(info.dirty) - 5} more)" if len(info.dirty) > 5 else ""
        )
        raise Refused(
            f"{entry.path} has uncommitted or untracked work: {shown}; "
            "commit or stash it (or --force to discard it)"
        )
    if delete_branch and info.merged is None and not info.empty and not force:
        raise Refused(
            f"{entry.branch} is not merged into {ws.cfg.default_branch}; "
            "keep it (drop --delete-branch) or delete it anyway with --force"
        )
    _remove_worktree(ws, entry, force=force)
    deleted = False
    if delete_branch and entry.branch:
        # -D: our own check above accepts squash and rebase merges, which `git branch -d` does not.
        git.run(["branch", "-D", entry.branch], ws.wt.main_root)
        deleted = True
    return Removed(entry.path, entry.branch, deleted)


def _private_folder(ws: Workspace, entry: WorktreeEntry) -> str | None:
    """The worktree's private folder in ~/.moai (settings/private.py), found through the
    admin dir git keeps for it; None: none."""

    for linked in linked_worktrees(ws.wt):
        if os.path.realpath(linked.root) == os.path.realpath(entry.path):
            return private.lookup(os.path.join(linked.admin, STATE_DIR)).folder
    return None


def _remove_worktree(ws: Workspace, entry: WorktreeEntry, *, force: bool) -> None:
    """`git worktree remove` (or prune, for one already gone), then the worktree's private
    folder: its settings file went with it, so its record has nothing left to restore."""

    folder = _private_folder(ws, entry)
    if not entry.path.exists():
        git.run(["worktree", "prune"], ws.wt.main_root)
    else:
        args = ["worktree", "remove", *(["--force"] if force else []), str(entry.path)]
        proc = git.run(args, ws.wt.main_root, check=False)
        if proc.returncode != 0:
            last = proc.stderr.strip().splitlines()[-1]
            raise Refused(f"git worktree remove {entry.path}: {last}")
    if folder is not None:
        private.remove_folder(folder)


class CleanPlan(NamedTuple):
    remove: list[WorktreeInfo]  # merged (or empty, with --empty) and clean: removed with branches
    kept_dirty: list[WorktreeInfo]  # merged or empty but holding work: kept
    kept_empty: list[WorktreeInfo]  # no commits of its own, without --empty: kept
    stale: list[str]  # `git worktree prune` lines: worktrees whose directory is gone
    # Private folders in ~/.moai/worktrees (settings/private.py) of worktrees that are
    # gone (or go with the prune): their records have nothing left to restore.
    private: list[str]


HOW = {"merged": "merge or fast-forward", "squashed": "squash", "rebased": "rebase"}


def why(info: WorktreeInfo, default_branch: str) -> str:
    """Why `clean` takes a worktree: "merged: its 3 commits are in main (squash)",
    "empty: no commits of its own, --empty"."""
    if info.empty:
        return "empty: no commits of its own, --empty"
    n = info.commits
    its = "its commits are" if not n else f"its {n} commit{'s are' if n > 1 else ' is'}"
    return f"merged: {its} in {default_branch} ({HOW.get(info.merged or '', info.merged)})"


def plan_clean(ws: Workspace, *, merged: bool, empty: bool = False) -> CleanPlan:
    """What `clean` does: prune stale records; with `merged`, SPEC worktrees whose own
    commits landed on the default branch; with `empty`, those without commits of their
    own (each kept when it holds work)."""
    # --expire now: git's default keeps records of deleted worktrees for 3 months; asking
    # `clean` is the user saying they are gone (locked ones are never pruned).
    dry = git.run([*PRUNE, "--dry-run", "--verbose"], ws.wt.main_root)
    stale = dry.stdout + dry.stderr  # git prints the --verbose lines on stderr
    stale_lines = [line for line in stale.splitlines() if line.strip()]
    gone: list[WorktreeInfo] = []
    dirty: list[WorktreeInfo] = []
    kept_empty: list[WorktreeInfo] = []
    if merged or empty:
        for info in describe(ws):
            if info.is_main or info.missing or info.spec_id is None or info.locked is not None:
                continue
            if not (info.empty or (merged and info.merged is not None)):
                continue
            if info.empty and not empty:
                kept_empty.append(info)  # never taken as "merged": nothing of it was
                continue
            if not info.dirty:
                info = info._replace(dirty=hidden_edits(Path(info.path)))
            (dirty if info.dirty else gone).append(info)
    return CleanPlan(gone, dirty, kept_empty, stale_lines, _gone_private(ws))


def _gone_private(ws: Workspace) -> list[str]:
    """The private folders `clean` removes: those no worktree claims any more (this
    repository's own kept, even if it moved), and those of this repository's
    worktrees whose directory is gone (their records go with git's prune)."""

    common = str(ws.wt.common_dir)
    going = []
    for linked in linked_worktrees(ws.wt):
        if not os.path.exists(linked.root) and not os.path.exists(
            os.path.join(linked.admin, "locked")
        ):
            found = private.lookup(os.path.join(linked.admin, STATE_DIR)).folder
            going += [found] if found is not None else []
    keep = private.repository_ids(common) - {os.path.basename(f) for f in going}
    return sorted({*going, *(o.folder for o in private.orphans(common, keep))})


def run_clean(ws: Workspace, plan: CleanPlan) -> list[str]:

    lines = []
    if plan.stale:
        git.run(PRUNE, ws.wt.main_root)
    for folder in plan.private:
        private.remove_folder(folder)
        lines.append(f"removed {folder}: moai's record of a worktree that is gone")
    for info in plan.remove:
        entry = WorktreeEntry(Path(info.path), info.head, info.branch, False, None, None)
        _remove_worktree(ws, entry, force=False)
        if info.branch:
            git.run(["branch", "-D", info.branch], ws.wt.main_root)
        lines.append(
            f"removed {info.path} and branch {info.branch}: {why(info, ws.cfg.default_branch)}"
        )
    return lines
