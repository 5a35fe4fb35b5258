"""The git hooks' Python side: what a hook shim runs when it cannot decide alone.

The shim (resources/hook-tmpl) runs this as `python -I -S -c ...` with the
interpreter recorded at install time; `python -m moai_mashup.githooks.engine
<hook-type> [args]` and `moai hook-impl <hook-type> [args]` reach the same
`main`. It runs on checkouts, so it imports only what the event needs:
config.load_config reads a validated cache (no pydantic/yaml on a hit), and
click, pydantic and pygit2 stay out.

A hook never makes git's own operation fail: a problem is one line on stderr
and exit 0, unless the team's `policy.strict` asks for a failing hook.
After each post-checkout it writes a stamp (`<git-dir>/moai/hook-stamp`) that
lets the shim skip Python entirely while nothing the decision read changed,
and prepares the switch to the other backend (`<git-dir>/moai/ready/`), which
githooks/fast.py takes without importing this module.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from moai_mashup import files, git
from moai_mashup.config import GLM_JSON, LLM_LOCAL_YAML, LLM_YAML, MODE_ENV, ResolvedConfig
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.lean import TYPE_CHECKING
from moai_mashup.paths import RECORD_NAME, SETTINGS_REL, STAMP_NAME

if TYPE_CHECKING:
    from moai_mashup.core.routing import Backend

# The stamp's mtime is set this far in the past: a file written in the same
# clock tick as the stamp (kernel timestamps are coarse; some shells compare
# whole seconds with -nt) must still count as newer.
STAMP_AGE_S = 2


def say(message: str) -> None:
    sys.stderr.write(f"moai: {message}\n")
    sys.stderr.flush()


def _checkout_args(args: list[str]) -> tuple[str, str, str]:
    """git passes `<old> <new> <flag>`; the pre-commit framework passes them in env."""
    if len(args) == 3:
        return args[0], args[1], args[2]
    if not args and "PRE_COMMIT_CHECKOUT_TYPE" in os.environ:
        return (
            os.environ.get("PRE_COMMIT_FROM_REF", ""),
            os.environ.get("PRE_COMMIT_TO_REF", ""),
            os.environ["PRE_COMMIT_CHECKOUT_TYPE"],
        )
    raise BadInput("post-checkout: expected 3 arguments <old> <new> <flag> (as git passes them)")


def _hook_worktree() -> git.Worktree:
    cwd = Path.cwd()
    return git.discover_in_hook(cwd) or git.discover(cwd)


def post_checkout(args: list[str]) -> int:
    old, _new, flag = _checkout_args(args)
    if flag == "0":  # file checkout: the branch did not change
        return 0
    started = time.time()
    wt = _hook_worktree()
    if not os.path.lexists(wt.root / LLM_YAML):
        return 0  # not configured here: silently nothing (anything else there is read,
        # and a device, a folder or a link out of the worktree is one line)
    # Our `post-worktree` event: git has no such hook. A clone or leaving an
    # orphan branch also gives 40 zeros, but in the main worktree.
    new_worktree = old == git.ZERO_SHA and wt.is_linked and not wt.state_dir.exists()
    creating = os.environ.get("MOAI_WORKTREE_CREATING")
    if new_worktree and creating and Path(creating).resolve() == wt.root:
        return 0  # `moai worktree create` fires post-worktree itself right after this hook
    stamp = wt.state_dir / STAMP_NAME
    files.remove(stamp)  # a half-done run must not leave an old decision behind
    from moai_mashup.config import load_config

    cfg = load_config(wt.root, wt.state_dir)
    for line in cfg.warnings:
        say(f"warning: {line}")
    if not cfg.configured:
        return 0
    try:
        return _route(wt, cfg, new_worktree, started)
    except MoaiError as exc:
        say(f"post-checkout: {exc}")
        return 1 if cfg.policy.strict else 0


def _route(wt: git.Worktree, cfg: ResolvedConfig, new_worktree: bool, started: float) -> int:
    from moai_mashup.settings.apply import UntrustedUrl, apply_backend, held_back_line
    from moai_mashup.workspace import Workspace

    ws = Workspace(wt, cfg)
    target = ws.expected
    try:
        if new_worktree:
            from moai_mashup.worktrees.setup import post_worktree

            # Always one line at least: a new worktree set up by a hook should say so.
            lines = post_worktree(ws) or [f"{wt.root}: set up ({ws.why()})"]
            for line in lines:
                say(f"post-worktree: {line}")
            # No stamp: setting up may copy an llm.local.yaml (with its old mtime)
            # that changes the decision; the next checkout decides afresh.
            return 0
        elif target is None:
            return 0  # detached HEAD (bisect, rebase): the backend stays as it is
        else:
            result = apply_backend(wt, cfg, target)
            if result.changed:
                shown = "GLM" if target == "glm" else "Claude"
                say(f"this worktree now uses {shown} ({ws.why()})")
                note = leak_note(wt, cfg, target)
                if note:
                    say(note)
            if result.held:
                say(held_back_line(result.held))
    except UntrustedUrl as exc:
        apply_backend(wt, cfg, "claude")
        say(f"left this worktree on Claude: {exc}")
        return 1 if cfg.policy.strict else 0
    if target is not None:
        write_stamp(wt, cfg, target, started)
    return 0


def leak_note(wt: git.Worktree, cfg: ResolvedConfig, target: Backend) -> str | None:
    """One line when Claude Code 2.1.332's reading of the main checkout's settings in
    linked worktrees defeats this switch (settings/main_checkout.py); None when it holds."""
    from moai_mashup.settings import main_checkout

    if wt.is_linked:
        found = main_checkout.override(wt, target)
        return found.line() if found else None
    if target == "glm" and cfg.mode == "mashup":
        return main_checkout.main_on_glm_line(wt)
    return None


def _leak_input(wt: git.Worktree) -> Path:
    """What a leak note depends on: the main checkout's settings file for a linked
    worktree, the list of linked worktrees for the main checkout."""
    return wt.main_root / SETTINGS_REL if wt.is_linked else wt.common_dir / "worktrees"


def _stamp_inputs(wt: git.Worktree, cfg: ResolvedConfig, glm: bool) -> list[Path] | None:
    """Every file whose change could change the decision; None: no fast path.

    `glm`: the stamp applies or prepares GLM, whose settings also depend on the
    key, the template, trust, and what keeps the settings file out of git.
    """
    inputs = [
        wt.root / LLM_YAML,
        (wt.root / LLM_YAML).parent,  # a file renamed into place keeps an old mtime
        wt.root / LLM_LOCAL_YAML,
        wt.root / SETTINGS_REL,
        wt.state_dir / RECORD_NAME,
        _leak_input(wt),  # the notes (`say-note-<backend>`) githooks/fast.py prints
    ]
    if glm:
        from moai_mashup.settings import keys, trust
        from moai_mashup.settings.apply import user_settings_file

        key = keys.resolve_key(cfg.glm_env_var)
        if key is None or key.source.startswith("$"):
            # A key from the environment cannot be checked by the shim without
            # storing it; such a worktree always takes the slow path.
            return None
        inputs += [
            wt.root / GLM_JSON,
            (wt.root / GLM_JSON).parent,
            keys.env_file(),
            keys.credentials_file(),
            trust.trust_file(),
            keys.moai_home(),
            wt.root / ".gitignore",
            wt.root / ".claude" / ".gitignore",
            wt.common_dir / "info" / "exclude",
            # a model pinned there sets the tier GLM gets (apply.user_settings_levels)
            wt.root / ".claude" / "settings.json",
            user_settings_file(),
        ]
    return inputs


def sh_spec_pattern(default_branch: str, pattern: str) -> str | None:
    """The spec branch pattern as an sh `case` pattern meaning what routing means by it.

    Only the one `*` may be special: a pattern with other glob characters gets no
    fast path. Whether `*` may match nothing is asked of routing itself, so the
    shim and the engine cannot disagree.
    """
    from moai_mashup.core.routing import branch_kind

    prefix, star, suffix = pattern.partition("*")
    if any(c in prefix + suffix for c in "*?[]\\"):
        return None
    if not star:
        return pattern
    empty = prefix + suffix
    if empty == default_branch:
        return None  # cannot probe; rare enough to go without the fast path
    matches_empty = branch_kind(empty, default_branch, pattern) == "spec"
    return prefix + ("*" if matches_empty else "?*") + suffix


# What a backend leaves in a worktree: the settings file's and the ownership
# record's bytes (None: no such file).
Files = tuple[bytes | None, bytes | None]


def _encoded(text: str | None) -> bytes | None:
    return None if text is None else text.encode("utf-8")


def prepare_states(
    wt: git.Worktree, cfg: ResolvedConfig, applied: Backend
) -> tuple[dict[str, Files], int]:
    """The files as `applied` left them and, when it can be planned, the other backend's;
    and the mode a prepared Claude file gets (what the engine would give it).

    The other one is kept only when planning the way back from it gives today's
    files byte for byte: then switching with the prepared files (githooks/fast.py)
    is exactly what the engine would do, in both directions, any number of times.
    """
    from moai_mashup.core.routing import backend_for_kind
    from moai_mashup.settings.apply import (
        SettingsState,
        desired_glm_held,
        ensure_private,
        parse_settings,
        plan_settings,
        read_state,
        record_text,
        restore_mode,
        settings_path,
    )

    state = read_state(wt)
    from moai_mashup.limits import MAX_PREPARED_BYTES, MAX_SETTINGS_BYTES

    live_record = files.read_bytes(wt.state_dir / RECORD_NAME, MAX_SETTINGS_BYTES)
    states: dict[str, Files] = {applied: (_encoded(state.text), live_record)}
    # On Claude too: a prepared switch keeps this stamp's `state claude` line, and
    # the next prepared switch back to Claude gives the file this mode.
    claude_mode = restore_mode(state)
    if len(state.text or "") > MAX_PREPARED_BYTES:
        return states, claude_mode  # too big to prepare (write_stamp keeps no copy either)
    other: Backend = "claude" if applied == "glm" else "glm"
    if all(backend_for_kind(cfg.mode, kind) != other for kind in ("default", "spec", "other")):
        return states, claude_mode  # this mode never switches to it (claude-only, glm-only)
    path = settings_path(wt)
    if path.parent.is_symlink() or path.is_symlink():
        return states, claude_mode  # through a symlink: the engine checks where it leads
    try:
        desired, key, held = desired_glm_held(wt, cfg)
        if key.source.startswith("$") or held:
            # The shim cannot vouch for a key from the environment; and a switch
            # holding template keys back goes through the engine, which says so.
            return states, claude_mode
        if other == "glm":
            ensure_private(wt)  # as apply_backend would, before the GLM file exists
        wanted = {"glm": desired, "claude": {}}
        text, record = plan_settings(state, other, wanted[other])
        mode = None if text is None else (claude_mode if other == "claude" else 0o600)
        there = SettingsState(state.path, text, parse_settings(state.path, text), record, mode)
        back_text, back_record = plan_settings(there, applied, wanted[applied])
    except MoaiError:
        return states, claude_mode  # no key, an untrusted URL, ...: the engine will say so
    if (_encoded(back_text), _encoded(record_text(back_record))) == states[applied]:
        states[other] = (_encoded(text), _encoded(record_text(record)))
    return states, claude_mode


def stamp_text(
    wt: git.Worktree,
    cfg: ResolvedConfig,
    applied: str,
    states: dict[str, Files],
    claude_mode: int = 0o600,
) -> str | None:
    """The stamp the shim (with `read`) and githooks/fast.py read, or None."""
    from moai_mashup.core.model_pin import MODEL_VAR
    from moai_mashup.core.routing import backend_for_kind
    from moai_mashup.githooks.stamp import STAMP_VERSION, digest, engine_id
    from moai_mashup.workspace import why

    pattern = sh_spec_pattern(cfg.default_branch, cfg.spec_branch_pattern)
    if pattern is None:
        return None
    inputs = _stamp_inputs(wt, cfg, "glm" in states)
    if inputs is None:
        return None
    settings, record = inputs[3], inputs[4]
    lines = [
        f"moai-hook-stamp {STAMP_VERSION}",
        # Whose stamp: a copied repository (or GIT_WORK_TREE elsewhere) must not use it.
        f"root {wt.root}",
        f"state-dir {wt.state_dir}",
        f"engine {engine_id()}",
        f"default {cfg.default_branch}",
        f"spec {pattern}",
        f"to-default {backend_for_kind(cfg.mode, 'default')}",
        f"to-spec {backend_for_kind(cfg.mode, 'spec')}",
        f"to-other {backend_for_kind(cfg.mode, 'other')}",
        f"applied {applied}",
        f"trailer {'on' if cfg.policy.commit_trailer else 'off'}",
        f"say-default {why(cfg, 'default')}",
        f"say-spec {why(cfg, 'spec')}",
        f"say-other {why(cfg, 'other')}",
        f"env {MODE_ENV}={os.environ.get(MODE_ENV, '')}",
    ]
    for backend in ("claude", "glm"):
        note = leak_note(wt, cfg, backend) if backend in states else None
        if note:
            lines.append(f"say-note-{backend} {note}")
    if "glm" in states:
        lines.append(f"env HOME={os.environ.get('HOME', '')}")
        lines.append(f"env {MODEL_VAR}={os.environ.get(MODEL_VAR, '')}")
    ctimes = []
    for path in inputs:
        if path in (settings, record):
            there = states[applied][0 if path == settings else 1] is not None
        else:
            there = path.exists() or path.is_symlink()
            if there:
                ctimes.append(f"ctime {os.stat(path).st_ctime_ns} {path}")
        lines.append(f"{'file' if there else 'none'} {path}")
    lines += ctimes
    lines += [f"live-settings {settings}", f"live-record {record}"]
    for backend, (settings_bytes, record_bytes) in sorted(states.items()):
        # The prepared settings file's mode: 0600 while it holds a key; switching
        # back gives a file of the user's the mode it had before moai.
        mode = claude_mode if backend == "claude" else 0o600
        lines.append(f"state {backend} {digest(settings_bytes)} {digest(record_bytes)} {mode:o}")
    lines.append("end")
    # `read` trims and splits on whitespace: any value it would mangle disables the stamp.
    for line in lines:
        _tag, _, value = line.partition(" ")
        if "\n" in value or value != value.strip():
            return None
    return "\n".join(lines) + "\n"


def write_stamp(wt: git.Worktree, cfg: ResolvedConfig, applied: Backend, started: float) -> None:
    from moai_mashup.githooks.stamp import ready_path
    from moai_mashup.limits import MAX_PREPARED_BYTES
    from moai_mashup.paths import READY_DIR

    try:
        states, claude_mode = prepare_states(wt, cfg, applied)
    except MoaiError:
        return  # e.g. the file as written is past the size moai plans: no stamp, no fast path
    text = stamp_text(wt, cfg, applied, states, claude_mode)
    path = wt.state_dir / STAMP_NAME
    ready = wt.state_dir / READY_DIR
    try:
        if text is None or any(
            len(data) > MAX_PREPARED_BYTES for pair in states.values() for data in pair if data
        ):
            # Nothing prepared: every switch from here goes to the engine (the
            # stamp, which holds no copy, still makes a no-op checkout fast).
            states = {}
        files.make_dirs(ready, 0o700)
        for backend in ("claude", "glm"):
            pair = states.get(backend, (None, None))
            for part, data in zip(("settings", "record"), pair, strict=True):
                target = ready_path(str(wt.state_dir), backend, part)
                if data is None:
                    files.remove(target)
                else:
                    files.write_bytes(target, data, durable=False)
        if text is not None:
            dated = (int(started) - STAMP_AGE_S) * 10**9
            files.write_bytes(path, text.encode("utf-8"), durable=False, times_ns=(dated, dated))
    except (OSError, MoaiError):
        files.remove(path)  # no stamp only costs time


def post_rewrite(args: list[str]) -> int:
    """`git rebase <upstream> <branch>` ends on <branch> with no post-checkout: apply
    the table's backend there as a checkout would. An amend (or a rebase that ends
    detached, as `--apply` runs this hook) changes nothing."""
    if not args:  # the pre-commit framework passes git's argument in its environment
        args = [os.environ.get("PRE_COMMIT_REWRITE_COMMAND", "")]
    if args[:1] != ["rebase"]:
        return 0
    return post_checkout(["rebase", "-", "1"])


def post_worktree_event(args: list[str]) -> int:
    """`post-worktree` by hand (wrappers, hook managers): set up the worktree in cwd."""
    from moai_mashup.workspace import open_workspace
    from moai_mashup.worktrees.setup import post_worktree

    if args:
        raise BadInput("post-worktree: takes no arguments; run it inside the new worktree")
    ws = open_workspace()
    if not ws.cfg.configured:
        return 0
    for line in post_worktree(ws):
        say(f"post-worktree: {line}")
    return 0


def _report(report: tuple[int, list[str]]) -> int:
    status, lines = report
    for line in lines:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()
    return status


def pre_commit(args: list[str]) -> int:
    """The guard and the team policy for the commit being made (guard/commit.py).

    `args`: file names when the pre-commit framework runs this hook.
    """
    from moai_mashup.guard.commit import check_commit

    return _report(check_commit(_hook_worktree(), tuple(args)))


def prepare_commit_msg(args: list[str]) -> int:
    """Add the `LLM-Backend:` trailer (policy.commit_trailer); never fails the commit."""
    from moai_mashup.guard.commit import commit_message

    return _report(commit_message(_hook_worktree(), args, prepare=True))


def commit_msg(args: list[str]) -> int:
    """The trailer for a message written in the editor (prepare-commit-msg left it empty)."""
    from moai_mashup.guard.commit import commit_message

    return _report(commit_message(_hook_worktree(), args, prepare=False))


HANDLERS: dict[str, Callable[[list[str]], int]] = {
    "post-checkout": post_checkout,
    "post-rewrite": post_rewrite,
    "post-worktree": post_worktree_event,
    "pre-commit": pre_commit,
    "prepare-commit-msg": prepare_commit_msg,
    "commit-msg": commit_msg,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in HANDLERS:
        known = ", ".join(HANDLERS)
        say(f"hook-impl: expected a hook type ({known}), got {argv[0] if argv else 'nothing'}")
        return 0
    hook_type, args = argv[0], argv[1:]
    try:
        return HANDLERS[hook_type](args)
    except MoaiError as exc:
        say(f"{hook_type}: {exc}")
        return 1 if hook_type == "pre-commit" else 0
    except Exception as exc:
        if hook_type == "pre-commit":
            # The guard fails closed: a guard that could not look must not wave a key through.
            say(
                f"pre-commit: the moai guard could not run ({exc.__class__.__name__}: {exc}); "
                "the commit was stopped. `git commit --no-verify` skips the guard"
            )
            return 1
        # Any other hook must not take git's operation down with it.
        say(f"{hook_type} hook failed ({exc.__class__.__name__}: {exc}); git went on")
        return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
