"""`moai worktree create`: branch + worktree + setup in one step, rolled back on failure."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from moai_mashup import files, git
from moai_mashup.config import LLM_YAML, ResolvedConfig, load_config_like
from moai_mashup.core.backends import CLAUDE, GLM, name_problem
from moai_mashup.core.routing import (
    Backend,
    branch_backend,
    spec_branch_name,
    table,
)
from moai_mashup.errors import BadInput, MoaiError, Refused
from moai_mashup.lean import NamedTuple
from moai_mashup.paths import STATE_DIR
from moai_mashup.settings.apply import desired_backend
from moai_mashup.settings.lock import file_lock
from moai_mashup.workspace import Workspace
from moai_mashup.worktrees.entries import (
    CLAIM_NAME,
    CREATING_ENV,
    LOCK_NAME,
    check_spec_id,
    claimed_root,
    list_entries,
    worktree_root,
)
from moai_mashup.worktrees.setup import post_worktree, run_on_create

# lean.NamedTuple: typing's compiles every field's annotation string (~12 ms for this
# module, before the first `git status` of `list` can start).


class Created(NamedTuple):
    path: Path
    branch: str
    new_branch: bool
    base: str | None  # the base ref a new branch was made from
    backend: Backend | None
    lines: list[str]
    reused: bool = False  # `reuse=True` found the branch's worktree already there


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
def worktrees_lock(common_dir: Path) -> Iterator[None]:
    """The repository's worktree lock: whether a worktree exists and making it are one step."""
    with file_lock(common_dir / STATE_DIR / LOCK_NAME, wait=None):  # creates take long
        yield


def _first_missing(path: Path) -> Path | None:
    """The highest ancestor of `path` (or itself) that does not exist yet: what we create."""
    missing = None
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            break
        missing = p
    return missing


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
    reuse: bool = False,
) -> Created:
    """`create` for any branch: `name` (checked by the caller) is the directory under
    the worktree root and the name messages use.

    `reuse` (Claude Code's WorktreeCreate): a worktree already on `branch` is
    returned as it is (`reused`) instead of refused. The look and the create are
    one step under the repository's worktree lock: of several creates of one
    name at once (two sessions, a retry), one creates and the others reuse.
    """
    if base is not None and (not base.strip() or any(c in base for c in "\n\r\0")):
        raise BadInput(f"--base {base!r}: not a branch or commit name")
    cfg, wt = ws.cfg, ws.wt
    if backend is not None:
        check_backend(cfg, backend)
    target = backend or branch_backend(
        table(cfg.mode, cfg.default_branch, cfg.spec_branch_pattern, cfg.routes), branch
    )
    # Fail before anything exists: no key, an untrusted endpoint, a bad template.
    preflight(ws, target)
    with worktrees_lock(Path(wt.common_dir)):
        branch_sha, base_sha = _revisions(ws, branch, base)
        there = _existing_worktree(wt, name, branch, reuse)
        if there is not None:
            return there
        new_branch = branch_sha is None
        if new_branch and base_sha is None:
            field = "--base" if base else f"default_branch ({cfg.default_branch}, llm.yaml)"
            raise BadInput(
                f"{field}: {base or cfg.default_branch!r} is not a branch or commit here"
            )
        dest = _destination(ws, name, path)
        new_ws, lines = _add_and_set_up(ws, dest, branch, base_sha, new_branch, backend, path)
    # Outside the lock: on-create commands may take minutes (npm install) and must not
    # hold up the other creates of this repository.
    lines += run_on_create(new_ws, Path(wt.main_root))
    first = (base or cfg.default_branch) if new_branch else None
    return Created(dest, branch, new_branch, first, backend or new_ws.expected, lines)


def check_backend(cfg: ResolvedConfig, name: str, flag: str = "--backend") -> None:
    """BadInput, one line naming the file and the fix, when `name` is no backend here:
    `claude`, `glm` and the names of `llm.backends` are."""
    known = [CLAUDE, GLM, *cfg.backends]
    if name in known:
        return
    problem = name_problem(name)
    why = problem if problem is not None else f"no backend {name!r} in {LLM_YAML}"
    raise BadInput(
        f"{flag} {name}: {why}; choose one of {', '.join(known)}, or add llm.backends.{name} "
        "there (docs/configuration.md)"
    )


def preflight(ws: Workspace, target: str | None) -> None:
    """What applying `target` needs and lacks, before anything is created: its key, a
    trusted endpoint, a readable template (glm). Raises the one line `moai apply`
    would."""
    if target is not None and target != CLAUDE:
        desired_backend(ws.wt, ws.cfg, target)


def _revisions(ws: Workspace, branch: str, base: str | None) -> tuple[str | None, str | None]:
    """The commits of `branch` and of the base a new branch would start at (None: none)."""
    cfg, wt = ws.cfg, ws.wt
    head, branch_sha, base_sha = _rev_batch(
        Path(wt.root), ["HEAD", f"refs/heads/{branch}", base or cfg.default_branch]
    )
    if head is None and branch_sha is None and base_sha is None:
        raise BadInput(
            f"{wt.main_root}: the repository has no commits yet; "
            "make a first commit, then create worktrees"
        )
    return branch_sha, base_sha


def _existing_worktree(wt: git.Worktree, name: str, branch: str, reuse: bool) -> Created | None:
    """The worktree already on `branch`, when `reuse` takes it; refused otherwise."""
    for entry in list_entries(Path(wt.root)):
        if entry.branch != branch:
            continue
        if entry.prunable is not None or not entry.path.exists():
            raise Refused(
                f"{branch} belongs to a worktree at {entry.path} whose directory is gone; "
                "run: moai worktree clean"
            )
        if reuse:
            return Created(entry.path.resolve(), branch, False, None, None, [], reused=True)
        raise Refused(
            f"{branch} is already checked out at {entry.path}; "
            f"cd there (moai worktree go {name}) or remove it first"
        )
    return None


def _destination(ws: Workspace, name: str, path: Path | None) -> Path:
    """`--path`, or `name` under the worktree root; absent or an empty directory."""
    if path is None:
        dest = claimed_root(worktree_root(ws), Path(ws.wt.common_dir), claim=False) / name
    else:
        dest = Path(os.path.abspath(path))
    if dest.exists() and (not dest.is_dir() or files.list_dir(dest)):
        raise BadInput(f"{dest}: exists and is not an empty directory; choose --path DIR")
    return dest


def _add_and_set_up(
    ws: Workspace,
    dest: Path,
    branch: str,
    base_sha: str | None,
    new_branch: bool,
    backend: Backend | None,
    path: Path | None,
) -> tuple[Workspace, list[str]]:
    """`git worktree add` and the post-worktree setup, rolled back on any failure."""
    wt = ws.wt
    created_dir = _first_missing(dest)
    claim_made: Path | None = None
    try:
        if path is None:
            claim_made = _claim(ws, dest.parent)
        _worktree_add(wt, dest, branch, base_sha, new_branch)
        new_root = dest.resolve()
        new_git_dir = git.git_dir_at(str(new_root))
        if new_git_dir is None:
            raise MoaiError(f"{new_root}/.git: git worktree add left no readable .git file")
        new_wt = git.Worktree(str(new_root), new_git_dir, wt.common_dir, branch)
        new_ws = Workspace(
            new_wt, load_config_like(Path(new_wt.root), Path(new_wt.state_dir), Path(wt.state_dir))
        )
        lines = post_worktree(new_ws, backend, main_root=Path(wt.main_root), run_commands=False)
    except BaseException as exc:  # Ctrl-C included: never leave half a worktree behind
        _rollback(Path(wt.root), dest, branch if new_branch else None, created_dir, claim_made)
        if isinstance(exc, git.GitError):
            last = exc.stderr.strip().splitlines()[-1:] or [str(exc)]
            raise Refused(f"git worktree add {dest}: {last[0]}; nothing was created") from None
        if isinstance(exc, OSError):
            raise Refused(f"{dest}: {exc.strerror or exc}; nothing was created") from None
        raise
    return new_ws, lines


def _claim(ws: Workspace, root: Path) -> Path | None:
    """Claim the worktree root for this repository; the claim file made, if we made it."""
    had_claim = (root / CLAIM_NAME).exists()
    claimed = claimed_root(worktree_root(ws), Path(ws.wt.common_dir), claim=True)
    if claimed != root:  # claimed by another repository in between
        raise Refused(f"{root}: claimed by another repository meanwhile; retry")
    return None if had_claim else root / CLAIM_NAME


def _worktree_add(
    wt: git.Worktree, dest: Path, branch: str, base_sha: str | None, new_branch: bool
) -> None:
    args = ["worktree", "add", "--quiet"]
    # A sha, not a ref name: no upstream tracking config is written (config.lock
    # contention under parallel creates), and the branch starts exactly at base.
    args += ["-b", branch, str(dest), base_sha or ""] if new_branch else [str(dest), branch]
    # The post-checkout hook of this `worktree add` may skip its post-worktree
    # event when it sees this: create fires the event itself right after.
    added = git.run(args, wt.root, env={CREATING_ENV: str(dest)})
    if added.stderr.strip():
        # --quiet: what is left is what hooks printed; the user should see it.
        print(added.stderr.rstrip("\n"), file=sys.stderr)


def _rollback(
    cwd: Path, dest: Path, new_branch: str | None, created_dir: Path | None, claim: Path | None
) -> None:
    """Undo a failed create: no orphan worktree, branch, directory or claim is left."""
    if (dest / ".git").exists():
        git.run(["worktree", "remove", "--force", "--force", str(dest)], cwd, check=False)
    if created_dir is not None:
        files.remove_tree(dest)
    elif dest.is_dir():
        for name in files.list_dir(dest):  # it was an empty directory before: leave it empty
            child = dest / name
            if child.is_dir() and not child.is_symlink():
                files.remove_tree(child)
            else:
                with contextlib.suppress(OSError):
                    files.remove(child, within=dest)
    if claim is not None:
        with contextlib.suppress(OSError):
            files.remove(claim)
    if created_dir is not None:
        # Parents we made go only when empty: another repository may have just used them.
        for parent in dest.parents:
            if parent == created_dir.parent:
                break
            files.remove_empty_dir(parent)
    git.run(["worktree", "prune"], cwd, check=False)
    if new_branch is not None:
        git.run(["branch", "-D", new_branch], cwd, check=False)
