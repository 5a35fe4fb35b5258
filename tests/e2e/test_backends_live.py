"""Backends beyond GLM, proven with the real Claude Code CLI against three fake providers.

The stage (conftest.make_backends_stage) routes by `llm.routes`: `exp/*` to
`kimi` (a backend of `llm.backends` at a committed custom URL, trusted with
`moai trust --yes`, its key in ~/.moai/.env.kimi), `feature/SPEC-*` to GLM
(glm.json, the key in ~/.moai/.env.glm), everything else to the user's own
Claude setup. Each scenario runs `claude -p` where only plain git moved between
branches and worktrees (`moai hooks install` once), and asserts on what each
fake server received: which worktree asked (Claude Code's system prompt names
its cwd), with which credential, for which model. Above all, no provider's key
or model ever reaches another provider's server (`assert_nothing_crosses`,
over every request each server saw, probes included).

Measured on 2.1.197 and 2.1.332 (what test_live_session.py and test_resume.py
measured for GLM holds for any provider): a live session follows a switch
between two providers when Claude Code reloads the settings file before its
next turn (every key the old provider set is set again by the new one); a
switch back to Claude leaves the provider's tier models in the session's
environment, which then go to the user's Claude endpoint unless moai's prompt
hook holds the turn. Whether the reload has happened when the next prompt is
sent depends on the machine's load, so those tests accept either outcome, a
clean switch or a hold, and nothing else.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

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
# How moai's messages name each backend (Profile.display: the name for a custom one).
DISPLAY = {"claude": "Claude", "glm": "GLM", "kimi": "kimi"}
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
    assert not problems, "\n".join(problems)


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


def asked_from(stage: Stage, cwd: Path) -> list[Recorded]:
    return [r for s in stage.servers for r in s.messages() if r.mentions(str(cwd))]


def run_everywhere(
    stage: Stage, where: dict[str, Path], model: str | None = None, *, ok: bool = True
) -> dict[str, claude_cli.Reply]:
    """One `claude -p` in each worktree, all at the same moment (ok: each must succeed)."""
    stage.clear()
    env = stage.claude_env()
    procs = {
        n: claude_cli.start_claude(stage.claude_bin, wt, env, model) for n, wt in where.items()
    }
    replies = {n: claude_cli.finish(p) for n, p in procs.items()}
    for n, reply in replies.items():
        assert reply.ok or not ok, f"{n} in {where[n]}: {reply}"
    return replies


def windows(reply: claude_cli.Reply) -> dict[str, int]:
    usage = (reply.result or {}).get("modelUsage", {})
    return {model: u.get("contextWindow") for model, u in usage.items()}


def others_than(where: dict[str, Path], cwd: Path) -> tuple[Path, ...]:
    return tuple(p for p in where.values() if p != cwd)


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
            assert_talks_to(stage, name, cwd, tier, others_than(where, cwd))
        if model is None:  # the backend's context_window reaches Claude Code
            assert windows(replies["kimi"]) == {KIMI_MODELS["opus"]: KIMI_WINDOW}, replies["kimi"]


def merges_main(stage: Stage) -> bool:
    return claude_cli.version_key(stage.claude_version) >= (2, 1, 332)


def test_main_checkout_on_kimi_leaves_the_spec_worktree_on_glm_and_others_on_claude(
    make_backends_stage: StageFactory, tmp_path: Path
) -> None:
    """Claude Code 2.1.332 applies the main checkout's settings.local.json in every
    linked worktree, over the worktree's own (test_main_checkout_settings.py); 2.1.197
    reads the worktree's only. On 2.1.332 no file of a linked worktree can beat the
    main checkout's kimi keys: moai says so there (`moai status`), and its prompt hook
    holds a prompt that would go to kimi from a worktree the table puts elsewhere."""
    stage = make_backends_stage(ROUTES_MAIN_ON_KIMI)
    install(stage)
    assert json.loads((stage.repo / SETTINGS).read_text())["env"]["ANTHROPIC_BASE_URL"] == (
        server(stage, "kimi").url
    )
    spec = stage.worktree_add(tmp_path / "worktrees" / "SPEC-X", "feature/SPEC-X")
    other = stage.worktree_add(tmp_path / "worktrees" / "chore", "chore/x")
    where = {"kimi": stage.repo, "glm": spec, "claude": other}
    replies = run_everywhere(stage, where, ok=not merges_main(stage))
    assert_nothing_crosses(stage)
    assert replies["kimi"].ok, replies["kimi"]
    assert_talks_to(stage, "kimi", stage.repo, "opus")
    if not merges_main(stage):
        for name, cwd in where.items():
            assert_talks_to(stage, name, cwd, "opus", others_than(where, cwd))
        return
    problems = []
    for name, cwd in (("glm", spec), ("claude", other)):
        found = json.loads(stage.run_moai(cwd, "status", "--json").stdout)["main_checkout_override"]
        if not (found and found.get("moai_keys") is True):
            problems.append(f"moai status in {cwd} ({name}) reports no override: {found}")
        result = str((replies[name].result or {}).get("result"))
        if "moai: held" in result:
            if asked_from(stage, cwd):
                problems.append(f"{cwd} ({name}) was held but asked {asked_from(stage, cwd)}")
            if "talks to kimi" not in result:
                problems.append(f"{cwd} ({name}) held, but the line misnames kimi: {result}")
        elif not all(r.server == name for r in asked_from(stage, cwd)):
            problems.append(f"{cwd} ({name}) neither held nor on {name}: {asked_from(stage, cwd)}")
    assert not problems, "\n".join(problems)


def branch_of(stage: Stage, wt: Path) -> str:
    return git(wt, "branch", "--show-current", env=stage.env).strip()


def assert_held_or_followed(
    stage: Stage, wt: Path, text: str, after: str, talks_to: str | None = None
) -> None:
    """The turn after a switch: held (nothing reached any server; moai's line names
    `talks_to`, what the session talks to, when given) or followed (only the new
    provider, its key and model)."""
    assert_nothing_crosses(stage)
    if "moai: held" in text:
        assert not any(s.messages() for s in stage.servers), text
        if talks_to is not None:
            assert DISPLAY[talks_to] in text.split("moai: held", 1)[1], text
    else:
        for srv in stage.servers:
            assert srv.name == after or not srv.messages(), (srv.name, srv.messages(), text)
        assert_talks_to(stage, after, wt, "opus")


# A session's worktree moves to another provider's branch: (the worktree's first branch,
# its backend, the branch checked out under the session, that branch's backend).
SWITCHES = [
    ("exp/a", "kimi", "feature/SPEC-Y", "glm"),
    ("exp/a", "kimi", "chore/y", "claude"),
    ("feature/SPEC-Z", "glm", "exp/b", "kimi"),
]
SWITCH_IDS = [f"{before}-to-{after}" for _, before, _, after in SWITCHES]


@pytest.mark.parametrize(("start", "before", "target", "after"), SWITCHES, ids=SWITCH_IDS)
def test_a_live_session_whose_agent_checks_out_another_providers_branch_sends_nothing_across(
    make_backends_stage: StageFactory,
    tmp_path: Path,
    start: str,
    before: str,
    target: str,
    after: str,
) -> None:
    stage = make_backends_stage()
    install(stage)  # moai's Claude Code hooks: the prompt hook may hold the next turn
    wt = stage.worktree_add(tmp_path / "worktrees" / "live", start)
    server(stage, before).enqueue_tool_use(
        "Bash", {"command": f"git checkout -q -b {target}", "description": "switch"}
    )
    stage.clear()
    session = Session(stage, wt, "--allowedTools", "Bash(git checkout:*)")
    try:
        first = session.turn("switch")
        assert not first.get("is_error"), first
        assert_nothing_crosses(stage)
        assert_talks_to(stage, before, wt, "opus")
        # moai's SessionStart hook ran on this backend and told the model so (asserted last).
        line = f"moai: this session runs on {DISPLAY[before]} ("
        said = server(stage, before).messages()[0].mentions(line)
        assert branch_of(stage, wt) == target
        time.sleep(WATCH_S)
        stage.clear()
        second = session.turn("and now?")
    finally:
        session.close()
    assert_held_or_followed(stage, wt, str(second.get("result")), after, talks_to=before)
    assert said, f"the first request lacks moai's SessionStart line {line!r}"


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


@pytest.mark.parametrize(("start", "before", "target", "after"), SWITCHES, ids=SWITCH_IDS)
def test_a_session_continued_after_a_checkout_to_another_provider_sends_nothing_across(
    make_backends_stage: StageFactory,
    tmp_path: Path,
    start: str,
    before: str,
    target: str,
    after: str,
) -> None:
    """Claude Code 2.1.332 restores the model a transcript ends with on `--continue`
    (test_resume.py): the old provider's, which must not reach the new one. Held,
    moai's advice must bring the session to the new provider."""
    stage = make_backends_stage()
    install(stage)
    wt = stage.worktree_add(tmp_path / "worktrees" / "resumed", start)
    persisted(stage, wt)
    assert_nothing_crosses(stage)
    assert_talks_to(stage, before, wt, "opus")

    stage.checkout(wt, "-b", target)
    text = persisted(stage, wt, "--continue")
    assert_held_or_followed(stage, wt, text, after)
    if "moai: held" in text:
        found = re.search(r"/exit, then ([^\"\\]*?)claude --continue", text)
        assert found, text
        env = dict(v.split("=", 1) for v in found.group(1).split())
        persisted(stage, wt, "--continue", env=env)
        assert_nothing_crosses(stage)
        assert_talks_to(stage, after, wt, "opus")
