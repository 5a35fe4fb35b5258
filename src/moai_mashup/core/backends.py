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
# The variables Claude Code sends a key in (as core/glm_template.SECRET_KEYS).
CREDENTIAL_VARS = ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY")


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
    # Extra variables the provider's Claude Code guide sets, as (name, value)
    # pairs: only names of core/glm_template.ROUTING_ENV (no trust needed), and a
    # backend's own `env` beats them (profile_env).
    env: tuple[tuple[str, str], ...] = ()


# Each value from the provider's own Claude Code guide (`source`, read on `read`),
# unless its comment says "not confirmed" (with what was searched). A window is
# the model's context length as the provider states it ("1M" -> 1_000_000: the
# lower reading, so Claude Code compacts early rather than late); the profile
# tells Claude Code the smallest window among the three tiers' models
# (Profile.window). Model names carry no `[1m]` suffix: some guides write
# `model[1m]` to tell Claude Code the window, which moai states in WINDOW_VAR.
PRESETS: dict[str, Preset] = {
    # Z.ai's guide: base URL and ANTHROPIC_AUTH_TOKEN; its Claude Code default
    # maps opus and sonnet to GLM-4.7 (haiku to GLM-4.5-Air) and it offers
    # GLM-5.2 (`glm-5.2[1m]`, 1M context) as the newest. The preset keeps the
    # built-in `glm` setup (core/glm_template.py: glm-4.7 on every tier, 200K
    # context per https://docs.z.ai/guides/llm/glm-4.7), so `zai` and `glm` are
    # the same backend; GLM-5.2 is one `models:` override away (docs/backends.md).
    "zai": Preset(
        "zai",
        "GLM (Z.ai)",
        "https://api.z.ai/api/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "glm-4.7", "sonnet": "glm-4.7", "haiku": "glm-4.7"},
        {"glm-4.7": 200000},
        "glm",
        "https://docs.z.ai/devpack/latest-model",
        "2026-12-06",
    ),
    # Zhipu's mainland platform, same models: its guide names the Anthropic-
    # compatible address for Claude Code.
    "zai-china": Preset(
        "zai-china",
        "GLM (Zhipu)",
        "https://open.bigmodel.cn/api/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "glm-4.7", "sonnet": "glm-4.7", "haiku": "glm-4.7"},
        {"glm-4.7": 200000},
        "glm",
        "https://docs.bigmodel.cn/cn/coding-plan/latest-model",
        "2026-12-06",
    ),
    # DeepSeek's guide maps every tier to `deepseek-flash` (DeepSeek-V4.1-Flash;
    # the deepseek-v4-flash is its retired name, still served as
    # deepseek-flash). `deepseek-v4-pro` (V4-Pro-0813) stays callable and listed
    # for a `models:` override. Context 1M for both
    # (https://api-docs.deepseek.com/quick_start/pricing).
    "deepseek": Preset(
        "deepseek",
        "DeepSeek",
        "https://api.deepseek.com/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "deepseek-flash", "sonnet": "deepseek-flash", "haiku": "deepseek-flash"},
        {"deepseek-flash": 1000000, "deepseek-v4-pro": 1000000, "deepseek-v4-flash": 1000000},
        "deepseek",
        "https://api-docs.deepseek.com/quick_start/agent_integrations/claude_code",
        "2026-12-06",
    ),
    # Moonshot's agent guide: base URL and ANTHROPIC_AUTH_TOKEN. Models not
    # confirmed: the copies of the guide reachable here (searched "Kimi Claude
    # Code ANTHROPIC_BASE_URL", "platform.kimi.ai agent-support") map every tier
    # to kimi-k2.5 (older) or kimi-k2.7-code; the kimi-k3 / kimi-k2.5 are
    # kept (Kimi K3.1 Pro is newer still). Windows: kimi-k3 1,048,576
    # (max_context_size as Moonshot's Kimi Code docs were quoted; no page of them
    # read here: not confirmed), kimi-k2.5 262,144
    # (https://platform.kimi.ai/docs/pricing/chat-k25).
    "moonshot": Preset(
        "moonshot",
        "Kimi (Moonshot)",
        "https://api.moonshot.ai/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "kimi-k3", "sonnet": "kimi-k3", "haiku": "kimi-k2.5"},
        {"kimi-k3": 1048576, "kimi-k2.5": 262144},
        "kimi",
        "https://platform.kimi.ai/docs/guide/agent-support",
        "2026-12-06",
    ),
    # The .cn host: not confirmed on a Moonshot page reachable here (searched
    # "api.moonshot.cn/anthropic"); third-party launchers and Moonshot's
    # OpenAI-compatible api.moonshot.cn/v1 agree on it.
    "moonshot-china": Preset(
        "moonshot-china",
        "Kimi (Moonshot China)",
        "https://api.moonshot.cn/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "kimi-k3", "sonnet": "kimi-k3", "haiku": "kimi-k2.5"},
        {"kimi-k3": 1048576, "kimi-k2.5": 262144},
        "kimi",
        "https://platform.kimi.ai/docs/guide/agent-support",
        "2026-12-06",
    ),
    # Alibaba Cloud Model Studio, international (Singapore) edition: this base
    # URL and "ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN)". Newer pages add
    # workspace hosts ({WorkspaceId}.ap-southeast-1.maas.aliyuncs.com) and say the
    # dashscope-intl host keeps working. Models not confirmed on the copy
    # reachable here (Feb 2026: qwen3-max, qwen3.5-plus); the guide's newest
    # version maps opus/sonnet to qwen3.7-max and haiku to qwen3.6-flash as a
    # third-party article quoted it (not confirmed on Alibaba's page). Windows
    # 1,000,000 (not confirmed on a page read here).
    "qwen": Preset(
        "qwen",
        "Qwen (Alibaba Cloud)",
        "https://dashscope-intl.aliyuncs.com/apps/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "qwen3.7-max", "sonnet": "qwen3.7-max", "haiku": "qwen3.6-flash"},
        {"qwen3.7-max": 1000000, "qwen3.6-flash": 1000000},
        "qwen",
        "https://www.alibabacloud.com/help/en/model-studio/claude-code",
        "2026-12-06",
    ),
    # MiniMax's guide: international host (China: api.minimaxi.com), the key in
    # ANTHROPIC_AUTH_TOKEN, one model on every tier, API_TIMEOUT_MS=3000000.
    # MiniMax-M3 is the first model of its Anthropic API page
    # (https://platform.minimax.io/docs/api-reference/text-anthropic-api); the
    # guide's copy reachable here names the older MiniMax-M2.5. Context 1,000,000
    # (not confirmed on a page read here, 2026-12-06).
    "minimax": Preset(
        "minimax",
        "MiniMax",
        "https://api.minimax.io/anthropic",
        "ANTHROPIC_AUTH_TOKEN",
        {"opus": "MiniMax-M3", "sonnet": "MiniMax-M3", "haiku": "MiniMax-M3"},
        {"MiniMax-M3": 1000000},
        "minimax",
        "https://platform.minimax.io/docs/coding-plan/claude-code",
        "2026-12-06",
        (("API_TIMEOUT_MS", "3000000"),),
    ),
    # OpenRouter's guide: this base URL (no /v1), the key in ANTHROPIC_AUTH_TOKEN
    # and ANTHROPIC_API_KEY explicitly "" (moai writes that on every backend but
    # Claude); only Anthropic's own models are guaranteed to work, each tier
    # overridable with an OpenRouter slug. Haiku stays on 4.5 (200K), the newest
    # Haiku with a listed price (cost/pricing.py); Opus and Sonnet 5.5 are 1M
    # (Anthropic's model pages as OpenRouter lists them; not confirmed on a page
    # read here, 2026-12-06).
    "openrouter": Preset(
        "openrouter",
        "OpenRouter",
        "https://openrouter.ai/api",
        "ANTHROPIC_AUTH_TOKEN",
        {
            "opus": "anthropic/claude-opus-5.5",
            "sonnet": "anthropic/claude-sonnet-5.5",
            "haiku": "anthropic/claude-haiku-4.5",
        },
        {
            "anthropic/claude-opus-5.5": 1000000,
            "anthropic/claude-sonnet-5.5": 1000000,
            "anthropic/claude-haiku-4.5": 200000,
        },
        "openrouter",
        "https://openrouter.ai/docs/guides/coding-agents/claude-code-integration",
        "2026-12-06",
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
    `${<key_var>}` placeholder (filled by settings/apply.py, never here).

    The preset's extra variables first, then the backend's own `env`, then what
    moai decides: the endpoint, the key's placeholder, the tier models and the
    window, which no `env` entry can replace. Neither credential variable is
    taken from `env` (a literal key there would be committed, and the other one
    would reach this endpoint beside the key)."""
    preset = PRESETS.get(profile.preset) if profile.preset is not None else None
    extra = {**dict(preset.env if preset is not None else ()), **profile.env}
    for name in ("ANTHROPIC_BASE_URL", *CREDENTIAL_VARS):
        extra.pop(name, None)
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
    return {**extra, **env}


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


def display_name(name: str, profiles: dict[str, Profile]) -> str:
    """How the status line, SessionStart and messages name a backend: a configured
    one's `display`; "Claude" and "GLM" for the built-in ones; the name itself for
    one not configured (a record left by a backend since removed from llm.yaml)."""
    profile = profiles.get(name)
    if profile is not None:
        return profile.display
    return {CLAUDE: "Claude", GLM: "GLM"}.get(name, name)
