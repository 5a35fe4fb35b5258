"""GLM state that no ownership record of ours accounts for, as pure functions.

moai knows what it wrote from its record; another writer may put the same
state back where the table wants Claude: an editor that loaded the settings
file on a SPEC branch and saves it after `git checkout main`, a restored
backup, a copied file. Such state holding one of the user's GLM keys (or
moai's key helper) routes traffic to GLM whoever wrote it, so it is drift:
reported, and removed on the way to Claude. A proxy or a z.ai URL written by
hand without the user's key is theirs, and stays.
"""

from __future__ import annotations

from moai_mashup.core import settings_plan as plan
from moai_mashup.core.model_pin import MODEL_VAR, TIERS
from moai_mashup.lean import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

SECRET_KEYS = ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY")
HELPER_MODULE = "moai_mashup.settings.key_helper"  # in every apiKeyHelper command moai writes


class StraySpec(NamedTuple):
    keys: frozenset[str]  # every GLM key value the user's sources hold
    template: dict[str, str]  # the GLM template's env (placeholders unfilled)


def stray_glm(
    doc: dict[str, Any], record: plan.OwnershipRecord | None, spec: StraySpec
) -> list[plan.KeyPath]:
    """Paths of `doc` holding moai's GLM state that no live record owns ([]: none)."""
    live = plan.live_record(doc, record)
    owned = {e.path for e in live.entries if plan._is_ours(doc, e)} if live else set()
    env = doc.get("env")
    env = env if isinstance(env, dict) else {}
    helper = doc.get("apiKeyHelper")
    keyed = [
        ("env", n)
        for n in SECRET_KEYS
        if isinstance(env.get(n), str) and env[n] and env[n] in spec.keys
    ]
    ours_helper = isinstance(helper, str) and HELPER_MODULE in helper
    if not [p for p in keyed if p not in owned] and not (
        ours_helper and ("apiKeyHelper",) not in owned
    ):
        return []
    paths: list[plan.KeyPath] = list(keyed)
    # What moai's GLM switch writes beside the key, with the same values.
    paths += [("env", n) for n in SECRET_KEYS if env.get(n) == ""]
    paths += [
        ("env", n)
        for n, v in spec.template.items()
        if n not in SECRET_KEYS and "${" not in v and env.get(n) == v
    ]
    if env.get(MODEL_VAR) in TIERS:  # the tier alias moai's GLM switch pins (model_pin.py)
        paths.append(("env", MODEL_VAR))
    if helper == "" or ours_helper:
        paths.append(("apiKeyHelper",))
    return [p for p in dict.fromkeys(paths) if p not in owned]


def without(doc: dict[str, Any], paths: list[plan.KeyPath]) -> dict[str, Any]:
    """`doc` with `paths` removed (and an `env` they leave empty)."""
    new = plan._copy(doc)
    for path in paths:
        plan._delete(new, path)
    if any(p[0] == "env" for p in paths) and new.get("env") == {}:
        del new["env"]
    return new
