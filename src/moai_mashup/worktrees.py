"""SPEC worktrees: create, find, describe, remove, clean (the edge around `git worktree`).

Git's own worktree list is the only registry (`git worktree list --porcelain`),
so nothing here can go stale. `describe` runs a `git status` per worktree (git
is the authority on what counts as work) as parallel children while it reads
the rest itself; the commit graph answers are cached by commit ids.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from moai_mashup import git
from moai_mashup.core.routing import (
    SPEC_ID_SHAPE,
    Backend,
    backend_for_branch,
    is_valid_spec_id,
    spec_branch_name,
    spec_id_from_branch,
)
from moai_mashup.errors import BadInput, MoaiError, Refused
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.workspace import Workspace

# lean.NamedTuple: typing's compiles every field's annotation string (~12 ms for this
# module, before the first `git status` of `list` can start).
if TYPE_CHECKING:
    from typing import Any

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


def list_entries(cwd: Path) -> list[WorktreeEntry]:
    return parse_porcelain(git.run(["worktree", "list", "--porcelain", "-z"], cwd).stdout)


def check_spec_id(spec_id: str) -> None:
    if not is_valid_spec_id(spec_id):
        raise BadInput(f"invalid SPEC id {spec_id!r}: expected {SPEC_ID_SHAPE}")


def find(ws: Workspace, spec_id: str) -> WorktreeEntry:
    """The worktree holding SPEC-ID's branch, or a one-line error."""
    check_spec_id(spec_id)
    branch = spec_branch_name(spec_id, ws.cfg.spec_branch_pattern)
    for entry in list_entries(ws.wt.root):
        if entry.branch == branch:
            return entry
    raise BadInput(
        f"{spec_id}: no worktree has branch {branch}; run: moai worktree create {spec_id}"
    )


# --- where new worktrees go ----------------------------------------------------------


def _short_hash(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:8]


def worktree_root(ws: Workspace) -> Path:
    """`worktree.root` with `{project}` and `~` expanded; relative to the main worktree."""
    text = ws.cfg.worktree.root.replace("{project}", ws.wt.main_root.name)
    path = Path(os.path.expanduser(text))
    return path if path.is_absolute() else ws.wt.main_root / path


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
        try:
            current = marker.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            current = None
        except OSError:
            continue
        if current == owner:
            return candidate
        if current is None:
            if not claim:
                return candidate
            candidate.mkdir(parents=True, exist_ok=True)
            try:
                # O_EXCL: two repositories claiming at the same instant cannot both win.
                fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if marker.read_text(encoding="utf-8").strip() == owner:
                    return candidate
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(owner + "\n")
            return candidate
    raise Refused(f"{root}: worktree root is claimed by other repositories; use --path DIR")


# --- create ---------------------------------------------------------------------------


class Created(NamedTuple):
    path: Path
    branch: str
    new_branch: bool
    base: str | None  # the base ref a new branch was made from
    backend: Backend | None
    lines: list[str]


def _rev_batch(cwd: Path, names: list[str]) -> list[str | None]:
    """Resolve several revisions to commits with one `git cat-file --batch-check`."""
    stdin = "".join(f"{n}^{{commit}}\n" for n in names)
    proc = git.run(["cat-file", "--batch-check=%(objectname) %(objecttype)"], cwd, stdin=stdin)
    out: list[str | None] = []
    for line in proc.stdout.splitlines():
        sha, _, kind = line.rpartition(" ")
        out.append(sha if kind == "commit" else None)
    return out


@contextlib.contextmanager
def repo_lock(ws: Workspace) -> Iterator[None]:
    from moai_mashup.atomic import file_lock

    with file_lock(ws.wt.common_dir / "moai" / LOCK_NAME, wait=None):  # creates take long
        yield


def _first_missing(path: Path) -> Path | None:
    """The highest ancestor of `path` (or itself) that does not exist yet: what we create."""
    missing = None
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            break
        missing = p
    return missing


def _read_gitdir(worktree: Path) -> Path:
    """A linked worktree's git dir, from its `.git` file (git writes an absolute path)."""
    text = (worktree / ".git").read_text(encoding="utf-8").strip()
    gitdir = Path(text.removeprefix("gitdir: "))
    return gitdir if gitdir.is_absolute() else (worktree / gitdir).resolve()


def create(
    ws: Workspace,
    spec_id: str,
    *,
    backend: Backend | None = None,
    base: str | None = None,
    path: Path | None = None,
) -> Created:
    """`git worktree add` on the SPEC branch, then the post-worktree setup; all or nothing."""
    check_spec_id(spec_id)
    branch = spec_branch_name(spec_id, ws.cfg.spec_branch_pattern)
    return create_on_branch(ws, spec_id, branch, backend=backend, base=base, path=path)


def create_on_branch(
    ws: Workspace,
    name: str,
    branch: str,
    *,
    backend: Backend | None = None,
    base: str | None = None,
    path: Path | None = None,
) -> Created:
    """`create` for any branch: `name` (checked by the caller) is the directory under
    the worktree root and the name messages use."""
    from moai_mashup.config import load_config_like
    from moai_mashup.lifecycle import post_worktree

    spec_id = name
    if base is not None and (not base.strip() or any(c in base for c in "\n\r\0")):
        raise BadInput(f"--base {base!r}: not a branch or commit name")
    cfg, wt = ws.cfg, ws.wt
    target = backend or backend_for_branch(
        cfg.mode, branch, cfg.default_branch, cfg.spec_branch_pattern
    )
    if target == "glm":
        # Fail before anything exists: no key, an untrusted endpoint, a bad template.
        from moai_mashup.apply import desired_glm

        desired_glm(wt, cfg)
    with repo_lock(ws):
        head, branch_sha, base_sha = _rev_batch(
            wt.root, ["HEAD", f"refs/heads/{branch}", base or cfg.default_branch]
        )
        if head is None and branch_sha is None and base_sha is None:
            raise BadInput(
                f"{wt.main_root}: the repository has no commits yet; "
                "make a first commit, then create worktrees"
            )
        for entry in list_entries(wt.root):
            if entry.branch == branch and (entry.prunable is not None or not entry.path.exists()):
                raise Refused(
                    f"{branch} belongs to a worktree at {entry.path} whose directory is gone; "
                    "run: moai worktree clean"
                )
            if entry.branch == branch:
                raise Refused(
                    f"{branch} is already checked out at {entry.path}; "
                    f"cd there (moai worktree go {spec_id}) or remove it first"
                )
        new_branch = branch_sha is None
        if new_branch and base_sha is None:
            field = "--base" if base else f"default_branch ({cfg.default_branch}, llm.yaml)"
            raise BadInput(
                f"{field}: {base or cfg.default_branch!r} is not a branch or commit here"
            )
        if path is None:
            dest = claimed_root(worktree_root(ws), wt.common_dir, claim=False) / spec_id
        else:
            dest = Path(os.path.abspath(path))
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise BadInput(f"{dest}: exists and is not an empty directory; choose --path DIR")
        created_dir = _first_missing(dest)
        claim_made: Path | None = None
        try:
            if path is None:
                root = dest.parent
                had_claim = (root / CLAIM_NAME).exists()
                claimed = claimed_root(worktree_root(ws), wt.common_dir, claim=True)
                if claimed != root:  # claimed by another repository in between
                    raise Refused(f"{root}: claimed by another repository meanwhile; retry")
                claim_made = None if had_claim else root / CLAIM_NAME
            args = ["worktree", "add", "--quiet"]
            # A sha, not a ref name: no upstream tracking config is written (config.lock
            # contention under parallel creates), and the branch starts exactly at base.
            args += ["-b", branch, str(dest), base_sha or ""] if new_branch else [str(dest), branch]
            # The post-checkout hook of this `worktree add` may skip its post-worktree
            # event when it sees this: create fires the event itself right after.
            os.environ[CREATING_ENV] = str(dest)
            try:
                added = git.run(args, wt.root)
            finally:
                os.environ.pop(CREATING_ENV, None)
            if added.stderr.strip():
                # --quiet: what is left is what hooks printed; the user should see it.
                print(added.stderr.rstrip("\n"), file=sys.stderr)
            new_root = dest.resolve()
            new_wt = git.Worktree(new_root, _read_gitdir(new_root), wt.common_dir, branch)
            new_cfg = load_config_like(new_wt.root, new_wt.state_dir, wt.state_dir)
            lines = post_worktree(
                Workspace(new_wt, new_cfg), backend, main_root=wt.main_root, run_commands=False
            )
        except BaseException as exc:  # Ctrl-C included: never leave half a worktree behind
            _rollback(wt.root, dest, branch if new_branch else None, created_dir, claim_made)
            if isinstance(exc, git.GitError):
                last = exc.stderr.strip().splitlines()[-1:] or [str(exc)]
                raise Refused(f"git worktree add {dest}: {last[0]}; nothing was created") from None
            if isinstance(exc, OSError):
                raise Refused(f"{dest}: {exc.strerror or exc}; nothing was created") from None
            raise
    # Outside the lock: on-create commands may take minutes (npm install) and must not
    # hold up the other creates of this repository.
    from moai_mashup.lifecycle import run_on_create

    new_ws = Workspace(new_wt, new_cfg)
    lines += run_on_create(new_ws, wt.main_root)
    first = (base or cfg.default_branch) if new_branch else None
    return Created(dest, branch, new_branch, first, backend or new_ws.expected, lines)


def _rollback(
    cwd: Path, dest: Path, new_branch: str | None, created_dir: Path | None, claim: Path | None
) -> None:
    """Undo a failed create: no orphan worktree, branch, directory or claim is left."""
    import shutil

    if (dest / ".git").exists():
        git.run(["worktree", "remove", "--force", "--force", str(dest)], cwd, check=False)
    if created_dir is not None:
        shutil.rmtree(dest, ignore_errors=True)
    elif dest.is_dir():
        for child in dest.iterdir():  # it was an empty directory before: leave it empty
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
    if claim is not None:
        claim.unlink(missing_ok=True)
    if created_dir is not None:
        # Parents we made go only when empty: another repository may have just used them.
        for parent in dest.parents:
            if parent == created_dir.parent:
                break
            with contextlib.suppress(OSError):
                parent.rmdir()
    git.run(["worktree", "prune"], cwd, check=False)
    if new_branch is not None:
        git.run(["branch", "-D", new_branch], cwd, check=False)


# --- describe (list) -----------------------------------------------------------------


class WorktreeInfo(NamedTuple):
    path: str
    branch: str | None
    spec_id: str | None
    head: str | None
    is_main: bool
    locked: str | None
    missing: bool  # the directory is gone (git calls it prunable)
    backend_active: str | None
    backend_expected: str | None
    drift: bool
    dirty: list[str]  # "XY path" lines, like `git status --short`
    ahead: int | None
    behind: int | None
    merged: str | None  # "merged" (ancestor), "squashed", "rebased"; None: not merged
    empty: bool  # no commit since the branch was created (its reflog says so)
    errors: list[str]

    def to_json(self) -> dict[str, Any]:
        return self._asdict()


# --no-optional-locks: looking must not take index.lock in someone's worktree (their own
# git command there would fail) nor rewrite their index.
STATUS_ARGS = [
    "--no-optional-locks",
    "status",
    "--porcelain",
    "-z",
    "--untracked-files=normal",
    "--no-renames",
]


# For `list` only: the same question asked of our own copy of the worktree's index, where
# git may keep its untracked cache (directories whose mtime did not change are not read
# again: half of a status) and fresh stat data, without ever locking or writing the
# user's index. The split index is written whole: no shared index files of ours appear.
# The untracked cache trusts directory mtimes, as git does for anyone who enables it;
# `remove` and `clean`, which act on the answer, ask the worktree's own index instead.
CACHED_STATUS_ARGS = [
    "-c",
    "core.untrackedCache=true",
    "-c",
    "core.splitIndex=false",
    *STATUS_ARGS[1:],
]
STATUS_INDEX = "status-index"  # in a worktree's <git dir>/moai/: "status-index-<stat of index>"


def status_index(git_dir: Path) -> Path | None:
    """Our copy of a worktree's index for `git status`, or None to ask the real one.

    The copy is named after the real index's stat data: git replaces the index
    by rename on every write, so a new name means new content, and a copy can
    never be taken for another version's (a concurrent `list` may rewrite an
    old copy; nobody reads it again). The copy keeps the index's mtime, which
    git's racy-entry checks compare file mtimes with.
    """
    real = git_dir / "index"
    try:
        st = os.stat(real)
    except OSError:
        return None  # no index yet (a --no-checkout worktree): git's own answer
    state = git_dir / "moai"
    name = f"{STATUS_INDEX}-{st.st_ino}-{st.st_size}-{st.st_mtime_ns}-{st.st_ctime_ns}"
    copy = state / name
    if copy.is_file():
        return copy
    import shutil

    tmp = state / f"{name}.{os.getpid()}.tmp"
    try:
        state.mkdir(exist_ok=True)
        for old in state.glob(f"{STATUS_INDEX}-*"):
            old.unlink(missing_ok=True)
        shutil.copyfile(real, tmp)
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(tmp, copy)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return None
    return copy


def _status_job(
    path: Path, git_dir: Path | None, cached: bool
) -> tuple[list[str], Path, dict[str, str] | None]:
    index = status_index(git_dir) if cached and git_dir is not None else None
    if index is None:
        return (STATUS_ARGS, path, None)
    return (CACHED_STATUS_ARGS, path, {"GIT_INDEX_FILE": str(index)})


def parse_status(stdout: str) -> list[str]:
    return [item for item in stdout.split("\0") if item]


def dirty_files(path: Path) -> list[str]:
    """Uncommitted and untracked work as `git status --short` lines; ignored files never count."""
    return parse_status(git.run(STATUS_ARGS, path).stdout)


def hidden_edits(path: Path) -> list[str]:
    """Edits `git status` does not show: files flagged assume-unchanged or skip-worktree
    (`git update-index`) whose content differs from the index, as `git status --short`
    would show them (" M path", " D path").

    A sparse checkout leaves skip-worktree files absent by design: that is not work.
    Costs one git call when nothing is flagged (the usual case).
    """
    listed = git.run(["ls-files", "-v", "-z"], path).stdout
    flagged: dict[str, bool] = {}  # path -> skip-worktree (else assume-unchanged)
    for item in listed.split("\0"):
        tag, _, name = item.partition(" ")
        if name and (tag == "S" or tag.islower()):
            flagged[name] = tag.upper() == "S"
    if not flagged:
        return []
    staged = git.run(["ls-files", "-s", "-z", "--", *flagged], path).stdout
    blobs = {}
    for item in staged.split("\0"):
        meta, _, name = item.partition("\t")
        if name in flagged:
            blobs[name] = meta.split()[1]
    present = [n for n in flagged if (path / n).is_file() or (path / n).is_symlink()]
    out = [f" D {n}" for n in flagged if n not in present and not flagged[n]]
    if present:
        # hash-object applies the same clean filters (eol, lfs) that `git add` would
        hashed = git.run(["hash-object", "--", *present], path)
        for name, sha in zip(present, hashed.stdout.split(), strict=True):
            if blobs.get(name) != sha:
                out.append(f" M {name}")
    return sorted(out, key=lambda line: line[3:])


def branch_created_at(common_dir: Path, branch: str) -> str | None:
    """The sha the branch was created at, from the first line of its reflog."""
    try:
        with (common_dir / "logs" / "refs" / "heads" / branch).open(encoding="utf-8") as fh:
            first = fh.readline().split(" ", 2)
    except OSError:
        return None
    return first[1] if len(first) >= 2 else None


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
    import json

    path = common_dir / "moai" / GRAPH_CACHE
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        known = {
            tuple(k.split(" ")): GraphFacts(*v)
            for k, v in cached["facts"].items()
            if cached.get("version") == GRAPH_CACHE_VERSION
        }
    except (OSError, ValueError, RecursionError, KeyError, TypeError, AttributeError):
        known = {}
    facts = {p: known[p] for p in pairs if p in known}
    missing = pairs - set(facts)
    if missing:
        import pygit2

        from moai_mashup.atomic import atomic_write_text

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
        with contextlib.suppress(OSError):  # a cache we cannot write only costs time
            atomic_write_text(path, json.dumps(blob), mode=0o644)
    return facts


class _Local(NamedTuple):
    """What one worktree's own files say."""

    active: str | None
    expected: str | None
    spec_id: str | None
    errors: list[str]


def _local_facts(entry: WorktreeEntry, gitdir: Path | None, common_dir: Path) -> _Local:
    from moai_mashup.apply import read_state
    from moai_mashup.config import load_config

    try:
        wt = git.Worktree(entry.path, gitdir or _read_gitdir(entry.path), common_dir, entry.branch)
        cfg = load_config(entry.path, wt.state_dir)
        expected = Workspace(wt, cfg).expected
        spec_id = (
            spec_id_from_branch(entry.branch, cfg.spec_branch_pattern) if entry.branch else None
        )
        from moai_mashup.apply import stray_spec

        state = read_state(wt, stray_spec(wt, cfg.glm_env_var))
        return _Local(state.active, expected, spec_id, [])
    except (MoaiError, OSError) as exc:
        return _Local(None, None, None, [str(exc)])


def describe(
    ws: Workspace, entries: list[WorktreeEntry] | None = None, *, cached_status: bool = False
) -> list[WorktreeInfo]:
    """Everything `moai worktree list` shows, for each worktree of the repository.

    `cached_status` (for `list`): ask git's status of our copy of each index
    (`status_index`), which git keeps fast; `remove` and `clean` ask the
    worktree's own index, as `git worktree remove` does.
    """
    entries = entries if entries is not None else list_entries(ws.wt.root)
    common = ws.wt.common_dir
    present = [e for e in entries if not e.bare and e.prunable is None and e.path.is_dir()]
    git_dirs: dict[Path, Path | None] = {}

    def git_dir(e: WorktreeEntry) -> Path | None:
        if e.path not in git_dirs:
            try:
                git_dirs[e.path] = common if e is entries[0] else _read_gitdir(e.path)
            except (OSError, UnicodeDecodeError):
                git_dirs[e.path] = None  # _local_facts reports it
        return git_dirs[e.path]

    # git's status is the authority on what counts as work (sparse checkouts, submodules),
    # and it is most of the cost: the `git status` children start now, in parallel (each
    # as a slot frees up), while this process reads each worktree's own files and the
    # commit graph.
    statuses = git.Parallel(
        (_status_job(e.path, git_dir(e), cached_status) for e in present),
        limit=2 * (os.cpu_count() or 2),
    )
    local: dict[Path, _Local] = {}
    for e in present:
        local[e.path] = _local_facts(e, git_dir(e), common)
        statuses.poll()
    default = ws.cfg.default_branch
    proc = git.run(
        ["rev-parse", "--verify", "-q", f"refs/heads/{default}"], ws.wt.root, check=False
    )
    default_tip = proc.stdout.strip() or None
    pairs = {
        (e.head, default_tip)
        for e in entries
        if e.branch and e.head and default_tip and e.branch != default
    }
    facts = graph_facts(common, pairs) if pairs else {}
    dirty = {}
    for e, done in zip(present, statuses.results(), strict=True):
        if done.returncode != 0 and cached_status:
            # our copy of the index failed git (it should not): the worktree's own answer
            proc = git.run(STATUS_ARGS, e.path, check=False)
            done = git.Finished(proc.returncode, proc.stdout, proc.stderr)
        dirty[e.path] = done
    return [
        _info(ws, i, entry, dirty, local, facts.get((entry.head or "", default_tip or "")))
        for i, entry in enumerate(entries)
        if not entry.bare
    ]


def _info(
    ws: Workspace,
    i: int,
    entry: WorktreeEntry,
    statuses: dict[Path, git.Finished],
    local: dict[Path, _Local],
    fact: GraphFacts | None,
) -> WorktreeInfo:
    missing = entry.path not in statuses
    dirty: list[str] = []
    if missing:
        spec_id = None
        if entry.branch:
            spec_id = spec_id_from_branch(entry.branch, ws.cfg.spec_branch_pattern)
        facts = _Local(None, None, spec_id, [])
    else:
        facts = local[entry.path]
        status = statuses[entry.path]
        if status.returncode == 0:
            dirty = parse_status(status.stdout)
        else:
            error = git.GitError(STATUS_ARGS, status.returncode, status.stderr)
            facts.errors.append(f"status: {error}")
    empty = bool(
        fact
        and fact.merged
        and entry.branch
        and branch_created_at(ws.wt.common_dir, entry.branch) == entry.head
    )
    return WorktreeInfo(
        path=str(entry.path),
        branch=entry.branch,
        spec_id=facts.spec_id,
        head=entry.head,
        is_main=i == 0,
        locked=entry.locked,
        missing=missing,
        backend_active=facts.active,
        backend_expected=facts.expected,
        drift=facts.expected is not None
        and facts.active is not None
        and facts.active != facts.expected,
        dirty=dirty,
        ahead=fact.ahead if fact else None,
        behind=fact.behind if fact else None,
        merged=fact.merged if fact else None,
        empty=empty,
        errors=facts.errors,
    )


# --- list output --------------------------------------------------------------------


def _backend_cell(active: str | None, expected: str | None, drift: bool) -> str:
    if active is None:
        return "?"
    return f"{active} (expects {expected})" if drift else active


def table(infos: list[WorktreeInfo], home: str) -> str:
    """The list for people: one row per worktree, paths under HOME shown with ~."""

    def short(p: str) -> str:
        return "~" + p[len(home) :] if home and (p + "/").startswith(home.rstrip("/") + "/") else p

    rows = [("SPEC", "BRANCH", "BACKEND", "DIRTY", "+AHEAD/-BEHIND", "MERGED", "PATH")]
    for i in infos:
        if i.is_main or i.ahead is None:
            merged = "-"
        elif i.empty:
            merged = "empty"  # no commit yet: "merged" only in git's sense
        else:
            merged = i.merged or "no"
        ab = "-" if i.ahead is None else f"+{i.ahead}/-{i.behind}"
        dirty = "missing" if i.missing else (str(len(i.dirty)) if i.dirty else "clean")
        path = short(i.path) + (" [main]" if i.is_main else "") + (" [locked]" if i.locked else "")
        rows.append(
            (
                i.spec_id or "-",
                i.branch or f"(detached {i.head[:7] if i.head else ''})",
                _backend_cell(i.backend_active, i.backend_expected, i.drift),
                dirty,
                ab,
                merged,
                path,
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in rows
    )


def list_report(*, as_json: bool) -> tuple[str, list[str]]:
    """`moai worktree list [--json]`: (stdout text, stderr lines), without click.

    `moai_mashup.entry` runs it directly (click's import is ~45 ms of the
    list's budget), and the click command through the same function.
    """
    from moai_mashup.workspace import open_workspace

    ws = open_workspace()
    infos = describe(ws, cached_status=True)
    if as_json:
        import json

        doc = {"default_branch": ws.cfg.default_branch, "worktrees": [i.to_json() for i in infos]}
        return json.dumps(doc, indent=2), []
    warnings = [f"moai: warning: {i.path}: {err}" for i in infos for err in i.errors]
    return table(infos, os.environ.get("HOME", "")), warnings


# --- remove and clean ------------------------------------------------------------------


class Removed(NamedTuple):
    path: Path
    branch: str | None
    branch_deleted: bool


def _describe_one(ws: Workspace, entry: WorktreeEntry) -> WorktreeInfo:
    entries = list_entries(ws.wt.root)
    # describe() tells the main worktree by position; keep it first.
    return next(i for i in describe(ws, [entries[0], entry]) if i.path == str(entry.path))


def remove(ws: Workspace, spec_id: str, *, force: bool, delete_branch: bool) -> Removed:
    """Remove SPEC-ID's worktree; refuse dirty work and unmerged branches unless --force."""
    return remove_entry(ws, find(ws, spec_id), force=force, delete_branch=delete_branch)


def remove_entry(
    ws: Workspace, entry: WorktreeEntry, *, force: bool, delete_branch: bool
) -> Removed:
    """`remove` for any worktree of the repository (as `git worktree list` gives it)."""
    if entry.path == ws.wt.main_root:
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
    if delete_branch and info.merged is None and not force:
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


def _remove_worktree(ws: Workspace, entry: WorktreeEntry, *, force: bool) -> None:
    if not entry.path.exists():
        git.run(["worktree", "prune"], ws.wt.main_root)
        return
    args = ["worktree", "remove", *(["--force"] if force else []), str(entry.path)]
    proc = git.run(args, ws.wt.main_root, check=False)
    if proc.returncode != 0:
        raise Refused(f"git worktree remove {entry.path}: {proc.stderr.strip().splitlines()[-1]}")


class CleanPlan(NamedTuple):
    remove: list[WorktreeInfo]  # merged and clean: removed with their branches
    kept_dirty: list[WorktreeInfo]  # merged but holding work: kept
    kept_empty: list[WorktreeInfo]  # no commit since creation: kept (nothing was merged)
    stale: list[str]  # `git worktree prune` lines: worktrees whose directory is gone


def plan_clean(ws: Workspace, *, merged: bool) -> CleanPlan:
    # --expire now: git's default keeps records of deleted worktrees for 3 months; asking
    # `clean` is the user saying they are gone (locked ones are never pruned).
    dry = git.run([*PRUNE, "--dry-run", "--verbose"], ws.wt.main_root)
    stale = dry.stdout + dry.stderr  # git prints the --verbose lines on stderr
    stale_lines = [line for line in stale.splitlines() if line.strip()]
    gone, dirty, empty = [], [], []
    if merged:
        for info in describe(ws):
            if info.is_main or info.missing or info.spec_id is None or info.merged is None:
                continue
            if info.locked is not None:
                continue
            if not info.dirty:
                info = info._replace(dirty=hidden_edits(Path(info.path)))
            if info.empty:
                empty.append(info)
            elif info.dirty:
                dirty.append(info)
            else:
                gone.append(info)
    return CleanPlan(gone, dirty, empty, stale_lines)


def run_clean(ws: Workspace, plan: CleanPlan) -> list[str]:
    lines = []
    if plan.stale:
        git.run(PRUNE, ws.wt.main_root)
    for info in plan.remove:
        entry = WorktreeEntry(Path(info.path), info.head, info.branch, False, None, None)
        _remove_worktree(ws, entry, force=False)
        if info.branch:
            git.run(["branch", "-D", info.branch], ws.wt.main_root)
        lines.append(f"removed {info.path} and branch {info.branch} ({info.merged})")
    return lines
