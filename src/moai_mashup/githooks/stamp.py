"""The hook stamp: its one writer (`render`) and its Python reader (`Stamp`).

After each post-checkout the engine (engine.py, `write_stamp`) records in
`<git-dir>/moai/hook-stamp` what its decision read and what applying each
backend gives; the shim (resources/hook-tmpl) and the prepared switch
(fast.py) read it. One line per fact, `<tag> <value>`, the version first and
`end` last (a torn stamp has no `end`):

    moai-hook-stamp 4
    root <worktree>            state-dir <git-dir>/moai   (whose stamp it is)
    applied <backend>          trailer on|off
    route <backend> <pattern>  (routing table 2 in order: first match wins)
    env NAME=value             file <path>      none <path>
    sh-end                     (the shim reads no further)
    ...the lines below are the prepared switch's:
    engine <id>  why <n> <text>  note <backend> <text>  ctime <ns> <path>
    display <backend> <text>   (how messages name a backend of llm.backends)
    live-settings <path>  live-record <path>  ready-dir <path>
    state <backend> <settings sha256> <record sha256> <mode>
    pair <from> <to>           (a switch the ready files make as the engine would)
    key <backend> <offset> <length> <path>
    end

The shim reads what it needs with `read` and `case` only: each `file` not
newer than the stamp, each `none` absent, each `env` equal, and the first
`route` whose pattern matches the branch (`case $branch in $pattern`) names
the backend, which must be `applied`. Its lines come first and `sh-end` after
them: dash's `read` takes a byte per system call, and the prepared switch's
lines are most of the stamp (a no-op checkout reads ~1 KB instead of ~2.4:
it adds 0.4 ms CPU over an empty hook against 1.0, benchmarks/bench_checkout.py
--compare, same run, 2 cores, load ~6); `sh-end` vouches for the lines before
it as `end` does for the whole (a stamp of an older moai has no `sh-end`, and
the shim reads it to `end`). A `route` pattern is core/routing's
branch glob written for sh (`sh_pattern`): the glob's `*` (one or more
characters) becomes `?*`; a glob with any other character special to sh
(`*?[]\\`) or with white space gets no stamp at all, so sh's `case`, this
module and core/routing read every line alike (tests/githooks/test_stamp.py).

A backend is a name (`claude`, `glm` or one of `llm.backends`); any number of
them may have `route`, `state` and `key` lines. The prepared switch takes only
a switch its `pair` lines name: the engine planned every ready file from the
backend it applied, which each switch to and from that one reproduces; between
two others it checked each pair (githooks/engine.prepare_states).

`key <backend>`: where in that backend's key file (`~/.moai/.env.NAME` or
`credentials.yaml`) its key sits, one line per backend whose prepared file
holds a key. The prepared files are in `ready-dir` and the record in
`live-record`: the worktree's private folder in `~/.moai` (settings/private.py),
as they hold the settings file's values; the stamp holds digests and paths
only. A stamp of an earlier moai has no `ready-dir`: the prepared switch leaves
that checkout to the engine, which writes a new one. A prepared settings file
(`<ready-dir>/<backend>.settings`) holds
`KEY_SLOT` in the key's place and never the key: the prepared switch fills in
THAT backend's key from its key file at switch time. The reader is strict: a
`key` line it cannot read whole, or a second one for a backend, and the stamp
does not hold.

A leaf of the hook's path: `os`, `sys` and core/routing (no `re`) only.
"""

from __future__ import annotations

import os
import sys

from moai_mashup.core.routing import glob_matches

try:  # the builtin sha256: hashlib's OpenSSL binding costs ~5 ms to import
    from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - Python 3.12+ renamed it
    from hashlib import sha256

STAMP_VERSION = "4"

EMPTY_DIGEST = sha256(b"").hexdigest()

# Where the key goes in a prepared settings file: a NUL byte, which valid JSON
# text never holds raw.
KEY_SLOT = b"\0moai-key\0"

# Characters sh's `case` treats as special in a pattern from a variable.
SH_SPECIAL = "*?[]\\"


def digest(data: bytes | None) -> str:
    """The stamp's name for a file's content: its SHA-256, `-` when there is no file."""
    return "-" if data is None else sha256(data).hexdigest()


def ready_path(ready_dir: str, backend: str, part: str) -> str:
    """`<ready_dir>/<backend>.<part>`, part: settings or record; ready_dir: the stamp's
    `ready-dir` (`~/.moai/worktrees/<id>/ready`, settings/private.py)."""
    return os.path.join(ready_dir, f"{backend}.{part}")


def engine_id() -> str:
    """This engine: the stamp's `engine` line (a reinstalled or upgraded moai re-plans).

    The interpreter by what it is, not by the name it was started as
    (`venv/bin/python` and `venv/bin/python3` are one engine), and by the
    directory it was started from (another venv is another engine; `sys.prefix`
    cannot tell: under `-S` it is the base interpreter's in every venv)."""
    from moai_mashup import __version__

    executable = sys.executable
    return f"{os.path.realpath(executable)} {os.path.dirname(executable)} {__version__}"


def _backend_name(name: str) -> bool:
    """A name core/backends.name_problem accepts (lower-case letters, digits, '-', a
    letter first, at most 32), checked here without importing it: the shim's fast
    path imports this module."""
    return (
        0 < len(name) <= 32
        and "a" <= name[0] <= "z"
        and all("a" <= c <= "z" or "0" <= c <= "9" or c == "-" for c in name)
    )


def _plain(text: str) -> bool:
    """Nothing sh's `case` or `read` would read differently from the text itself."""
    return text != "" and not any(c in SH_SPECIAL or c.isspace() for c in text)


def sh_pattern(branch_glob: str) -> str | None:
    """A branch glob (core/routing) as an sh `case` pattern meaning the same; None
    when it cannot be written so (the engine then writes no stamp)."""
    prefix, star, suffix = branch_glob.partition("*")
    if not star:
        return branch_glob if _plain(branch_glob) else None
    if (prefix and not _plain(prefix)) or (suffix and not _plain(suffix)):
        return None
    return f"{prefix}?*{suffix}"


def _glob(pattern: str) -> str | None:
    """`sh_pattern` read back; None for a pattern it never writes."""
    prefix, sep, suffix = pattern.partition("?*")
    if (prefix and not _plain(prefix)) or (suffix and not _plain(suffix)):
        return None
    return f"{prefix}*{suffix}" if sep else (pattern or None)


def render(
    *,
    root: str,
    state_dir: str,
    applied: str,
    trailer: bool,
    routes: list[tuple[str, str, str]],
    notes: dict[str, str],
    env: list[tuple[str, str]],
    inputs: list[tuple[str, bool, int | None]],
    live: tuple[str, str],
    ready: str,
    states: dict[str, tuple[str, str, int]],
    keys: dict[str, tuple[int, int, str]],
    names: dict[str, str] | None = None,
    pairs: list[tuple[str, str]] | None = None,
) -> str | None:
    """The stamp's text, or None when it cannot be written so that every reader
    reads it alike.

    routes: (glob, backend, why) in order; notes: backend -> a line to print
    after switching to it; inputs: (path, there, ctime ns or None); live: the
    settings file and ownership record; ready: the folder of the prepared
    files; states: backend -> (settings digest, record digest, settings mode);
    keys: backend -> (offset, length, key file); names: backend -> how
    messages name it (built-in ones need none); pairs: (from, to), the
    switches the prepared switch may take.
    """
    lines = [
        f"moai-hook-stamp {STAMP_VERSION}",
        f"root {root}",
        f"state-dir {state_dir}",
        f"applied {applied}",
        f"trailer {'on' if trailer else 'off'}",
    ]
    for glob, backend, _why in routes:
        pattern = sh_pattern(glob)
        if pattern is None or not _backend_name(backend):
            return None  # (a backend's name also names its ready/ files)
        lines.append(f"route {backend} {pattern}")
    lines += [f"env {name}={value}" for name, value in env]
    lines += [f"{'file' if there else 'none'} {path}" for path, there, _ in inputs]
    lines += ["sh-end", f"engine {engine_id()}"]
    lines += [f"why {n} {why}" for n, (_glob_, _backend, why) in enumerate(routes)]
    lines += [f"note {backend} {note}" for backend, note in sorted(notes.items())]
    lines += [f"display {backend} {name}" for backend, name in sorted((names or {}).items())]
    lines += [f"ctime {ctime} {path}" for path, _, ctime in inputs if ctime is not None]
    lines += [f"live-settings {live[0]}", f"live-record {live[1]}", f"ready-dir {ready}"]
    for backend, (settings_digest, record_digest, mode) in sorted(states.items()):
        lines.append(f"state {backend} {settings_digest} {record_digest} {mode:o}")
    lines += [f"pair {a} {b}" for a, b in pairs or []]
    for backend, (offset, length, path) in sorted(keys.items()):
        if not _plain(backend):
            return None
        lines.append(f"key {backend} {offset} {length} {path}")
    lines.append("end")
    # `read` trims and splits on white space: a value it would mangle disables the stamp.
    for line in lines:
        _tag, _, value = line.partition(" ")
        if "\n" in value or "\r" in value or value != value.strip():
            return None
    return "\n".join(lines) + "\n"


def _key_line(value: str) -> tuple[str, int, int, str] | None:
    """A `key` line's `<backend> <offset> <length> <path>`; None for anything else."""
    parts = value.split(" ", 3)
    if len(parts) != 4:
        return None
    backend, offset, length, path = parts
    if not _plain(backend) or not offset.isdigit() or not length.isdigit() or not path:
        return None
    if not offset.isascii() or not length.isascii() or int(length) == 0:
        return None
    return backend, int(offset), int(length), path


class Stamp:
    """The stamp, parsed; `ok` is False for anything `render` would not write."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.fields: dict[str, str] = {}
        self.routes: list[tuple[str, str]] = []  # (glob, backend): core/routing's glob
        self.whys: dict[int, str] = {}
        self.notes: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.files: list[str] = []
        self.absent: list[str] = []
        self.env: list[tuple[str, str]] = []
        self.ctimes: list[tuple[int, str]] = []
        self.states: dict[str, tuple[str, str]] = {}
        self.modes: dict[str, int] = {}
        self.keys: dict[str, tuple[int, int, str]] = {}
        self.pairs: set[tuple[str, str]] = set()
        self.ok = False
        well_formed = self.lines[:1] == [f"moai-hook-stamp {STAMP_VERSION}"]
        for line in self.lines:
            tag, _, value = line.partition(" ")
            if tag == "route":
                backend, _, pattern = value.partition(" ")
                glob = _glob(pattern)
                well_formed = well_formed and glob is not None
                self.routes.append((glob or "", backend))
            elif tag == "why":
                n, _, why = value.partition(" ")
                self.whys[int(n)] = why
            elif tag == "note":
                backend, _, note = value.partition(" ")
                self.notes[backend] = note
            elif tag == "display":
                backend, _, name = value.partition(" ")
                self.names[backend] = name
            elif tag == "file":
                self.files.append(value)
            elif tag == "none":
                self.absent.append(value)
            elif tag == "env":
                name, _, env_value = value.partition("=")
                self.env.append((name, env_value))
            elif tag == "ctime":
                ns, _, path = value.partition(" ")
                self.ctimes.append((int(ns), path))
            elif tag == "state":
                backend, _, hashes = value.partition(" ")
                settings_hash, _, rest = hashes.partition(" ")
                record_hash, _, mode = rest.partition(" ")
                self.states[backend] = (settings_hash, record_hash)
                self.modes[backend] = int(mode, 8) & 0o7777 if mode else 0o600
            elif tag == "pair":
                a, _, b = value.partition(" ")
                well_formed = well_formed and _plain(a) and _plain(b)
                self.pairs.add((a, b))
            elif tag == "key":
                key = _key_line(value)
                well_formed = well_formed and key is not None and key[0] not in self.keys
                if key is not None:
                    self.keys[key[0]] = key[1:]
            elif tag == "end":
                self.ok = well_formed
            else:
                self.fields[tag] = value

    def name(self, backend: str) -> str:
        """How messages name `backend`."""
        return self.names.get(backend) or {"glm": "GLM", "claude": "Claude"}.get(backend, backend)

    def route(self, branch: str) -> tuple[str, str]:
        """(backend, why) of the first route matching `branch`; ("", "") for none."""
        for n, (glob, backend) in enumerate(self.routes):
            if glob_matches(branch, glob):
                return backend, self.whys.get(n, "")
        return "", ""

    def switched(self, target: str, settings: str, record: str) -> str:
        """This stamp after the switch: `applied` and the live files' presence updated."""
        out = []
        for line in self.lines:
            tag, _, value = line.partition(" ")
            if tag == "applied":
                line = f"applied {target}"
            elif tag in ("file", "none") and value in (settings, record):
                there = self.states[target][0 if value == settings else 1] != "-"
                line = f"{'file' if there else 'none'} {value}"
            out.append(line)
        return "\n".join(out) + "\n"
