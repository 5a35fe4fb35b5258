"""Which endpoints and commands a repository's committed config may use.

A committed `glm.json` or `llm.backends` entry decides where the user's key is
sent. As `direnv allow` does, a value outside the built-in list is used only
after the user trusts it for that repository; the approval is a digest of
repository + kind + value (+ backend), so a changed URL or command asks again.
Kinds: `url` (a backend's base URL: glm.json's ANTHROPIC_BASE_URL, or
`llm.backends.NAME.base_url`), `env` (a backend's variables beyond those that
route the model, as one set: core/glm_template.ROUTING_ENV), `telemetry` (the
collector endpoint) and `command` (`worktree.on_create`).

`url` and `env` are kept per backend: trusting backend `lab`'s URL leaves
backend `gw`'s trusted. An entry without a `backend` field is GLM's (every
approval given before there were other backends), and GLM's digest has no
backend in it, so those approvals hold as they are.
"""

from __future__ import annotations

import os

from moai_mashup import files, jsontext
from moai_mashup.core.backends import GLM, PRESETS
from moai_mashup.core.glm_template import plain_url
from moai_mashup.errors import BadInput
from moai_mashup.lean import TYPE_CHECKING
from moai_mashup.limits import MAX_CONFIG_BYTES
from moai_mashup.settings.keys import moai_home

if TYPE_CHECKING:
    from moai_mashup.files import StrPath

# Kinds of which a repository has one trusted value at a time (per backend for
# url and env); commands are many.
ONE_PER_REPO = ("url", "env", "telemetry")
PER_BACKEND = ("url", "env")
# GLM (glm.json) may point at Z.ai's hosts, worldwide or in China, or at Anthropic's.
GLM_HOSTS = frozenset({"api.z.ai", "open.bigmodel.cn", "api.anthropic.com"})


def trust_file() -> str:
    return os.path.join(moai_home(), "trust.json")


def preset_hosts(preset: str | None) -> frozenset[str]:
    """The hosts a backend may use without trust: GLM's for `glm`, a preset's own
    endpoint's host for a preset; none for a custom endpoint."""
    if preset == GLM:
        return GLM_HOSTS
    if preset in PRESETS:
        return frozenset({_https_host(PRESETS[preset].base_url) or ""})
    return frozenset()


def _https_host(url: str) -> str | None:
    """The lower-cased host of an https URL without credentials in it; None: another
    scheme, credentials (any userinfo at all: `user@`, `:pw@`, a bare `@`), or a URL
    urllib cannot read."""
    plain = plain_url(url)
    if plain is not None:
        return plain[1] if plain[0] == "https" else None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a URL urllib cannot read is not a known one
    except ValueError:
        return None
    if parts.scheme != "https" or "@" in parts.netloc:
        return None
    return (parts.hostname or "").lower()


def is_known_url(url: str, preset: str | None = GLM) -> bool:
    """`url` is https, without credentials, on a host built in for `preset` (the
    GLM backend by default). A built-in host counts only for its own preset: a
    custom backend sending a key to another provider's endpoint needs trust."""
    host = _https_host(url)
    return bool(host) and host in preset_hosts(preset)


def _digest(repo: StrPath, kind: str, value: str, backend: str = GLM) -> str:
    # GLM's digest is the one approvals were always given with; other backends
    # add their name, so one backend's approval never stands for another's.
    tail = "" if backend == GLM or kind not in PER_BACKEND else f"\0{backend}"
    blob = f"{repo}\0{kind}\0{value}{tail}".encode()
    # Imported here: hashlib loads OpenSSL (2.7 ms CPU), and the post-checkout hook
    # only needs a digest for an endpoint outside the built-in list.
    import hashlib

    return hashlib.sha256(blob).hexdigest()


def _load() -> list[dict[str, str]]:
    try:
        raw = files.read_bytes(trust_file(), MAX_CONFIG_BYTES)
        data = jsontext.loads(raw) if raw is not None else None
    except (BadInput, ValueError, RecursionError):
        return []
    entries = data.get("entries") if isinstance(data, dict) else None
    return [e for e in entries or [] if isinstance(e, dict)]


def _backend_of(entry: dict[str, str]) -> str:
    return entry.get("backend") or GLM


def is_trusted(repo: StrPath, kind: str, value: str, backend: str = GLM) -> bool:
    """The user trusted `value` for this repository, kind and backend (`url`, `env`),
    or it is a built-in GLM endpoint."""
    if kind == "url" and backend == GLM and is_known_url(value):
        return True
    if kind not in PER_BACKEND:
        backend = GLM
    digest = _digest(repo, kind, value, backend)
    return any(e.get("digest") == digest and _backend_of(e) == backend for e in _load())


def trust(repo: StrPath, kind: str, value: str, backend: str = GLM) -> bool:
    """Record trust; returns False when it was already there."""
    if kind not in PER_BACKEND:
        backend = GLM
    if is_trusted(repo, kind, value, backend):
        return False
    entries = _load()
    # One trusted value per repository, kind (and backend): trusting a new URL (a
    # backend's base URL or the telemetry endpoint) or a new set of extra env keys
    # revokes the old one of that backend only.
    entries = [
        e
        for e in entries
        if not (
            e.get("repo") == str(repo)
            and e.get("kind") == kind
            and kind in ONE_PER_REPO
            and _backend_of(e) == backend
        )
    ]
    entry = {"repo": str(repo), "kind": kind, "value": value}
    if backend != GLM:
        entry["backend"] = backend
    entry["digest"] = _digest(repo, kind, value, backend)
    entries.append(entry)
    _save(entries)
    return True


def _save(entries: list[dict[str, str]]) -> None:
    path = trust_file()
    files.make_dirs(os.path.dirname(path), 0o700)
    files.write_text(path, jsontext.dumps({"entries": entries}, indent=2) + "\n", 0o600)


def revoke(repo: StrPath, kind: str | None = None) -> int:
    entries = _load()
    kept = [
        e for e in entries if not (e.get("repo") == str(repo) and kind in (None, e.get("kind")))
    ]
    if len(kept) != len(entries):
        _save(kept)
    return len(entries) - len(kept)
