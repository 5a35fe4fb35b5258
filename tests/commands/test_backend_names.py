"""Every command that names a backend names a configured one by its name (and its
display name where people read it): `moai status`, `moai route`, `moai worktree
create --backend` and `list`, `moai doctor`, the commit policy and its trailer. Real
repositories, the installed `moai`, fake keys."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from moai_mashup.core.backends import resolve_profile
from moai_mashup.settings.keys import mask
from tests.gitrepo import FAKE_KEY, LLM_YAML, git, moai, settings, write
from tests.guard.test_guard_staged import install_guard
from tests.guard.test_policy_commit import commit, install_trailer_hooks, last_message
from tests.names_support import (
    DS_KEY,
    DS_URL,
    LAB_KEY,
    LAB_URL,
    save_backend_key,
    with_backends,
)
from tests.worktree_support import create, created, listing

# `ds` of tests/names_support.py: the deepseek preset with the models it names
DS = resolve_profile(
    "ds",
    {
        "preset": "deepseek",
        "models": {
            "opus": "deepseek-v4-pro",
            "sonnet": "deepseek-v4-pro",
            "haiku": "deepseek-v4-flash",
        },
    },
    "llm.yaml",
    False,
)


@pytest.fixture
def routed(repo: Path, env: dict[str, str], home: Path) -> Path:
    with_backends(repo, env)
    save_backend_key(home, "ds", DS_KEY)
    return repo


def status_json(cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    r = moai(cwd, "status", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert DS_KEY not in r.stdout and LAB_KEY not in r.stdout
    info: dict[str, Any] = json.loads(r.stdout)
    return info


def test_status_names_the_backend_its_endpoint_models_key_and_route(
    routed: Path, env: dict[str, str]
) -> None:
    wt = created(routed, env, "SPEC-DS")
    info = status_json(wt, env)
    assert info["expected_backend"] == "ds" == info["active_backend"]
    assert info["drift"] is False
    assert info["backend"] == {
        "name": "ds",
        "display": "DeepSeek",
        "base_url": DS_URL,
        "models": DS.models,
        # the one window moai tells Claude Code: the smallest of the tiers' models
        "auth_var": DS.auth_var,
        "context_window": DS.window,
        "key": {"source": "~/.moai/.env.ds", "masked": mask(DS_KEY)},
        "route": {"branch": "feature/SPEC-*", "backend": "ds", "kind": "route", "source": LLM_YAML},
    }
    # every backend beside Claude the table routes to, the one here first
    assert list(info["keys"]) == ["ds", "glm", "lab"]
    assert info["keys"]["lab"] == {"source": None}
    text = moai(wt, "status", env=env).stdout
    assert "expected:    ds  (route 'feature/SPEC-*' (llm.yaml) -> ds)" in text
    window = DS.window
    models = ", ".join(f"{t} {m}" for t, m in DS.models.items())
    assert f"backend:     DeepSeek: {DS_URL} ({models}; context {window:,} tokens)" in text
    assert f"key:         ds: {mask(DS_KEY)} from ~/.moai/.env.ds" in text
    assert "key:         lab: none (run: moai key set lab)" in text
    # beside other backends' keys glm's is named too (alone it keeps the short form)
    assert [line for line in text.splitlines() if line.startswith("key:")][1].startswith(
        "key:         glm: "
    )
    assert DS_KEY not in text
    # the main checkout: Claude, decided by the route file's last line
    info = status_json(routed, env)
    assert info["backend"]["name"] == "claude" and info["backend"]["key"] is None
    assert info["backend"]["route"]["branch"] == "*"


def test_status_fix_names_the_backends_own_key_command(routed: Path, env: dict[str, str]) -> None:
    git(routed, "checkout", "-q", "-b", "lab/x", env=env)
    info = status_json(routed, env)
    assert info["expected_backend"] == "lab" and info["drift"] is True
    # lab's endpoint is not its preset's: `moai apply` alone would leave it on Claude
    assert info["fix"] == "moai key set lab && moai trust && moai apply"
    assert moai(routed, "trust", "--yes", env=env).returncode == 0
    assert status_json(routed, env)["fix"] == "moai key set lab && moai apply"
    # a preset's own endpoint needs no trust
    git(routed, "checkout", "-q", "-b", "feature/SPEC-X", env=env)
    info = status_json(routed, env)
    assert (info["expected_backend"], info["active_backend"]) == ("ds", "claude")
    assert info["fix"] == "moai apply"


def test_route_shows_the_table_and_the_line_that_decides(routed: Path, env: dict[str, str]) -> None:
    r = moai(routed, "route", "run", "SPEC-AUTH-001", env=env)
    assert r.returncode == 0, r.stderr
    assert "backend:  ds" in r.stdout
    lines = r.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("table:"))
    assert lines[start : start + 4] == [
        "table:    feature/SPEC-*  -> ds      (llm.yaml)  <- this one",
        "          exp/*           -> glm     (llm.yaml)",
        "          lab/*           -> lab     (llm.yaml)",
        "          *               -> claude  (llm.yaml)",
    ]
    info = json.loads(moai(routed, "route", "plan", "--json", env=env).stdout)
    assert [(t["branch"], t["backend"], t["matches"]) for t in info["table"]] == [
        ("feature/SPEC-*", "ds", False),
        ("exp/*", "glm", False),
        ("lab/*", "lab", False),
        ("*", "claude", True),
    ]
    # A developer's own route (llm.local.yaml) goes first, and says where it is from.
    write(routed / ".moai/config/sections/llm.local.yaml", LOCAL_ROUTE)
    info = json.loads(moai(routed, "route", "run", "SPEC-ME-1", "--json", env=env).stdout)
    assert info["backend"] == "glm"
    assert info["table"][0] == {
        "branch": "feature/SPEC-ME-*",
        "backend": "glm",
        "kind": "route",
        "source": ".moai/config/sections/llm.local.yaml",
        "matches": True,
    }


LOCAL_ROUTE = 'llm:\n  routes:\n    - {branch: "feature/SPEC-ME-*", backend: glm}\n'


def test_route_without_routes_shows_the_modes_lines(repo: Path, env: dict[str, str]) -> None:
    r = moai(repo, "route", "run", "SPEC-A", env=env)
    assert r.returncode == 0, r.stderr
    assert "table:    main            -> claude  (mode: the default branch)" in r.stdout
    assert "          feature/SPEC-*  -> glm     (mode: SPEC branches)  <- this one" in r.stdout
    assert "          *               -> claude  (mode: any other branch)" in r.stdout


def test_create_with_backend_puts_the_worktree_on_it_whatever_the_table_says(
    routed: Path, env: dict[str, str], home: Path
) -> None:
    r = create(routed, env, "SPEC-ON-DS")  # the table's: ds
    assert r.returncode == 0, r.stderr
    assert "backend: ds" in r.stdout and DS_KEY not in r.stdout + r.stderr
    save_backend_key(home, "lab", LAB_KEY)
    # lab's custom endpoint is not trusted yet: refused before anything is made
    r = create(routed, env, "SPEC-ON-LAB", "--backend", "lab")
    assert r.returncode != 0 and r.stderr.count("\n") == 1, r.stderr
    assert "moai trust" in r.stderr and LAB_URL in r.stderr
    assert "feature/SPEC-ON-LAB" not in git(routed, "branch", env=env)
    wt = created(routed, env, "SPEC-ON-CLAUDE", "--backend", "claude")
    assert settings(wt) == {}
    rows = listing(routed, env)
    assert rows["feature/SPEC-ON-DS"]["backend_active"] == "ds"
    assert rows["feature/SPEC-ON-DS"]["backend_expected"] == "ds"
    # chosen by flag: on Claude where the table says ds (drift, by name)
    assert rows["feature/SPEC-ON-CLAUDE"]["backend_active"] == "claude"
    assert rows["feature/SPEC-ON-CLAUDE"]["backend_expected"] == "ds"
    table = moai(routed, "worktree", "list", env=env).stdout
    assert "claude (expects ds)" in table
    # the flag beats the table: a SPEC on GLM's place goes to ds
    write(routed / LLM_YAML, (routed / LLM_YAML).read_text().replace("feature/SPEC-*", "x/*"))
    git(routed, "commit", "-qam", "no spec route", env=env)
    wt = created(routed, env, "SPEC-FLAG", "--backend", "ds")
    env_block = settings(wt)["env"]
    assert env_block["ANTHROPIC_BASE_URL"] == DS_URL
    assert env_block["ANTHROPIC_AUTH_TOKEN"] == DS_KEY


def doctor(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    r = moai(cwd, "doctor", "--json", *args, env=env)
    for key in (DS_KEY, LAB_KEY, FAKE_KEY):
        assert key not in r.stdout + r.stderr
    return r.returncode, json.loads(r.stdout)


def test_doctor_checks_every_configured_backend(
    routed: Path, env: dict[str, str], home: Path
) -> None:
    code, info = doctor(routed, env)
    lines = [
        (c["status"], c["message"], c["fix"]) for c in info["checks"] if c["name"] == "backend"
    ]
    assert ("ok", f"ds (DeepSeek): {DS_URL} (known: {LLM_YAML})", None) in lines
    assert ("ok", f"ds (DeepSeek): key {mask(DS_KEY)} from ~/.moai/.env.ds", None) in lines
    untrusted = [m for s, m, f in lines if s == "fail" and m.startswith("lab (Lab): ")]
    assert untrusted[0].startswith(f"lab (Lab): {LAB_URL} is not its preset's endpoint")
    assert ("fail", "lab (Lab): no key found", "moai key set lab") in lines
    assert code == 1
    save_backend_key(home, "lab", LAB_KEY)
    r = moai(routed, "trust", "--yes", env=env)
    assert r.returncode == 0 and LAB_URL in r.stdout, r.stdout + r.stderr
    code, info = doctor(routed, env)
    now = [(c["status"], c["message"]) for c in info["checks"] if c["name"] == "backend"]
    assert ("ok", f"lab (Lab): {LAB_URL} (trusted here)") in now
    assert ("ok", f"lab (Lab): key {mask(LAB_KEY)} from ~/.moai/.env.lab") in now
    (home / ".moai" / ".env.lab").chmod(0o644)
    code, info = doctor(routed, env)
    bad = [c for c in info["checks"] if c["name"] == "key file" and c["status"] == "fail"]
    assert bad and bad[0]["fix"] == f"chmod 600 {home / '.moai' / '.env.lab'}"


def test_doctor_credential_and_drift_on_a_configured_backend(
    routed: Path, env: dict[str, str]
) -> None:
    wt = created(routed, env, "SPEC-DS")
    _code, info = doctor(wt, env)
    [cred] = [c for c in info["checks"] if c["name"] == "credential"]
    assert cred["status"] == "ok", cred
    assert cred["message"] == f"Claude Code sends Bearer: the DeepSeek key {mask(DS_KEY)}; " + (
        "x-api-key: nothing"
    )
    [drift] = [c for c in info["checks"] if c["name"] == "drift"]
    assert (drift["status"], drift["message"]) == ("ok", "active ds, as the table expects")
    # ds's key on the main checkout, where the table wants Claude: a leak
    assert moai(routed, "apply", env=env).returncode == 0
    write(
        routed / ".claude/settings.local.json", json.dumps({"env": {"ANTHROPIC_API_KEY": DS_KEY}})
    )
    _code, info = doctor(routed, env)
    [cred] = [c for c in info["checks"] if c["name"] == "credential"]
    assert cred["status"] == "fail" and f"the DeepSeek key {mask(DS_KEY)}" in cred["message"]


FAKE_CLAUDE = """\
import json, os, socket, sys
from urllib.parse import urlsplit
# What Claude Code does under `moai doctor --live`: reads the worktree's settings, opens
# its connection through the proxy with CONNECT, names its model in the init event.
env = json.load(open(".claude/settings.local.json")).get("env", {})
url = urlsplit(env.get("ANTHROPIC_BASE_URL", "https://api.anthropic.com"))
proxy = urlsplit(os.environ["HTTPS_PROXY"])
with socket.create_connection((proxy.hostname, proxy.port)) as s:
    host = f"{url.hostname}:443"
    s.sendall(f"CONNECT {host} HTTP/1.1\\r\\nHost: {host}\\r\\n\\r\\n".encode())
    s.recv(1024)
model = env.get("ANTHROPIC_DEFAULT_OPUS_MODEL", "claude-opus-4-5")
print(json.dumps({"type": "system", "model": model, "claude_code_version": "9.9.9"}))
"""


def test_doctor_live_names_the_backends_endpoint(
    routed: Path, env: dict[str, str], tmp_path: Path
) -> None:
    claude = write(tmp_path / "bin" / "claude", f"#!{sys.executable}\n{FAKE_CLAUDE}")
    claude.chmod(0o755)
    wt = created(routed, env, "SPEC-DS")
    code, info = doctor(wt, env, "--live", "--claude", str(claude))
    [live] = [c for c in info["checks"] if c["name"] == "live"]
    assert info["live"]["hosts"] == ["api.deepseek.com:443"]
    assert live["status"] == "ok", live
    assert f"(the DeepSeek endpoint), model {DS.models['opus']}" in live["message"]
    # The same settings where the table wants Claude: DeepSeek's endpoint is a failure.
    write(routed / ".claude/settings.local.json", (wt / ".claude/settings.local.json").read_text())
    code, info = doctor(routed, env, "--live", "--claude", str(claude))
    [live] = [c for c in info["checks"] if c["name"] == "live"]
    assert code == 1 and live["status"] == "fail" and "(the DeepSeek endpoint)" in live["message"]


def test_policy_checks_and_the_trailer_name_a_configured_backend(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    policy = "  policy:\n    require_backend_match: true\n    commit_trailer: true\n"
    with_backends(repo, env, policy)
    save_backend_key(home, "ds", DS_KEY)
    install_guard(repo)
    install_trailer_hooks(repo)
    git(repo, "checkout", "-q", "-b", "feature/SPEC-DS", env=env)  # no hook: still Claude's
    write(repo / "a.txt", "a\n")
    git(repo, "add", "a.txt", env=env)
    r = commit(repo, env, "-m", "on claude where ds is expected")
    assert r.returncode != 0
    assert (
        "policy require_backend_match: this worktree is on claude, the routing table "
        + ("expects ds here (route 'feature/SPEC-*' (llm.yaml) -> ds); run: moai apply")
        in r.stderr
    )
    assert moai(repo, "apply", env=env).returncode == 0
    assert commit(repo, env, "-m", "on ds").returncode == 0
    trailer = f"\n\nLLM-Backend: ds ({DS.models['opus']})"
    assert last_message(repo, env).rstrip().endswith(trailer)
