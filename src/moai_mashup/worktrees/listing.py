"""`moai worktree list`: every worktree's branch, backend, work and merge state at a glance.

`describe` runs a `git status` per worktree (git is the authority on what counts
as work) as parallel children while it reads the rest itself; the commit graph
answers are cached by commit ids (merged.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from moai_mashup import files, git
from moai_mashup.core.routing import (
    spec_id_from_branch,
)
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.paths import STATE_DIR
from moai_mashup.worktrees.entries import (
    WorktreeEntry,
    list_entries,
    parse_porcelain,
)

# lean.NamedTuple: typing's compiles every field's annotation string (~12 ms for this
# module, before the first `git status` of `list` can start). The workspace (the
# config, json) and merged.py (json, contextlib) load after the statuses start: 3.4 ms
# less before the first.
if TYPE_CHECKING:
    from typing import Any

    from moai_mashup.workspace import Workspace
    from moai_mashup.worktrees.merged import GraphFacts, Own


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
    stale_keys: list[str]  # on GLM, but these values are not what applying now writes
    dirty: list[str]  # "XY path" lines, like `git status --short`
    ahead: int | None
    behind: int | None
    merged: str | None  # its own commits landed: "merged" (ancestry), "squashed", "rebased"
    empty: bool  # no commits of its own (on the default branch, and its reflog records none)
    commits: int | None  # how many commits of its own (None: unknown)
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
# benchmarks/bench_devices.py, 10 worktrees: with files touched since their index was
# written (a build, a formatter) this takes 42-62 ms CPU (17-27%) off `list`; with
# the indexes up to date it costs nothing measurable.
CACHED_STATUS_ARGS = [
    "-c",
    "core.untrackedCache=true",
    "-c",
    "core.splitIndex=false",
    *STATUS_ARGS[1:],
]
STATUS_INDEX = "status-index"  # in a worktree's <git dir>/moai/: "status-index-<stat of index>"


def status_index(git_dir: str | Path) -> str | None:
    """Our copy of a worktree's index for `git status`, or None to ask the real one.

    The copy is named after the real index's stat data: git replaces the index
    by rename on every write, so a new name means new content, and a copy can
    never be taken for another version's (a concurrent `list` may rewrite an
    old copy; nobody reads it again). The copy keeps the index's mtime, which
    git's racy-entry checks compare file mtimes with. str paths: it runs once
    a worktree, on the path to each `git status` (no pathlib objects).
    """
    from moai_mashup.limits import MAX_STATUS_INDEX_BYTES

    real = os.path.join(git_dir, "index")
    try:
        st = os.stat(real)
    except OSError:
        return None  # no index yet (a --no-checkout worktree): git's own answer
    if st.st_size > MAX_STATUS_INDEX_BYTES:
        return None  # a copy on every change would cost more than the cache saves
    state = os.path.join(git_dir, STATE_DIR)
    name = f"{STATUS_INDEX}-{st.st_ino}-{st.st_size}-{st.st_mtime_ns}-{st.st_ctime_ns}"
    copy = os.path.join(state, name)
    if os.path.isfile(copy):
        return copy
    tmp = os.path.join(state, f"{name}.{os.getpid()}.tmp")
    try:
        files.make_dirs(state, within=git_dir)
        for old in files.list_dir(state):  # older copies, and temp files left by a kill
            if old.startswith(STATUS_INDEX + "-"):
                files.remove(os.path.join(state, old), within=git_dir)
        files.copy_file(real, tmp, within=state)  # streamed, with the index's times
        got = os.stat(tmp)
        if (got.st_size, got.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
            files.discard(tmp)  # git replaced the index meanwhile: not the version named
            return None
        files.rename(tmp, copy)
    except (OSError, BadInput):
        files.discard(tmp)
        return None
    return copy


def _status_job(
    path: Path, git_dir: Path | None, cached: bool
) -> tuple[list[str], Path, dict[str, str] | None]:
    index = status_index(git_dir) if cached and git_dir is not None else None
    if index is None:
        return (STATUS_ARGS, path, None)
    return (CACHED_STATUS_ARGS, path, {"GIT_INDEX_FILE": index})


def parse_status(stdout: str) -> list[str]:
    return [item for item in stdout.split("\0") if item]


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


class _Local(NamedTuple):
    """What one worktree's own files say."""

    active: str | None
    expected: str | None
    spec_id: str | None
    errors: list[str]
    stale_keys: tuple[str, ...] = ()


def _git_dir(path: Path) -> Path | None:
    found = git.git_dir_at(str(path))
    return Path(found) if found else None


def _local_facts(entry: WorktreeEntry, gitdir: Path | None, common_dir: Path) -> _Local:
    from moai_mashup.config import load_config
    from moai_mashup.settings.apply import read_state
    from moai_mashup.workspace import Workspace

    try:
        gitdir = gitdir or _git_dir(entry.path)
        if gitdir is None:
            raise OSError(f"{entry.path / '.git'}: not readable as a git worktree link")
        wt = git.Worktree(str(entry.path), str(gitdir), str(common_dir), entry.branch)
        cfg = load_config(entry.path, wt.state_dir)
        expected = Workspace(wt, cfg).expected
        spec_id = (
            spec_id_from_branch(entry.branch, cfg.spec_branch_pattern) if entry.branch else None
        )
        from moai_mashup.settings.apply import stray_spec

        state = read_state(wt, stray_spec(wt, cfg.glm_env_var, cfg.backends))
        stale = None
        if expected == state.active not in (None, "claude", "mixed"):
            from moai_mashup.settings.apply import stale_backend

            stale = stale_backend(wt, cfg, state)  # a glm.json or llm.yaml merged in, no hook
        return _Local(state.active, expected, spec_id, [], stale.keys if stale else ())
    except (MoaiError, OSError) as exc:
        return _Local(None, None, None, [str(exc)])


class Started(NamedTuple):
    """`git status` of each present worktree, running (`start_statuses`)."""

    present: list[WorktreeEntry]
    git_dirs: dict[Path, Path | None]  # filled as each starts; None: unreadable (_local_facts says)
    statuses: git.Parallel


def start_statuses(entries: list[WorktreeEntry], *, cached_status: bool) -> Started:
    """Start a `git status` in each present worktree, 2 per CPU at a time (more start as
    the caller polls). Needs git's worktree list only: `list` starts them before it
    opens its own workspace (a git call and the config), which then run meanwhile."""
    present = [e for e in entries if not e.bare and e.prunable is None and os.path.isdir(e.path)]
    git_dirs: dict[Path, Path | None] = {}

    def job(e: WorktreeEntry) -> tuple[list[str], Path, dict[str, str] | None]:
        git_dirs[e.path] = _git_dir(e.path)  # as each starts: the first starts at once
        return _status_job(e.path, git_dirs[e.path], cached_status)

    statuses = git.Parallel((job(e) for e in present), limit=2 * (os.cpu_count() or 2))
    return Started(present, git_dirs, statuses)


def describe(
    ws: Workspace,
    entries: list[WorktreeEntry] | None = None,
    *,
    cached_status: bool = False,
    started: Started | None = None,
) -> list[WorktreeInfo]:
    """Everything `moai worktree list` shows, for each worktree of the repository.

    `cached_status` (for `list`): ask git's status of our copy of each index
    (`status_index`), which git keeps fast; `remove` and `clean` ask the
    worktree's own index, as `git worktree remove` does. `started`: the
    statuses `start_statuses` started for these `entries`.
    """
    entries = entries if entries is not None else list_entries(Path(ws.wt.root))
    common = Path(ws.wt.common_dir)
    # git's status is the authority on what counts as work (sparse checkouts, submodules),
    # and it is most of the cost: the `git status` children run in parallel (each as a
    # slot frees up), while this process reads each worktree's own files and the commit
    # graph.
    started = started or start_statuses(entries, cached_status=cached_status)
    present, statuses = started.present, started.statuses
    # The default branch's tip: git's worktree list has it when a worktree has the
    # branch checked out (the main one, mostly; an unborn branch shows git's null id),
    # else it is asked now and collected after the loop: a git call run after it would
    # be a serial tail of 3-10 ms on a loaded machine.
    default = ws.cfg.default_branch
    listed = [e.head for e in entries if e.branch == default and e.head and e.head.strip("0")]
    tip_query = None
    if not listed:
        tip_args = ["rev-parse", "--verify", "-q", f"refs/heads/{default}"]
        tip_query = git.Parallel([(tip_args, ws.wt.root, None)], limit=1)
    local: dict[Path, _Local] = {}
    for e in present:
        if e is entries[0]:
            git_dir: Path | None = common
        elif e.path in started.git_dirs:
            git_dir = started.git_dirs[e.path]
        else:  # its status has not started yet
            git_dir = _git_dir(e.path)
        local[e.path] = _local_facts(e, git_dir, common)
        statuses.poll()
    if tip_query is None:
        default_tip: str | None = listed[0]
    else:
        default_tip = tip_query.results()[0].stdout.strip() or None
    pairs = {
        (e.head, default_tip)
        for e in entries
        if e.branch and e.head and default_tip and e.branch != default
    }
    from moai_mashup.worktrees.merged import graph_facts, own_work

    facts = graph_facts(common, pairs) if pairs else {}
    tips = {
        e.branch: (e.head, facts[(e.head, default_tip)])
        for e in entries
        if e.branch and e.head and default_tip and (e.head, default_tip) in facts
    }
    own = own_work(common, default_tip, tips) if default_tip and tips else {}
    dirty = {}
    for e, done in zip(present, statuses.results(), strict=True):
        if done.returncode != 0 and cached_status:
            # our copy of the index failed git (it should not): the worktree's own answer
            proc = git.run(STATUS_ARGS, e.path, check=False)
            done = git.Finished(proc.returncode, proc.stdout, proc.stderr)
        dirty[e.path] = done
    return [
        _info(
            ws,
            i,
            entry,
            dirty,
            local,
            facts.get((entry.head or "", default_tip or "")),
            own.get(entry.branch or ""),
        )
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
    own: Own | None,
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
        and (facts.active != facts.expected or bool(facts.stale_keys)),
        stale_keys=list(facts.stale_keys),
        dirty=dirty,
        ahead=fact.ahead if fact else None,
        behind=fact.behind if fact else None,
        merged=own.merged if own else None,
        empty=own.empty if own else False,
        commits=own.commits if own else None,
        errors=facts.errors,
    )


# --- list output --------------------------------------------------------------------


def _backend_cell(active: str | None, expected: str | None, drift: bool) -> str:
    if active is None:
        return "?"
    if drift and active == expected:
        return f"{active} (stale: moai apply)"  # values an older glm.json gave
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
            merged = "empty"  # no commits of its own: nothing of it was merged
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


def start_list() -> git.Parallel:
    """git's worktree list, started: `entry.py` starts it before importing this module
    (pathlib among others), so the two overlap."""
    return git.Parallel([(git.WORKTREE_LIST_ARGS, os.getcwd(), None)], limit=1)


def list_report(*, as_json: bool, listing: git.Parallel | None = None) -> tuple[str, list[str]]:
    """`moai worktree list [--json]`: (stdout text, stderr lines), without click.

    `moai_mashup.entry` runs it directly (click's import is ~45 ms of the
    list's budget), and the click command through the same function.
    """
    # git's worktree list first, then the statuses start, and the workspace is loaded
    # and opens (a git call, the config) while they run: nothing but one git call before
    # them. Outside a repository git fails here and open_workspace says why.
    listed = (listing or start_list()).results()[0]
    entries = parse_porcelain(listed.stdout) if listed.returncode == 0 else None
    started = None
    if entries and not entries[0].bare:  # a bare repository: open_workspace refuses it
        started = start_statuses(entries, cached_status=True)
    from moai_mashup.workspace import open_workspace

    ws = open_workspace()
    infos = describe(ws, entries, cached_status=True, started=started)
    if as_json:
        from moai_mashup import jsontext

        doc = {"default_branch": ws.cfg.default_branch, "worktrees": [i.to_json() for i in infos]}
        return jsontext.dumps(doc, indent=2), []
    warnings = [f"moai: warning: {i.path}: {err}" for i in infos for err in i.errors]
    return table(infos, os.environ.get("HOME", "")), warnings
