"""core/stray.py with backends beside GLM: state holding any backend's user key, or
moai's key helper of any backend, that no record owns."""

from __future__ import annotations

from moai_mashup.core import settings_plan as plan
from moai_mashup.core.stray import StraySpec, find_stray, stray_glm

GLM_ENV = {
    "ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic",
    "ANTHROPIC_AUTH_TOKEN": "${GLM_API_KEY}",
}
KIMI_ENV = {
    "ANTHROPIC_BASE_URL": "https://api.moonshot.ai/anthropic",
    "ANTHROPIC_AUTH_TOKEN": "${MOAI_KIMI_API_KEY}",
    "ANTHROPIC_DEFAULT_OPUS_MODEL": "kimi-k3",
}
SPEC = StraySpec(frozenset({"glm-key"}), GLM_ENV, {"kimi": (frozenset({"kimi-key"}), KIMI_ENV)})
HELPER = "/usr/bin/python3 -I -c 'import moai_mashup.settings.key_helper' /lib /wt"


def test_a_kimi_key_no_record_owns_is_stray_kimi_state() -> None:
    doc = {
        "env": {
            "ANTHROPIC_BASE_URL": "https://api.moonshot.ai/anthropic",
            "ANTHROPIC_AUTH_TOKEN": "kimi-key",
            "ANTHROPIC_API_KEY": "",
            "ANTHROPIC_DEFAULT_OPUS_MODEL": "kimi-k3",
            "ANTHROPIC_MODEL": "opus",
            "MINE": "1",
        }
    }
    backend, paths = find_stray(doc, None, SPEC)
    assert backend == "kimi"
    assert set(paths) == {
        ("env", "ANTHROPIC_AUTH_TOKEN"),
        ("env", "ANTHROPIC_API_KEY"),
        ("env", "ANTHROPIC_BASE_URL"),
        ("env", "ANTHROPIC_DEFAULT_OPUS_MODEL"),
        ("env", "ANTHROPIC_MODEL"),
    }
    assert stray_glm(doc, None, SPEC) == paths


def test_a_provider_url_without_a_users_key_is_theirs() -> None:
    doc = {
        "env": {
            "ANTHROPIC_BASE_URL": "https://api.moonshot.ai/anthropic",
            "ANTHROPIC_AUTH_TOKEN": "t",
        }
    }
    assert find_stray(doc, None, SPEC) == (None, [])


def test_the_helper_names_its_backend() -> None:
    assert find_stray({"apiKeyHelper": HELPER + " kimi"}, None, SPEC)[0] == "kimi"
    assert find_stray({"apiKeyHelper": HELPER}, None, SPEC)[0] == "glm"
    # a last word that is no configured backend: GLM's command (a path ends it)
    assert find_stray({"apiKeyHelper": HELPER + " gone"}, None, SPEC)[0] == "glm"


def test_keys_a_live_record_owns_are_not_stray() -> None:
    doc, rec = plan.plan_backend(
        {}, {("env", "ANTHROPIC_AUTH_TOKEN"): "kimi-key"}, None, None, "kimi"
    )
    assert find_stray(doc, rec, SPEC) == (None, [])
    # ...but the GLM key saved over kimi's by another writer is.
    doc["env"]["ANTHROPIC_AUTH_TOKEN"] = "glm-key"
    assert find_stray(doc, rec, SPEC)[0] == "glm"
