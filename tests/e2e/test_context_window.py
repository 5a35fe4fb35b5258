"""The context window Claude Code assumes on GLM, measured with the real CLI.

Measured on 2.1.197 and 2.1.332 (`claude -p --output-format json`, the result's
`modelUsage[<model>].contextWindow`): in a GLM worktree without a window
variable, 2.1.332 takes glm-4.7 for a 1M-token model (1000000, and
`[claude-code:unrecognized_model]` on stderr), 2.1.197 for 200000.
`CLAUDE_CODE_MAX_CONTEXT_TOKENS=200000` in the worktree's settings env brings
2.1.332 to 200000; `CLAUDE_CODE_AUTO_COMPACT_WINDOW=200000` leaves it at
1000000. GLM-4.7 serves 200K (core/glm_template.py cites Z.ai's page), so moai
writes the first with GLM's keys and takes it out on the way back.
"""

from __future__ import annotations

import json

from tests.e2e import claude_cli
from tests.e2e.conftest import GLM_MODELS, Stage
from tests.gitrepo import SETTINGS


def windows(stage: Stage, reply: claude_cli.Reply) -> dict[str, int]:
    result = reply.result or {}
    usage = result.get("modelUsage", {})
    return {model: u.get("contextWindow") for model, u in usage.items()}


def test_glm_worktree_gets_glms_window_and_the_claude_checkout_keeps_its_own(
    stage: Stage,
) -> None:
    before = stage.ask(stage.repo)  # on Claude: Claude Code's own window for its model
    assert before.reply.ok, before
    claude_windows = windows(stage, before.reply)

    stage.checkout(stage.repo, "-b", "feature/SPEC-WIN")
    env = json.loads((stage.repo / SETTINGS).read_text())["env"]
    assert env["CLAUDE_CODE_MAX_CONTEXT_TOKENS"] == "200000"
    seen = stage.ask(stage.repo)
    assert seen.reply.ok and seen.glm and not seen.claude, seen
    assert windows(stage, seen.reply) == {GLM_MODELS["opus"]: 200000}, seen.reply.result

    stage.checkout(stage.repo, "main")
    assert not (stage.repo / SETTINGS).exists()  # moai's keys gone, the window with them
    after = stage.ask(stage.repo)
    assert after.reply.ok and after.claude and not after.glm, after
    assert windows(stage, after.reply) == claude_windows
