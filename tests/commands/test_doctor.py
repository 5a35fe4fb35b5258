"""`moai doctor` (without --live) on real repositories: each check fails when it should."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.gitrepo import FAKE_KEY, SETTINGS, git, moai, write


def doctor(repo: Path, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    r = moai(repo, "doctor", "--json", env=env)
    assert FAKE_KEY not in r.stdout + r.stderr
    return r.returncode, json.loads(r.stdout)


def by_name(info: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [c for c in info["checks"] if c["name"] == name]


def test_healthy_repo_passes(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    git(repo, "checkout", "-q", "-b", "feature/SPEC-X", env=env)
    assert moai(repo, "apply", env=env).returncode == 0
    code, info = doctor(repo, env)
    assert code == 0, info
    assert info["ok"] is True
    assert by_name(info, "drift")[0]["status"] == "ok"
    assert by_name(info, "credential")[0]["status"] == "ok"
    assert (
        by_name(info, "key")[0]["message"]
        == f"{FAKE_KEY[:4]}…{FAKE_KEY[-4:]} from ~/.moai/.env.glm"
    )
    text = moai(repo, "doctor", env=env)
    assert text.returncode == 0 and "hooks" in text.stdout and FAKE_KEY not in text.stdout


def test_drift_fails_with_the_fix(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    assert moai(repo, "glm", env=env).returncode == 0  # GLM by hand on main
    code, info = doctor(repo, env)
    assert code == 1
    drift = by_name(info, "drift")[0]
    assert drift["status"] == "fail" and drift["fix"] == "moai apply"
    # On main the GLM key would go out where the table expects Claude.
    assert by_name(info, "credential")[0]["status"] == "fail"


def test_key_file_readable_by_others_fails(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    (home / ".moai" / ".env.glm").chmod(0o644)
    code, info = doctor(repo, env)
    assert code == 1
    assert by_name(info, "key file")[0]["fix"] == f"chmod 600 {home / '.moai' / '.env.glm'}"


def test_settings_claude_code_would_ignore_fail(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / SETTINGS, json.dumps({"model": 5}))
    code, info = doctor(repo, env)
    assert code == 1
    bad = [c for c in by_name(info, "settings") if c["status"] == "fail"]
    assert len(bad) == 1 and "model: must be a string" in bad[0]["message"]
    assert "silently ignores" in bad[0]["message"]


def test_tracked_settings_file_fails(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    write(repo / SETTINGS, "{}\n")
    git(repo, "add", "-f", SETTINGS, env=env)
    git(repo, "commit", "-qm", "oops", env=env)
    code, info = doctor(repo, env)
    assert code == 1
    assert by_name(info, "privacy")[0]["fix"] == f"git rm --cached {SETTINGS}"


def test_untrusted_endpoint_fails_in_mashup(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    glm = repo / ".moai/llm-configs/glm.json"
    glm.write_text(
        glm.read_text().replace("https://api.z.ai/api/anthropic", "https://evil.invalid")
    )
    code, info = doctor(repo, env)
    assert code == 1
    assert by_name(info, "glm endpoint")[0]["fix"].endswith("moai trust")


def test_no_key_fails_only_when_glm_is_used(repo: Path, env: dict[str, str]) -> None:
    code, info = doctor(repo, env)
    assert code == 1 and by_name(info, "key")[0]["status"] == "fail"
    env = dict(env, MOAI_LLM_MODE="claude-only")
    code, info = doctor(repo, env)
    assert code == 0, info
    assert by_name(info, "key")[0]["status"] == "info"


def test_a_home_token_beating_the_key_helper_fails(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    # Claude Code sends an ANTHROPIC_AUTH_TOKEN from any level before apiKeyHelper's
    # output (tests/e2e): a helper set without blanking the token sends the user's token.
    write(home / ".claude/settings.json", json.dumps({"env": {"ANTHROPIC_AUTH_TOKEN": "tok"}}))
    git(repo, "checkout", "-q", "-b", "feature/SPEC-X", env=env)
    doc = {
        "env": {"ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic"},
        "apiKeyHelper": f"python3 -m moai_mashup.settings.key_helper {repo}",
    }
    write(repo / SETTINGS, json.dumps(doc))
    code, info = doctor(repo, env)
    assert code == 1
    credential = by_name(info, "credential")[0]
    assert credential["status"] == "fail" and "non-GLM credential" in credential["message"]


def test_subdirectory_warns_where_to_start_claude(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    r = moai(sub, "doctor", "--json", env=env)
    cwd = by_name(json.loads(r.stdout), "cwd")
    assert r.returncode == 0 and cwd[0]["status"] == "warn"
    assert cwd[0]["fix"] == f"start claude in {repo.resolve()}"


def test_outside_a_repository_is_one_line_bad_input(tmp_path: Path, env: dict[str, str]) -> None:
    r = moai(tmp_path, "doctor", env=env)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "not inside a git worktree" in r.stderr


def test_live_refused_when_a_settings_file_sets_its_own_proxy(
    repo: Path, env: dict[str, str], home: Path, tmp_path: Path, keyed_home: str
) -> None:
    """A proxy set in a settings file beats the probe's: `--live` must not start Claude Code."""
    mark = tmp_path / "claude-ran"
    claude = write(tmp_path / "bin" / "claude", f'#!/bin/sh\necho ran >> "{mark}"\nexit 1\n')
    claude.chmod(0o755)
    live_env = dict(env, HTTPS_PROXY="http://127.0.0.1:9")

    def live() -> tuple[int, dict[str, Any]]:
        r = moai(repo, "doctor", "--live", "--json", "--claude", str(claude), env=live_env)
        return r.returncode, json.loads(r.stdout)

    # Without a proxy in any settings file the probe runs this very binary.
    code, info = live()
    assert mark.exists(), info
    mark.unlink()
    levels = [home / ".claude/settings.json", repo / ".claude/settings.json", repo / SETTINGS]
    for path, name in zip(levels, ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"], strict=True):
        write(path, json.dumps({"env": {name: "http://proxy.example.invalid:3128"}}))
        code, info = live()
        assert code != 0
        [check] = by_name(info, "live")
        assert check["status"] == "fail"
        assert f"a settings file sets {name}, which beats the probe's proxy" in check["message"]
        assert not mark.exists(), f"Claude Code ran although {path} sets {name}"
        path.unlink()


def test_live_refused_when_a_settings_file_sets_no_proxy(
    repo: Path, env: dict[str, str], tmp_path: Path, keyed_home: str
) -> None:
    """A NO_PROXY in a settings file (a backend's extra env, the user's own) would let
    Claude Code past the probe's proxy to the endpoint, key and all: not run."""
    mark = tmp_path / "claude-ran"
    claude = write(tmp_path / "bin" / "claude", f'#!/bin/sh\necho ran >> "{mark}"\nexit 1\n')
    claude.chmod(0o755)
    for name in ("NO_PROXY", "no_proxy"):
        write(repo / SETTINGS, json.dumps({"env": {name: "*"}}))
        r = moai(repo, "doctor", "--live", "--json", "--claude", str(claude), env=env)
        [check] = by_name(json.loads(r.stdout), "live")
        assert r.returncode == 1 and check["status"] == "fail"
        assert f"a settings file sets {name}" in check["message"]
        assert not mark.exists()


def test_a_bad_config_is_not_reported_as_a_detached_head(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    assert moai(repo, "glm", env=env).returncode == 0
    write(repo / ".moai/config/sections/llm.yaml", "llm:\n  mode: turbo\n")
    code, info = doctor(repo, env)
    assert code == 1 and by_name(info, "config")[0]["status"] == "fail"
    drift = by_name(info, "drift")[0]
    assert drift["message"] == "active glm; the routing table cannot be read (config)"


def test_a_backend_beside_glm_is_named_and_glm_not_asked_for(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    """A repository routing SPEC branches to Kimi: no GLM key is needed (no fix offered),
    the model note names Kimi, and a removed Kimi key leaves a fix that works."""
    routes = (
        "  backends:\n    kimi: {preset: moonshot}\n  routes:\n"
        "    - {branch: 'feature/SPEC-*', backend: kimi}\n    - {branch: '*', backend: claude}\n"
    )
    llm = repo / ".moai/config/sections/llm.yaml"
    write(llm, llm.read_text() + routes)
    git(repo, "checkout", "-q", "-b", "feature/SPEC-X", env=env)
    r = moai(repo, "key", "set", "kimi", env=env, input=FAKE_KEY)
    assert r.returncode == 0, r.stderr
    assert moai(repo, "apply", env=env).returncode == 0
    code, info = doctor(repo, env)
    assert code == 0, info
    [key] = by_name(info, "key")
    assert key == {
        "status": "info",
        "name": "key",
        "message": "no GLM key found; none needed: no branch goes to glm here",
        "fix": None,
    }
    [model] = by_name(info, "model")
    assert "on Kimi (Moonshot) (env.ANTHROPIC_MODEL)" in model["message"]
    assert "reaches Kimi (Moonshot) as is" in model["message"]

    assert moai(repo, "key", "remove", "kimi", env=env).returncode == 0
    code, info = doctor(repo, env)
    assert code == 1
    [credential] = by_name(info, "credential")
    assert credential["status"] == "fail"
    assert credential["fix"] == "moai key set kimi && moai apply"  # `moai apply` alone fails
