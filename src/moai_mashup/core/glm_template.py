"""The GLM env template (`.moai/llm-configs/glm.json`): validate and fill, purely."""

from __future__ import annotations

from moai_mashup import jsontext
from moai_mashup.errors import BadInput
from moai_mashup.lean import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

DEFAULT_BASE_URL = "https://api.z.ai/api/anthropic"
DEFAULT_MODEL = "glm-4.7"
# The context window Claude Code assumes for the session's model. GLM-4.7 serves
# 200K tokens: "Context Length 200K" on Z.ai's model page,
# https://docs.z.ai/guides/llm/glm-4.7 (read 2026-12-06). Claude Code 2.1.332 takes
# a model it does not know for a 1M window (`modelUsage["glm-4.7"].contextWindow`
# 1000000, `[claude-code:unrecognized_model]`) and compacts too late; this variable
# brings it to 200000 (2.1.197 assumes 200000 either way; CLAUDE_CODE_AUTO_COMPACT_WINDOW
# changes neither): measured by tests/e2e/test_context_window.py.
WINDOW_VAR = "CLAUDE_CODE_MAX_CONTEXT_TOKENS"
DEFAULT_WINDOW = "200000"
DEFAULT_TEMPLATE: dict[str, Any] = {
    "env": {
        "ANTHROPIC_AUTH_TOKEN": "${GLM_API_KEY}",
        "ANTHROPIC_BASE_URL": DEFAULT_BASE_URL,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": DEFAULT_MODEL,
        "ANTHROPIC_DEFAULT_SONNET_MODEL": DEFAULT_MODEL,
        "ANTHROPIC_DEFAULT_OPUS_MODEL": DEFAULT_MODEL,
        WINDOW_VAR: DEFAULT_WINDOW,
    }
}
# Keys that carry the credential: they must be a placeholder, never a literal key.
SECRET_KEYS = ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY")
# What a committed template may put next to the key without the user's say: the
# variables Claude Code documents for routing the model to a provider
# (https://code.claude.com/docs/en/env-vars, .../model-config). They only choose
# where requests go (behind the URL gate) and what is asked of that endpoint;
# none loads code, adds a header, a proxy or a CA, or changes TLS or tools.
# Anything else (NODE_OPTIONS, HTTPS_PROXY, NODE_TLS_REJECT_UNAUTHORIZED,
# ANTHROPIC_CUSTOM_HEADERS, ...) waits for `moai trust`.
ROUTING_ENV = frozenset(
    {
        # The endpoint: used only when built in or trusted (settings/trust.py, kind "url").
        "ANTHROPIC_BASE_URL",
        # The credential: validated to be a placeholder for the user's GLM key.
        *SECRET_KEYS,
        # The model names the endpoint is asked for: the tier mapping, its picker
        # label and the features Claude Code may request of that model...
        *(
            f"ANTHROPIC_DEFAULT_{tier}_MODEL{suffix}"
            for tier in ("OPUS", "SONNET", "HAIKU")
            for suffix in ("", "_NAME", "_DESCRIPTION", "_SUPPORTED_CAPABILITIES")
        ),
        # ...a pinned main model, the subagents' model, and the background model of
        # releases before the tier variables (deprecated for DEFAULT_HAIKU_MODEL).
        "ANTHROPIC_MODEL",
        "CLAUDE_CODE_SUBAGENT_MODEL",
        "ANTHROPIC_SMALL_FAST_MODEL",
        # How long to wait for that endpoint (providers such as Z.ai document
        # a longer API_TIMEOUT_MS) and how large an answer to ask it for.
        "API_TIMEOUT_MS",
        "CLAUDE_CODE_MAX_OUTPUT_TOKENS",
        "MAX_THINKING_TOKENS",
        # The model's context window, where Claude Code does not know it (WINDOW_VAR).
        WINDOW_VAR,
    }
)
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")


def is_env_name(name: str) -> bool:
    """`[A-Za-z_][A-Za-z0-9_]*`: a name sh and Claude Code take as a variable (checked
    without `re`, which costs the git hook ~4 ms to import)."""
    return bool(name) and name[0] in _NAME_START and all(c in _NAME_CHARS for c in name)


def _placeholders(value: str) -> list[tuple[int, int, str]]:
    """Each `${NAME}` in `value`, left to right: (start, end, NAME)."""
    found: list[tuple[int, int, str]] = []
    start = value.find("${")
    while start >= 0:
        end = value.find("}", start + 2)
        if end >= 0 and is_env_name(value[start + 2 : end]):
            found.append((start, end + 1, value[start + 2 : end]))
            start = value.find("${", end + 1)
        else:
            start = value.find("${", start + 1)
    return found


def _is_placeholder(value: str) -> bool:
    found = _placeholders(value)
    return len(found) == 1 and found[0][:2] == (0, len(value))


def _substitute(value: str, key: str) -> str:
    parts, at = [], 0
    for start, end, _name in _placeholders(value):
        parts += [value[at:start], key]
        at = end
    return "".join(parts) + value[at:]


def validate_template(data: Any, label: str) -> dict[str, str]:
    """The template's env block, checked; raises BadInput naming the field."""
    if not isinstance(data, dict):
        raise BadInput(f'{label}: expected a JSON object like {{"env": {{...}}}}')
    env = data.get("env")
    if not isinstance(env, dict):
        raise BadInput(f'{label}: env: missing or not an object; expected {{"env": {{...}}}}')
    for name, value in env.items():
        if not is_env_name(name):
            raise BadInput(f"{label}: env.{name}: not a valid environment variable name")
        if not isinstance(value, str):
            raise BadInput(f"{label}: env.{name}: must be a string, got {type(value).__name__}")
        if name in SECRET_KEYS and not _is_placeholder(value):
            raise BadInput(
                f'{label}: env.{name}: holds a literal value; write "${{GLM_API_KEY}}" so no '
                "key is ever committed"
            )
    if "ANTHROPIC_BASE_URL" not in env:
        raise BadInput(f"{label}: env.ANTHROPIC_BASE_URL: missing; the GLM endpoint is required")
    problem = url_problem(env["ANTHROPIC_BASE_URL"])
    if problem is not None:
        raise BadInput(f"{label}: env.ANTHROPIC_BASE_URL: {problem}")
    return dict(env)


def with_window(env: dict[str, str]) -> dict[str, str]:
    """The template's env with the GLM context window when it names none (a template
    written before moai wrote it): every GLM switch carries it, and the switch back
    removes it with the other keys."""
    return dict(env) if WINDOW_VAR in env else {**env, WINDOW_VAR: DEFAULT_WINDOW}


CONTROLS = (
    "contains control characters (a terminal would show something else than the "
    "value); write it plainly"
)


def shown_problem(text: str) -> str | None:
    """Why a committed value that moai shows the user (`moai trust`'s question, a
    message naming a backend) cannot be shown as it is (None: it can): a control
    character (ESC, CR, ...) lets a terminal show one value while another is the one
    trusted or used."""
    return None if text.isprintable() else CONTROLS


_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


def plain_url(url: str) -> tuple[str, str] | None:
    """(scheme, host) of `http(s)://host[:port][/...]` written plainly (a host of lower
    case letters, digits, dots and hyphens; a port of digits up to 65535), read
    without urllib (which costs a git hook ~4 ms of imports, `re` with it); None:
    any other URL, for urllib to read. Where both read a URL, they agree
    (tests/settings/test_trust_hosts.py)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("https", "http"):
        return None
    end = len(rest)
    for stop in "/?#":
        found = rest.find(stop)
        if found >= 0:
            end = min(end, found)
    host, colon, port = rest[:end].partition(":")
    if not host or any(c not in _HOST_CHARS for c in host):
        return None
    if colon and not (port.isascii() and port.isdigit() and int(port) <= 65535):
        return None
    return scheme, host


def url_problem(url: str) -> str | None:
    """Why `url` cannot be an endpoint (None: it can), in the words a user can act on.

    Checked once where the template is read, so nothing later (trust, doctor,
    the hook) meets a URL that urllib cannot take apart (`https://[api.z.ai`
    raises ValueError from urlsplit, `https://h:99999` from `.port`), nor one that
    reads otherwise on a terminal than where it leads: urllib drops tabs and line
    breaks from a URL, so `https://evil/x\rhttps://api.z.ai` would be evil's host
    while `moai trust` showed Z.ai's.
    """
    if shown_problem(url) is not None:
        return CONTROLS
    if any(c.isspace() for c in url):
        return "contains white space; write the URL alone"
    if plain_url(url) is not None:
        return None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        return f"not a valid URL ({exc}); write it like {DEFAULT_BASE_URL}"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"must be an http(s) URL with a host, like {DEFAULT_BASE_URL}"
    return None


def placeholder_names(glm_env_var: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(("GLM_API_KEY", glm_env_var)))


def fill_template(
    env: dict[str, str], key: str | None, glm_env_var: str, label: str
) -> dict[str, str]:
    """Replace `${GLM_API_KEY}` / `${<glm_env_var>}` with the key; others are errors."""
    allowed = placeholder_names(glm_env_var)
    filled: dict[str, str] = {}
    for name, value in env.items():
        for _start, _end, found in _placeholders(value):
            if found not in allowed:
                shown = ", ".join("${" + a + "}" for a in allowed)
                raise BadInput(
                    f"{label}: env.{name}: unknown placeholder ${{{found}}}; use {shown}"
                )
            if name not in SECRET_KEYS:
                # A committed template could otherwise mail the key to any URL or header.
                raise BadInput(
                    f"{label}: env.{name}: ${{{found}}} is allowed only in "
                    f"{' or '.join(SECRET_KEYS)}, where the key belongs"
                )
        if key is None:
            filled[name] = value
        else:
            filled[name] = _substitute(value, key)
    return filled


def split_routing(env: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(the routing keys, everything else): the rest needs the user's trust."""
    routing = {k: v for k, v in env.items() if k in ROUTING_ENV}
    return routing, {k: v for k, v in env.items() if k not in ROUTING_ENV}


def extra_env_trust_value(extra: dict[str, str]) -> str:
    """The exact set trusted (kind "env"): names and values, so any change asks again."""

    return jsontext.dumps(extra, sort_keys=True, ensure_ascii=False)
