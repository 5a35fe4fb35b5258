"""The routing, proven with the real Claude Code CLI against two fake backends.

Each scenario runs `claude -p` in a real repository, where `moai hooks
install` was run once and then only plain git moves between branches and
worktrees, and asserts on what the fake servers received: which server, which
credential, which model. A
settings file Claude Code rejects is silently ignored, so only this proves
that what moai writes actually routes traffic.

Facts measured here with Claude Code 2.1.112 (the npm package on Node 20) and
re-measured with the native builds 2.1.197 and 2.1.332 that
`tests/e2e/claude-code/package.json` pins (every test runs on each; where
they differ it says so):

- Offline, fresh HOME: `claude -p --no-session-persistence --output-format json
  "say hi"` needs no login, onboarding or ~/.claude.json when a token or key is
  configured (it writes ~/.claude.json itself); nothing prompts. With neither,
  it exits 1 with `"result": "Not logged in · Please run /login"`. An exported
  ANTHROPIC_API_KEY is used in -p mode without the interactive approval prompt.
- One such run sends `HEAD /` to the base URL, then exactly one streamed
  `POST /v1/messages` (no count_tokens); it takes 1.5-2.5 s here.
- Models: with a token configured and no `--model`, 2.1.112 asks for the
  sonnet alias (claude-sonnet-4-6), 2.1.197 and 2.1.332 for the opus alias
  (claude-opus-4-8, claude-opus-5-5); `--model opus|sonnet|haiku` -> that
  tier's current model; ANTHROPIC_DEFAULT_<TIER>_MODEL replaces each.
- Settings: `$CWD/.claude/settings.local.json`'s env beats the process
  environment and ~/.claude/settings.json, key by key. Run from a subdirectory
  of the worktree, all three read only `$CWD/.claude/`, so the worktree
  root's file is NOT used: these tests (and users) run claude at the root.
- A settings.local.json with invalid JSON, or one schema violation
  (`"permissions": {"allow": "Bash"}`), is ignored whole and silently: traffic
  goes to the HOME settings' backend. A number in `env` is accepted.
- Credentials: `ANTHROPIC_AUTH_TOKEN` is sent as `Authorization: Bearer`;
  `apiKeyHelper`'s output as both Bearer and `x-api-key`; an
  ANTHROPIC_AUTH_TOKEN from ANY level (e.g. the user's ~/.claude/settings.json)
  beats `apiKeyHelper`, and an exported ANTHROPIC_API_KEY or a global
  `apiKeyHelper` is sent as `x-api-key` alongside the GLM token. An empty
  string (`""`) in env or for `apiKeyHelper` counts as unset. So GLM routing
  must blank the credentials it does not use, or the user's Claude credential
  is sent to the GLM host.
- Tools: when the (fake) model replies with a `tool_use`, -p mode runs it
  unprompted if allowed (read-only commands such as `git status` or `sleep 0`
  are allowed by default) and lists it in the result's `permission_denials`
  when a `deny` rule matches: a hand-written permission is observable.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.e2e import claude_cli
from tests.e2e.conftest import CLAUDE_TOKEN, GLM_MODELS, Seen, Stage, StageFactory
from tests.e2e.fake_anthropic import Recorded
from tests.gitrepo import FAKE_KEY, SETTINGS, write

EXPORTED_TOKEN = "fake-exported-token.TESTONLYnotreal"
EXPORTED_API_KEY = "sk-ant-fake-exported-key-TESTONLYnotreal"
GLOBAL_HELPER_KEY = "fake-global-helper-key.TESTONLYnotreal"


def _no_leak(requests: list[Recorded], *secrets: str) -> None:
    for rec in requests:
        for name, value in rec.headers.items():
            for secret in secrets:
                assert secret not in value, f"{rec.server} got a foreign credential in {name}"


def assert_claude(seen: Seen) -> None:
    """Claude Code used the user's own Claude setup: no GLM server, no GLM key or model."""
    assert seen.reply.ok, seen
    assert seen.claude and not seen.glm, seen
    for rec in seen.claude:
        assert rec.authorization == f"Bearer {CLAUDE_TOKEN}", seen
        assert rec.model and rec.model.startswith("claude-"), seen
    _no_leak(seen.claude, FAKE_KEY)


def assert_glm(seen: Seen, tier: str, *, helper: bool = False) -> None:
    """GLM server, the GLM key (only), the GLM model for the tier."""
    assert seen.reply.ok, seen
    assert seen.glm and not seen.claude, seen
    for rec in seen.glm:
        assert rec.authorization == f"Bearer {FAKE_KEY}", seen
        # apiKeyHelper's output goes out as x-api-key too; inline sets only the token.
        assert rec.x_api_key == (FAKE_KEY if helper else None), seen
        assert rec.model == GLM_MODELS[tier], seen
    _no_leak(seen.glm, CLAUDE_TOKEN, EXPORTED_TOKEN, EXPORTED_API_KEY, GLOBAL_HELPER_KEY)


def test_mashup_main_talks_to_claude(stage: Stage) -> None:
    seen = stage.ask(stage.repo)
    assert_claude(seen)
    assert seen.claude[0].model not in GLM_MODELS.values()


def test_spec_branch_talks_to_glm_with_glm_models_for_every_tier(stage: Stage) -> None:
    stage.checkout(stage.repo, "-b", "feature/SPEC-X")
    assert_glm(stage.ask(stage.repo), "opus")  # no --model: the opus alias (see above)
    for tier in ("opus", "sonnet", "haiku"):
        assert_glm(stage.ask(stage.repo, tier), tier)


def assert_spec_on_glm_while_main_on_claude(stage: Stage, spec: Path) -> None:
    """One `claude -p` in each worktree, both running at the same moment."""
    env = stage.claude_env()
    procs = [
        claude_cli.start_claude(stage.claude_bin, wt, env, "opus") for wt in (stage.repo, spec)
    ]
    for proc in procs:
        reply = claude_cli.finish(proc)
        assert reply.ok, reply
    claude_msgs, glm_msgs = stage.claude.messages(), stage.glm.messages()
    assert len(claude_msgs) == 1 and len(glm_msgs) == 1, (claude_msgs, glm_msgs)
    # Claude Code's system prompt names its working directory: which worktree asked whom.
    assert claude_msgs[0].mentions(str(stage.repo)) and not claude_msgs[0].mentions(str(spec))
    assert glm_msgs[0].mentions(str(spec))
    assert claude_msgs[0].authorization == f"Bearer {CLAUDE_TOKEN}"
    assert (claude_msgs[0].model or "").startswith("claude-opus-")
    assert glm_msgs[0].authorization == f"Bearer {FAKE_KEY}"
    assert glm_msgs[0].model == GLM_MODELS["opus"]


def test_git_worktree_add_talks_to_glm_while_main_talks_to_claude(
    stage: Stage, tmp_path: Path
) -> None:
    spec = stage.worktree_add(tmp_path / "worktrees" / "SPEC-Y", "feature/SPEC-Y")
    assert_spec_on_glm_while_main_on_claude(stage, spec)


def test_moai_worktree_create_talks_to_glm_while_main_talks_to_claude(stage: Stage) -> None:
    stage.run_moai(stage.repo, "worktree", "create", "SPEC-Z")
    spec = Path(stage.run_moai(stage.repo, "worktree", "path", "SPEC-Z").stdout.strip())
    assert spec.is_dir() and spec != stage.repo
    assert_spec_on_glm_while_main_on_claude(stage, spec)


def denied_tools(seen: Seen) -> list[str]:
    assert seen.reply.result is not None, seen
    return [d["tool_input"]["command"] for d in seen.reply.result["permission_denials"]]


def test_back_on_main_claude_again_and_hand_written_settings_still_work(stage: Stage) -> None:
    # The user's own settings, each observable from outside: a deny rule (the fake
    # asks Claude Code to run the denied command; -p mode reports the denial) and
    # an env var Claude Code acts on (ANTHROPIC_CUSTOM_HEADERS goes out with each request).
    mine = {
        "permissions": {"deny": ["Bash(sleep 0)"]},
        "env": {"ANTHROPIC_CUSTOM_HEADERS": "x-team-note: kept"},
    }
    write(stage.repo / SETTINGS, json.dumps(mine, indent=2) + "\n")
    stage.checkout(stage.repo, "-b", "feature/SPEC-X")
    stage.glm.enqueue_tool_use("Bash", {"command": "sleep 0", "description": "wait"})
    seen = stage.ask(stage.repo, "haiku")
    assert_glm(seen, "haiku")
    assert all(rec.headers.get("x-team-note") == "kept" for rec in seen.glm)
    assert denied_tools(seen) == ["sleep 0"]

    stage.checkout(stage.repo, "main")
    stage.claude.enqueue_tool_use("Bash", {"command": "sleep 0", "description": "wait"})
    seen = stage.ask(stage.repo, "haiku")
    assert_claude(seen)
    assert all(rec.headers.get("x-team-note") == "kept" for rec in seen.claude)
    assert denied_tools(seen) == ["sleep 0"]
    assert json.loads((stage.repo / SETTINGS).read_text()) == mine


def _grep(root: Path, needle: str) -> list[str]:
    proc = subprocess.run(
        ["grep", "-rlF", "--", needle, "."], cwd=root, capture_output=True, text=True, check=False
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout.split()


def test_helper_mode_key_reaches_glm_but_is_nowhere_in_the_worktree(
    make_stage: StageFactory,
) -> None:
    stage = make_stage(credential_mode="helper")
    stage.checkout(stage.repo, "-b", "feature/SPEC-X")
    assert_glm(stage.ask(stage.repo, "sonnet"), "sonnet", helper=True)
    assert "apiKeyHelper" in json.loads((stage.repo / SETTINGS).read_text())
    assert _grep(stage.repo, FAKE_KEY) == []  # the work tree and its .git alike


def test_claude_only_keeps_claude_on_a_spec_branch(make_stage: StageFactory) -> None:
    stage = make_stage(mode="claude-only")
    stage.checkout(stage.repo, "-b", "feature/SPEC-X")
    assert_claude(stage.ask(stage.repo, "opus"))


def test_glm_only_uses_glm_on_main(make_stage: StageFactory) -> None:
    stage = make_stage(mode="glm-only")
    assert_glm(stage.ask(stage.repo, "opus"), "opus")
    stage.checkout(stage.repo, "-b", "chore/other")
    assert_glm(stage.ask(stage.repo, "haiku"), "haiku")


def test_exported_anthropic_variables_do_not_beat_the_worktree_routing(stage: Stage) -> None:
    stage.extra_env = {
        "ANTHROPIC_BASE_URL": stage.claude.url,
        "ANTHROPIC_AUTH_TOKEN": EXPORTED_TOKEN,
        "ANTHROPIC_API_KEY": EXPORTED_API_KEY,
    }
    stage.checkout(stage.repo, "-b", "feature/SPEC-X")
    assert_glm(stage.ask(stage.repo, "sonnet"), "sonnet")  # no exported credential either


def test_a_global_api_key_helper_of_the_user_is_not_sent_to_glm(stage: Stage) -> None:
    home_settings = stage.home / ".claude" / "settings.json"
    data = json.loads(home_settings.read_text())
    data["apiKeyHelper"] = f"echo {GLOBAL_HELPER_KEY}"
    home_settings.write_text(json.dumps(data))
    stage.checkout(stage.repo, "-b", "feature/SPEC-X")
    assert_glm(stage.ask(stage.repo, "haiku"), "haiku")


PINNED = "claude-opus-4-5-20251101"


def test_a_model_pinned_by_full_id_reaches_glm_as_the_template_model_and_comes_back(
    stage: Stage,
) -> None:
    home_settings = stage.home / ".claude" / "settings.json"
    data = json.loads(home_settings.read_text())
    home_settings.write_text(json.dumps(dict(data, model=PINNED)))
    stage.checkout(stage.repo, "-b", "feature/SPEC-X")
    assert_glm(stage.ask(stage.repo), "opus")  # the pin's tier, never the pin itself
    stage.checkout(stage.repo, "main")
    seen = stage.ask(stage.repo)
    assert_claude(seen)
    assert [r.model for r in seen.claude] == [PINNED]


def test_an_exported_anthropic_model_reaches_glm_as_the_template_model(stage: Stage) -> None:
    # Exported in the user's shell: git's hooks and Claude Code both see it.
    stage.extra_env = {"ANTHROPIC_MODEL": "claude-haiku-4-5-20251001"}
    stage.env.update(stage.extra_env)
    write(stage.repo / ".claude" / "settings.json", json.dumps({"model": "sonnet[1m]"}))
    stage.checkout(stage.repo, "-b", "feature/SPEC-X")
    assert_glm(stage.ask(stage.repo), "haiku")
    stage.checkout(stage.repo, "main")
    seen = stage.ask(stage.repo)
    assert_claude(seen)
    assert [r.model for r in seen.claude] == ["claude-haiku-4-5-20251001"]
