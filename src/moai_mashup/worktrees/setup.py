"""What happens when a worktree is born (our `post-worktree` event).

Fired by the post-checkout hook (old sha = 40 zeros in a linked worktree with
no state of ours yet) and by `moai worktree create` itself, since git runs no
hook for `git worktree add --no-checkout` or libgit2. With hooks installed a
`moai worktree create` fires it twice on the same worktree, so every step is
idempotent: copies skip files that exist, applying is a no-op when the state
is right, and on-create commands that ran are recorded and never run again.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from moai_mashup import files, git, jsontext, spawn
from moai_mashup.config import GLM_JSON, LLM_LOCAL_YAML, LLM_YAML, load_config
from moai_mashup.core.routing import Backend
from moai_mashup.errors import BadInput
from moai_mashup.limits import MAX_INCLUDE_BYTES, MAX_STATE_BYTES
from moai_mashup.settings import trust
from moai_mashup.settings.apply import ApplyResult, apply_backend
from moai_mashup.settings.lock import file_lock
from moai_mashup.settings.main_checkout import override
from moai_mashup.workspace import Workspace

WORKTREE_INCLUDE = ".worktreeinclude"
DONE_NAME = "post-worktree.json"
LOCK_NAME = "post-worktree.lock"


def included_files(main_root: Path, patterns: tuple[str, ...]) -> list[str]:
    """Ignored files of the main worktree that `.worktreeinclude` or `patterns` select.

    Only ignored files qualify (the shared `.worktreeinclude` convention): a
    copied file that git does not ignore would show up as untracked work in
    the new worktree, and tracked files come with the checkout anyway.

    `.worktreeinclude` is committed, so it may be anything: moai reads it (a
    regular file inside the main worktree, bounded) and hands git a copy, so
    git never opens a FIFO, a device or a huge file a link names.
    """
    include = _read_include(main_root)
    if include is None and not patterns:
        return []  # nothing selected: skip the directory walk
    folder = files.make_temp_dir("moai-include-") if include is not None else None
    try:
        args = ["ls-files", "-z", "--others", "--ignored"]
        if folder is not None and include is not None:
            copy = os.path.join(folder, WORKTREE_INCLUDE)
            files.write_bytes(copy, include, durable=False)
            args.append(f"--exclude-from={copy}")
        args += [f"--exclude={p}" for p in patterns]
        selected = [p for p in git.run(args, main_root).stdout.split("\0") if p]
    finally:
        if folder is not None:
            files.remove_tree(folder)
    if not selected:
        return []
    proc = git.run(
        ["check-ignore", "-z", "--stdin"], main_root, stdin="\0".join(selected) + "\0", check=False
    )
    ignored = {p for p in proc.stdout.split("\0") if p}
    return [p for p in selected if p in ignored]


def _read_include(main_root: Path) -> bytes | None:
    """The main worktree's `.worktreeinclude` (None: none, or not one moai reads:
    said in one line)."""

    try:
        return files.read_bytes(
            main_root / WORKTREE_INCLUDE, MAX_INCLUDE_BYTES, WORKTREE_INCLUDE, within=main_root
        )
    except BadInput as exc:
        sys.stderr.write(f"moai: not used: {exc}\n")
        return None


class OutsideWorktree(Exception):
    """A copy would land outside the new worktree (a committed symlinked directory)."""


def _copy_one(src: Path, dst: Path, root: Path, rel: str) -> bool:
    if os.path.lexists(dst):
        return False  # never clobber: the hook may have copied it, or the user made it
    # The new worktree's checkout may hold a committed symlink among dst's
    # parents: an ignored file of yours (an .env) must not be copied through it.
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(dst.parent)]) != real_root:
        raise OutsideWorktree(str(dst.parent))
    files.make_dirs(dst.parent, within=root)
    try:
        files.copy_file(src, dst, within=root, label=rel)
    except FileNotFoundError:
        return False  # gone since git listed it
    return True


def copy_into(ws: Workspace, main_root: Path) -> list[str]:
    """Copy the selected ignored files (and an untracked glm.json) from the main worktree.

    A file that is not a regular file or a link (a FIFO, a device: git lists
    none, but one may take a listed file's place) is skipped with one line.
    """
    root = Path(ws.wt.root)
    copied: list[str] = []

    def copy(rel: str) -> bool:
        try:
            return _copy_one(main_root / rel, root / rel, root, rel)
        except OutsideWorktree as exc:
            sys.stderr.write(
                f"moai: not copied: {rel}: {exc} is a symbolic link out of the new worktree\n"
            )
        except BadInput as exc:
            sys.stderr.write(f"moai: not copied: {exc}\n")
        return False

    for rel in included_files(main_root, ws.cfg.worktree.copy):
        if copy(rel):
            copied.append(rel)
    glm = str(GLM_JSON)
    if (
        ws.cfg.auto_worktree.copy_glm_config
        and glm not in copied
        and (main_root / glm).is_file()
        and not os.path.lexists(root / glm)
        and not git.is_tracked(main_root, glm)  # tracked: the branch carries its own
        and copy(glm)
    ):
        copied.append(glm)
    return copied


def _read_done(path: Path) -> list[str]:
    try:
        data = jsontext.loads(files.read_text(path, MAX_STATE_BYTES) or "null")
    except (BadInput, ValueError, RecursionError):
        return []
    done = data.get("on_create_done") if isinstance(data, dict) else None
    return [c for c in done or [] if isinstance(c, str)]


def run_on_create(ws: Workspace, main_root: Path) -> list[str]:
    """Run the team's `worktree.on_create` commands once, only when every one is trusted.

    A committed config must not run code on a developer's machine unasked
    (as `direnv allow`): untrusted commands are skipped, all of them, since a
    later command usually depends on an earlier one.
    """

    commands = ws.cfg.worktree.on_create
    done_path = Path(ws.wt.state_dir) / DONE_NAME
    done = _read_done(done_path)
    pending = [c for c in commands if c not in done]
    if not pending:
        return []
    untrusted = [c for c in pending if not trust.is_trusted(main_root, "command", c)]
    if untrusted:
        return [
            f"skipped {len(pending)} worktree.on_create command(s): {len(untrusted)} not trusted "
            "for this repository; review with `moai trust --list`, then run `moai trust`"
        ]
    lines: list[str] = []
    for cmd in pending:
        # stdout goes to our stderr: `moai worktree create` keeps stdout for its own lines.
        code, _, _ = spawn.run(
            ["/bin/sh", "-c", cmd],
            cwd=str(ws.wt.root),
            env=git.no_git_env(),
            stdout=sys.stderr.fileno(),
            stderr=sys.stderr.fileno(),
        )
        if code != 0:
            lines.append(f"worktree.on_create command failed (exit {code}): {cmd}")
            break
        done.append(cmd)
        files.write_text(done_path, jsontext.dumps({"on_create_done": done}) + "\n")
        lines.append(f"ran worktree.on_create: {cmd}")
    return lines


def post_worktree(
    ws: Workspace,
    backend: Backend | None = None,
    *,
    main_root: Path | None = None,
    run_commands: bool = True,
) -> list[str]:
    """Set up a new worktree; returns lines to show the user.

    `backend` overrides the routing table (`moai worktree create --glm/--claude`).
    Order matters: copies first (a copied `llm.local.yaml` or `glm.json` changes
    what applying means), then the backend, then the team's commands.
    """

    main = Path(main_root or ws.wt.main_root)
    lines: list[str] = []
    with file_lock(Path(ws.wt.state_dir) / LOCK_NAME, wait=None):  # held while on_create runs
        if Path(ws.wt.root) != main:
            copied = copy_into(ws, main)
            if copied:
                shown = ", ".join(copied[:5]) + (
                    f" (+{len(copied) - 5} more)" if len(copied) > 5 else ""
                )
                lines.append(f"copied from {main}: {shown}")
            if {str(LLM_YAML), str(LLM_LOCAL_YAML)} & set(copied):
                ws = Workspace(ws.wt, load_config(ws.wt.root, ws.wt.state_dir))
        target = backend or ws.expected
        if target is not None:
            result: ApplyResult = apply_backend(ws.wt, ws.cfg, target)
            if result.changed:
                why = "chosen by flag" if backend else ws.why()
                lines.append(f"{ws.wt.root}: {target} ({why})")
            if result.held_line:
                lines.append(result.held_line)

            found = override(ws.wt, target, ws.cfg.backends)
            if found is not None:
                lines.append(found.line())
        if run_commands:
            lines += run_on_create(ws, main)
    return lines
