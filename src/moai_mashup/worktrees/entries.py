"""The worktree list git keeps, SPEC ids, and where worktrees live.

Git's own worktree list is the only registry, so nothing here can go stale.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from moai_mashup import files, git
from moai_mashup.core.routing import (
    SPEC_ID_SHAPE,
    is_valid_spec_id,
    spec_branch_name,
)
from moai_mashup.errors import BadInput, Refused
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.limits import MAX_CLAIM_BYTES

# lean.NamedTuple: typing's compiles every field's annotation string (~12 ms for this
# module, before the first `git status` of `list` can start). Workspace (the config,
# json) is a type here only: `list` loads it while the statuses run.
if TYPE_CHECKING:
    from moai_mashup.workspace import Workspace


LOCK_NAME = "worktree.lock"  # in <common dir>/moai/: serialises creates of one repository
CLAIM_NAME = ".moai-repository"  # in a worktree root: which repository owns it
PRUNE = ["worktree", "prune", "--expire", "now"]
CREATING_ENV = "MOAI_WORKTREE_CREATING"  # set for the hooks of our own `git worktree add`


class WorktreeEntry(NamedTuple):
    """One record of `git worktree list --porcelain`."""

    path: Path
    head: str | None
    branch: str | None  # short name; None when detached
    bare: bool
    locked: str | None  # the lock reason ("" when locked without one)
    prunable: str | None


def parse_porcelain(text: str) -> list[WorktreeEntry]:
    """Parse `git worktree list --porcelain -z`: NUL-ended fields, an empty one ends a record."""
    entries: list[WorktreeEntry] = []
    fields: dict[str, str] = {}
    for item in [*text.split("\0"), ""]:
        if item:
            key, _, value = item.partition(" ")
            fields[key] = value
            continue
        if "worktree" in fields:
            ref = fields.get("branch")
            entries.append(
                WorktreeEntry(
                    path=Path(fields["worktree"]),
                    head=fields.get("HEAD"),
                    branch=ref.removeprefix("refs/heads/") if ref else None,
                    bare="bare" in fields,
                    locked=fields.get("locked"),
                    prunable=fields.get("prunable"),
                )
            )
        fields = {}
    return entries


LIST_ARGS = git.WORKTREE_LIST_ARGS


def list_entries(cwd: Path) -> list[WorktreeEntry]:
    return parse_porcelain(git.run(LIST_ARGS, cwd).stdout)


def check_spec_id(spec_id: str) -> None:
    if not is_valid_spec_id(spec_id):
        raise BadInput(f"invalid SPEC id {spec_id!r}: expected {SPEC_ID_SHAPE}")


def find(ws: Workspace, spec_id: str) -> WorktreeEntry:
    """The worktree holding SPEC-ID's branch, or a one-line error."""
    check_spec_id(spec_id)
    branch = spec_branch_name(spec_id, ws.cfg.spec_branch_pattern)
    for entry in list_entries(Path(ws.wt.root)):
        if entry.branch == branch:
            return entry
    raise BadInput(
        f"{spec_id}: no worktree has branch {branch}; run: moai worktree create {spec_id}"
    )


# --- where new worktrees go ----------------------------------------------------------


def _short_hash(text: str) -> str:
    import hashlib  # OpenSSL, ~2 ms: only for a root another repository claimed

    return hashlib.sha256(text.encode()).hexdigest()[:8]


def worktree_root(ws: Workspace) -> Path:
    """`worktree.root` with `{project}` and `~` expanded; relative to the main worktree."""
    text = ws.cfg.worktree.root.replace("{project}", os.path.basename(ws.wt.main_root))
    path = Path(os.path.expanduser(text))
    return path if path.is_absolute() else Path(ws.wt.main_root) / path


def claimed_root(root: Path, common_dir: Path, *, claim: bool) -> Path:
    """The worktree root this repository may use: `root`, unless another repository owns it.

    Two repositories named `app` share `~/worktrees/app`, and both may have a
    SPEC-1. The first to create a worktree there claims the root (a file
    naming its git dir); the other gets `app-<hash of its git dir>`, always
    the same one. Without `claim` nothing is written (for `--dry-run` or a
    lookup).
    """
    owner = str(common_dir)

    def candidates() -> Iterator[Path]:
        yield root
        yield root.with_name(f"{root.name}-{_short_hash(owner)}")  # hashlib only when needed

    for candidate in candidates():
        marker = candidate / CLAIM_NAME
        current = _claim_of(marker, candidate)
        if current == owner:
            return candidate
        if current is None:
            if _occupied(candidate):
                continue  # someone else's folder (a committed root naming ~/.ssh): not ours
            if not claim:
                return candidate
            files.make_dirs(candidate)
            # Created whole, and only where nothing is (not even a link): two
            # repositories claiming at the same instant cannot both win, and a
            # link a checkout left there is never written through.
            if files.create_exclusive(marker, (owner + "\n").encode(), 0o644):
                return candidate
            if _claim_of(marker, candidate) == owner:
                return candidate
    raise Refused(f"{root}: worktree root is claimed by other repositories; use --path DIR")


def _occupied(folder: Path) -> bool:
    """Something other than an empty folder is there: a file, or a folder with entries."""
    if not os.path.lexists(folder):
        return False
    return not os.path.isdir(folder) or bool(files.list_dir(folder))


def _claim_of(marker: Path, root: Path) -> str | None:
    """Whose the root is: the git dir its claim file names; None when nothing is
    there; "" when something is that is not a small regular file in the root (a
    link leading out of it or dangling, a FIFO, a device): not ours to take."""

    try:
        text = files.read_text(marker, MAX_CLAIM_BYTES, within=root)
    except BadInput:
        return ""
    if text is None:
        return "" if os.path.lexists(marker) else None
    return text.strip()
