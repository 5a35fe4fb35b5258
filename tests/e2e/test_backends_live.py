"""Backends beyond GLM, proven with the real Claude Code CLI against three fake providers.

The stage (conftest.make_backends_stage) routes by `llm.routes`: `exp/*` to
`kimi` (a backend of `llm.backends` at a committed, trusted custom URL, its key
in ~/.moai/.env.kimi), `feature/SPEC-*` to GLM (glm.json, the key in
~/.moai/.env.glm), everything else to the user's own Claude setup. Each
scenario runs `claude -p` where only plain git moved between branches and
worktrees (`moai hooks install` once), and asserts on what each fake server
received: which worktree asked (Claude Code's system prompt names its cwd),
with which credential, for which model. Above all, no provider's key or model
ever reaches another provider's server (`assert_nothing_crosses`, checked over
every request each server saw, probes included).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from tests.e2e import claude_cli
from tests.e2e.conftest import (
    CLAUDE_TOKEN,
    GLM_MODELS,
    KIMI_KEY,
    KIMI_MODELS,
    KIMI_WINDOW,
    ROUTES_MAIN_ON_KIMI,
    Stage,
    StageFactory,
)
from tests.e2e.fake_anthropic import FakeAnthropic, Recorded
from tests.e2e.test_claude_code_hooks import Session, install
from tests.gitrepo import FAKE_KEY, SETTINGS, git

# Each provider's own credential and models; anything else of these at a server crosses.
SECRET = {"claude": CLAUDE_TOKEN, "glm": FAKE_KEY, "kimi": KIMI_KEY}
MODELS = {"glm": GLM_MODELS, "kimi": KIMI_MODELS}
WATCH_S = 5.0  # Claude Code reloads changed settings files within this (test_live_session.py)


def server(stage: Stage, name: str) -> FakeAnthropic:
    found = {s.name: s for s in stage.servers}
    return found[name]


def _text(rec: Recorded) -> str:
    return json.dumps(rec.headers) + json.dumps(rec.body)


def assert_nothing_crosses(stage: Stage) -> None:
    """No request any server saw carries another provider's key, anywhere (headers or
    body), and no model call asks a server for another provider's model."""
    problems = []
    for srv in stage.servers:
        for rec in srv.requests():
            for owner, secret in SECRET.items():
                if owner != srv.name and secret in _text(rec):
                    problems.append(f"{srv.name} got {owner}'s key ({rec!r})")
            if rec.model is None:
                continue
            for owner, models in MODELS.items():
                if owner != srv.name and rec.model in models.values():
                    problems.append(f"{srv.name} was asked for {owner}'s model ({rec!r})")
            if srv.name == "claude" and not rec.model.startswith("claude-"):
                problems.append(f"claude was asked for a non-Claude model ({rec!r})")
    assert not problems, problems


def assert_talks_to(
    stage: Stage, name: str, cwd: Path, tier: str, others: tuple[Path, ...] = ()
) -> None:
    """The requests from `cwd` reached the `name` server, with its key only, for its
    model of `tier`; none of its requests came from the `others` worktrees."""
    msgs = server(stage, name).messages()
    mine = [r for r in msgs if r.mentions(str(cwd))]
    assert mine, f"{name} got no request from {cwd}: {msgs}"
    for rec in msgs:
        for other in others:
            assert not rec.mentions(str(other)), f"{name} got a request from {other}"
        assert rec.authorization == f"Bearer {SECRET[name]}", f"{name}: {rec!r}"
        assert rec.x_api_key is None, f"{name}: an x-api-key beside the token ({rec!r})"
        if name == "claude":
            assert rec.model and rec.model.startswith(f"claude-{tier}-"), rec
        else:
            assert rec.model == MODELS[name][tier], rec


def run_everywhere(
    stage: Stage, where: dict[str, Path], model: str | None = None
) -> dict[str, claude_cli.Reply]:
    """One `claude -p` in each worktree, all at the same moment."""
    stage.clear()
    env = stage.claude_env()
    procs = {
        n: claude_cli.start_claude(stage.claude_bin, wt, env, model) for n, wt in where.items()
    }
    replies = {n: claude_cli.finish(p) for n, p in procs.items()}
    for n, reply in replies.items():
        assert reply.ok, f"{n} in {where[n]}: {reply}"
    return replies


def windows(reply: claude_cli.Reply) -> dict[str, int]:
    usage = (reply.result or {}).get("modelUsage", {})
    return {model: u.get("contextWindow") for model, u in usage.items()}


def test_main_on_claude_spec_on_glm_exp_on_kimi_each_key_and_model_only_at_its_own(
    make_backends_stage: StageFactory, tmp_path: Path
) -> None:
    stage = make_backends_stage()
    spec = stage.worktree_add(tmp_path / "worktrees" / "SPEC-X", "feature/SPEC-X")
    exp = stage.worktree_add(tmp_path / "worktrees" / "exp-a", "exp/a")
    where = {"claude": stage.repo, "glm": spec, "kimi": exp}
    for model, tier in ((None, "opus"), ("haiku", "haiku")):  # no --model: the opus alias
        replies = run_everywhere(stage, where, model)
        assert_nothing_crosses(stage)
        for name, cwd in where.items():
            assert_talks_to(stage, name, cwd, tier, tuple(p for p in where.values() if p != cwd))
        if model is None:
            assert windows(replies["kimi"]) == {KIMI_MODELS["opus"]: KIMI_WINDOW}, replies["kimi"]


def test_main_checkout_on_kimi_leaves_the_spec_worktree_on_glm_and_others_on_claude(
    make_backends_stage: StageFactory, tmp_path: Path
) -> None:
    """Claude Code 2.1.332 applies the main checkout's settings.local.json in every
    linked worktree, over the worktree's own (test_main_checkout_settings.py); 2.1.197
    reads the worktree's only."""
    stage = make_backends_stage(ROUTES_MAIN_ON_KIMI)
    assert json.loads((stage.repo / SETTINGS).read_text())["env"]["ANTHROPIC_BASE_URL"] == (
        server(stage, "kimi").url
    )
    spec = stage.worktree_add(tmp_path / "worktrees" / "SPEC-X", "feature/SPEC-X")
    other = stage.worktree_add(tmp_path / "worktrees" / "chore", "chore/x")
    where = {"kimi": stage.repo, "glm": spec, "claude": other}
    run_everywhere(stage, where)
    assert_nothing_crosses(stage)
    for name, cwd in where.items():
        assert_talks_to(stage, name, cwd, "opus", tuple(p for p in where.values() if p != cwd))


def branch_of(stage: Stage, wt: Path) -> str:
    return git(wt, "branch", "--show-current", env=stage.env).strip()


def test_a_live_kimi_session_whose_agent_checks_out_a_spec_branch_sends_nothing_across(
    make_backends_stage: StageFactory, tmp_path: Path
) -> None:
    stage = make_backends_stage()
    install(stage)  # moai's Claude Code hooks: the prompt hook may hold the next turn
    exp = stage.worktree_add(tmp_path / "worktrees" / "exp-a", "exp/a")
    kimi = server(stage, "kimi")
    kimi.enqueue_tool_use(
        "Bash", {"command": "git checkout -q -b feature/SPEC-Y", "description": "start the SPEC"}
    )
    stage.clear()
    session = Session(stage, exp, "--allowedTools", "Bash(git checkout:*)")
    try:
        first = session.turn("start the SPEC")
        assert not first.get("is_error"), first
        assert_nothing_crosses(stage)
        assert_talks_to(stage, "kimi", exp, "opus")
        assert branch_of(stage, exp) == "feature/SPEC-Y"
        env = json.loads((exp / SETTINGS).read_text())["env"]
        assert env["ANTHROPIC_BASE_URL"] == stage.glm.url, env.get("ANTHROPIC_BASE_URL")
        assert KIMI_KEY not in (exp / SETTINGS).read_text()
        time.sleep(WATCH_S)
        stage.clear()
        second = session.turn("and now?")
    finally:
        session.close()
    assert_nothing_crosses(stage)
    result = str(second.get("result"))
    assert not stage.claude.messages(), stage.claude.messages()
    assert not kimi.messages(), f"the turn after the checkout still went to kimi: {result}"
    if "moai: held" in result:  # held with advice: nothing reached anyone
        assert not stage.glm.messages(), stage.glm.messages()
    else:  # switched cleanly: GLM, with the GLM key and model only
        assert_talks_to(stage, "glm", exp, "opus")


def persisted(stage: Stage, cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """`claude -p` in cwd keeping the session for --continue; its whole output."""
    stage.clear()
    argv = [str(stage.claude_bin), "-p", "--output-format", "json", *args, "--", "go on"]
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env={**stage.claude_env(), **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reply = claude_cli.finish(proc)
    assert reply.returncode == 0 or "moai: held" in reply.stdout + reply.stderr, reply
    return reply.stdout + reply.stderr


def test_a_kimi_session_continued_on_a_spec_branch_sends_nothing_across(
    make_backends_stage: StageFactory, tmp_path: Path
) -> None:
    """Claude Code 2.1.332 restores the model a transcript ends with on `--continue`
    (test_resume.py): kimi-k3 here, which must not reach GLM."""
    stage = make_backends_stage()
    install(stage)
    exp = stage.worktree_add(tmp_path / "worktrees" / "exp-a", "exp/a")
    persisted(stage, exp)
    assert_nothing_crosses(stage)
    assert_talks_to(stage, "kimi", exp, "opus")

    stage.checkout(exp, "-b", "feature/SPEC-Y")
    text = persisted(stage, exp, "--continue")
    assert_nothing_crosses(stage)
    assert not stage.claude.messages() and not server(stage, "kimi").messages(), text
    if "moai: held" in text:
        assert not stage.glm.messages(), text
        found = re.search(r"/exit, then ([^\"\\]*?)claude --continue", text)
        assert found, text
        env = dict(v.split("=", 1) for v in found.group(1).split())
        persisted(stage, exp, "--continue", env=env)
        assert_nothing_crosses(stage)
    assert_talks_to(stage, "glm", exp, "opus")
