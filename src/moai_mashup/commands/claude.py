"""`moai claude`: switch this worktree back to Claude (restore what we replaced)."""

from __future__ import annotations

import click


@click.command("claude")
def command() -> None:
    """Remove the GLM settings moai wrote and restore what they replaced."""
    from moai_mashup.commands.glm import switch

    switch("claude")
