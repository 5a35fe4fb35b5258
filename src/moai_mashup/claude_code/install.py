"""`moai hooks install|uninstall|status --claude-code`: moai's hooks and status line in
Claude Code's settings.json, merged into what is there.

Where: the repository's committed `.claude/settings.json` (every teammate's
Claude Code runs them), or `~/.claude/settings.json` with `--user`.

What we write, and how we know it again: each hook is one group
`{"hooks": [{"type": "command", "command": C}]}` appended to its event's list,
and `statusLine` when the user has none. C is a fixed string: in the
repository's file `moai hook-impl claude-code <event>` (PATH decides which moai:
an absolute path would be one developer's); in the user's file the absolute
interpreter with `-I` (no PYTHONPATH, no current directory on sys.path). A
command is ours only when it is exactly one of those forms (parsed with shlex
and printed back identically): a look-alike a repository commits
(`moai hook-impl claude-code session-start; curl ...`) is never taken for ours,
never removed by uninstall, and reported by status.

A committed settings.json is the repository's word, and Claude Code runs its
hooks for everyone who opens the repository: moai cannot make that file safe,
only keep its own part exact. What status warns about: look-alikes of our
commands, and `env` keys that change which `moai` or which Python code runs
(PATH, PYTHONPATH, PYTHONHOME, PYTHONSTARTUP...), since hooks run with the
settings' env applied.

Bytes: a file that already holds everything is not written. Otherwise it is
rewritten with its own indentation, keys in their order; what it held before
is recorded (`<git common dir>/moai/claude-code-install.json`, or
`~/.moai/claude-code-install.json` for --user), so uninstall gives back the
original bytes when nothing else changed since (and they held nothing of ours:
a file a teammate had installed into loses those hooks too), and the status
line we replaced (only with --statusline) comes back.

Links: the file is read and written through `files` (bounded, regular files
only). A `.claude/settings.json` that is a link inside the repository (`--user`:
inside `~/.claude`) keeps its link, and its target is what install and uninstall
write; a link (or a linked `.claude`) leading outside is refused, nothing written.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any, Literal, NamedTuple

from moai_mashup import files, git, jsontext
from moai_mashup.errors import BadInput
from moai_mashup.limits import MAX_SETTINGS_BYTES, loads_json_unique
from moai_mashup.paths import STATE_DIR

# Claude Code re-runs the status line on its own events only (a new message, a change of
# permission mode, ...), so a branch switched outside the session shows late, until the
# next one; `refreshInterval` (seconds) adds a timer:
# https://code.claude.com/docs/en/statusline (docs/claude-code.md, "The status line's
# refresh"). Every 5 s a refresh costs about one `moai statusline` run (files only).
STATUSLINE_REFRESH_S = 5

EVENTS = {
    "WorktreeCreate": "worktree-create",
    "WorktreeRemove": "worktree-remove",
    "SessionStart": "session-start",
    "UserPromptSubmit": "user-prompt-submit",
}
RECORD_NAME = "claude-code-install.json"
CREATE_TIMEOUT_S = 600
RISKY_ENV = ("PATH", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH", "VIRTUAL_ENV")
# The record holds the bytes each settings file had before our first write
# (each at most MAX_SETTINGS_BYTES); a few files' worth, with room to spare.
MAX_RECORD_BYTES = 4 * MAX_SETTINGS_BYTES


class Target(NamedTuple):
    settings: Path
    record: Path
    user: bool

    @property
    def label(self) -> str:
        return "~/.claude/settings.json" if self.user else ".claude/settings.json"

    @property
    def within(self) -> Path:
        """Where the file (and a link at it) may lead: `~/.claude`, or the worktree."""
        return self.settings.parent if self.user else self.settings.parent.parent


def target(user: bool, cwd: Path | None = None) -> Target:
    if user:
        home = Path(os.path.expanduser("~"))
        return Target(home / ".claude" / "settings.json", home / ".moai" / RECORD_NAME, True)

    wt = git.discover(cwd or Path.cwd())
    return Target(
        Path(wt.root) / ".claude" / "settings.json",
        Path(wt.common_dir) / STATE_DIR / RECORD_NAME,
        False,
    )


def _words(user: bool) -> list[str]:
    return [sys.executable, "-I", "-m", "moai_mashup"] if user else ["moai"]


def command(words: list[str], *tail: str) -> str:
    return " ".join(shlex.quote(w) for w in [*words, *tail])


def hook_command(event: str, user: bool) -> str:
    return command(_words(user), "hook-impl", "claude-code", EVENTS[event])


def statusline_command(user: bool) -> str:
    return command(_words(user), "statusline")


def _ours(cmd: object, tail: list[str]) -> bool:
    """`cmd` is exactly a command we write (either form, any absolute interpreter)."""
    if not isinstance(cmd, str):
        return False
    try:
        words = shlex.split(cmd)
    except ValueError:
        return False
    if command(words) != cmd:
        return False  # quoting or spacing of its own: not a string we produced
    if words == ["moai", *tail]:
        return True
    return (
        len(words) == 4 + len(tail)
        and os.path.isabs(words[0])
        and words[1:4] == ["-I", "-m", "moai_mashup"]
        and words[4:] == tail
    )


def is_our_hook(cmd: object, event: str) -> bool:
    return _ours(cmd, ["hook-impl", "claude-code", EVENTS[event]])


def is_our_statusline(value: object) -> bool:
    return isinstance(value, dict) and _ours(value.get("command"), ["statusline"])


def _looks_like_ours(cmd: object) -> bool:
    return isinstance(cmd, str) and ("hook-impl claude-code" in cmd or "moai statusline" in cmd)


# --- reading -------------------------------------------------------------------------


def read(t: Target) -> tuple[bytes | None, dict[str, Any]]:
    """The file's bytes and its object; BadInput (one line) for anything we must not edit:
    not a regular file, a link leading outside `t.within`, too large, too deep, not JSON."""
    if not files.is_inside(t.settings, t.within):
        raise BadInput(
            f"{t.settings}: a link leading outside {t.within} (to "
            f"{os.path.realpath(t.settings)}); moai edits only inside it, nothing changed "
            "(replace the link with a file to let moai edit it)"
        )
    raw = files.read_bytes(
        t.settings, MAX_SETTINGS_BYTES, f"{t.settings}: cannot read it", within=t.within
    )
    if raw is None:
        return None, {}
    doc = _parse(raw, str(t.settings))
    if not isinstance(doc, dict):
        raise BadInput(f"{t.settings}: expected a JSON object; nothing changed")
    hooks = doc.get("hooks", {})
    if not isinstance(hooks, dict):
        raise BadInput(f"{t.settings}: field 'hooks' must be an object; nothing changed")
    for event in EVENTS:
        groups = hooks.get(event, [])
        if not isinstance(groups, list) or not all(
            isinstance(g, dict) and isinstance(g.get("hooks", []), list) for g in groups
        ):
            raise BadInput(
                f"{t.settings}: field 'hooks.{event}' must be a list of "
                '{"hooks": [...]} objects; nothing changed'
            )
    if "statusLine" in doc and not isinstance(doc["statusLine"], dict):
        raise BadInput(f"{t.settings}: field 'statusLine' must be an object; nothing changed")
    return raw, doc


def _parse(raw: bytes, label: str) -> Any:
    """The JSON in `raw`, with depth and duplicate keys refused (one line each)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{label}: not valid JSON ({exc}); fix it first, nothing changed") from None
    if not text.strip():
        return {}
    try:
        return loads_json_unique(text, label)
    except BadInput as exc:
        said = str(exc)
        invalid = f"{label}: invalid JSON"
        if said.startswith(invalid):
            said = f"{label}: not valid JSON{said[len(invalid) :]}; fix it first"
        if not said.endswith("untouched"):
            said += "; nothing changed"
        raise BadInput(said) from None


def writes_to(t: Target) -> str:
    """Where a write of `t.settings` lands (a link's target inside `t.within`);
    BadInput, nothing written, when it or its folder leads outside."""
    return files.write_target(t.settings, t.within, str(t.settings))


def _indent(raw: bytes | None) -> str | int:
    """The file's own indentation (2 spaces for a new file)."""
    for line in (raw or b"").decode("utf-8", "replace").splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) != len(line):
            lead = line[: len(line) - len(stripped)]
            return "\t" if lead.startswith("\t") else len(lead)
    return 2


def _dump(doc: dict[str, Any], raw: bytes | None) -> bytes:
    return (jsontext.dumps(doc, indent=_indent(raw), ensure_ascii=False) + "\n").encode("utf-8")


def _write(path: Path, data: bytes, within: Path | None = None) -> None:
    """Write `path` (a link's target when the link stays inside `within`), keeping its mode."""
    dest = files.write_target(path, within, str(path))
    try:
        mode = os.stat(dest).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    files.make_dirs(os.path.dirname(dest), within=within)
    files.write_bytes(path, data, mode, within=within, label=str(path))


def _load_record(t: Target) -> dict[str, Any]:
    try:
        text = files.read_text(t.record, MAX_RECORD_BYTES)
        rec = loads_json_unique(text, str(t.record)) if text else {}
    except BadInput:
        return {}
    return rec if isinstance(rec, dict) else {}


def _read_record(t: Target) -> dict[str, Any]:
    entry = _load_record(t).get(str(t.settings))
    return entry if isinstance(entry, dict) else {}


def _write_record(t: Target, entry: dict[str, Any] | None) -> None:
    rec = _load_record(t)
    if entry is None:
        rec.pop(str(t.settings), None)
    else:
        rec[str(t.settings)] = entry
    files.make_dirs(t.record.parent)
    files.write_text(t.record, jsontext.dumps(rec, indent=2) + "\n", mode=0o600)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- install / uninstall ----------------------------------------------------------------


def install(t: Target, *, replace_statusline: bool = False) -> list[str]:
    raw, doc = read(t)
    writes_to(t)  # a link leading outside: refused before the record is written
    before = jsontext.loads(jsontext.dumps(doc))
    lines: list[str] = []
    hooks = doc.setdefault("hooks", {})
    for event in EVENTS:
        want = hook_command(event, t.user)
        groups = hooks.setdefault(event, [])
        found = False
        for group in groups:
            for h in group.get("hooks", []):
                if isinstance(h, dict) and is_our_hook(h.get("command"), event):
                    found = True
                    if h.get("command") != want:
                        h["command"] = want  # another interpreter or form: ours, renewed
        if not found:
            new_hook: dict[str, Any] = {"type": "command", "command": want}
            if event == "WorktreeCreate":
                # Setting up runs the team's trusted on-create commands (npm install...):
                # more than Claude Code's default hook timeout allows.
                new_hook["timeout"] = CREATE_TIMEOUT_S
            groups.append({"hooks": [new_hook]})
            lines.append(f"{t.label}: added {event} hook: {want}")
    replaced: Any = None
    current = doc.get("statusLine")
    ours: dict[str, Any] = {
        "type": "command",
        "command": statusline_command(t.user),
        "refreshInterval": STATUSLINE_REFRESH_S,
    }
    if current is None:
        doc["statusLine"] = ours
        lines.append(f"{t.label}: statusLine: {ours['command']}")
    elif is_our_statusline(current):
        current["command"] = ours["command"]
        current.setdefault("refreshInterval", STATUSLINE_REFRESH_S)  # a value of yours stays
    elif replace_statusline:
        replaced = current
        if "refreshInterval" in current:
            ours["refreshInterval"] = current["refreshInterval"]  # yours, kept
        doc["statusLine"] = ours
        lines.append(
            f"{t.label}: statusLine replaced (moai hooks uninstall --claude-code restores)"
        )
    else:
        lines.append(
            f"{t.label}: kept your statusLine; to show moai's too, run both on the same "
            'input, e.g. command: sh -c \'i=$(cat); printf %s "$i" | moai statusline; '
            'printf %s "$i" | YOUR-COMMAND\' (or --statusline to replace yours)'
        )
    if doc == before:
        return [*lines, f"{t.label}: moai's Claude Code hooks already installed"]
    data = _dump(doc, raw)
    record = _read_record(t)
    entry = {
        "before": raw.decode("utf-8", "surrogateescape") if raw is not None else None,
        "after": _sha(data),
    }
    if raw is not None and record.get("after") == _sha(raw):
        # Renewing our own write: what was there before our first write is what comes back.
        entry["before"] = record.get("before")
    if replaced is not None:
        entry["statusLine"] = replaced
    elif "statusLine" in record:
        entry["statusLine"] = record["statusLine"]
    _write_record(t, entry)
    _write(t.settings, data, t.within)
    return lines


def _strip(doc: dict[str, Any]) -> list[str]:
    """Take our hooks out of `doc`; the events that had one."""
    removed: list[str] = []
    hooks = doc.get("hooks", {})
    for event in EVENTS:
        groups = hooks.get(event)
        if not groups:
            continue
        kept_groups = []
        for group in groups:
            inner = group.get("hooks", [])
            kept = [
                h
                for h in inner
                if not (isinstance(h, dict) and is_our_hook(h.get("command"), event))
            ]
            if len(kept) != len(inner):
                removed.append(event)
                if not kept:
                    continue  # the group was ours alone
                group = {**group, "hooks": kept}
            kept_groups.append(group)
        if kept_groups:
            hooks[event] = kept_groups
        else:
            del hooks[event]
    if "hooks" in doc and not doc["hooks"]:
        del doc["hooks"]
    return removed


def _holds_ours(text: object) -> bool:
    """Recorded bytes that themselves hold a hook or status line of ours (a file
    installed into before, by a teammate or an older moai): never given back."""
    if text is None:
        return False
    if not isinstance(text, str):
        return True  # not what install records: write the file as parsed now instead
    if not text.strip():
        return False
    try:
        doc = jsontext.loads(text)
        return bool(_strip(doc)) or is_our_statusline(doc.get("statusLine"))
    except (ValueError, AttributeError, TypeError, RecursionError):
        return True  # as above


def uninstall(t: Target) -> list[str]:
    raw, doc = read(t)
    dest = writes_to(t)
    record = _read_record(t)
    removed = _strip(doc)
    had_statusline = is_our_statusline(doc.get("statusLine"))
    if had_statusline:
        if isinstance(record.get("statusLine"), dict):
            doc["statusLine"] = record["statusLine"]
        else:
            del doc["statusLine"]
    if not removed and not had_statusline:
        if record:
            _write_record(t, None)
        return [f"{t.label}: no Claude Code hooks of moai's"]
    lines = [f"{t.label}: removed {e} hook" for e in removed]
    if had_statusline:
        lines.append(f"{t.label}: removed moai's statusLine")
    before = record.get("before")
    # (a record without "before" is not one install wrote: never a reason to delete)
    restorable = "before" in record and not _holds_ours(before)
    if raw is not None and record.get("after") == _sha(raw) and restorable:
        if before is None:
            files.remove(dest, within=t.within)  # a link's target: the link stays as it was
            lines.append(f"{t.label}: removed (moai had created it)")
        else:
            _write(t.settings, before.encode("utf-8", "surrogateescape"), t.within)
    else:
        _write(t.settings, _dump(doc, raw), t.within)
    _write_record(t, None)
    return lines


# --- status ----------------------------------------------------------------------------


class Status(NamedTuple):
    settings: str
    installed: list[str]  # events (and "statusLine") with moai's command
    missing: list[str]
    statusline: str  # "moai", "yours", "none"
    warnings: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing


def status(t: Target) -> Status:
    try:
        _, doc = read(t)
    except BadInput as exc:
        return Status(str(t.settings), [], [*EVENTS], "none", [str(exc)])
    installed: list[str] = []
    missing: list[str] = []
    warnings: list[str] = []
    hooks = doc.get("hooks", {})
    for event in EVENTS:
        cmds = [
            h.get("command")
            for g in hooks.get(event, [])
            for h in g.get("hooks", [])
            if isinstance(h, dict)
        ]
        (installed if any(is_our_hook(c, event) for c in cmds) else missing).append(event)
        for c in cmds:
            if _looks_like_ours(c) and not is_our_hook(c, event):
                warnings.append(
                    f"{t.label}: {event} runs {str(c)[:80]!r}: not moai's exact command"
                )
    sl = doc.get("statusLine")
    sl_state = "moai" if is_our_statusline(sl) else "yours" if sl is not None else "none"
    if sl_state == "moai" and isinstance(sl, dict) and "refreshInterval" not in sl:
        warnings.append(
            f"{t.label}: moai's statusLine has no refreshInterval: a branch switched outside "
            "the session shows only after its next message; run: moai hooks install --claude-code"
        )
    if sl_state == "yours" and isinstance(sl, dict) and _looks_like_ours(sl.get("command")):
        warnings.append(f"{t.label}: statusLine runs {str(sl.get('command'))[:80]!r}: not moai's")
    env = doc.get("env")
    if isinstance(env, dict):
        risky = [k for k in RISKY_ENV if k in env]
        if risky:
            warnings.append(
                f"{t.label}: env sets {', '.join(risky)}: hooks run with it, so it decides "
                "which moai and which Python code run"
            )
    if installed and not t.user and shutil.which("moai") is None:
        warnings.append("moai is not on PATH: Claude Code cannot run the hooks")
    return Status(str(t.settings), installed, missing, sl_state, warnings)


def doctor_lines(root: Path) -> list[tuple[Literal["ok", "warn", "info"], str, str | None]]:
    """`moai doctor`'s lines: where moai's Claude Code hooks are (either file), what is off."""
    fix = "moai hooks install --claude-code"
    project = Target(root / ".claude" / "settings.json", Path(os.devnull), False)
    user = target(True)
    states = [status(project), status(user)]
    out: list[tuple[Literal["ok", "warn", "info"], str, str | None]] = []
    for st in states:
        out += [("warn", w, None) for w in st.warnings]
    done = [st for st in states if st.complete]
    partial = [st for st in states if st.installed and not st.complete]
    for st in partial:
        out.append(("warn", f"{st.settings}: missing {', '.join(st.missing)}", fix))
    if done:
        out.append(("ok", f"installed in {done[0].settings}", None))
    elif not partial:
        out.append(("info", "not installed: claude -w and EnterWorktree bypass moai", fix))
    return out
