"""`moai doctor --live` with the real Claude Code: the host and model it would use.

The probe's proxy refuses every CONNECT, so the fake backends must see no
request at all: nothing leaves the machine and no key is sent.
"""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import GLM_MODELS, ROUTING_BY, Stage
from tests.gitrepo import FAKE_KEY, SETTINGS, moai, write


def live(stage: Stage) -> tuple[int, dict[str, Any]]:
    r = moai(
        stage.repo, "doctor", "--live", "--json", "--claude", str(stage.claude_bin), env=stage.env
    )
    assert FAKE_KEY not in r.stdout + r.stderr
    assert stage.claude.requests() == [] and stage.glm.requests() == []
    return r.returncode, json.loads(r.stdout)


def host(url: str) -> str:
    return url.removeprefix("http://")


def test_live_on_a_spec_branch_names_the_glm_host_and_model(stage: Stage) -> None:
    stage.checkout(stage.repo, "-b", "feature/SPEC-X")
    code, info = live(stage)
    assert code == 0, (info["checks"], info["live"])
    assert info["live"]["hosts"] == [host(stage.glm.url)]
    # With no model chosen Claude Code asks for opus; 2.1.197+ name it with its
    # context window.
    assert info["live"]["model"] in (GLM_MODELS["opus"], GLM_MODELS["opus"] + "[1m]")
    assert info["live"]["version"] == stage.claude_version
    assert [c["status"] for c in info["checks"] if c["name"] == "live"] == ["ok"]
    hooks = "ok" if ROUTING_BY == "hooks" else "warn"
    assert [c["status"] for c in info["checks"] if c["name"] == "hooks"] == [hooks]


def test_live_on_main_names_the_claude_host(stage: Stage) -> None:
    code, info = live(stage)
    assert code == 0, info
    assert info["live"]["hosts"] == [host(stage.claude.url)]
    assert info["live"]["model"].startswith("claude-")


def test_live_fails_when_claude_code_ignores_the_settings(stage: Stage) -> None:
    stage.checkout(stage.repo, "-b", "feature/SPEC-X")
    doc = json.loads((stage.repo / SETTINGS).read_text())
    write(stage.repo / SETTINGS, json.dumps(dict(doc, model=5)))  # Claude Code drops the file
    code, info = live(stage)
    assert code == 1
    assert info["live"]["hosts"] == [host(stage.claude.url)]
    assert [c["status"] for c in info["checks"] if c["name"] == "live"] == ["fail"]
