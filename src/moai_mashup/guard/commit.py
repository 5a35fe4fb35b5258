"""Commit-time checks as plain functions: what `moai check` and the git hooks run.

No click here: the hook engine calls these directly from the shim. Each
returns the lines to show and an exit status; git's own operation decides
what a status means (pre-commit refuses on 1, the message hooks never fail).

Inside a commit, a broken config is reported and the guard still runs on its
defaults: a typo in llm.local.yaml must not disable key checks, nor block
every commit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from moai_mashup import files, git
from moai_mashup.config import load_config
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.guard import policy
from moai_mashup.guard import scan as guard
from moai_mashup.settings import keys
from moai_mashup.workspace import Workspace


class Report(NamedTuple):
    status: int  # 0 allowed, 1 refused
    lines: list[str]  # for stderr, already prefixed


def lenient_workspace(wt: git.Worktree, notes: list[str]) -> Workspace | None:
    """The workspace, or None (with a note) when its config cannot be loaded."""

    try:
        cfg = load_config(wt.root, wt.state_dir)
    except MoaiError as exc:
        notes.append(f"moai: warning: {exc}; team policy not checked, key checks still run")
        return None
    notes.extend(f"moai: warning: {line}" for line in cfg.warnings)
    return Workspace(wt, cfg)


def matcher_for(ws: Workspace | None) -> guard.KeyMatcher:
    """The user's keys of glm and of every backend the config defines (and every key
    file's), with the key shapes; without a config, glm's and every key file's."""
    if ws is None:
        return guard.KeyMatcher(guard.known_keys(keys.ENV_FILE_VAR))
    backends = tuple(ws.cfg.backends)
    return guard.KeyMatcher(guard.known_keys(ws.cfg.glm_env_var, backends), backends)


def refusal(
    header: str, findings: list[guard.Finding], problems: list[str], hint: str
) -> list[str]:
    return [
        f"moai: refused: {header}",
        *guard.iter_lines(findings),
        *(f"  {p}" for p in problems),
        f"moai: {hint}",
    ]


def check_commit(wt: git.Worktree, filenames: tuple[str, ...] = ()) -> Report:
    """The guard and the policy for the commit being made (the pre-commit stage).

    `filenames` (from the pre-commit framework) limits the key scan to those
    index entries; `pre-commit run --all-files` hands every file with nothing staged.
    """
    lines: list[str] = []
    ws = lenient_workspace(wt, lines)
    changes = guard.staged_changes(Path(wt.root))
    targets = changes
    if filenames:
        wanted = set(filenames)
        targets = [f for f in guard.index_files(Path(wt.root)) if f.path in wanted]
    matcher = matcher_for(ws)
    findings, warnings = guard.split_warnings(
        guard.scan_files(targets, matcher)
        + guard.scan_names(targets, matcher)
        + guard.scan_blobs(Path(wt.root), targets, matcher)
    )
    lines += guard.warning_lines(warnings)
    problems: list[str] = []
    if ws is not None:
        try:
            for problem in (
                policy.location_problem(ws, [c.path for c in changes], matcher),
                policy.backend_problem(ws),
            ):
                if problem:
                    problems.append(problem)
        except MoaiError as exc:
            lines.append(f"moai: warning: {exc}; team policy not checked")
    if not findings and not problems:
        return Report(0, lines)
    hint = guard.unstage_hint(findings) if findings else "nothing was committed"
    if filenames and not changes:
        hint = "remove the keys, rotate any key that was pushed, `git rm --cached` key files"
    what = [w for w, on in (("keys or key files", findings), ("the team policy", problems)) if on]
    lines += refusal(f"this commit breaks {' and '.join(what)}:", findings, problems, hint)
    return Report(1, lines)


def commit_message(wt: git.Worktree, args: list[str], *, prepare: bool) -> Report:
    """prepare-commit-msg (`FILE [SOURCE [SHA]]`) or commit-msg (`FILE`): add the trailer;
    commit-msg also refuses a message holding a key (git stores and pushes it).

    The trailer never fails the commit: a problem there is a warning line.
    """
    lines: list[str] = []
    if not args:
        return Report(0, ["moai: warning: no commit message file given; trailer not added"])
    if not prepare:
        found = message_keys(wt, Path(args[0]))
        if found is not None and found.status:
            return found
        lines += found.lines if found is not None else []  # shared shapes: warnings
    source: str | None = None
    if prepare:
        source = args[1] if len(args) > 1 else os.environ.get("PRE_COMMIT_COMMIT_MSG_SOURCE", "")
    try:
        ws = lenient_workspace(wt, lines)
        if ws is not None:
            policy.add_trailer(ws, Path(args[0]), source)
    except (MoaiError, git.GitError) as exc:
        lines.append(f"moai: warning: commit trailer not added: {exc}")
    return Report(0, lines)


def message_keys(wt: git.Worktree, path: Path) -> Report | None:
    """A refusal when the commit message in `path` holds a key, the warnings when it
    holds only shared key shapes, else None."""
    try:
        message = files.read_bytes(path, policy.MAX_MESSAGE_BYTES, f"commit message {path}")
    except BadInput as exc:  # a FIFO, a device, absurdly large: nothing git would commit
        return Report(1, [f"moai: refused: {exc}"])
    if message is None:
        return None  # git passes the file it wrote; nothing there, nothing to check
    ws = lenient_workspace(wt, [])
    findings, warnings = guard.split_warnings(
        guard.scan_message(guard.as_utf8(message), matcher_for(ws))
    )
    if not findings:
        return Report(0, guard.warning_lines(warnings)) if warnings else None
    hint = (
        "nothing was committed; remove the key from the message and commit again "
        '(git commit -e -F "$(git rev-parse --git-path COMMIT_EDITMSG)" keeps the rest)'
    )
    return Report(1, refusal("this commit message holds a key:", findings, [], hint))
