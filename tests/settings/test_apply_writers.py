"""apply.py against a writer that takes no lock (an editor, Claude Code itself).

docs/routing.md, "How switching keeps your settings": such a change is detected
when it lands while moai plans, and moai plans again from what is there now.
Each test makes the other writer act at exactly that moment, in this process: a
trace function writes the settings file right after apply has read it, while
moai plans. Real repository, real files, moai's real apply_backend.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from moai_mashup.errors import Refused
from moai_mashup.settings import apply
from moai_mashup.workspace import Workspace, open_workspace
from tests.core_fixtures import record_path
from tests.gitrepo import FAKE_KEY, SETTINGS, settings, write

MINE = '{\n  "model": "opus",\n  "env": {"MY_FLAG": "1"}\n}\n'


@pytest.fixture
def ws(in_repo: Path) -> Workspace:
    write(in_repo / SETTINGS, MINE)
    return open_workspace(in_repo, warn=False)


def _other_writer(times: int, edit: Callable[[dict[str, Any], int], None]) -> Any:
    """A trace function: right after each of the first `times` reads of the settings
    file by apply (read_state), the other writer edits it (read, change, write whole)."""
    calls = [0]

    def after_read(frame: Any, event: str, arg: Any) -> Any:
        if event != "return":
            return after_read
        path = Path(apply.settings_path(frame.f_locals["wt"]))
        doc = json.loads(path.read_text())
        edit(doc, calls[0])
        path.write_text(json.dumps(doc, indent=2) + "\n")
        calls[0] += 1
        return None

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code is apply.read_state.__code__ and calls[0] < times:
            return after_read
        return None

    return tracer


def _apply(ws: Workspace, backend: str, tracer: Any) -> apply.ApplyResult:
    sys.settrace(tracer)
    try:
        return apply.apply_backend(ws.wt, ws.cfg, backend)
    finally:
        sys.settrace(None)


def test_a_change_while_moai_plans_glm_survives(ws: Workspace, repo: Path) -> None:
    def edit(doc: dict[str, Any], n: int) -> None:
        doc["model"] = "sonnet"
        doc["env"]["THEIR_FLAG"] = "2"

    result = _apply(ws, "glm", _other_writer(1, edit))
    assert result.changed
    doc = settings(repo)
    assert doc["model"] == "sonnet"
    assert doc["env"]["THEIR_FLAG"] == "2" and doc["env"]["MY_FLAG"] == "1"
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    # Back on Claude: ours go, theirs (made while moai wrote) stay.
    apply.apply_backend(ws.wt, ws.cfg, "claude")
    assert settings(repo) == {"model": "sonnet", "env": {"MY_FLAG": "1", "THEIR_FLAG": "2"}}


def test_a_change_while_moai_plans_claude_survives(ws: Workspace, repo: Path) -> None:
    apply.apply_backend(ws.wt, ws.cfg, "glm")

    def edit(doc: dict[str, Any], n: int) -> None:
        doc["permissions"] = {"allow": ["Bash(ls:*)"]}

    result = _apply(ws, "claude", _other_writer(1, edit))
    assert result.changed and result.before == "glm"
    assert settings(repo) == {
        "model": "opus",
        "env": {"MY_FLAG": "1"},
        "permissions": {"allow": ["Bash(ls:*)"]},
    }
    assert not record_path(repo, dict(os.environ)).exists()


def test_changes_on_each_attempt_but_the_last_all_survive(ws: Workspace, repo: Path) -> None:
    def edit(doc: dict[str, Any], n: int) -> None:
        doc["env"][f"THEIRS_{n}"] = str(n)

    _apply(ws, "glm", _other_writer(apply.MAX_ATTEMPTS - 1, edit))
    doc = settings(repo)
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert [doc["env"][f"THEIRS_{n}"] for n in range(apply.MAX_ATTEMPTS - 1)] == [
        str(n) for n in range(apply.MAX_ATTEMPTS - 1)
    ]


def test_a_file_that_keeps_changing_is_left_to_its_writer(ws: Workspace, repo: Path) -> None:
    def edit(doc: dict[str, Any], n: int) -> None:
        doc["env"]["THEIRS"] = str(n)

    with pytest.raises(Refused, match="kept changing while moai wrote it"):
        _apply(ws, "glm", _other_writer(10 * apply.MAX_ATTEMPTS, edit))  # every read
    doc = settings(repo)
    assert int(doc["env"]["THEIRS"]) >= apply.MAX_ATTEMPTS - 1
    assert "ANTHROPIC_AUTH_TOKEN" not in doc["env"]
    assert FAKE_KEY not in (repo / SETTINGS).read_text()
