"""`moai statusline`: Claude Code's status line, from the JSON it passes on stdin.

One line: backend and model, SPEC (or branch) and the phases that belong
there, e.g. `GLM · glm-4.7 · SPEC-AUTH-001 · run/sync`. A session whose model
belongs to the other backend than the routing table's for where it runs is
marked with the advice that brings it back on both tested Claude Code versions:
`⚠ on glm-4.7, Claude here: /exit, then ANTHROPIC_MODEL=opus claude --continue`.
It runs on every refresh: files only, no click (the entry point skips it).
Input it cannot read (past 1 MiB, not JSON, nested absurdly) is one short line,
`moai: <why>`, exit 0.
"""

from __future__ import annotations

import os
import sys

from moai_mashup import jsontext
from moai_mashup.core.backends import TIERS
from moai_mashup.errors import BadInput, MoaiError

USAGE = "usage: moai statusline (Claude Code's status line JSON on stdin)"


def _text(data: dict[str, object], *path: str) -> str:
    node: object = data
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, str) else ""


def model_shown(model_id: str, display_name: str, names: tuple[str, ...]) -> str:
    """The model, once: Claude Code's display name ("Sonnet 4.5"), or the id when the
    name says no more than the id (`[1m]` aside: "glm-4.7" for glm-4.7[1m]) or a
    backend's name does (a gateway's "GLM" for glm-4.7); "?" when neither is given."""
    name = display_name.strip()
    same = name.lower() in names or name.split("[", 1)[0].strip() == (
        model_id.split("[", 1)[0].strip()
    )
    return (model_id if same or not name else name) or name or "?"


def render(data: dict[str, object]) -> str:
    from moai_mashup.claude_code import session as s

    model_id = _text(data, "model", "id")
    display = _text(data, "model", "display_name")
    shown = model_shown(model_id, display, ("claude", "glm"))
    cwd = _text(data, "workspace", "current_dir") or _text(data, "cwd")
    try:
        h = s.here(cwd) if cwd else None
    except Exception as exc:  # a broken config: say so, never a traceback in the UI
        return f"{shown} · moai: {first_line(exc)}"
    if h is None:
        return shown
    names = (
        "claude",
        "glm",
        *(n.lower() for p in h.cfg.backends.values() for n in (p.name, p.display)),
    )
    shown = model_shown(model_id, display, names)
    place = h.spec_id or h.place.branch or "detached"
    here_phases, _ = s.phases(h)
    tail = f" · {'/'.join(here_phases)}" if here_phases else ""
    if h.expected is None:
        return f"{shown} · {place}{tail}"
    if s.mismatch(model_id, h):
        return (
            f"⚠ on {shown}, {h.display(h.expected)} here: {s.resume_advice(h, model_id)}"
            f" · {place}{tail}"
        )
    backend = h.display(h.expected)
    model = "" if shown.lower() == backend.lower() else f" · {shown}"  # no "GLM · GLM"
    why_stale = _stale(h)
    stale = f" · ⚠ {why_stale}" if why_stale else ""
    return f"{backend}{model} · {place}{tail}{stale}"


# A worktree on a backend whose endpoint or models are not what the team's file gives
# now (a merge or pull ran no post-merge hook): what the session talks to is not what
# the team set.
STALE = "settings older than glm.json: moai apply"
STALE_PROFILE = "settings older than {file}: moai apply"
# What the status line compares: the keys a backend routes with, none of them secret.
_COMPARED = (
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
)


def _stale(h: object) -> str | None:
    """Why the worktree's settings are behind the team's files, for the table's backend
    here (None: they are not, or it is Claude)."""
    from moai_mashup.claude_code.session import Here

    assert isinstance(h, Here)
    if h.expected == "glm":
        return STALE if _stale_glm(h.place.root) else None
    profile = h.cfg.backends.get(h.expected or "")
    if profile is None:
        return None
    want: dict[str, object] = dict(
        zip(_COMPARED, (profile.base_url, *(profile.models[t] for t in TIERS)), strict=True)
    )
    if _stale_against(h.place.root, want):
        return STALE_PROFILE.format(file=os.path.basename(profile.source) or "llm.yaml")
    return None


def _env_of(path: str, root: str) -> dict[str, object] | None:
    """A JSON file's `env` object (None: absent, unreadable, not an object)."""
    from moai_mashup import files
    from moai_mashup.limits import MAX_SETTINGS_BYTES, loads_json

    try:
        text = files.read_text(path, MAX_SETTINGS_BYTES, within=root)
        doc = loads_json(text, path) if text is not None else None
    except (MoaiError, OSError):
        return None
    env = doc.get("env") if isinstance(doc, dict) else None
    return env if isinstance(env, dict) else None


def _stale_glm(root: str) -> bool:
    """The worktree's settings are on GLM (they set a base URL) with a URL or model that
    the committed glm.json no longer gives. A cheap reading of settings/apply.stale_backend
    for every refresh: two small files, no key, no trust, no git."""
    from moai_mashup.config import GLM_JSON

    want = _env_of(os.path.join(root, GLM_JSON), root)
    return want is not None and _stale_against(root, want)


def _stale_against(root: str, want: dict[str, object]) -> bool:
    """The worktree's settings set a base URL, and a routing key of theirs differs from
    `want`'s."""
    from moai_mashup.paths import SETTINGS_REL

    have = _env_of(os.path.join(root, SETTINGS_REL), root)
    if not have or "ANTHROPIC_BASE_URL" not in have:
        return False
    return any(k in want and have.get(k) != want[k] for k in _COMPARED)


def read_json_stdin(limit: int) -> object:
    """The JSON value on stdin (empty: {}), the status line's or a hook's (run.py), read
    with a bound; BadInput (one line) when it is larger than `limit`, not UTF-8 JSON, or
    nested deeper than limits.MAX_DEPTH."""
    from moai_mashup import files
    from moai_mashup.limits import MAX_DEPTH, json_shape_problem

    raw = files.read_stdin(limit)
    deep = BadInput(f"stdin: nested more than {MAX_DEPTH} levels deep")
    try:
        text = raw.decode("utf-8") or "{}"
        problem = json_shape_problem(text)
        if problem is not None:
            raise BadInput(f"stdin: {problem}")
        return jsontext.loads(text)
    except RecursionError:
        raise deep from None
    except ValueError:  # UnicodeDecodeError included
        raise BadInput("stdin: invalid JSON") from None


def first_line(exc: BaseException) -> str:
    """The error's first line, cut short; its class name when it has no message
    (a MemoryError() has none)."""
    return (str(exc).splitlines() or [exc.__class__.__name__])[0][:120]


def main(argv: list[str]) -> int:
    if argv:
        sys.stderr.write(USAGE + "\n")
        return 2
    from moai_mashup.limits import MAX_STATUSLINE_BYTES

    try:
        data = read_json_stdin(MAX_STATUSLINE_BYTES)
    except MoaiError as exc:  # one short line in the status line, never a traceback
        sys.stdout.write(f"moai: {str(exc).split(';')[0][:120]}\n")
        return 0
    line = render(data if isinstance(data, dict) else {})
    sys.stdout.write(line + "\n")
    return 0
