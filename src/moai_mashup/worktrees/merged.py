"""Has a branch's work landed on the default branch? Merges, squashes, rebases.

And has it any: a branch whose reflog records no commit of its own is empty,
not merged, wherever its tip is. The graph answers are cached by commit ids.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from moai_mashup import files, jsontext
from moai_mashup.errors import BadInput
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.limits import MAX_STATE_BYTES

# lean.NamedTuple: typing's compiles every field's annotation string (~12 ms for this
# module, before the first `git status` of `list` can start).
if TYPE_CHECKING:
    from typing import Any


# Reflog messages of moves that make no commit: the branch was created or reset, or
# fast-forwarded (`merge`, `pull`, `fetch`; a `rebase` with nothing of its own to
# replay ends the same way, and replayed commits were recorded when they were made).
_MOVES = ("branch: Created from ", "branch: Reset to ", "reset: moving to ")


def _is_move(message: str) -> bool:
    m = message.strip()
    return (
        m.startswith(_MOVES)
        or m.lower().endswith("fast-forward")
        or (m.startswith(("rebase", "pull")) and "(finish)" in m)
    )


class History(NamedTuple):
    """What a branch's reflog says of it."""

    created: str | None  # the commit it was created at
    last_own: str | None  # where its newest commit of its own left it; None: it made none


def branch_history(common_dir: Path, branch: str) -> History | None:
    """The branch's own commits as its reflog records them; None without a readable one.

    A commit of its own is any entry but the first that is not a move (`_MOVES`,
    a fast-forward): `commit`, `cherry-pick`, `revert`, `am`, a merge commit. A
    branch only ever fast-forwarded to the default branch made none, whatever
    its tip.
    """
    try:
        data = files.read_bytes(common_dir / "logs" / "refs" / "heads" / branch, MAX_STATE_BYTES)
    except (BadInput, OSError):  # past 4 MiB, not a plain file, unreadable: not known
        return None
    if not data:
        return None
    created = last_own = None
    for n, line in enumerate(data.decode("utf-8", "replace").splitlines()):
        ids, _, message = line.partition("\t")
        shas = ids.split(" ", 2)
        if len(shas) < 2:
            continue
        if n == 0:
            created = shas[1]
        elif not _is_move(message):
            last_own = shas[1]
    return History(created, last_own)


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
        cached = jsontext.loads(files.read_text(path, MAX_STATE_BYTES) or "null")
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
            files.write_bytes(path, jsontext.dumps(blob).encode(), 0o644, durable=False)
    return facts


class Own(NamedTuple):
    """A branch's own work against the default branch: what `list` and `clean` say."""

    merged: str | None  # how its own commits landed: "merged", "squashed", "rebased"; else None
    empty: bool  # no commits of its own: its tip is on the default branch, and it made none
    commits: int | None  # its own commits (None: unknown)


def own_work(
    common_dir: Path, default_tip: str, tips: dict[str, tuple[str, GraphFacts]]
) -> dict[str, Own]:
    """Own work of each branch (name -> its tip and graph facts against `default_tip`).

    Ahead of the default branch, its commits there are its own. Not ahead (its
    tip an ancestor of the default tip, or that tip), its reflog says whether
    it made any (`branch_history`): a fresh branch, or one only fast-forwarded
    to the default branch, is empty; one whose commits were merged, fast-forwarded
    into the default branch, squashed or rebased there is merged; commits that
    went elsewhere (reset away) are not. Without a reflog, ancestry decides, as
    git's own `--merged` does.
    """
    out: dict[str, Own] = {}
    asked: dict[str, History] = {}
    for branch, (_tip, fact) in tips.items():
        history = branch_history(common_dir, branch) if fact.ahead == 0 else None
        if fact.ahead or history is None:
            out[branch] = Own(fact.merged, False, fact.ahead or None)
        elif history.last_own is None:
            out[branch] = Own(None, True, 0)
        else:
            asked[branch] = history
    pairs = {(h.last_own or "", default_tip) for h in asked.values()}
    pairs |= {(h.last_own or "", h.created) for h in asked.values() if h.created}
    if pairs:  # with the tips' pairs: the cache keeps the pairs of its last call only
        pairs |= {(tip, default_tip) for tip, _fact in tips.values()}
    try:
        more = graph_facts(common_dir, pairs) if pairs else {}
    except Exception:  # pygit2's own errors: a reflog naming a commit git no longer has
        more = {}
    for branch, h in asked.items():
        landed = more.get((h.last_own or "", default_tip))
        count = more.get((h.last_own or "", h.created or ""))
        out[branch] = Own(landed.merged if landed else None, False, count.ahead if count else None)
    return out
