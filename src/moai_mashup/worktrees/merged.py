"""Has a branch's work landed on the default branch? Merges, squashes, rebases.

The answers are cached by commit ids.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from moai_mashup import files
from moai_mashup.errors import BadInput
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.limits import MAX_STATE_BYTES

# lean.NamedTuple: typing's compiles every field's annotation string (~12 ms for this
# module, before the first `git status` of `list` can start).
if TYPE_CHECKING:
    from typing import Any


def branch_created_at(common_dir: Path, branch: str) -> str | None:
    """The sha the branch was created at, from the first line of its reflog.

    Only the line's start is read (`<old sha> <new sha> ...`): a reflog grows
    with every commit of the branch.
    """
    try:
        fd = files.open_regular(common_dir / "logs" / "refs" / "heads" / branch)
    except BadInput:
        return None
    if fd is None:
        return None
    try:
        head = files.read_fd(fd, REFLOG_HEAD)
    except OSError:
        return None
    finally:
        os.close(fd)
    first = head.decode("ascii", "replace").split("\n", 1)[0].split(" ", 2)
    return first[1] if len(first) >= 2 else None


# Two object ids and their separators: sha256 ids are 64 hex digits.
REFLOG_HEAD = 2 * 64 + 2


DELTA_DELETED = 2  # pygit2.enums.DeltaStatus.DELETED (GIT_DELTA_DELETED), without the import


def _changes_already_in(repo: Any, base: Any, tip: Any, target: Any) -> bool:
    """Whether every change of base..tip is already in `target`'s tree.

    That is when merging tip into target would change nothing: for each path
    the branch changed, target holds the branch's version (the three-way merge
    takes target's side everywhere else). Read-only, and it costs one tree
    diff, where a real merge would write tree objects into the repository.
    """
    target_tree = repo[target].tree
    for delta in repo.diff(repo[base].tree, repo[tip].tree).deltas:
        new = delta.new_file
        try:
            entry = target_tree[new.path]
        except KeyError:
            entry = None
        if delta.status == DELTA_DELETED:
            if entry is not None:
                return False
        elif entry is None or entry.id != new.id or entry.filemode != new.mode:
            return False
    return True


class PatchIds:
    """Patch ids of commits (`git patch-id`), cached: every branch walks the same main."""

    def __init__(self, repo: Any, max_walk: int = 2000) -> None:
        self.repo = repo
        self.max_walk = max_walk
        self.cache: dict[Any, Any] = {}

    def of(self, commit: Any) -> Any:
        pid = self.cache.get(commit.id)
        if pid is None:
            pid = self.repo.diff(commit.parents[0], commit).patchid
            self.cache[commit.id] = pid
        return pid

    def since(self, start: Any, base: Any) -> set[Any] | None:
        """Patch ids of base..start (merges skipped); None past `max_walk` commits."""
        import pygit2

        ids = set()
        walker = self.repo.walk(start, pygit2.enums.SortMode.TOPOLOGICAL)
        walker.hide(base)
        for n, commit in enumerate(walker):
            if n >= self.max_walk:
                return None
            if len(commit.parents) == 1:
                ids.add(self.of(commit))
        return ids


def _holds_empty_commit(repo: Any, tip: Any, base: Any, max_walk: int = 2000) -> bool:
    """Whether base..tip has a commit that changes nothing (True past `max_walk`: keep it)."""
    import pygit2

    walker = repo.walk(tip, pygit2.enums.SortMode.TOPOLOGICAL)
    walker.hide(base)
    for n, commit in enumerate(walker):
        if n >= max_walk:
            return True
        if len(commit.parents) == 1 and commit.tree_id == commit.parents[0].tree_id:
            return True
    return False


def integration(
    repo: Any, tip: Any, default_tip: Any, patch_ids: PatchIds | None = None
) -> str | None:
    """How `tip` got into `default_tip`: "merged", "squashed", "rebased", or None.

    Ancestry alone misses squash and rebase merges, whose commits are new.
    Squash: merging the branch into the default branch would change nothing.
    Rebase: every commit of the branch has a patch-identical commit on the
    default branch (`git cherry`'s test), which also holds when later commits
    touched the same lines.
    """
    if tip == default_tip or repo.descendant_of(default_tip, tip):
        return "merged"
    base = repo.merge_base(tip, default_tip)
    if base is None:
        return None
    if _holds_empty_commit(repo, tip, base):
        # An empty commit (`git commit --allow-empty`: a note, a marker, a CI trigger)
        # changes nothing, so "merging would change nothing" and "patch-identical"
        # hold for it trivially; only ancestry can say it reached the default branch.
        return None
    if _changes_already_in(repo, base, tip, default_tip):
        return "squashed"
    patch_ids = patch_ids or PatchIds(repo)
    ours = patch_ids.since(tip, base)
    theirs = patch_ids.since(default_tip, base) if ours else None
    if ours and theirs is not None and ours <= theirs:
        return "rebased"
    return None


GRAPH_CACHE = "graph-cache.json"  # in <common dir>/moai/
GRAPH_CACHE_VERSION = 2  # 2: a branch holding an empty commit is never merged by squash/rebase


class GraphFacts(NamedTuple):
    ahead: int
    behind: int
    merged: str | None


def graph_facts(common_dir: Path, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], GraphFacts]:
    """Ahead/behind and merged for (branch tip, default tip) pairs, cached by commit ids.

    What two commits say about each other never changes, so the answers are
    kept in the common git dir; a list where no branch moved then needs no
    pygit2 at all (its import alone costs ~150 ms of a 500 ms budget).
    """

    path = common_dir / "moai" / GRAPH_CACHE
    try:
        cached = json.loads(files.read_text(path, MAX_STATE_BYTES) or "null")
        known = {
            tuple(k.split(" ")): GraphFacts(*v)
            for k, v in cached["facts"].items()
            if cached.get("version") == GRAPH_CACHE_VERSION
        }
    except (BadInput, ValueError, RecursionError, KeyError, TypeError, AttributeError):
        known = {}
    facts = {p: known[p] for p in pairs if p in known}
    missing = pairs - set(facts)
    if missing:
        import pygit2

        repo = pygit2.Repository(str(common_dir))
        patch_ids = PatchIds(repo)
        for tip_hex, default_hex in missing:
            tip, default_tip = pygit2.Oid(hex=tip_hex), pygit2.Oid(hex=default_hex)
            ahead, behind = repo.ahead_behind(tip, default_tip)
            facts[(tip_hex, default_hex)] = GraphFacts(
                ahead, behind, integration(repo, tip, default_tip, patch_ids)
            )
        blob = {
            "version": GRAPH_CACHE_VERSION,
            "facts": {" ".join(k): list(v) for k, v in facts.items()},
        }
        with contextlib.suppress(OSError, BadInput):  # a cache we cannot write costs only time
            files.write_bytes(path, json.dumps(blob).encode(), 0o644, durable=False)
    return facts
