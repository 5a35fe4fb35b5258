"""`moai apply`: put this worktree on the backend the routing table expects."""

from __future__ import annotations

import click

from moai_mashup.settings.apply import apply_backend
from moai_mashup.workspace import open_workspace


@click.command("apply")
def command() -> None:
    """Apply the routing table's backend here (what the git hooks do on checkout)."""

    ws = open_workspace()
    if ws.expected is None:
        click.echo(f"{ws.why()}: nothing to do")
        return
    result = apply_backend(ws.wt, ws.cfg, ws.expected)
    state = "switched to" if result.changed else "already on"
    click.echo(f"{state} {result.backend} ({ws.why()})")
    if result.held_line:
        click.echo(f"note: {result.held_line}", err=True)
