"""Claude Code's OpenTelemetry export to the team's collector, labelled by where it runs.

`llm.telemetry` (opt-in, in the committed llm.yaml) names the collector; every
Claude Code session started through `moai telemetry settings` exports its
metrics and log events there with resource attributes `moai.mode`,
`moai.backend`, `moai.phase`, `moai.spec` and `moai.repository`, merged with
the team's `resource_attributes` and the user's own `OTEL_RESOURCE_ATTRIBUTES`.
`moai.backend` is the backend's name as the repository names it: `claude`,
`glm`, or a name of `llm.backends` (`kimi`, `ds`), so the team view splits spend
by the names `moai cost --by backend` shows.

How the variables reach Claude Code (measured 2026-11-30 offline against a
local OTLP/HTTP receiver, Claude Code 2.1.112, 2.1.197 and 2.1.332):
- `claude --settings '{"env": {...}}'` works on all three: the flag's settings
  outrank every settings file, and Claude Code exports with them even when the
  environment holds `DISABLE_TELEMETRY=1` and
  `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`.
- A project's settings files (`.claude/settings.json`, `.claude/settings.local.json`)
  do *not* work on 2.1.332: it ignores telemetry variables there ("A
  project's settings files can only turn telemetry off"; only the environment,
  `~/.claude/settings.json`, managed settings or `--settings` may turn it on).
  2.1.112 honours them. So moai writes nothing into settings files for
  telemetry; that also keeps clear of 2.1.332 applying the main checkout's
  `settings.local.json` inside every linked worktree (a label written there
  would stamp every worktree).
- `OTEL_RESOURCE_ATTRIBUTES` from `--settings` replaces the one in
  `~/.claude/settings.json` or the environment (never merges), so the user's
  own attributes are merged in here: their keys first, the team's over them,
  moai's last. Values are percent-encoded (a raw space drops the whole
  variable) and arrive decoded (`a%20b` -> `a b`).
- Claude Code copies the resource attributes onto every metric point and log
  record. Metrics are delta by default; moai asks for cumulative
  (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`), what Prometheus needs.

The endpoint is something a committed file makes Claude Code send data to, so
it is used only once the user trusts it for this repository (`moai trust`),
as for a GLM base URL outside the built-in list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from moai_mashup import files, jsontext
from moai_mashup.errors import BadInput
from moai_mashup.limits import MAX_SETTINGS_BYTES, deep_message, json_shape_problem

TRUST_KIND = "telemetry"
RESOURCE_VAR = "OTEL_RESOURCE_ATTRIBUTES"
# Attribute text allowed unencoded: the W3C baggage value octets minus '%' (the escape).
_SAFE = "!#$&'()*+-./:<>?@[]^_`{|}~"


def encode_attributes(attrs: dict[str, str]) -> str:
    """`k=v,k2=v2` with values percent-encoded; keys as they are.

    Claude Code (its OpenTelemetry SDK) decodes values but not keys (measured:
    `cost%20centre=x` arrives as the key `cost%20centre`), so the team's keys
    are plain by validation and the user's are passed on as they wrote them.
    """
    return ",".join(f"{k}={quote(v, safe=_SAFE)}" for k, v in attrs.items())


def parse_attributes(text: str) -> dict[str, str]:
    """The pairs of an `OTEL_RESOURCE_ATTRIBUTES` value: raw keys, decoded values.

    Malformed pairs (no `=`, empty key, a key with a space or `%`) are skipped.
    """
    out: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key or any(c.isspace() for c in key):
            continue
        out[key] = unquote(value.strip())
    return out


def user_attributes(env: dict[str, str], home: Path) -> dict[str, str]:
    """The user's own resource attributes: `~/.claude/settings.json`'s env beats the process's.

    BadInput (one line naming the file) when that file is there but not a readable
    JSON file: not a regular file, larger than MAX_SETTINGS_BYTES, nested absurdly.
    """

    attrs = parse_attributes(env.get(RESOURCE_VAR, ""))
    path = home / ".claude" / "settings.json"
    text = files.read_text(path, MAX_SETTINGS_BYTES)
    problem = json_shape_problem(text) if text is not None else None
    if problem is not None:
        raise BadInput(f"{path}: {problem}")
    try:
        doc: Any = jsontext.loads(text) if text is not None else None
    except RecursionError:
        raise BadInput(deep_message(str(path))) from None
    except ValueError:
        doc = None  # Claude Code says what is wrong with it; it sets nothing we can use
    block = doc.get("env") if isinstance(doc, dict) else None
    value = block.get(RESOURCE_VAR) if isinstance(block, dict) else None
    if isinstance(value, str):
        attrs = parse_attributes(value)
    return attrs


def labels(
    *, mode: str, backend: str, phase: str, spec: str | None, repository: str
) -> dict[str, str]:
    return {
        "moai.mode": mode,
        "moai.backend": backend,
        "moai.phase": phase,
        "moai.spec": spec or "-",
        "moai.repository": repository,
    }


def telemetry_env(endpoint: str, protocol: str, attrs: dict[str, str]) -> dict[str, str]:
    """The variables Claude Code needs to export metrics and events with these attributes."""
    return {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "cumulative",
        RESOURCE_VAR: encode_attributes(attrs),
    }


def merged_attributes(
    user: dict[str, str], team: dict[str, str], ours: dict[str, str]
) -> dict[str, str]:
    """User's, then the team's over them, then moai's labels over both."""
    return {**user, **team, **ours}
