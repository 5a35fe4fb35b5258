"""The schema of `llm.yaml` as pydantic models (strict).

Imported only when a config file must be validated: pydantic costs ~80 ms to
import, so the hook path reads a validated cache instead (see config.py).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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

    @field_validator("resource_attributes")
    @classmethod
    def _keys(cls, value: dict[str, str]) -> dict[str, str]:
        # Claude Code percent-decodes values, never keys (measured): keep keys plain.
        for key in value:
            if not re.fullmatch(r"[A-Za-z0-9._-]+", key):
                raise ValueError(f"key {key!r}: use letters, digits, '.', '_' and '-' only")
        return value


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
        return value


class FileModel(_Strict):
    llm: LlmModel = Field(default_factory=LlmModel)
