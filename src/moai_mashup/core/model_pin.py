"""Which model tier a GLM worktree asks for, whatever model the user pinned.

Claude Code sends a model pinned by full id (`"model": "claude-opus-4-5-..."`
at any settings level, or `ANTHROPIC_MODEL`) as is, past the
`ANTHROPIC_DEFAULT_*_MODEL` tier mapping, so the GLM endpoint would receive a
Claude model name. Measured with Claude Code 2.1.197 and 2.1.332 (tests/e2e):
`env.ANTHROPIC_MODEL` in a worktree's `.claude/settings.local.json` beats a
`model` at every level and an exported `ANTHROPIC_MODEL`; a tier alias there
(`opus`, `sonnet`, `haiku`) goes through the tier mapping; with no model
chosen Claude Code asks for `opus`. So on GLM moai writes `env.ANTHROPIC_MODEL`
as the tier of what the user pinned (their pin comes back with the switch
back). Only `--model` on the command line beats it.
"""

from __future__ import annotations

from moai_mashup.lean import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

TIERS = ("opus", "sonnet", "haiku")
DEFAULT_TIER = "opus"  # what Claude Code 2.1.197+ asks for when no model is chosen
MODEL_VAR = "ANTHROPIC_MODEL"


def tier_of(model: str, template: dict[str, str]) -> str | None:
    """The tier a model name or alias belongs to; None when it names none."""
    name = model.strip().partition("[")[0].lower()  # `sonnet[1m]`: the context window
    for tier in TIERS:  # a GLM model of the template's: its tier
        if name and name == template.get(f"ANTHROPIC_DEFAULT_{tier.upper()}_MODEL", "").lower():
            return tier
    for tier in TIERS:  # an alias or a Claude model id names its tier
        if tier in name:
            return tier
    return None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def pinned_model(docs: list[dict[str, Any]], exported: str | None) -> str | None:
    """The model Claude Code would choose without us, from the settings levels
    (`docs`, highest first: local, project, user) and the exported variable."""
    for doc in docs:
        env = doc.get("env")
        if isinstance(env, dict) and _str(env.get(MODEL_VAR)):
            return _str(env.get(MODEL_VAR))
    if exported:
        return exported
    for doc in docs:
        if _str(doc.get("model")):
            return _str(doc.get("model"))
    return None


def glm_tier(docs: list[dict[str, Any]], exported: str | None, template: dict[str, str]) -> str:
    """The tier alias to write as `env.ANTHROPIC_MODEL` on GLM."""
    pinned = pinned_model(docs, exported)
    return (tier_of(pinned, template) if pinned else None) or DEFAULT_TIER
