"""Backends beside Claude: the built-in presets and a configured backend's profile.

A backend is an Anthropic-compatible endpoint Claude Code can be pointed at
with `ANTHROPIC_BASE_URL`, a key in one auth variable, and the model names the
tiers (opus, sonnet, haiku) map to. `claude` is Claude itself (moai writes
nothing); `glm` is built in and takes its env from the repository's
`.moai/llm-configs/glm.json` (core/glm_template.py), as moai's first release
did. Every other backend is named in `llm.backends` and built here from a
preset (the table below) and the entry's overrides.

Pure: values in and out, no file, no environment. Lean: imported on the hook's
path (no `re`, no `typing` at run time).
"""

from __future__ import annotations

from moai_mashup.lean import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

CLAUDE = "claude"
GLM = "glm"
BUILT_IN = (CLAUDE, GLM)
TIERS = ("opus", "sonnet", "haiku")
# A backend's name reaches file names (~/.moai/.env.NAME), an environment
# variable (MOAI_<NAME>_API_KEY), telemetry labels and commit trailers: lower-case
# letters, digits and '-', a letter first, at most 32 characters ('_' is not
# allowed so that two names never map to one variable).
NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"
NAME_MAX = 32
NAME_SHAPE = "lower-case letters, digits and '-', a letter first, at most 32 characters"
WINDOW_VAR = "CLAUDE_CODE_MAX_CONTEXT_TOKENS"  # as core/glm_template.WINDOW_VAR


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a backend (None: it can)."""
    if not name or len(name) > NAME_MAX or not ("a" <= name[0] <= "z"):
        return f"{name!r} is not a backend name: use {NAME_SHAPE}"
    if any(c not in NAME_CHARS for c in name):
        return f"{name!r} is not a backend name: use {NAME_SHAPE}"
    return None


def key_var(name: str) -> str:
    """The one environment variable moai reads a backend's key from: moai's own
    namespace, so a committed backend name can never make moai read another
    secret of the user's (`anthropic` -> MOAI_ANTHROPIC_API_KEY, never
    ANTHROPIC_API_KEY). `glm` keeps GLM_API_KEY (settings/keys.py)."""
    return "MOAI_" + name.upper().replace("-", "_") + "_API_KEY"


class Preset(NamedTuple):
    """A provider's documented Anthropic-compatible endpoint."""

    name: str
    display: str  # how the status line and messages name it
    base_url: str
    auth_var: str  # the variable Claude Code sends the key in
    models: dict[str, str]  # tier -> model name
    windows: dict[str, int]  # model name -> context window (tokens)
    family: str  # the model family prices and telemetry group it under
    source: str  # the provider's page these values come from
    read: str  # the date that page was read


# Each value from the provider's own documentation (source, read). VERIFY-PENDING
# marks values taken from the report and not yet checked against it.
PRESETS: dict[str, Preset] = {
    "zai": Preset(
        "zai",
        "GLM (Z.ai)",
        "https://api.z.ai/api/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "glm-4.7", "sonnet": "glm-4.7", "haiku": "glm-4.7"},
        {"glm-4.7": 200000},
        "glm",
        "https://docs.z.ai/guides/llm/glm-4.7",
        "2026-12-06",
    ),
    "zai-china": Preset(
        "zai-china",
        "GLM (Zhipu)",
        "https://open.bigmodel.cn/api/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "glm-4.7", "sonnet": "glm-4.7", "haiku": "glm-4.7"},
        {"glm-4.7": 200000},
        "glm",
        "VERIFY-PENDING",
        "VERIFY-PENDING",
    ),
    "deepseek": Preset(
        "deepseek",
        "DeepSeek",
        "https://api.deepseek.com/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "deepseek-v4-pro", "sonnet": "deepseek-v4-pro", "haiku": "deepseek-v4-flash"},
        {"deepseek-v4-pro": 128000, "deepseek-v4-flash": 128000},
        "deepseek",
        "VERIFY-PENDING",
        "VERIFY-PENDING",
    ),
    "moonshot": Preset(
        "moonshot",
        "Kimi (Moonshot)",
        "https://api.moonshot.ai/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "kimi-k3", "sonnet": "kimi-k3", "haiku": "kimi-k2.5"},
        {"kimi-k3": 256000, "kimi-k2.5": 256000},
        "kimi",
        "VERIFY-PENDING",
        "VERIFY-PENDING",
    ),
    "moonshot-china": Preset(
        "moonshot-china",
        "Kimi (Moonshot China)",
        "https://api.moonshot.cn/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "kimi-k3", "sonnet": "kimi-k3", "haiku": "kimi-k2.5"},
        {"kimi-k3": 256000, "kimi-k2.5": 256000},
        "kimi",
        "VERIFY-PENDING",
        "VERIFY-PENDING",
    ),
    "qwen": Preset(
        "qwen",
        "Qwen (Alibaba Cloud)",
        "https://dashscope-intl.aliyuncs.com/apps/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "qwen3-max", "sonnet": "qwen3-max", "haiku": "qwen3-coder-flash"},
        {"qwen3-max": 256000, "qwen3-coder-flash": 256000},
        "qwen",
        "VERIFY-PENDING",
        "VERIFY-PENDING",
    ),
    "minimax": Preset(
        "minimax",
        "MiniMax",
        "https://api.minimax.io/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "MiniMax-M3", "sonnet": "MiniMax-M3", "haiku": "MiniMax-M3"},
        {"MiniMax-M3": 200000},
        "minimax",
        "VERIFY-PENDING",
        "VERIFY-PENDING",
    ),
    "openrouter": Preset(
        "openrouter",
        "OpenRouter",
        "https://openrouter.ai/api",
        "ANTHROPIC_AUTH_TOKEN",
        {
            "opus": "anthropic/claude-opus-4.5",
            "sonnet": "anthropic/claude-sonnet-4.5",
            "haiku": "anthropic/claude-haiku-4.5",
        },
        {
            "anthropic/claude-opus-4.5": 200000,
            "anthropic/claude-sonnet-4.5": 200000,
            "anthropic/claude-haiku-4.5": 200000,
        },
        "openrouter",
        "VERIFY-PENDING",
        "VERIFY-PENDING",
    ),
}


class Profile(NamedTuple):
    """A configured backend, resolved: everything moai writes for it.

    Kept in the validated config cache as a plain dict (`as_dict`/`from_dict`).
    """

    name: str
    preset: str | None  # the preset it starts from (None: a custom endpoint)
    display: str
    base_url: str
    auth_var: str
    models: dict[str, str]  # tier -> model, all three tiers
    windows: dict[str, int]  # model -> context window, where known
    env: dict[str, str]  # extra variables (API_TIMEOUT_MS, ...): through the env gate
    family: str  # for prices and telemetry
    source: str  # the file that defined it: llm.yaml or llm.local.yaml
    url_known: bool  # the preset's own endpoint, or the user's own file: no trust asked

    def as_dict(self) -> dict[str, Any]:
        return dict(self._asdict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        return cls(**data)

    @property
    def window(self) -> int | None:
        """The context window Claude Code is told (WINDOW_VAR): the smallest of the
        tiers' models, so no tier's session compacts too late; None when unknown."""
        known = [self.windows[m] for m in self.models.values() if m in self.windows]
        return min(known) if known else None


def profile_env(profile: Profile) -> dict[str, str]:
    """The env block a backend puts into the settings file, the key as the
    `${<key_var>}` placeholder (filled by settings/apply.py, never here)."""
    env = {
        "ANTHROPIC_BASE_URL": profile.base_url,
        profile.auth_var: "${" + key_var(profile.name) + "}",
        "ANTHROPIC_DEFAULT_OPUS_MODEL": profile.models["opus"],
        "ANTHROPIC_DEFAULT_SONNET_MODEL": profile.models["sonnet"],
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": profile.models["haiku"],
    }
    window = profile.window
    if window is not None:
        env[WINDOW_VAR] = str(window)
    return {**profile.env, **env}


def resolve_profile(name: str, entry: dict[str, Any], source: str, own_word: bool) -> Profile:
    """The profile of `llm.backends.NAME` (`entry`: the validated entry, as config.py
    dumps it: preset, base_url, auth_var, models, context_window, env, display, each
    None/empty when not given). A field given overrides the preset's; every tier
    takes the preset's model unless `models` names one (no preset: the entry gives
    all three, config.py checks). `context_window` sets the window of every model;
    else the preset's windows hold. `own_word`: defined in llm.local.yaml, the
    user's own file (no trust asked for its URL); `source` names the file."""
    preset = PRESETS.get(entry.get("preset") or "")
    given = {tier: m for tier, m in (entry.get("models") or {}).items() if m}
    models = {tier: given.get(tier) or (preset.models[tier] if preset else "") for tier in TIERS}
    window = entry.get("context_window")
    if window:
        windows = {model: int(window) for model in models.values()}
    else:
        windows = dict(preset.windows) if preset else {}
    url = entry.get("base_url") or (preset.base_url if preset else "")
    own_url = preset is not None and url.rstrip("/") == preset.base_url.rstrip("/")
    return Profile(
        name=name,
        preset=preset.name if preset else None,
        display=entry.get("display") or (preset.display if preset else name),
        base_url=url,
        auth_var=entry.get("auth_var") or (preset.auth_var if preset else "ANTHROPIC_AUTH_TOKEN"),
        models=models,
        windows=windows,
        env=dict(entry.get("env") or {}),
        family=preset.family if preset else name,
        source=source,
        url_known=own_word or own_url,
    )
