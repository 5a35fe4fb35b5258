"""`moai status [--json]`: every field of the issue, text and JSON telling the same story."""

from __future__ import annotations

import json
from pathlib import Path

from moai_mashup.settings.keys import mask
from tests.core_fixtures import status_json
from tests.gitrepo import (
    FAKE_KEY,
    LLM_LOCAL_YAML,
    LLM_YAML,
    SEED_LLM_YAML,
    SETTINGS,
    git,
    moai,
    write,
)

FIELDS = {
    "mode",
    "mode_source",
    "configured",
    "branch",
    "detached",
    "worktree",
    "linked_worktree",
    "main_checkout_override",
    "expected_backend",
    "active_backend",
    "why",
    "drift",
    "fix",
    "stale_keys",
    "hand_set_base_url",
    "stray_glm",
    "settings_file",
    "settings_error",
    "key",
    "keys",
    "backend",
    "credential_mode",
    "hooks_installed",
    "env_warnings",
    "config_warnings",
}


def test_json_has_every_field_and_text_says_the_same(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    info = status_json(repo, env)
    assert set(info) == FIELDS
    assert info["mode"] == "mashup" and info["mode_source"] == LLM_YAML
    assert info["branch"] == "main" and info["detached"] is False
    assert Path(info["worktree"]) == repo.resolve() and info["linked_worktree"] is False
    assert info["expected_backend"] == "claude" and info["active_backend"] == "claude"
    assert info["drift"] is False and info["fix"] is None
    assert info["key"] == {"source": "~/.moai/.env.glm", "masked": mask(FAKE_KEY)}
    assert info["credential_mode"] == "inline"
    assert info["hooks_installed"] is False
    assert info["env_warnings"] == [] and info["config_warnings"] == []
    assert info["main_checkout_override"] is None

    r = moai(repo, "status", env=env)
    assert r.returncode == 0 and r.stderr == ""
    text = r.stdout
    for label, value in [
        ("mode:", f"mashup (from {LLM_YAML})"),
        ("branch:", "main"),
        ("worktree:", str(repo.resolve())),
        ("expected:", "claude"),
        ("active:", "claude"),
        ("drift:", "no"),
        ("key:", f"{mask(FAKE_KEY)} from ~/.moai/.env.glm"),
        ("credentials:", "inline"),
        ("hooks:", "not installed"),
    ]:
        line = next(ln for ln in text.splitlines() if ln.startswith(label))
        assert value in line, (label, line)
    assert FAKE_KEY not in text


def test_drift_and_the_command_that_fixes_it(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    # without hooks, a checkout does not switch: status shows the drift and the fix
    git(repo, "checkout", "-q", "-b", "feature/SPEC-AUTH-001", env=env)
    info = status_json(repo, env)
    assert (info["expected_backend"], info["active_backend"]) == ("glm", "claude")
    assert info["drift"] is True and info["fix"] == "moai apply"
    assert "feature/SPEC-*" in info["why"]
    assert "yes; fix: moai apply" in moai(repo, "status", env=env).stdout
    r = moai(repo, info["fix"].split()[1], env=env)
    assert r.returncode == 0, r.stderr
    info = status_json(repo, env)
    assert (info["active_backend"], info["drift"], info["fix"]) == ("glm", False, None)
    # back on main: GLM is drift now
    git(repo, "checkout", "-q", "main", env=env)
    info = status_json(repo, env)
    assert (info["expected_backend"], info["active_backend"], info["drift"]) == (
        "claude",
        "glm",
        True,
    )


def test_drift_without_a_key_says_to_set_one(repo: Path, env: dict[str, str]) -> None:
    git(repo, "checkout", "-q", "-b", "feature/SPEC-X1", env=env)
    info = status_json(repo, env)
    assert info["key"] == {"source": None}
    assert info["fix"] == "moai glm --set-key && moai apply"
    assert "none (run: moai glm --set-key)" in moai(repo, "status", env=env).stdout


def test_detached_head_expects_nothing(repo: Path, env: dict[str, str]) -> None:
    git(repo, "checkout", "-q", "--detach", env=env)
    info = status_json(repo, env)
    assert info["branch"] is None and info["detached"] is True
    assert info["expected_backend"] is None and info["drift"] is False
    assert "(detached HEAD)" in moai(repo, "status", env=env).stdout


def test_mode_sources(repo: Path, env: dict[str, str]) -> None:
    write(repo / LLM_LOCAL_YAML, "llm:\n  mode: glm-only\n")
    info = status_json(repo, env)
    assert (info["mode"], info["mode_source"], info["expected_backend"]) == (
        "glm-only",
        LLM_LOCAL_YAML,
        "glm",
    )
    info = status_json(repo, {**env, "MOAI_LLM_MODE": "claude-only"})
    assert (info["mode"], info["mode_source"]) == ("claude-only", "MOAI_LLM_MODE")
    (repo / LLM_YAML).unlink()
    (repo / LLM_LOCAL_YAML).unlink()
    info = status_json(repo, env)
    assert (info["mode_source"], info["configured"]) == ("default", False)
    assert "moai init" in moai(repo, "status", env=env).stdout


def test_linked_worktree(repo: Path, env: dict[str, str], tmp_path: Path) -> None:
    linked = tmp_path / "wt-spec"
    git(repo, "worktree", "add", "-q", "-b", "feature/SPEC-W1", str(linked), env=env)
    info = status_json(linked, env)
    assert info["linked_worktree"] is True
    assert Path(info["worktree"]) == linked.resolve()
    assert info["branch"] == "feature/SPEC-W1" and info["expected_backend"] == "glm"


def test_helper_credential_mode_shown(repo: Path, env: dict[str, str]) -> None:
    write(repo / LLM_YAML, SEED_LLM_YAML + "  credential_mode: helper\n")
    assert status_json(repo, env)["credential_mode"] == "helper"


def test_hooks_installed_honours_core_hooks_path(repo: Path, env: dict[str, str]) -> None:
    hook = write(repo / ".git" / "hooks" / "post-checkout", "#!/bin/sh\n# moai-mashup\n")
    hook.chmod(0o755)
    assert status_json(repo, env)["hooks_installed"] is True
    # with core.hooksPath elsewhere, git ignores .git/hooks: so must status
    git(repo, "config", "core.hooksPath", ".githooks", env=env)
    assert status_json(repo, env)["hooks_installed"] is False
    write(repo / ".githooks" / "post-checkout", "#!/bin/sh\n# moai-mashup\n").chmod(0o755)
    assert status_json(repo, env)["hooks_installed"] is True
    # a foreign hook is not ours
    write(repo / ".githooks" / "post-checkout", "#!/bin/sh\necho hi\n")
    assert status_json(repo, env)["hooks_installed"] is False


def test_warns_about_exported_anthropic_variables(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    shell = {
        **env,
        "ANTHROPIC_BASE_URL": "https://elsewhere.example.invalid",
        "ANTHROPIC_AUTH_TOKEN": FAKE_KEY,
    }
    info = status_json(repo, shell)
    warnings = info["env_warnings"]
    assert len(warnings) == 2
    assert any("$ANTHROPIC_BASE_URL=https://elsewhere.example.invalid" in w for w in warnings)
    assert any(f"$ANTHROPIC_AUTH_TOKEN={mask(FAKE_KEY)}" in w for w in warnings)
    r = moai(repo, "status", env=shell)
    assert r.stdout.count("warning:") == 2
    assert FAKE_KEY not in r.stdout + r.stderr
    # once on GLM the settings carry the same token: only the differing URL is warned
    assert moai(repo, "glm", env=env).returncode == 0
    warnings = status_json(repo, shell)["env_warnings"]
    assert len(warnings) == 1 and "ANTHROPIC_BASE_URL" in warnings[0]
    assert "overridden by" in warnings[0]


def test_json_is_one_object(repo: Path, env: dict[str, str]) -> None:
    r = moai(repo, "status", "--json", env=env)
    assert isinstance(json.loads(r.stdout), dict)


def test_outside_a_repository(tmp_path: Path, env: dict[str, str]) -> None:
    r = moai(tmp_path, "status", env=env)
    assert r.returncode == 2 and "not inside a git worktree" in r.stderr


def test_exported_secrets_masked_and_credentials_flagged_on_glm(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    headers = "x-api-key: custom-header-secret-TESTONLY"
    user_key = "sk-ant-user-own-key-TESTONLY-0000"
    shell = {
        **env,
        "ANTHROPIC_CUSTOM_HEADERS": headers,
        "ANTHROPIC_API_KEY": user_key,
        "ANTHROPIC_MODEL": "claude-opus-4",
    }
    r = moai(repo, "status", env=shell)
    assert headers not in r.stdout and user_key not in r.stdout
    assert "claude-opus-4" in r.stdout  # model names are not secrets
    assert "GLM endpoint" not in r.stdout
    # on GLM the settings blank ANTHROPIC_API_KEY: the exported one is overridden
    assert moai(repo, "glm", env=env).returncode == 0
    warnings = status_json(repo, shell)["env_warnings"]
    flagged = [w for w in warnings if "ANTHROPIC_API_KEY" in w]
    assert len(flagged) == 1 and "overridden by" in flagged[0]
    assert user_key not in json.dumps(warnings)
    # if the blank is removed by hand, the exported key would reach GLM: say so
    doc = json.loads((repo / SETTINGS).read_text())
    del doc["env"]["ANTHROPIC_API_KEY"]
    (repo / SETTINGS).write_text(json.dumps(doc))
    warnings = status_json(repo, shell)["env_warnings"]
    flagged = [w for w in warnings if "ANTHROPIC_API_KEY" in w]
    assert len(flagged) == 1 and "GLM endpoint" in flagged[0] and "unset" in flagged[0]
