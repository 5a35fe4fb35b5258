"""`moai glm` and `moai claude`: switch this worktree by hand (and save the GLM key)."""

from __future__ import annotations

import sys

import click

from moai_mashup.errors import BadInput
from moai_mashup.githooks.install import forget_prepared_here
from moai_mashup.settings.apply import apply_backend, held_back_line
from moai_mashup.settings.keys import mask, save_key, validate_key
from moai_mashup.workspace import open_workspace


def read_key_from_user() -> str:
    """From a hidden prompt on a terminal, else the whole of stdin (never argv)."""
    if sys.stdin.isatty():
        key = click.prompt("GLM API key", hide_input=True, err=True)
    else:
        key = sys.stdin.read()
        key = key[:-1] if key.endswith("\n") else key
        key = key[:-1] if key.endswith("\r") else key
    return validate_key(key, "stdin")


def switch(backend: str) -> None:
    ws = open_workspace()
    result = apply_backend(ws.wt, ws.cfg, "glm" if backend == "glm" else "claude")
    rel = result.settings_path.relative_to(ws.wt.root)
    if not result.changed:
        click.echo(f"{backend}: already active in {rel}")
    else:
        click.echo(f"{backend}: now active in {rel} (was {result.before})")
    if result.held:
        click.echo(f"note: {held_back_line(result.held)}", err=True)
    if result.key is not None:
        mode = ws.cfg.credential_mode
        click.echo(f"key: {mask(result.key.value)} from {result.key.source} ({mode})")
    if ws.expected is not None and ws.expected != backend:
        click.echo(
            f"note: the routing table expects {ws.expected} here ({ws.why()}); "
            "the next checkout or `moai apply` puts it back",
            err=True,
        )


@click.command("glm")
@click.argument("key", required=False)
@click.option("--set-key", is_flag=True, help="Read the key from a prompt or stdin and save it.")
def glm_command(key: str | None, set_key: bool) -> None:
    """Switch this worktree to GLM (or save a key first).

    \b
    moai glm --set-key   read the key from a prompt or stdin, save ~/.moai/.env.glm
    moai glm KEY         save KEY, then switch (KEY stays in your shell history)
    moai glm             switch this worktree to GLM
    """
    if set_key and key:
        raise BadInput("give the key either as an argument or with --set-key, not both")
    if set_key:
        value = read_key_from_user()
        path = save_key(value)
        forget_prepared_here()
        click.echo(f"saved GLM key {mask(value)} to {path} (mode 0600)")
        return
    if key is not None:
        path = save_key(key)
        forget_prepared_here()
        click.echo(f"saved GLM key {mask(key)} to {path} (mode 0600)")
        click.echo(
            "note: a key typed on the command line stays in your shell history; "
            "`moai glm --set-key` reads it from stdin instead",
            err=True,
        )
    switch("glm")


@click.command("claude")
def claude_command() -> None:
    """Remove the GLM settings moai wrote and restore what they replaced."""
    switch("claude")
