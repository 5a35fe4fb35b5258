"""The built-in presets, backend names and the env block a backend writes (core/backends.py)."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import pytest

from moai_mashup.core.backends import (
    BUILT_IN,
    CREDENTIAL_VARS,
    NAME_MAX,
    PRESETS,
    TIERS,
    WINDOW_VAR,
    Preset,
    Profile,
    key_var,
    name_problem,
    profile_env,
)
from moai_mashup.core.glm_template import ROUTING_ENV


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_complete_and_sourced(name: str) -> None:
    preset = PRESETS[name]
    assert preset.name == name and name_problem(name) is None and name not in BUILT_IN
    url = urlsplit(preset.base_url)
    assert url.scheme == "https" and url.hostname and not url.query and not url.fragment
    assert preset.auth_var in CREDENTIAL_VARS
    assert set(preset.models) == set(TIERS) and all(preset.models.values())
    for model in preset.models.values():
        assert model == model.strip() and "[" not in model  # the window goes in WINDOW_VAR
        assert 100_000 <= preset.windows[model] <= 2_000_000, model
    assert preset.family and preset.display
    assert preset.source.startswith("https://") and "VERIFY" not in preset.source
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", preset.read)
    date.fromisoformat(preset.read)  # a real date
    for var, value in preset.env:  # only what the env gate passes without trust
        assert var in ROUTING_ENV and var not in CREDENTIAL_VARS and var != "ANTHROPIC_BASE_URL"
        assert value


def test_presets_name_distinct_endpoints() -> None:
    urls = [p.base_url for p in PRESETS.values()]
    assert len(set(urls)) == len(urls)


def test_a_preset_without_extra_env_still_builds() -> None:
    # Preset's fields are positional; `env` is last and optional.
    bare = Preset(
        "x", "X", "https://x.example/anthropic", "ANTHROPIC_AUTH_TOKEN", {}, {}, "x", "", ""
    )
    assert bare.env == ()


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        ("A", "upper case"),
        ("Kimi", "upper case"),
        ("a_b", "underscore: two names could map to one variable"),
        ("../x", "a path"),
        ("x/y", "a path"),
        ("é", "not ASCII"),
        ("kimé", "not ASCII"),
        ("1lab", "a digit first"),
        ("-lab", "a dash first"),
        ("lab ", "a space"),
        ("lab\n", "a newline"),
        ("a" * (NAME_MAX + 1), "33 characters"),
    ],
)
def test_hostile_backend_names_are_refused(name: str, why: str) -> None:
    problem = name_problem(name)
    assert problem is not None, why
    assert problem.startswith(repr(name)) and "lower-case letters" in problem


@pytest.mark.parametrize("name", ["a", "kimi", "ds", "lab-2", "anthropic", "a" * NAME_MAX])
def test_backend_names_that_pass(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "var"),
    [
        ("anthropic", "MOAI_ANTHROPIC_API_KEY"),  # never $ANTHROPIC_API_KEY itself
        ("kimi", "MOAI_KIMI_API_KEY"),
        ("lab-2", "MOAI_LAB_2_API_KEY"),
        ("openrouter", "MOAI_OPENROUTER_API_KEY"),
        ("a" * NAME_MAX, "MOAI_" + "A" * NAME_MAX + "_API_KEY"),
    ],
)
def test_key_var_is_in_moais_namespace(name: str, var: str) -> None:
    assert key_var(name) == var
    assert re.fullmatch(r"MOAI_[A-Z][A-Z0-9_]*_API_KEY", key_var(name))


def test_every_valid_name_has_its_own_key_var() -> None:
    names = ["a-b", "ab", "a-b-c", "abc", "a1-b", "a1b"]
    assert all(name_problem(n) is None for n in names)
    assert len({key_var(n) for n in names}) == len(names)


def _profile(**over: object) -> Profile:
    preset = PRESETS["minimax"]
    fields: dict[str, object] = {
        "name": "mm",
        "preset": "minimax",
        "display": preset.display,
        "base_url": preset.base_url,
        "auth_var": preset.auth_var,
        "models": dict(preset.models),
        "windows": dict(preset.windows),
        "env": {},
        "family": preset.family,
        "source": ".moai/config/sections/llm.yaml",
        "url_known": True,
    }
    fields.update(over)
    return Profile(**fields)  # type: ignore[arg-type]


def test_profile_env_puts_the_placeholder_only_in_the_auth_var() -> None:
    env = profile_env(_profile())
    placeholder = "${MOAI_MM_API_KEY}"
    assert env["ANTHROPIC_AUTH_TOKEN"] == placeholder
    assert [k for k, v in env.items() if placeholder in v] == ["ANTHROPIC_AUTH_TOKEN"]
    assert "ANTHROPIC_API_KEY" not in env  # settings/apply.py blanks it, not this block
    assert env["ANTHROPIC_BASE_URL"] == "https://api.minimax.io/anthropic"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "MiniMax-M3"
    assert env[WINDOW_VAR] == "1000000"
    assert env["API_TIMEOUT_MS"] == "3000000"  # the preset's documented extra
    api_key = profile_env(_profile(auth_var="ANTHROPIC_API_KEY"))
    assert api_key["ANTHROPIC_API_KEY"] == placeholder and "ANTHROPIC_AUTH_TOKEN" not in api_key


def test_a_backends_env_never_replaces_the_endpoint_key_models_or_window() -> None:
    hostile = {
        "ANTHROPIC_BASE_URL": "https://evil.example/anthropic",
        "ANTHROPIC_AUTH_TOKEN": "sk-fake-literal-0000",
        "ANTHROPIC_API_KEY": "${ANTHROPIC_API_KEY}",
        "ANTHROPIC_DEFAULT_OPUS_MODEL": "other-model",
        WINDOW_VAR: "5",
        "API_TIMEOUT_MS": "600000",
    }
    for auth_var in CREDENTIAL_VARS:
        env = profile_env(_profile(env=hostile, auth_var=auth_var))
        assert env["ANTHROPIC_BASE_URL"] == "https://api.minimax.io/anthropic"
        assert env[auth_var] == "${MOAI_MM_API_KEY}"
        other = next(v for v in CREDENTIAL_VARS if v != auth_var)
        assert other not in env
        assert env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "MiniMax-M3"
        assert env[WINDOW_VAR] == "1000000"
        assert env["API_TIMEOUT_MS"] == "600000"  # the backend's own word beats the preset's
        assert not any("sk-fake" in v or "evil" in v for v in env.values())


def test_a_custom_backend_has_no_preset_extras_and_an_unknown_window() -> None:
    env = profile_env(
        _profile(
            name="lab",
            preset=None,
            base_url="https://llm.internal.example/anthropic",
            models={"opus": "lab-large", "sonnet": "lab-large", "haiku": "lab-small"},
            windows={},
        )
    )
    assert "API_TIMEOUT_MS" not in env and WINDOW_VAR not in env
    assert env["ANTHROPIC_AUTH_TOKEN"] == "${MOAI_LAB_API_KEY}"


def test_the_window_told_is_the_smallest_of_the_tiers() -> None:
    preset = PRESETS["moonshot"]
    profile = _profile(preset="moonshot", models=dict(preset.models), windows=dict(preset.windows))
    assert profile.window == 262144  # kimi-k2.5 on haiku bounds the kimi-k3 tiers
    assert profile_env(profile)[WINDOW_VAR] == "262144"
    assert "API_TIMEOUT_MS" not in profile_env(profile)
