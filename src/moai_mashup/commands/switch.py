"""`moai use NAME`, `moai glm` and `moai claude`: switch this worktree by hand (and
`moai glm --set-key`, which is `moai key set glm`)."""

from __future__ import annotations

import os

import click

from moai_mashup.config import LLM_YAML
from moai_mashup.core.backends import CLAUDE, GLM, name_problem
from moai_mashup.errors import BadInput
from moai_mashup.githooks.install import forget_prepared_here
from moai_mashup.key_entry import BACKEND_NAME, set_key
from moai_mashup.settings.apply import apply_backend
from moai_mashup.settings.keys import mask, save_key
from moai_mashup.workspace import Workspace, open_workspace


def switch(backend: str, ws: Workspace | None = None) -> None:
    ws = ws or open_workspace()
    result = apply_backend(ws.wt, ws.cfg, backend)
    rel = os.path.relpath(result.settings_path, ws.wt.root)
    if not result.changed:
        click.echo(f"{backend}: already active in {rel}")
    else:
        click.echo(f"{backend}: now active in {rel} (was {result.before})")
    if result.held_line:
        click.echo(f"note: {result.held_line}", err=True)
    if result.key is not None:
        mode = ws.cfg.credential_mode
        click.echo(f"key: {mask(result.key.value)} from {result.key.source} ({mode})")
    if ws.expected is not None and ws.expected != backend:
        click.echo(
            f"note: the routing table expects {ws.expected} here ({ws.why()}); "
            "the next checkout or `moai apply` puts it back",
            err=True,
        )


@click.command("use")
@click.argument("backend", metavar="NAME", type=BACKEND_NAME)
def use_command(backend: str) -> None:
    """Switch this worktree to backend NAME now: claude, glm or one of llm.backends.

    Switching back (`moai use claude`) restores exactly what was there; the next
    checkout or `moai apply` puts the routing table's backend back.
    """
    ws = open_workspace()
    names = [CLAUDE, GLM, *ws.cfg.backends]
    if backend not in names:
        problem = name_problem(backend)
        raise BadInput(
            f"{backend}: no such backend in {LLM_YAML} (llm.backends); this repository "
            f"defines {', '.join(names)}"
            + (f" ({problem})" if problem else f"; define {backend} under llm.backends first")
        )
    switch(backend, ws)


@click.command("glm")
@click.argument("key", required=False)
@click.option(
    "--set-key",
    "set_key_flag",
    is_flag=True,
    help="Read the key from a prompt or stdin and save it.",
)
def glm_command(key: str | None, set_key_flag: bool) -> None:
    """Switch this worktree to GLM (or save a key first).

    \b
    moai glm --set-key   read the key from a prompt or stdin, save ~/.moai/.env.glm
                         (the same as `moai key set glm`)
    moai glm KEY         save KEY, then switch (KEY stays in your shell history)
    moai glm             switch this worktree to GLM
    """
    if set_key_flag and key:
        raise BadInput("give the key either as an argument or with --set-key, not both")
    if set_key_flag:
        set_key(GLM)
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
    switch(GLM)


@click.command("claude")
def claude_command() -> None:
    """Remove the backend settings moai wrote and restore what they replaced."""
    switch(CLAUDE)
