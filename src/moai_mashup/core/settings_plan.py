"""Merge and restore plans for `.claude/settings.local.json`, as pure functions.

The file belongs to the user and to Claude Code; we only borrow a few keys
(`env.*` of the backend applied: the GLM template or a configured backend's
profile, optionally `apiKeyHelper`). An OwnershipRecord remembers which backend
it wrote and, for each key, a fingerprint of what we wrote and the value it
replaced, so switching back (or on to another backend) restores exactly what
was there before us and leaves every key we did not write (or that the user
changed since) alone.
"""

from __future__ import annotations

from moai_mashup import jsontext
from moai_mashup.lean import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

try:  # the builtin sha256: hashlib's OpenSSL binding costs ~5 ms to import (status, hooks)
    from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - Python 3.12+ renamed it
    from hashlib import sha256

KeyPath = tuple[str, ...]  # ("env", "ANTHROPIC_BASE_URL") or ("apiKeyHelper",)
# What a file routes to: "claude", "mixed", or the name of the backend applied
# ("glm" or a name of `llm.backends`).
Active = str


class Absent:
    """Marks a key that did not exist (distinct from JSON null)."""

    _instance: Absent | None = None

    def __new__(cls) -> Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = Absent()


class Entry(NamedTuple):
    path: KeyPath
    ours: str  # fingerprint of the value we wrote (never the value: it may be a key)
    prev: Any  # the value we replaced, or ABSENT


class OwnershipRecord(NamedTuple):
    backend: str
    entries: tuple[Entry, ...]
    created_env: bool  # we created the `env` object, so it goes when it is empty again
    original_existed: bool  # settings.local.json existed before our first write
    original_text: str | None  # its exact text then, restored byte for byte when possible
    original_mode: int | None = None  # its permission bits then (the edge fills it in)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "backend": self.backend,
            "entries": [
                {"path": list(e.path), "ours": e.ours}
                | ({} if e.prev is ABSENT else {"prev": e.prev})
                for e in self.entries
            ],
            "created_env": self.created_env,
            "original_existed": self.original_existed,
            "original_text": self.original_text,
        } | ({} if self.original_mode is None else {"original_mode": self.original_mode})

    @classmethod
    def from_json(cls, data: Any) -> OwnershipRecord:
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ValueError("unknown ownership record format")
        entries = tuple(
            Entry(tuple(e["path"]), e["ours"], e.get("prev", ABSENT)) for e in data["entries"]
        )
        return cls(
            data["backend"],
            entries,
            bool(data["created_env"]),
            bool(data["original_existed"]),
            data.get("original_text"),
            _mode(data.get("original_mode")),
        )


def _mode(value: Any) -> int | None:
    return value if isinstance(value, int) and 0 <= value <= 0o7777 else None


def fingerprint(value: Any) -> str:
    blob = jsontext.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")
    digest: str = sha256(blob).hexdigest()
    return "sha256:" + digest


def _get(doc: dict[str, Any], path: KeyPath) -> Any:
    node: Any = doc
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return ABSENT
        node = node[part]
    return node


def _set(doc: dict[str, Any], path: KeyPath, value: Any) -> None:
    node = doc
    for part in path[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            node[part] = nxt
        node = nxt
    node[path[-1]] = value


def _delete(doc: dict[str, Any], path: KeyPath) -> None:
    node: Any = doc
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = jsontext.loads(jsontext.dumps(doc))
    return copied


def _is_ours(doc: dict[str, Any], entry: Entry) -> bool:
    """The key still holds what we wrote."""
    current = _get(doc, entry.path)
    return current is not ABSENT and fingerprint(current) == entry.ours


def _holds_ours(doc: dict[str, Any], record: OwnershipRecord | None) -> bool:
    """Some value we wrote is still in the document.

    When none is (the user deleted the file or every key of ours, or a crash
    left a record whose write never happened), the record is stale: it
    describes a document that no longer exists and must not be restored.
    """
    return record is not None and any(_is_ours(doc, e) for e in record.entries)


def live_record(doc: dict[str, Any], record: OwnershipRecord | None) -> OwnershipRecord | None:
    """The record if it still describes this document, else None (stale)."""
    return record if _holds_ours(doc, record) else None


def _restore(doc: dict[str, Any], entry: Entry) -> None:
    """Put back what our write replaced, unless the user has changed the key since."""
    if not _is_ours(doc, entry):
        return  # the user's own edit (or re-added key) since our write: theirs now
    if entry.prev is ABSENT:
        _delete(doc, entry.path)
    else:
        _set(doc, entry.path, entry.prev)


def plan_backend(
    doc: dict[str, Any],
    desired: dict[KeyPath, Any],
    record: OwnershipRecord | None,
    original_text: str | None,
    backend: str,
) -> tuple[dict[str, Any], OwnershipRecord]:
    """Write `backend`'s `desired` keys into `doc`, remembering what each write replaced.

    From another backend of ours (the record's): a key both write keeps what it
    first replaced; a key only the other one wrote gets its value back; so the
    user's own values return byte for byte whichever backends came between."""
    if not _holds_ours(doc, record):
        record = None
    new = _copy(doc)
    old_entries = {e.path: e for e in record.entries} if record else {}
    entries: list[Entry] = []
    for path, value in desired.items():
        old = old_entries.pop(path, None)
        current = _get(new, path)
        # Still ours: keep what it originally replaced. Otherwise the key holds a
        # user's value (or their edit of ours), which switching back restores.
        prev = old.prev if old is not None and _is_ours(new, old) else current
        _set(new, path, value)
        entries.append(Entry(path, fingerprint(value), prev))
    for stale in old_entries.values():  # the template no longer writes this key
        _restore(new, stale)
    created_env = (
        record.created_env
        if record
        else (not isinstance(doc.get("env"), dict) and any(p[0] == "env" for p in desired))
    )
    if record is not None:
        existed, text, mode = record.original_existed, record.original_text, record.original_mode
    else:
        existed, text, mode = original_text is not None, original_text, None
    return new, OwnershipRecord(backend, tuple(entries), created_env, existed, text, mode)


def plan_glm(
    doc: dict[str, Any],
    desired: dict[KeyPath, Any],
    record: OwnershipRecord | None,
    original_text: str | None,
) -> tuple[dict[str, Any], OwnershipRecord]:
    """plan_backend for the built-in GLM backend."""
    return plan_backend(doc, desired, record, original_text, "glm")


def plan_claude(doc: dict[str, Any], record: OwnershipRecord | None) -> dict[str, Any]:
    """Remove exactly what we wrote and put back what it replaced."""
    new = _copy(doc)
    if record is None or not _holds_ours(doc, record):
        return new
    for entry in record.entries:
        _restore(new, entry)
    if record.created_env and new.get("env") == {}:
        del new["env"]
    return new


def active_backend(doc: dict[str, Any], record: OwnershipRecord | None) -> Active:
    """What the file routes to, judged by our record, not by ANTHROPIC_BASE_URL alone:
    the record's backend while every key of ours is there, "mixed" when some is not."""
    if record is None or not _holds_ours(doc, record):
        return "claude"
    if all(_is_ours(doc, e) for e in record.entries):
        return record.backend
    return "mixed"


def detect_indent(text: str | None) -> str:
    if text:
        for line in text.splitlines()[1:]:
            stripped = line.lstrip(" \t")
            if stripped and stripped != line:
                return line[: len(line) - len(stripped)]
    return "  "


def render(
    doc: dict[str, Any], current_text: str | None, record: OwnershipRecord | None
) -> str | None:
    """The file's new text; None means the file should not exist.

    When the document is exactly what it was before our first write, the
    original bytes come back (the user's formatting included).
    """
    if record is None and current_text is None and doc == {}:
        return None  # Claude on a worktree with no settings file: do not create one
    if record is not None:
        if record.original_text is not None:
            try:
                blank = not record.original_text.strip()
                original = {} if blank else jsontext.loads(record.original_text)
            except (ValueError, RecursionError):
                original = None
            if _same(doc, original):
                return record.original_text
        elif not record.original_existed and doc == {}:
            return None
    if doc == {} and (current_text is None or not current_text.strip()):
        return current_text  # nothing to say: neither create nor fill an empty file
    if current_text is not None:
        try:
            if _same(doc, jsontext.loads(current_text)):
                return current_text
        except (ValueError, RecursionError):
            pass
    return jsontext.dumps(doc, indent=detect_indent(current_text), ensure_ascii=False) + "\n"


def _same(a: Any, b: Any) -> bool:
    """Equal including key order (dict == ignores order; the user's file does not)."""
    return jsontext.dumps(a, ensure_ascii=False) == jsontext.dumps(b, ensure_ascii=False)
