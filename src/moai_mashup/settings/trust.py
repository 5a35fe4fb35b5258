"""Which endpoints and commands a repository's committed config may use.

A committed `glm.json` decides where the user's key is sent. As `direnv allow`
does, a value outside the built-in list is used only after the user trusts it
for that repository; the approval is a digest of repository + kind + value, so
a changed URL or command asks again. Kinds: `url` (the template's
ANTHROPIC_BASE_URL), `env` (the template's keys beyond those that route the
model, as one set: core/glm_template.ROUTING_ENV), `telemetry` (the collector
endpoint) and `command` (`worktree.on_create`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlsplit

from moai_mashup import files
from moai_mashup.errors import BadInput
from moai_mashup.limits import MAX_CONFIG_BYTES
from moai_mashup.settings.keys import moai_home

# Kinds of which a repository has one trusted value at a time; commands are many.
ONE_PER_REPO = ("url", "env", "telemetry")
KNOWN_HOSTS = frozenset({"api.z.ai", "open.bigmodel.cn", "api.anthropic.com"})


def trust_file() -> Path:
    return moai_home() / "trust.json"


def is_known_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a URL urllib cannot read is not a known one
    except ValueError:
        return False
    # Any userinfo at all (`user@`, `:pw@`, a bare `@`) is credentials in the URL.
    no_userinfo = "@" not in parts.netloc
    return parts.scheme == "https" and (parts.hostname or "") in KNOWN_HOSTS and no_userinfo


def _digest(repo: Path, kind: str, value: str) -> str:
    blob = f"{repo}\0{kind}\0{value}".encode()
    # Imported here: hashlib loads OpenSSL (~5 ms), and the post-checkout hook
    # only needs a digest for an endpoint outside the built-in list.

    return hashlib.sha256(blob).hexdigest()


def _load() -> list[dict[str, str]]:
    try:
        raw = files.read_bytes(trust_file(), MAX_CONFIG_BYTES)
        data = json.loads(raw) if raw is not None else None
    except (BadInput, ValueError, RecursionError):
        return []
    entries = data.get("entries") if isinstance(data, dict) else None
    return [e for e in entries or [] if isinstance(e, dict)]


def is_trusted(repo: Path, kind: str, value: str) -> bool:
    if kind == "url" and is_known_url(value):
        return True
    digest = _digest(repo, kind, value)
    return any(e.get("digest") == digest for e in _load())


def trust(repo: Path, kind: str, value: str) -> bool:
    """Record trust; returns False when it was already there."""
    if is_trusted(repo, kind, value):
        return False
    entries = _load()
    # One trusted value per repository and kind: trusting a new URL (GLM base URL or
    # telemetry endpoint) or a new set of extra env keys revokes the old one.
    entries = [
        e
        for e in entries
        if not (e.get("repo") == str(repo) and e.get("kind") == kind and kind in ONE_PER_REPO)
    ]
    entries.append(
        {"repo": str(repo), "kind": kind, "value": value, "digest": _digest(repo, kind, value)}
    )
    _save(entries)
    return True


def _save(entries: list[dict[str, str]]) -> None:
    path = trust_file()
    files.make_dirs(path.parent, 0o700)
    files.write_text(path, json.dumps({"entries": entries}, indent=2) + "\n", 0o600)


def revoke(repo: Path, kind: str | None = None) -> int:
    entries = _load()
    kept = [
        e for e in entries if not (e.get("repo") == str(repo) and kind in (None, e.get("kind")))
    ]
    if len(kept) != len(entries):
        _save(kept)
    return len(entries) - len(kept)
