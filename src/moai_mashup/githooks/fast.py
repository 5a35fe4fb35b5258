"""The prepared switch: a backend switch on checkout without the engine.

The shim (resources/hook-tmpl) decides a no-op checkout alone, in sh. A
checkout that switches backend needs Python, and the engine's imports (json,
pathlib, the config cache, the planner) cost more than the switch itself
(benchmarks/bench_checkout.py). So after each decision the engine also
prepares the switch to every other backend the routing table names (Claude,
GLM, any of `llm.backends`; engine.write_stamp): the exact settings text and
ownership record that applying it would write, in the worktree's private
folder (`~/.moai/worktrees/<id>/ready/`, settings/private.py: they hold the
settings file's values, which git's dirs never do), with their SHA-256 and
those of the files as they are now, in the stamp (githooks/stamp.py, which
owns the format). A prepared settings file never holds a key: its place holds
`stamp.KEY_SLOT`, filled here with the target backend's key from its key file
in `~/.moai` (the stamp's `key <backend>` line says where in it), and the
result must hash to what the engine planned.

This module, imported first by the shim with nothing but os, the builtin
sha256 and the stamp's reader, takes that switch when everything still holds:

- the stamp is ours and every input it lists is unchanged (the shim's check:
  each `file` not newer than the stamp, each `none` absent, each `env` equal;
  and each input's ctime);
- the stamp's routing table (`route` lines: core/routing's decision, first
  match wins) sends the branch to a backend other than the one applied, and
  a `pair` line names that switch;
- the live settings file and ownership record hash to the stamp's `applied`
  state (content, not mtime: moai wrote them), checked again under the same
  lock the engine takes;
- the ready files, with the key filled in, hash to the target state.

It then writes what the engine would have written (the engine checked, when
preparing, that planning the way back gives today's files byte for byte), in
the engine's order (record first), and the stamp with `applied` updated.
Anything else, and any error, goes to the engine (engine.main), which
decides afresh. A no-op that the shim could not confirm goes there too, so the
engine renews the stamp.
"""

from __future__ import annotations

import os
import sys

from moai_mashup import files
from moai_mashup.errors import BadInput
from moai_mashup.githooks.stamp import (
    EMPTY_DIGEST,
    KEY_SLOT,
    Stamp,
    digest,
    engine_id,
    ready_path,
)
from moai_mashup.limits import MAX_CONFIG_BYTES, MAX_SETTINGS_BYTES
from moai_mashup.paths import LOCK_NAME, SETTINGS_REL, SETTINGS_TEMP_PROBE, STAMP_NAME
from moai_mashup.spawn import IgnoredQuery

ZERO_SHA = "0" * 40


def _read(path: str) -> bytes | None:
    """The file's bytes (None: absent); BadInput for anything odd, and the engine decides."""
    return files.read_bytes(path, MAX_SETTINGS_BYTES)


def _filled(stamp: Stamp, data: bytes | None, backend: str) -> bytes | None:
    """`backend`'s prepared settings file with its key put back in its place; None: it
    cannot be."""
    if data is None or KEY_SLOT not in data:
        return data
    if backend not in stamp.keys:
        return None
    offset, length, path = stamp.keys[backend]
    held = files.read_bytes(path, MAX_CONFIG_BYTES)
    if held is None or len(held) < offset + length:
        return None
    return data.replace(KEY_SLOT, held[offset : offset + length])


def _same_worktree(stamp: Stamp, state_dir: str) -> bool:
    """The stamp was written for this worktree (not for the one a copied repository,
    or a GIT_WORK_TREE pointing elsewhere, inherited it from)."""
    root = os.environ.get("GIT_WORK_TREE") or os.getcwd()
    try:
        return os.path.samefile(stamp.fields.get("root", ""), root) and os.path.samefile(
            stamp.fields.get("state-dir", ""), state_dir
        )
    except OSError:
        return False


def _privacy_query(root: str) -> IgnoredQuery:
    """Is the settings file (and atomic writes' temp files) still kept out of git?
    As the engine asks it; the hook's own GIT_* variables name this very repository."""
    return IgnoredQuery(root, [SETTINGS_REL, SETTINGS_TEMP_PROBE], dict(os.environ))


def _inputs_hold(stamp: Stamp, stamp_mtime_ns: int, live: tuple[str, str]) -> bool:
    for name, value in stamp.env:
        if os.environ.get(name, "") != value:
            return False
    for path in stamp.files:
        if path in live:
            continue  # checked by content
        try:
            if os.stat(path).st_mtime_ns > stamp_mtime_ns:
                return False
        except OSError:
            return False
    # ctime, which no tool sets back: a key file made readable by others (which
    # the engine refuses) or replaced by `cp -p` keeps its mtime, not its ctime.
    for ctime, path in stamp.ctimes:
        try:
            if os.stat(path).st_ctime_ns != ctime:
                return False
        except OSError:
            return False
    return not any(os.path.lexists(p) for p in stamp.absent if p not in live)


def _write(
    path: str,
    data: bytes | None,
    times: tuple[int, int],
    expect: str | None = None,
    mode: int = 0o600,
) -> bool:
    """files.write_bytes (0600 temp, fsync, rename), dated like the stamp.

    `expect`: the digest `path` must still have right before the rename (for
    writers without our lock, as files.replace_if_unchanged); False if not.
    """
    if data is None:
        if expect is not None and digest(_read(path)) != expect:
            return False
        files.remove(path)
        return True
    # Dated like the stamp, so the shim's next no-op check holds: moai wrote
    # exactly what the stamp describes; any later edit is newer again.
    if expect is None:
        files.write_bytes(path, data, mode, times_ns=times)
        return True
    tmp = files.temp_beside(files.write_target(path), data, mode, times_ns=times)
    try:
        return files.replace_guarded(tmp, path, lambda now: digest(now) == expect)
    except BaseException:
        files.discard(tmp)
        raise


def prepared_switch(args: list[str]) -> bool:
    """Take the prepared switch for this post-checkout; False: leave it to the engine."""
    state_dir = os.environ.get("MOAI_HOOK_STATE", "")
    branch = os.environ.get("MOAI_HOOK_BRANCH", "")
    if len(args) != 3 or args[2] != "1" or args[0] == ZERO_SHA or not state_dir or not branch:
        return False  # a new worktree, a file checkout, a detached HEAD: the engine's call
    stamp_path = os.path.join(state_dir, STAMP_NAME)
    try:
        stamp_stat = os.stat(stamp_path)
        text = files.read_text(stamp_path, MAX_SETTINGS_BYTES)
    except (OSError, BadInput):
        return False
    if text is None:
        return False
    stamp = Stamp(text)
    applied, (target, why) = stamp.fields.get("applied", ""), stamp.route(branch)
    settings, record = stamp.fields.get("live-settings", ""), stamp.fields.get("live-record", "")
    if (
        not stamp.ok
        or not stamp.fields.get("ready-dir")  # a stamp of an earlier moai: the engine decides
        or not _same_worktree(stamp, state_dir)
        or stamp.fields.get("engine") != engine_id()
        or target == applied
        or not settings
        or not record
        or applied not in stamp.states
        or target not in stamp.states
        or (applied, target) not in stamp.pairs
    ):
        return False
    # git answers the privacy question while the rest is checked (not for Claude,
    # whose side holds no key); always reaped.
    privacy = _privacy_query(stamp.fields["root"]) if target != "claude" else None
    try:
        return _switch(stamp, stamp_stat, state_dir, target, why, privacy)
    finally:
        if privacy is not None:
            privacy.result()


def _switch(
    stamp: Stamp,
    stamp_stat: os.stat_result,
    state_dir: str,
    target: str,
    why: str,
    privacy: IgnoredQuery | None,
) -> bool:
    applied = stamp.fields["applied"]
    settings, record = stamp.fields["live-settings"], stamp.fields["live-record"]
    if not _inputs_hold(stamp, stamp_stat.st_mtime_ns, (settings, record)):
        return False
    folder = stamp.fields["ready-dir"]
    if any(os.path.islink(p) for p in (folder, os.path.dirname(folder), os.path.dirname(record))):
        return False  # the private folder is a link (planted since): the engine checks it
    # Where settings/private.py keeps private folders (~/.moai/worktrees, as
    # settings/keys.moai_home finds ~/.moai): prepared files anywhere else are not
    # ours, whatever a stamp says (the engine decides afresh).
    home = os.path.join(os.environ.get("HOME") or os.path.expanduser("~"), ".moai", "worktrees")
    if not (files.is_inside(folder, home) and files.is_inside(record, home)):
        return False
    ready = (
        _filled(stamp, _read(ready_path(folder, target, "settings")), target),
        _read(ready_path(folder, target, "record")),
    )
    if (digest(ready[0]), digest(ready[1])) != stamp.states[target]:
        return False  # a ready file lost or torn, a key moved: the engine plans afresh
    if privacy is not None and len(privacy.result()) != 2:
        return False  # tracked, or no longer ignored: the engine refuses or fixes it
    if os.path.islink(settings) or os.path.islink(os.path.dirname(settings)):
        return False  # a symlink (planted since): the engine checks where it leads
    from moai_mashup.settings.lock import take_lock

    times = (stamp_stat.st_atime_ns, stamp_stat.st_mtime_ns)
    lock = os.path.join(state_dir, LOCK_NAME)
    fd = files.open_lock(lock)
    try:
        take_lock(fd, lock)  # bounded: raises LockBusy, which run() reports
        now = stamp.states[applied]
        if (digest(_read(settings)), digest(_read(record))) != now:
            return False  # changed since the engine wrote it (by a hand or a tool)
        if now[0] == EMPTY_DIGEST:
            return False  # an empty file may be an editor's save half done: the engine waits
        # apply_backend's order: a record with the keys before the file holding
        # them; the file without them before the record goes. A crash in between
        # leaves a stale record (ignored), never keys of ours that no record knows.
        if ready[1] is not None:
            _write(record, ready[1], times)
        if not _write(settings, ready[0], times, expect=now[0], mode=stamp.modes[target]):
            return False  # Claude Code (no lock of ours) wrote it meanwhile
        if ready[1] is None:
            _write(record, None, times)
        _write(
            os.path.join(state_dir, STAMP_NAME),
            stamp.switched(target, settings, record).encode("utf-8"),
            times,
        )
    finally:
        os.close(fd)
    sys.stderr.write(f"moai: this worktree now uses {stamp.name(target)} ({why})\n")
    note = stamp.notes.get(target)
    if note:  # what Claude Code makes of the main checkout's settings (settings/main_checkout.py)
        sys.stderr.write(f"moai: {note}\n")
    return True


def run(argv: list[str]) -> int:
    """The shim's entry: the prepared switch when it holds, else the engine."""
    if argv[:1] == ["post-rewrite"] and argv[1:] == ["rebase"]:
        # A rebase that ended on a branch: a branch checkout for what it applies.
        argv = ["post-rewrite", "rebase", "-", "1"]
    if argv[:1] in (["post-checkout"], ["post-rewrite"]):
        from moai_mashup.settings.lock import LockBusy

        try:
            if prepared_switch(argv[1:]):
                return 0
        except LockBusy as exc:
            # The engine would wait as long again: say it once, let git finish.
            sys.stderr.write(f"moai: {argv[0]}: {exc}\n")
            return 0
        except Exception:
            pass  # anything odd: the engine decides afresh
    from moai_mashup.githooks.engine import main

    return main(argv)
