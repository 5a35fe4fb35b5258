"""A worktree's private folder: what moai keeps that holds the settings file's values.

The ownership record (what moai wrote, the values it replaced, the file as it
was) and the prepared switch (`ready/`: every value of the file as each switch
would write it) hold the user's own values, their tokens among them. They live
in `~/.moai/worktrees/<id>/` (0700, like the key files' `~/.moai`), never in
git's dirs, which other tools read, back up and copy (docs/security.md, "What
is kept where"). The git dir keeps only the pointer: `<git-dir>/moai/private-id`,
`<id>` being 32 lowercase hex characters from os.urandom.

The id is random, not derived from a path, so a repository that moves keeps
its records. The folder names the state dir it belongs to in its `gitdir`
file (a realpath); looking it up from a state dir:

- `gitdir` names this state dir: the folder is this worktree's;
- it names another state dir that exists and whose `private-id` is the same
  id: this repository is a copy (`cp -r`); the copy has no record of its own,
  and the next write makes it a new id;
- it names a state dir that is gone, or one that no longer claims the id (the
  repository moved): the folder is adopted (`gitdir` rewritten when writing).

A `private-id` that is not exactly an id (damaged, or planted: a path, a long
value, a FIFO, a link) or a `gitdir` moai cannot read is one line and "no
record"; the next write makes a new id. Every read and write goes through
files.py with `within=` ~/.moai, so no link under `~/.moai/worktrees` can lead
a write elsewhere.

Str paths and `os.path` only (as the hook's fast path wants; it reads the
paths from the stamp and does not import this module). `lookup` never creates
anything (readers: status, cost, the main checkout's record); `ensure` does,
under the settings lock.
"""

from __future__ import annotations

import os
import sys

from moai_mashup import files
from moai_mashup.errors import BadInput, Refused
from moai_mashup.lean import NamedTuple
from moai_mashup.limits import MAX_SETTINGS_BYTES
from moai_mashup.paths import (
    GITDIR_NAME,
    PRIVATE_ID,
    PRIVATE_WORKTREES,
    READY_DIR,
    RECORD_NAME,
    STATE_DIR,
)
from moai_mashup.settings.keys import moai_home

ID_LENGTH = 32
# A pointer file is one line; a `gitdir` one path (PATH_MAX is 4096 on Linux).
MAX_ID_BYTES = 64
MAX_GITDIR_BYTES = 8192
HEX = frozenset("0123456789abcdef")


class PrivateUnavailable(Refused):
    """~/.moai/worktrees cannot be created or written: moai writes no backend key
    it could not later take out cleanly."""


class Lookup(NamedTuple):
    """A state dir's private folder as found (never created)."""

    folder: str | None  # the folder that is this worktree's; None: no record here
    id: str | None  # the id `private-id` holds (None: none, or not an id)
    problem: str | None  # one line: a damaged private-id or gitdir
    copy: bool = False  # the id is another state dir's (a copied repository)


def worktrees_home() -> str:
    """`~/.moai/worktrees`: one private folder per worktree moai wrote to."""
    return os.path.join(moai_home(), PRIVATE_WORKTREES)


def is_id(text: str) -> bool:
    return len(text) == ID_LENGTH and all(c in HEX for c in text)


def record_file(folder: str) -> str:
    return os.path.join(folder, RECORD_NAME)


def ready_dir(folder: str) -> str:
    return os.path.join(folder, READY_DIR)


def legacy_record(state_dir: str) -> str:
    """Where a moai before the private folder kept the record (moved on the next write)."""
    return os.path.join(state_dir, RECORD_NAME)


def _read_id(pointer: str) -> tuple[str | None, str | None]:
    """(the id in `pointer`, None) or (None, the problem); (None, None): no pointer."""
    if os.path.islink(pointer):
        return None, f"{pointer}: a symbolic link, not a private-id moai wrote"
    try:
        text = files.read_text(pointer, MAX_ID_BYTES, within=os.path.dirname(pointer))
    except (BadInput, UnicodeDecodeError) as exc:
        return None, f"{pointer}: not a private-id moai wrote ({exc})"
    if text is None:
        return None, None
    value = text[:-1] if text.endswith("\n") else text
    if not is_id(value):
        return None, f"{pointer}: not a private-id moai wrote (32 lowercase hex characters)"
    return value, None


def _owner(folder: str) -> tuple[str | None, str | None]:
    """(the state dir the folder's `gitdir` names, None) or (None, the problem)."""
    path = os.path.join(folder, GITDIR_NAME)
    try:
        text = files.read_text(path, MAX_GITDIR_BYTES, within=moai_home())
    except (BadInput, UnicodeDecodeError) as exc:
        return None, f"{path}: unreadable ({exc})"
    if text is None:
        return None, None
    return (text[:-1] if text.endswith("\n") else text), None


def lookup(state_dir: str) -> Lookup:
    """The private folder of the worktree whose state dir is `state_dir`; creates nothing."""
    pointer = os.path.join(state_dir, PRIVATE_ID)
    ident, problem = _read_id(pointer)
    if ident is None:
        return Lookup(None, None, problem)
    folder = os.path.join(worktrees_home(), ident)
    if os.path.islink(folder) or not os.path.isdir(folder):
        return Lookup(None, ident, None)  # a link: no record read through it (`ensure` refuses)
    owner, problem = _owner(folder)
    if problem is not None:
        return Lookup(None, ident, problem)
    me = os.path.realpath(state_dir)
    if owner is None or owner == me:
        return Lookup(folder, ident, None)
    if os.path.isdir(owner) and _read_id(os.path.join(owner, PRIVATE_ID))[0] == ident:
        return Lookup(None, ident, None, copy=True)  # a copy: the record is the original's
    return Lookup(folder, ident, None)  # the repository moved: adopted when writing


def read_record(state_dir: str) -> tuple[str, bytes | None]:
    """(the record's path, its bytes; None: no record). A record an earlier moai left
    in the git dir comes first: it is newer than ours, which moai removes it after
    moving. BadInput: a record moai cannot read."""
    old = legacy_record(state_dir)
    if os.path.lexists(old):
        return old, files.read_bytes(old, MAX_SETTINGS_BYTES, within=state_dir)
    folder = lookup(state_dir).folder
    if folder is None:
        return old, None
    path = record_file(folder)
    return path, files.read_bytes(path, MAX_SETTINGS_BYTES, within=moai_home())


def _unavailable(where: str, why: str) -> PrivateUnavailable:
    return PrivateUnavailable(
        f"{where}: cannot write there ({why}); moai keeps this worktree's ownership record "
        "there, so it changed nothing; make it a folder you can write (or set HOME to a home "
        "that has one) and check out again, or run: moai apply"
    )


def _new_id(pointer: str, state_dir: str) -> str:
    """A fresh id in `pointer` (a damaged one removed first)."""
    ident = os.urandom(ID_LENGTH // 2).hex()
    if os.path.lexists(pointer):
        files.remove(pointer, within=state_dir)  # a link or a FIFO itself, never its target
    if not files.create_exclusive(pointer, ident.encode("ascii") + b"\n"):
        taken, _problem = _read_id(pointer)  # another moai process, just now
        if taken is None:
            raise BadInput(f"{pointer}: changed while moai wrote it; check out again")
        return taken
    return ident


def ensure(state_dir: str) -> str:
    """This worktree's private folder, made when missing (0700), with its `gitdir` naming
    `state_dir`; a record and ready/ left in the git dir by an earlier moai moved there or
    removed. Run under the settings lock. PrivateUnavailable: ~/.moai cannot hold it."""
    home, top = moai_home(), worktrees_home()
    found = lookup(state_dir)
    if found.problem is not None:
        sys.stderr.write(f"moai: {found.problem}; moai starts a new private folder for it\n")
    pointer = os.path.join(state_dir, PRIVATE_ID)
    try:
        files.make_dirs(home, 0o700)
        files.make_dirs(top, 0o700, within=home)
        if not os.path.isdir(top) or os.path.islink(top):
            raise BadInput("not a folder")
        ident = found.id if found.id is not None and not found.copy else None
        if found.problem is not None or ident is None:
            try:
                ident = _new_id(pointer, state_dir)
            except OSError as exc:
                raise PrivateUnavailable(
                    f"{pointer}: cannot write it ({exc.strerror}); it names this worktree's "
                    f"private folder, so moai changed nothing; make {state_dir} writable and rerun"
                ) from None
        folder = os.path.join(top, ident)
        if os.path.islink(folder):
            raise BadInput(f"{folder}: a symbolic link; moai writes only into a folder of its own")
        files.make_dirs(folder, 0o700, within=home)
        me = os.path.realpath(state_dir)
        if _owner(folder) != (me, None):
            files.write_text(os.path.join(folder, GITDIR_NAME), me + "\n", within=home)
    except (OSError, BadInput) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _unavailable(top, why) from None
    _migrate(state_dir, folder)
    return folder


def _migrate(state_dir: str, folder: str) -> None:
    """An earlier moai's record and prepared switch, out of the git dir."""
    old = legacy_record(state_dir)
    if os.path.lexists(old):
        data = files.read_bytes(old, MAX_SETTINGS_BYTES, within=state_dir)
        if data is not None:
            files.write_bytes(record_file(folder), data, within=moai_home())
        files.remove(old, within=state_dir)
    ready = os.path.join(state_dir, READY_DIR)
    if os.path.islink(ready):
        files.remove(ready, within=state_dir)
    elif os.path.lexists(ready):
        files.remove_tree(ready)


def remove_folder(folder: str) -> None:
    """Remove one private folder (never following a link out of ~/.moai)."""
    if (
        os.path.islink(folder)
        or os.path.islink(worktrees_home())
        or not files.is_inside(folder, moai_home())
    ):
        return
    files.remove_tree(folder)


class Orphan(NamedTuple):
    folder: str
    gitdir: str | None  # what its `gitdir` names (None: unreadable or none)


def repository_ids(common_dir: str) -> set[str]:
    """The ids the state dirs of one repository (its main checkout's and each linked
    worktree's, as git's admin dirs hold them) point to."""
    states = [os.path.join(common_dir, STATE_DIR)]
    admin = os.path.join(common_dir, "worktrees")
    states += [os.path.join(admin, name, STATE_DIR) for name in files.subdirs(admin)]
    ids = (_read_id(os.path.join(state, PRIVATE_ID))[0] for state in states)
    return {ident for ident in ids if ident is not None}


def orphans(common_dir: str, keep: set[str] | frozenset[str] = frozenset()) -> list[Orphan]:
    """Private folders of the repository whose common dir is `common_dir` whose worktree
    is gone: their `gitdir` names a state dir of that repository that no longer claims
    them (a worktree removed with plain `git worktree remove`). `keep`: ids the
    repository claims (one that moved: its folders still name where it was until its
    next write adopts them). Only that repository's: another repository that moved, or
    sits on a drive not mounted now, looks gone from here but is not, and its record
    holds the user's own values; a folder whose `gitdir` is unreadable names no
    repository and is left alone too."""
    out = []
    top = worktrees_home()
    repo = os.path.realpath(common_dir)
    for name in files.subdirs(top):
        if not is_id(name) or name in keep:
            continue
        folder = os.path.join(top, name)
        owner = _owner(folder)[0]
        if owner is None or not files.is_inside(owner, repo):
            continue
        if os.path.isdir(owner) and _read_id(os.path.join(owner, PRIVATE_ID))[0] == name:
            continue
        out.append(Orphan(folder, owner))
    return out
