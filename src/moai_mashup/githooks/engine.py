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
lets the shim skip Python entirely while nothing the decision read changed
(githooks/stamp.py owns its format, routing table included), and prepares the
switch to every other backend the table names (`~/.moai/worktrees/<id>/ready/`,
never the key), which githooks/fast.py takes without importing this module. What
holds the settings file's values (the ownership record, the prepared files)
lives in the worktree's private folder in ~/.moai (settings/private.py), the
stamp holding only digests and paths.
"""

from __future__ import annotations

import os
import sys
import time

from moai_mashup import files, git
from moai_mashup.config import GLM_JSON, LLM_LOCAL_YAML, LLM_YAML, MODE_ENV, ResolvedConfig
from moai_mashup.core.backends import display_name
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.lean import TYPE_CHECKING
from moai_mashup.limits import MAX_CONFIG_BYTES
from moai_mashup.paths import LOCK_NAME, SETTINGS_REL, STAMP_NAME
from moai_mashup.settings import private

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

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
    cwd = os.getcwd()
    return git.discover_in_hook(cwd) or git.discover(cwd)


def post_checkout(args: list[str]) -> int:
    old, _new, flag = _checkout_args(args)
    if flag == "0":  # file checkout: the branch did not change
        return 0
    started = time.time()
    wt = _hook_worktree()
    if not os.path.lexists(os.path.join(wt.root, LLM_YAML)):
        return 0  # not configured here: silently nothing (anything else there is read,
        # and a device, a folder or a link out of the worktree is one line)
    # Our `post-worktree` event: git has no such hook. A clone or leaving an
    # orphan branch also gives 40 zeros, but in the main worktree.
    new_worktree = old == git.ZERO_SHA and wt.is_linked and not os.path.exists(wt.state_dir)
    creating = os.environ.get("MOAI_WORKTREE_CREATING")
    if new_worktree and creating and os.path.realpath(creating) == wt.root:
        return 0  # `moai worktree create` fires post-worktree itself right after this hook
    stamp = os.path.join(wt.state_dir, STAMP_NAME)
    files.remove(stamp)  # a half-done run must not leave an old decision behind
    from moai_mashup.config import load_config

    try:
        cfg = load_config(wt.root, wt.state_dir)
    except BadInput as exc:
        return _unreadable_config(wt, exc)
    for line in cfg.warnings:
        say(f"warning: {line}")
    if not cfg.configured:
        return 0
    try:
        return _route(wt, cfg, new_worktree, started)
    except MoaiError as exc:
        say(f"post-checkout: {exc}")
        return 1 if cfg.policy.strict else 0


def _unreadable_config(wt: git.Worktree, problem: BadInput) -> int:
    """llm.yaml (or llm.local.yaml) cannot be read: which backend this branch gets is
    unknown, so a worktree on another backend goes to Claude rather than carry the
    branch before's provider here (never half-switched; the ownership record says
    what to take out, the config nothing). One line either way; a detached HEAD
    stays as it is. No stamp: the next checkout decides afresh."""
    from moai_mashup.config import fallback_config
    from moai_mashup.settings.apply import apply_backend, read_state

    try:
        active = read_state(wt).active if wt.branch is not None else None
    except MoaiError:
        active = None
    if active in (None, "claude"):
        say(f"post-checkout: {problem}")
        return 0
    try:
        apply_backend(wt, fallback_config(), "claude")
    except MoaiError as exc:
        say(f"post-checkout: {problem}")
        say(f"post-checkout: {exc}")
        return 0
    say(f"left this worktree on Claude: {problem}")
    return 0


def _route(wt: git.Worktree, cfg: ResolvedConfig, new_worktree: bool, started: float) -> int:
    from moai_mashup.settings.apply import UntrustedUrl, apply_backend
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
            if result.changed and result.before == target != "claude":
                # Already on it: what changed is what applying writes (a merged glm.json
                # or llm.yaml, a new key), not the backend.
                profile = cfg.backends.get(target)
                source = GLM_JSON if profile is None else profile.source
                name = display_name(target, cfg.backends)
                say(f"this worktree's {name} settings now follow the current {source}")
            elif result.changed:
                say(f"this worktree now uses {display_name(target, cfg.backends)} ({ws.why()})")
                note = leak_note(wt, cfg, target)
                if note:
                    say(note)
            if result.held_line:
                say(result.held_line)
    except UntrustedUrl as exc:
        apply_backend(wt, cfg, "claude")
        say(f"left this worktree on Claude: {exc}")
        return 1 if cfg.policy.strict else 0
    except BadInput as exc:
        if not _on_another_provider(wt, target):
            raise  # one line, the worktree as it was (on Claude or on the target already)
        # No key for the target (or another line of bad input): staying on the
        # provider of the branch before would send this branch's work where the
        # table does not; Claude is where an unrouted branch goes.
        apply_backend(wt, cfg, "claude")
        say(f"left this worktree on Claude: {exc}")
        return 1 if cfg.policy.strict else 0
    if target is not None:
        write_stamp(wt, cfg, target, started)
    return 0


def _on_another_provider(wt: git.Worktree, target: str | None) -> bool:
    """The worktree's settings route to a backend other than Claude and `target`."""
    from moai_mashup.settings.apply import read_state

    try:
        active = read_state(wt).active
    except MoaiError:
        return False
    return target not in (None, "claude") and active not in ("claude", target)


def leak_note(wt: git.Worktree, cfg: ResolvedConfig, target: Backend) -> str | None:
    """One line when Claude Code 2.1.332's reading of the main checkout's settings in
    linked worktrees defeats this switch (settings/main_checkout.py); None when it holds."""
    from moai_mashup.settings import main_checkout

    if wt.is_linked:
        found = main_checkout.override(wt, target, cfg.backends)
        return found.line() if found else None
    return main_checkout.main_on_backend_line(wt, cfg, target)


def _leak_inputs(wt: git.Worktree) -> list[str]:
    """What a leak note depends on: the main checkout's settings file for a linked
    worktree; for the main checkout, the list of linked worktrees and the branch each
    is on (which decides whether the main checkout's keys misroute it)."""
    if wt.is_linked:
        return [os.path.join(wt.main_root, SETTINGS_REL)]
    from moai_mashup.settings.main_checkout import linked_worktrees

    return [os.path.join(wt.common_dir, "worktrees")] + [
        os.path.join(w.admin, "HEAD") for w in linked_worktrees(wt)
    ]


def _stamp_inputs(
    wt: git.Worktree, cfg: ResolvedConfig, providers: list[str], folder: str
) -> list[str] | None:
    """Every file whose change could change the decision; None: no fast path.

    `providers`: the backends other than Claude the stamp applies or prepares,
    whose settings also depend on their key, the template or llm.yaml, trust,
    and what keeps the settings file out of git. `folder`: the worktree's private
    folder (settings/private.py), which holds the ownership record.
    """
    inputs = [
        os.path.join(wt.root, LLM_YAML),
        # a file renamed into place keeps an old mtime
        os.path.dirname(os.path.join(wt.root, LLM_YAML)),
        os.path.join(wt.root, LLM_LOCAL_YAML),
        os.path.join(wt.root, SETTINGS_REL),
        private.record_file(folder),
        *_leak_inputs(wt),  # the notes (`note <backend>`) githooks/fast.py prints
    ]
    if providers:
        from moai_mashup.settings import keys, trust
        from moai_mashup.settings.apply import user_settings_file

        for backend in providers:
            key = keys.resolve_key(cfg.glm_env_var, backend)
            if key is None or key.source.startswith("$"):
                # A key from the environment cannot be checked by the shim without
                # storing it; such a worktree always takes the slow path.
                return None
        if "glm" in providers:
            inputs += [
                os.path.join(wt.root, GLM_JSON),
                os.path.dirname(os.path.join(wt.root, GLM_JSON)),
            ]
        inputs += [
            *(keys.env_file(backend) for backend in providers),
            keys.credentials_file(),
            trust.trust_file(),
            keys.moai_home(),
            os.path.join(wt.root, ".gitignore"),
            os.path.join(wt.root, ".claude", ".gitignore"),
            os.path.join(wt.common_dir, "info", "exclude"),
            # a model pinned there sets the tier a backend gets (apply.user_settings_levels)
            os.path.join(wt.root, ".claude", "settings.json"),
            user_settings_file(),
        ]
    return inputs


# What a backend leaves in a worktree: the settings file's and the ownership
# record's bytes (None: no such file).
Files = tuple[bytes | None, bytes | None]


def _encoded(text: str | None) -> bytes | None:
    return None if text is None else text.encode("utf-8")


class Prepared:
    """What write_stamp records: each backend's files (`applied`'s as they are), the
    mode a prepared Claude file gets, the key each backend's files were planned
    with (by backend), and the switches (from, to) the prepared files make exactly
    as the engine would."""

    def __init__(
        self,
        states: dict[str, Files],
        claude_mode: int,
        keys: dict[str, str],
        pairs: set[tuple[str, str]] | None = None,
    ) -> None:
        self.states, self.claude_mode, self.keys = states, claude_mode, keys
        self.pairs = pairs or set()


def prepare_states(
    wt: git.Worktree, cfg: ResolvedConfig, applied: Backend, folder: str
) -> Prepared:
    """The files as `applied` left them and, when it can be planned, those of every
    other backend the routing table names; the mode a prepared Claude file gets
    (what the engine would give it); the key each backend's files hold.

    Another backend's files are kept only when planning the way back from them
    gives today's files byte for byte: then switching with the prepared files
    (githooks/fast.py) is exactly what the engine would do, in both directions,
    any number of times. A backend whose key comes from the environment, or
    whose env holds keys back for want of trust, is not prepared (the engine
    switches to it, and says so); when that is the backend applied, none is.
    """
    from moai_mashup.core.routing import table
    from moai_mashup.settings.apply import (
        SettingsState,
        desired_backend,
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

    live_record = files.read_bytes(private.record_file(folder), MAX_SETTINGS_BYTES, within=folder)
    states: dict[str, Files] = {applied: (_encoded(state.text), live_record)}
    # On Claude too: a prepared switch keeps this stamp's `state claude` line, and
    # the next prepared switch back to Claude gives the file this mode.
    claude_mode = restore_mode(state)
    routes = table(cfg.mode, cfg.default_branch, cfg.spec_branch_pattern, cfg.routes)
    others = [b for b in dict.fromkeys(r.backend for r in routes) if b != applied]
    if len(state.text or "") > MAX_PREPARED_BYTES or not others:
        # too big to prepare (write_stamp keeps no copy either), or this mode
        # never switches (claude-only, glm-only)
        return Prepared(states, claude_mode, {})
    path = settings_path(wt)
    if os.path.islink(os.path.dirname(path)) or os.path.islink(path):
        return Prepared(states, claude_mode, {})  # the engine checks where it leads
    wanted: dict[str, dict[Any, Any]] = {"claude": {}}
    keys: dict[str, str] = {}
    for backend in [applied, *others]:
        if backend == "claude":
            continue
        try:
            desired, key, held = desired_backend(wt, cfg, backend)
        except MoaiError:
            key, held = None, ()  # no key, an untrusted URL, ...: the engine will say so
        if key is None or key.source.startswith("$") or held:
            # The shim cannot vouch for a key from the environment; and a switch
            # holding env keys back goes through the engine, which says so.
            if backend == applied:
                return Prepared(states, claude_mode, {})
            continue
        wanted[backend], keys[backend] = desired, key.value
    try:
        if any(b in wanted for b in others if b != "claude"):
            ensure_private(wt)  # as apply_backend would, before the file with a key exists
        there_states: dict[str, SettingsState] = {applied: state}
        for other in others:
            if other not in wanted:
                continue
            text, record = plan_settings(state, other, wanted[other])
            mode = None if text is None else (claude_mode if other == "claude" else 0o600)
            there = SettingsState(state.path, text, parse_settings(state.path, text), record, mode)
            if _planned(plan_settings(there, applied, wanted[applied])) == states[applied]:
                states[other] = (_encoded(text), _encoded(record_text(record)))
                there_states[other] = there
        # The switches the prepared files make exactly as the engine would: to and
        # from `applied` (checked above), and between two other backends when
        # planning one from the other's files gives its files (key order, what a
        # key replaced: with three backends or more, not always).
        pairs = {(a, b) for a in states for b in states if a != b and applied in (a, b)}
        pairs |= {
            (a, b)
            for a in states
            for b in states
            if applied not in (a, b)
            and a != b
            and _planned(plan_settings(there_states[a], b, wanted[b])) == states[b]
        }
    except MoaiError:
        return Prepared({applied: states[applied]}, claude_mode, {})
    return Prepared(states, claude_mode, {b: keys[b] for b in states if b in keys}, pairs)


def _planned(planned: tuple[str | None, Any]) -> Files:
    """plan_settings's (text, record) as the bytes apply writes."""
    from moai_mashup.settings.apply import record_text

    return _encoded(planned[0]), _encoded(record_text(planned[1]))


def _key_place(backend: str, key: str) -> tuple[int, int, str] | None:
    """Where `backend`'s key sits in its file in ~/.moai (the stamp's `key` line): the
    prepared switch fills it in from there, so no prepared file holds it."""
    from moai_mashup.settings import keys

    for path in (keys.env_file(backend), keys.credentials_file()):
        try:
            data = files.read_bytes(path, MAX_CONFIG_BYTES)
        except BadInput:
            continue
        offset = -1 if data is None else data.find(key.encode("utf-8"))
        if offset >= 0:
            return offset, len(key.encode("utf-8")), str(path)
    return None


def _without_key(data: bytes | None, key: bytes, slot: bytes) -> bytes | None:
    """A prepared file with the key's place held by `slot`; None when the key does
    not sit in it as plain JSON text (then nothing is prepared for it)."""
    if data is None or key not in data:
        return data
    from moai_mashup import jsontext

    if slot in data or jsontext.dumps(key.decode("utf-8")).encode("utf-8") != b'"' + key + b'"':
        return None
    return data.replace(key, slot)


def stamp_text(
    wt: git.Worktree, cfg: ResolvedConfig, applied: str, prepared: Prepared, folder: str
) -> str | None:
    """The stamp (githooks/stamp.py renders it) for what the engine decided, or None."""
    from moai_mashup.core.model_pin import MODEL_VAR
    from moai_mashup.core.routing import table
    from moai_mashup.githooks.stamp import digest, render
    from moai_mashup.workspace import why

    states = prepared.states
    providers = [b for b in states if b != "claude"]
    inputs = _stamp_inputs(wt, cfg, providers, folder)
    if inputs is None:
        return None
    settings, record = inputs[3], inputs[4]
    routes = table(cfg.mode, cfg.default_branch, cfg.spec_branch_pattern, cfg.routes)
    notes = {}
    for backend in states:
        note = leak_note(wt, cfg, backend)
        if note:
            notes[backend] = note
    env = [(MODE_ENV, os.environ.get(MODE_ENV, ""))]
    if providers:
        env += [("HOME", os.environ.get("HOME", "")), (MODEL_VAR, os.environ.get(MODEL_VAR, ""))]
    listed: list[tuple[str, bool, int | None]] = []
    for path in inputs:
        if path in (settings, record):
            there, ctime = states[applied][0 if path == settings else 1] is not None, None
        else:
            there = os.path.lexists(path)
            ctime = os.stat(path).st_ctime_ns if there else None
        listed.append((str(path), there, ctime))
    key_places = {}
    for backend, key in prepared.keys.items():
        if backend in states and key.encode("utf-8") in (states[backend][0] or b""):
            place = _key_place(backend, key)
            if place is None:
                return None
            key_places[backend] = place
    # The prepared settings file's mode: 0600 while it holds a key; switching
    # back gives a file of the user's the mode it had before moai.
    return render(
        root=wt.root,
        state_dir=wt.state_dir,
        applied=applied,
        trailer=cfg.policy.commit_trailer,
        routes=[(r.glob, r.backend, why(cfg, r)) for r in routes],
        notes=notes,
        env=env,
        inputs=listed,
        live=(str(settings), str(record)),
        ready=private.ready_dir(folder),
        states={
            backend: (
                digest(settings_bytes),
                digest(record_bytes),
                prepared.claude_mode if backend == "claude" else 0o600,
            )
            for backend, (settings_bytes, record_bytes) in states.items()
        },
        keys=key_places,
        names={b: p.display for b, p in cfg.backends.items() if b in states},
        pairs=sorted(p for p in prepared.pairs if p[0] in states and p[1] in states),
    )


def _ready_files(prepared: Prepared, applied: str) -> dict[str, Files]:
    """What goes into ready/: every backend's files (those applied now too: the way
    back after a prepared switch), the backend's own key's place held by KEY_SLOT.
    Files that cannot be written so, or that hold another backend's key, are not
    prepared (their backend leaves `prepared`): a switch to them goes to the engine."""
    from moai_mashup.githooks.stamp import KEY_SLOT

    known = {backend: key.encode("utf-8") for backend, key in prepared.keys.items()}
    ready: dict[str, Files] = {}
    for backend, (settings_bytes, record_bytes) in list(prepared.states.items()):
        own = known.get(backend)
        slotted = settings_bytes if own is None else _without_key(settings_bytes, own, KEY_SLOT)
        held = [data for data in (slotted, record_bytes) if data]
        if (
            (settings_bytes is not None and slotted is None)
            or (own is not None and own in (record_bytes or b""))
            or any(key in data for key in known.values() for data in held)
        ):
            if backend != applied:
                del prepared.states[backend]
            continue
        ready[backend] = (slotted, record_bytes)
    return ready


def _private_folder(wt: git.Worktree) -> str:
    """The worktree's private folder (settings/private.py), made under the settings lock."""
    from moai_mashup.settings.lock import file_lock

    with file_lock(os.path.join(wt.state_dir, LOCK_NAME)):
        return private.ensure(wt.state_dir)


def write_stamp(wt: git.Worktree, cfg: ResolvedConfig, applied: Backend, started: float) -> None:
    from moai_mashup.githooks.stamp import ready_path
    from moai_mashup.limits import MAX_PREPARED_BYTES

    try:
        folder = _private_folder(wt)  # none: no stamp (its ready files hold the user's values)
        prepared = prepare_states(wt, cfg, applied, folder)
    except (OSError, MoaiError):
        return  # e.g. the file as written is past the size moai plans: no stamp, no fast path
    ready_files = _ready_files(prepared, applied)
    text = stamp_text(wt, cfg, applied, prepared, folder)
    path = os.path.join(wt.state_dir, STAMP_NAME)
    ready = private.ready_dir(folder)
    try:
        if text is None or any(
            len(data) > MAX_PREPARED_BYTES for pair in ready_files.values() for data in pair if data
        ):
            # Nothing prepared: every switch from here goes to the engine (the
            # stamp, which holds no copy, still makes a no-op checkout fast).
            ready_files = {}
            if text is not None:
                prepared.states = {applied: prepared.states[applied]}
                text = stamp_text(wt, cfg, applied, prepared, folder)
        files.make_dirs(ready, 0o700, within=folder)
        wanted = set()
        for backend, pair in ready_files.items():
            for part, data in zip(("settings", "record"), pair, strict=True):
                target = ready_path(ready, backend, part)
                if data is not None:
                    files.write_bytes(target, data, durable=False, within=folder)
                    wanted.add(os.path.basename(target))
        for name in files.list_dir(ready):  # a backend no longer prepared, a part it lacks
            if name not in wanted:
                files.remove(os.path.join(ready, name), within=folder)
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


def post_merge(args: list[str]) -> int:
    """A merge or pull that completed (git passes the squash flag) stays on its branch but
    may bring a new glm.json or llm.yaml: apply the table's backend as a checkout of the
    branch would, which rewrites the values the template changed. A merge stopped by a
    conflict runs no hook; `moai status` reports the drift then."""
    del args  # the squash flag: a squash merge changed the files just the same
    return post_checkout(["merge", "-", "1"])


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
    "post-merge": post_merge,
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
