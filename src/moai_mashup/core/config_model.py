"""The schema of `llm.yaml` as pydantic models (strict).

Imported only when a config file must be validated: pydantic costs ~80 ms to
import, so the hook path reads a validated cache instead (see config.py).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from moai_mashup.core.backends import BUILT_IN, PRESETS, TIERS, name_problem
from moai_mashup.core.glm_template import SECRET_KEYS, WINDOW_VAR, shown_problem, url_problem

Lockable = Literal[
    "mode",
    "glm_env_var",
    "credential_mode",
    "default_branch",
    "spec_branch_pattern",
    "auto_worktree",
    "worktree",
    "pricing",
    "telemetry",
    "backends",
    "routes",
]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class AutoWorktreeModel(_Strict):
    enabled: bool = True
    copy_glm_config: bool = True


class WorktreeModel(_Strict):
    # `copy` would shadow BaseModel.copy, hence the alias.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)
    root: str = "~/worktrees/{project}"
    copy_files: list[str] = Field(default_factory=list, alias="copy")
    on_create: list[str] = Field(default_factory=list)

    @field_validator("on_create")
    @classmethod
    def _shown_as_run(cls, value: list[str]) -> list[str]:
        # `moai trust` shows each command before it may run: it must read as it runs.
        for n, command in enumerate(value):
            problem = shown_problem(command)
            if problem is not None:
                raise ValueError(f"[{n}] {problem}")
        return value


class PolicyModel(_Strict):
    locked: list[Lockable] = Field(default_factory=list)
    enforce_locations: bool = False
    plan_paths: list[str] = Field(default_factory=lambda: [".moai/specs/**", ".moai/config/**"])
    require_backend_match: bool = False
    commit_trailer: bool = False
    strict: bool = False


class PriceModel(_Strict):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float | None = Field(default=None, ge=0)  # a 5-minute cache write
    cache_write_1h: float | None = Field(default=None, ge=0)
    cache_read: float | None = Field(default=None, ge=0)


class TelemetryModel(_Strict):
    """Claude Code's OpenTelemetry export to the team's collector (`moai telemetry`)."""

    enabled: bool = True
    otlp_endpoint: str | None = Field(default=None, pattern=r"^https?://[^\s/?#@]+(/[^\s?#]*)?$")
    protocol: Literal["http/protobuf", "http/json", "grpc"] = "http/protobuf"
    resource_attributes: dict[str, str] = Field(default_factory=dict)

    @field_validator("otlp_endpoint")
    @classmethod
    def _shown_as_sent(cls, value: str | None) -> str | None:
        problem = None if value is None else shown_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("resource_attributes")
    @classmethod
    def _keys(cls, value: dict[str, str]) -> dict[str, str]:
        # Claude Code percent-decodes values, never keys (measured): keep keys plain.
        for key in value:
            if not re.fullmatch(r"[A-Za-z0-9._-]+", key):
                raise ValueError(f"key {key!r}: use letters, digits, '.', '_' and '-' only")
        return value


# The variables a backend's own fields write (core/backends.profile_env): `env` may
# not set them, so a committed entry says each in one place only.
FIELD_VARS = {
    "ANTHROPIC_BASE_URL": "base_url",
    **{var: "auth_var (and `moai key set`)" for var in SECRET_KEYS},
    **{f"ANTHROPIC_DEFAULT_{tier.upper()}_MODEL": f"models.{tier}" for tier in TIERS},
    WINDOW_VAR: "context_window",
}
_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def _shown(value: str | None) -> str | None:
    """A value moai shows the user as it is (shown_problem)."""
    problem = None if value is None else shown_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _not_built_in(value: str | None) -> str | None:
    """A display name that is not Claude's or GLM's (core/backends.display_name)."""
    if value is not None and value.strip().casefold() in ("claude", "glm"):
        raise ValueError(
            f"{value!r} is how moai names the built-in backend {value.strip().lower()}; "
            "name this one after its provider"
        )
    return value


class ModelsModel(_Strict):
    """tier -> model name; a tier left out keeps the preset's (no preset: all three)."""

    opus: Annotated[str | None, AfterValidator(_shown)] = Field(default=None, min_length=1)
    sonnet: Annotated[str | None, AfterValidator(_shown)] = Field(default=None, min_length=1)
    haiku: Annotated[str | None, AfterValidator(_shown)] = Field(default=None, min_length=1)


class BackendModel(_Strict):
    """One entry of `llm.backends`: a preset, and/or an endpoint of its own.

    What needs both fields at once (a backend without a preset needs base_url and
    every tier's model) is checked by config.py, which names the missing entry.
    """

    preset: str | None = None
    base_url: str | None = None
    auth_var: Literal["ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY"] | None = None
    models: ModelsModel = Field(default_factory=ModelsModel)
    context_window: int | None = Field(default=None, gt=0)
    env: dict[str, str] = Field(default_factory=dict)
    # how the status line and every message name it: shown as it is, and never as a
    # built-in backend (a provider shown as "Claude" would hide where prompts go)
    display: Annotated[str | None, AfterValidator(_shown), AfterValidator(_not_built_in)] = Field(
        default=None, min_length=1
    )

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in PRESETS:
            guess = preset_guess(value)
            hint = f" (did you mean {guess}?)" if guess else ""
            raise ValueError(
                f"unknown preset {value!r}{hint}; use one of {', '.join(PRESETS)} "
                "(or leave preset out and give base_url and models)"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        problem = None if value is None else url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.fullmatch(_ENV_NAME, name):
                raise ValueError(f"{name!r} is not an environment variable name")
            if name in FIELD_VARS:
                raise ValueError(
                    f"{name} comes from the backend's {FIELD_VARS[name]}; remove it from env"
                )
        return value


class RouteModel(_Strict):
    """One entry of `llm.routes`: branches matching `branch` go to `backend`."""

    branch: str = Field(min_length=1)
    backend: str = Field(min_length=1)

    @field_validator("branch")
    @classmethod
    def _can_match(cls, value: str) -> str:
        problem = glob_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


# What people call a provider, when it is not the name of its preset.
PRESET_ALIASES = {
    "kimi": "moonshot",
    "moonshot-ai": "moonshot",
    "glm": "zai",
    "z-ai": "zai",
    "z.ai": "zai",
    "zhipu": "zai-china",
    "bigmodel": "zai-china",
    "ds": "deepseek",
    "alibaba": "qwen",
    "dashscope": "qwen",
    "bailian": "qwen",
    "mini-max": "minimax",
    "or": "openrouter",
    "open-router": "openrouter",
}


def preset_guess(name: str) -> str | None:
    """The preset a user most likely meant by `name` (a provider's other name, or a
    near miss of a preset's); None when nothing is close."""
    import difflib

    lowered = name.lower()
    if lowered in PRESETS:
        return lowered
    if lowered in PRESET_ALIASES:
        return PRESET_ALIASES[lowered]
    close = difflib.get_close_matches(lowered, [*PRESETS, *PRESET_ALIASES], n=1, cutoff=0.75)
    return PRESET_ALIASES.get(close[0], close[0]) if close else None


def glob_problem(branch_glob: str) -> str | None:
    """Why `branch_glob` (core/routing.glob_matches: the first `*` stands for one or
    more characters, the rest is literal) can match no branch git lets you create;
    None when it can match one.

    The rules are git's for a branch name (`git help check-ref-format`, and `git
    branch` refusing a name that starts with '-' or is HEAD): the glob's literal
    parts must break none that no text in place of the `*` can mend. A glob
    without `*` is a branch name and follows them all. The line ends with the fix.
    """

    def never(what: str, fix: str) -> str:
        return (
            f"{branch_glob!r} {what}; git refuses it in branch names (git help "
            f"check-ref-format), so this route never matches: {fix}"
        )

    prefix, _star, suffix = branch_glob.partition("*")
    for part in (prefix, suffix):
        for c in part:
            if c < " " or c == "\x7f":
                return never("holds a control character", "remove it")
            if c in "?[":
                return never(f"holds {c!r}", "use '*' (one or more characters), the only wildcard")
            if c in " ~^:\\":
                return never(f"holds {c!r}", "remove it")
            if c == "*":
                return never(
                    "holds a second '*' (only one '*' is special)",
                    "keep one; it matches any characters, '/' included",
                )
        for bad in ("..", "@{", "//", "/.", ".lock/"):
            if bad in part:
                return never(f"holds {bad!r}", "remove it")
    if branch_glob.startswith(("-", "/", ".")):
        return never(f"starts with {branch_glob[0]!r}", f"remove the leading {branch_glob[0]!r}")
    for end in ("/", ".lock", "."):
        if branch_glob.endswith(end):
            fix = "end it with '*' instead" if end == "/" else f"remove the trailing {end!r}"
            return never(f"ends with {end!r}", fix)
    if branch_glob == "HEAD":
        return never("is not a branch name", "name a branch, or '*' for every branch")
    return None


def _backend_name(name: str) -> str:
    if name in BUILT_IN:
        what, example = (
            ("Claude itself: moai writes nothing for it", "claude-proxy")
            if name == "claude"
            else ("from .moai/llm-configs/glm.json", "glm-china with preset zai-china")
        )
        raise ValueError(
            f"{name!r} is built in ({what}) and cannot be redefined; give this backend "
            f"another name (e.g. {example}) and route to that"
        )
    problem = name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    return name


BackendName = Annotated[str, AfterValidator(_backend_name)]


def backend_problem(backend: BackendModel) -> tuple[str, str] | None:
    """What a valid entry of `llm.backends` still lacks as a whole: (the field, the
    line's rest); None when it is complete. A preset fills every field; without one
    the entry must give base_url and every tier's model."""
    if backend.preset is not None:
        return None
    if backend.base_url is None:
        return (
            "base_url",
            f"missing; a backend without a preset needs its endpoint (base_url), or "
            f"name a preset ({', '.join(PRESETS)})",
        )
    for tier in TIERS:
        if getattr(backend.models, tier) is None:
            return (
                f"models.{tier}",
                f"missing; a backend without a preset needs a model for each of {', '.join(TIERS)}",
            )
    return None


class LlmModel(_Strict):
    mode: Literal["claude-only", "mashup", "glm-only"] = "mashup"
    glm_env_var: str = Field(default="GLM_API_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    auto_worktree: AutoWorktreeModel = Field(default_factory=AutoWorktreeModel)
    default_branch: str = Field(default="main", min_length=1)
    spec_branch_pattern: str = Field(default="feature/SPEC-*", pattern=r"^[^*]*\*[^*]*$")
    credential_mode: Literal["inline", "helper"] = "inline"
    worktree: WorktreeModel = Field(default_factory=WorktreeModel)
    policy: PolicyModel = Field(default_factory=PolicyModel)
    pricing: dict[str, PriceModel] = Field(default_factory=dict)
    telemetry: TelemetryModel = Field(default_factory=TelemetryModel)
    backends: dict[BackendName, BackendModel] = Field(default_factory=dict)
    routes: list[RouteModel] = Field(default_factory=list)

    @field_validator("glm_env_var")
    @classmethod
    def _names_a_glm_key(cls, value: str) -> str:
        # moai sends this variable's value to the GLM endpoint as the key: a
        # committed llm.yaml must not pick another secret of the user's
        # (GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY) to be sent there.
        if not any(tag in value.upper() for tag in ("GLM", "ZAI", "BIGMODEL")):
            raise ValueError(
                f"{value} does not name a GLM key variable (its value is sent to the GLM "
                "endpoint); use a name with GLM in it, e.g. GLM_API_TOKEN"
            )
        # MOAI_<NAME>_API_KEY is another backend's key (core/backends.key_var: a
        # backend `zai-intl` reads MOAI_ZAI_INTL_API_KEY), bound to its own endpoint.
        if value.upper().startswith("MOAI_") and value != "MOAI_GLM_API_KEY":
            raise ValueError(
                f"{value} is in moai's own namespace, where another backend's key lives "
                "(MOAI_<NAME>_API_KEY); use a name with GLM in it, e.g. GLM_API_TOKEN"
            )
        return value


class FileModel(_Strict):
    llm: LlmModel = Field(default_factory=LlmModel)
