"""What moai does about Claude Code as people run it today, without the real CLI:
the model tier written on GLM, the main checkout's settings seen from linked
worktrees, `moai settings move-to-user`, and the installed version in `moai doctor`.
(tests/e2e proves each against Claude Code 2.1.197 and 2.1.332.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from moai_mashup.core.model_pin import glm_tier, pinned_model, tier_of
from tests.gitrepo import FAKE_KEY, SETTINGS, git, moai, settings, write

TEMPLATE = {
    "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-4.7",
    "ANTHROPIC_DEFAULT_SONNET_MODEL": "glm-4.6",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": "glm-4.5-air",
}


@pytest.mark.parametrize(
    ("model", "tier"),
    [
        ("claude-opus-4-5-20251101", "opus"),
        ("sonnet[1m]", "sonnet"),
        ("claude-haiku-4-5", "haiku"),
        ("HAIKU", "haiku"),
        ("glm-4.6", "sonnet"),
        ("opusplan", "opus"),
        ("default", None),
        ("", None),
    ],
)
def test_tier_of(model: str, tier: str | None) -> None:
    assert tier_of(model, TEMPLATE) == tier


def test_pinned_model_follows_claude_codes_precedence() -> None:
    local = {"model": "haiku"}
    project = {"env": {"ANTHROPIC_MODEL": "claude-sonnet-4-6"}}
    user = {"model": "claude-opus-4-5", "env": {"ANTHROPIC_MODEL": ""}}
    # any settings level's env.ANTHROPIC_MODEL, then the exported one, then `model`
    assert pinned_model([local, project, user], "claude-opus-9") == "claude-sonnet-4-6"
    assert pinned_model([local, {}, user], "claude-opus-9") == "claude-opus-9"
    assert pinned_model([local, {}, user], None) == "haiku"
    assert pinned_model([{}, {}, {"model": 5}], "") is None
    assert glm_tier([{}, {}, {}], None, TEMPLATE) == "opus"
    assert glm_tier([{}, {}, {"model": "claude-haiku-4-5"}], None, TEMPLATE) == "haiku"


def _glm(repo: Path, env: dict[str, str]) -> None:
    r = moai(repo, "apply", env=env)
    assert r.returncode == 0, r.stderr


def test_glm_writes_the_pins_tier_and_switching_back_restores_the_users_own(
    repo: Path, env: dict[str, str], keyed_home: str, home: Path
) -> None:
    write(home / ".claude" / "settings.json", json.dumps({"model": "claude-haiku-4-5"}))
    mine = {"env": {"ANTHROPIC_MODEL": "claude-sonnet-4-6"}, "model": "claude-opus-4-5"}
    write(repo / SETTINGS, json.dumps(mine))
    git(repo, "checkout", "-q", "-b", "feature/SPEC-X", env=env)
    _glm(repo, env)
    assert settings(repo)["env"]["ANTHROPIC_MODEL"] == "sonnet"
    assert settings(repo)["model"] == "claude-opus-4-5"  # beaten by env.ANTHROPIC_MODEL
    _glm(repo, env)  # idempotent: our own value is not taken for the user's pin
    assert settings(repo)["env"]["ANTHROPIC_MODEL"] == "sonnet"
    git(repo, "checkout", "-q", "main", env=env)
    _glm(repo, env)
    assert settings(repo) == mine


def _linked(repo: Path, env: dict[str, str], branch: str) -> Path:
    path = repo.parent / "wt" / branch.replace("/", "-")
    git(repo, "worktree", "add", "-q", "-b", branch, str(path), env=env)
    return path


def test_status_and_doctor_name_the_users_keys_in_the_main_checkout(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(
        repo / SETTINGS,
        json.dumps({"apiKeyHelper": "echo mine", "env": {"ANTHROPIC_API_KEY": "", "X": "1"}}),
    )
    spec = _linked(repo, env, "feature/SPEC-A")
    _glm(spec, env)
    status = json.loads(moai(spec, "status", "--json", env=env).stdout)
    assert status["main_checkout_override"]["keys"] == ["apiKeyHelper"]  # "" is ours too
    text = moai(spec, "status", env=env).stdout
    assert "conflict:" in text and "moai settings move-to-user" in text
    doctor = moai(spec, "doctor", env=env)
    assert doctor.returncode == 1
    assert f"{repo / SETTINGS}: apiKeyHelper" in doctor.stdout
    # a Claude worktree is not concerned by the user's own keys
    other = _linked(repo, env, "chore/b")
    status = json.loads(moai(other, "status", "--json", env=env).stdout)
    assert status["main_checkout_override"] is None


def test_a_bare_repositorys_worktrees_have_no_main_checkout(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare), env=env)
    write(bare.parent / SETTINGS, json.dumps({"env": {"ANTHROPIC_BASE_URL": "http://x"}}))
    spec = tmp_path / "spec"
    git(bare, "worktree", "add", "-q", "-b", "feature/SPEC-B", str(spec), env=env)
    status = json.loads(moai(spec, "status", "--json", env=env).stdout)
    assert status["main_checkout_override"] is None


def test_move_to_user_moves_only_routing_keys_and_keeps_the_rest(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    token = "fake-proxy-token.TESTONLYnotreal"
    text = (
        '{\n    "permissions": {"deny": ["Bash(rm:*)"]},\n    "env": {\n'
        f'        "ANTHROPIC_AUTH_TOKEN": "{token}",\n'
        '        "ANTHROPIC_CUSTOM_HEADERS": "x-a: b"\n    }\n}\n'
    )
    write(repo / SETTINGS, text)
    user = write(home / ".claude" / "settings.json", '{"theme": "dark"}\n')
    spec = _linked(repo, env, "feature/SPEC-C")
    r = moai(spec, "settings", "move-to-user", input="n\n", env=env)
    assert r.returncode != 0  # not a terminal: --yes is required
    assert (repo / SETTINGS).read_text() == text
    r = moai(spec, "settings", "move-to-user", "--yes", env=env)
    assert r.returncode == 0, r.stderr
    assert token not in r.stdout + r.stderr
    assert json.loads((repo / SETTINGS).read_text()) == {
        "permissions": {"deny": ["Bash(rm:*)"]},
        "env": {"ANTHROPIC_CUSTOM_HEADERS": "x-a: b"},
    }
    assert (repo / SETTINGS).read_text().splitlines()[1].startswith("    ")  # its indent
    assert json.loads(user.read_text()) == {"theme": "dark", "env": {"ANTHROPIC_AUTH_TOKEN": token}}
    assert os.stat(user).st_mode & 0o077 == 0
    again = moai(spec, "settings", "move-to-user", "--yes", env=env)
    assert again.returncode == 0 and "nothing to move" in again.stdout


def test_move_to_user_refuses_while_the_main_checkout_holds_moais_keys(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    git(repo, "checkout", "-q", "-b", "feature/SPEC-D", env=env)
    _glm(repo, env)
    before = (repo / SETTINGS).read_bytes()
    r = moai(repo, "settings", "move-to-user", "--yes", env=env)
    assert r.returncode != 0 and "default branch" in r.stderr
    assert (repo / SETTINGS).read_bytes() == before
    assert FAKE_KEY not in r.stdout + r.stderr


def _fake_claude(bin_dir: Path, body: str) -> None:
    path = write(bin_dir / "claude", "#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ('echo "2.1.332 (Claude Code)"', "ok", "in the tested range"),
        ('echo "2.1.112 (Claude Code)"', "warn", "outside the range"),
        ("exit 3", "warn", "said no version"),
        ("exec sleep 30", "warn", "did not answer"),
    ],
)
def test_doctor_reports_the_installed_claude_code(
    repo: Path, env: dict[str, str], tmp_path: Path, body: str, status: str, says: str
) -> None:
    _fake_claude(tmp_path / "bin", body)
    env = dict(env, PATH=f"{tmp_path / 'bin'}{os.pathsep}{env['PATH']}")
    r = moai(repo, "doctor", "--json", env=env)
    checks = [c for c in json.loads(r.stdout)["checks"] if c["name"] == "claude code"]
    assert [c["status"] for c in checks] == [status]
    assert says in checks[0]["message"]
    assert "2.1.197 to 2.1.332" in checks[0]["message"] or status == "ok"


def test_the_prepared_switch_says_what_linked_worktrees_will_get(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    from tests.githooks.test_hooks_prepared import _checkout, _settle
    from tests.hooks_support import age

    _linked(repo, env, "chore/x")
    # the admin dir and each linked worktree's HEAD (its branch decides the note)
    age(repo / ".git" / "worktrees", *(repo / ".git" / "worktrees").rglob("*"))
    _settle(repo, env, home)
    for _ in range(2):
        prepared, lines = _checkout(repo, "feature/SPEC-1", env)
        assert prepared and len(lines) == 2, lines
        assert "1 linked worktree(s) meant for Claude" in lines[1] and "GLM keys" in lines[1]
        prepared, lines = _checkout(repo, "main", env)
        assert prepared and len(lines) == 1, lines
