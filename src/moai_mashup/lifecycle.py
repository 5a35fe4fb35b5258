"""What happens when a worktree is born (our `post-worktree` event).

Fired by the post-checkout hook (old sha = 40 zeros in a linked worktree with
no state of ours yet) and by `moai worktree create` itself, since git runs no
hook for `git worktree add --no-checkout` or libgit2. Must be idempotent.
"""

from __future__ import annotations

from moai_mashup.apply import ApplyResult, apply_backend
from moai_mashup.core.routing import Backend
from moai_mashup.workspace import Workspace


def post_worktree(ws: Workspace, backend: Backend | None = None) -> list[str]:
    """Set up a new worktree; returns lines to show the user.

    `backend` overrides the routing table (`moai worktree create --glm/--claude`).
    """
    lines: list[str] = []
    target = backend or ws.expected
    if target is not None:
        result: ApplyResult = apply_backend(ws.wt, ws.cfg, target)
        if result.changed:
            lines.append(f"{ws.wt.root}: {target} ({ws.why()})")
    return lines
