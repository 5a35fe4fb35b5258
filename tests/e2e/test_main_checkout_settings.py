"""The main checkout's settings.local.json in linked worktrees, on each pinned Claude Code.

Claude Code 2.1.332 applies the main checkout's `.claude/settings.local.json`
inside every linked worktree, over the worktree's own, key by key; 2.1.197
reads the worktree's only. Where that defeats the routing, moai says so (the
checkout or `moai worktree create`, `moai status`, `moai doctor`) and `moai
settings move-to-user` moves the user's own keys on their word.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.e2e import claude_cli
from tests.e2e.conftest import GLM_MODELS, Stage
from tests.e2e.test_claude_code_routing import assert_claude, assert_glm
from tests.gitrepo import FAKE_KEY, SETTINGS, moai, write

PROXY_TOKEN = "fake-proxy-token.TESTONLYnotreal"


def merges_main(stage: Stage) -> bool:
    return claude_cli.version_key(stage.claude_version) >= (2, 1, 332)


def test_a_proxy_of_the_users_in_the_main_checkout_is_reported_then_moved(stage: Stage) -> None:
    # docs/claude-code.md's own case: the user's proxy and its token in the main checkout
    # (and nothing in ~/.claude/settings.json: that is where they move to).
    mine = {"env": {"ANTHROPIC_BASE_URL": stage.claude.url, "ANTHROPIC_AUTH_TOKEN": PROXY_TOKEN}}
    write(stage.repo / SETTINGS, json.dumps(mine, indent=2) + "\n")
    write(stage.home / ".claude" / "settings.json", "{}\n")
    made = stage.run_moai(stage.repo, "worktree", "create", "SPEC-P")
    assert "moai settings move-to-user" in made.stdout + made.stderr
    spec = Path(stage.run_moai(stage.repo, "worktree", "path", "SPEC-P").stdout.strip())

    status = json.loads(stage.run_moai(spec, "status", "--json").stdout)
    found = status["main_checkout_override"]
    assert found["keys"] == ["env.ANTHROPIC_BASE_URL", "env.ANTHROPIC_AUTH_TOKEN"]
    assert found["fix"] == "moai settings move-to-user"
    doctor = moai(spec, "doctor", env=stage.env)
    assert doctor.returncode == 1
    assert (
        str(stage.repo / SETTINGS) in doctor.stdout and "env.ANTHROPIC_AUTH_TOKEN" in doctor.stdout
    )
    assert PROXY_TOKEN not in doctor.stdout + doctor.stderr + json.dumps(status)

    seen = stage.ask(spec)
    if merges_main(stage):  # what moai reports: the user's proxy wins in the SPEC worktree
        assert seen.claude and not seen.glm, seen
        assert seen.claude[0].authorization == f"Bearer {PROXY_TOKEN}"
    else:
        assert_glm(seen, "opus")

    # Without a terminal and without --yes nothing moves.
    refused = moai(stage.repo, "settings", "move-to-user", env=stage.env)
    assert refused.returncode != 0 and "--yes" in refused.stderr
    assert json.loads((stage.repo / SETTINGS).read_text()) == mine

    moved = stage.run_moai(stage.repo, "settings", "move-to-user", "--yes")
    assert PROXY_TOKEN not in moved.stdout + moved.stderr
    assert json.loads((stage.repo / SETTINGS).read_text()) == {}
    home = json.loads((stage.home / ".claude" / "settings.json").read_text())
    assert home["env"]["ANTHROPIC_AUTH_TOKEN"] == PROXY_TOKEN

    assert_glm(stage.ask(spec), "opus")
    seen = stage.ask(stage.repo)
    assert seen.claude and not seen.glm, seen
    assert seen.claude[0].authorization == f"Bearer {PROXY_TOKEN}"
    assert (
        json.loads(stage.run_moai(spec, "status", "--json").stdout)["main_checkout_override"]
        is None
    )


def test_move_to_user_never_overwrites_a_different_value_of_the_users(stage: Stage) -> None:
    write(stage.repo / SETTINGS, json.dumps({"env": {"ANTHROPIC_AUTH_TOKEN": PROXY_TOKEN}}))
    before = (stage.home / ".claude" / "settings.json").read_bytes()
    r = moai(stage.repo, "settings", "move-to-user", "--yes", env=stage.env)
    assert r.returncode != 0 and "env.ANTHROPIC_AUTH_TOKEN" in r.stderr
    assert (stage.home / ".claude" / "settings.json").read_bytes() == before
    assert json.loads((stage.repo / SETTINGS).read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == (
        PROXY_TOKEN
    )


def test_a_main_checkout_on_glm_is_said_in_its_linked_worktrees(
    stage: Stage, tmp_path: Path
) -> None:
    other = stage.worktree_add(tmp_path / "worktrees" / "chore", "chore/x")
    assert_claude(stage.ask(other))
    r = subprocess.run(
        ["git", "checkout", "-b", "feature/SPEC-M"],
        cwd=stage.repo,
        env=stage.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "linked worktree" in r.stderr, r.stderr
    status = json.loads(stage.run_moai(other, "status", "--json").stdout)
    assert status["main_checkout_override"]["moai_keys"] is True
    # GLM's context window is among them: on 2.1.332 it caps this Claude worktree too.
    assert "env.CLAUDE_CODE_MAX_CONTEXT_TOKENS" in status["main_checkout_override"]["keys"]
    assert moai(other, "doctor", env=stage.env).returncode == 1
    seen = stage.ask(other)
    if merges_main(stage):  # cannot hold: the main checkout's GLM keys win there
        assert seen.glm and not seen.claude, seen
        assert seen.glm[0].authorization == f"Bearer {FAKE_KEY}"
        assert seen.glm[0].model == GLM_MODELS["opus"]
    else:
        assert_claude(seen)
